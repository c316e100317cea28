package plan

import (
	"fmt"
	"os"
	"time"

	"github.com/stampede-load/stampede/engine"
)

// Plan is a parsed, validated and normalized test plan.
type Plan struct {
	// File is the path the plan was read from (for messages).
	File        string
	Name        string
	Description string
	// Engine is the whole plan's engine configuration (Shard, Window and
	// Epoch unset). Engine.Env holds the referenced environment values.
	Engine engine.Config
	// Regions to run in, each with its generator count. The local backend
	// runs every region's generators on this machine.
	Regions []Region
	// Slice is the longest time one generator invocation runs (default 10m,
	// at most 14m); longer tests are cut into consecutive slices.
	Slice      time.Duration
	Thresholds []Threshold
	Budget     Budget
	// MemoryMB of each generator function (default 1769: one vCPU).
	MemoryMB int
	// Seed makes the run reproducible (0: random, chosen at run time).
	Seed uint64
	// Secrets names the environment variables the plan references; their
	// values are redacted from everything stampede writes.
	Secrets []string
	// Source is the plan text as given (it never contains secret values:
	// those enter through {{ env "NAME" }}).
	Source []byte

	// dataFiles names the CSV file each data set was read from, so that
	// Marshal can refer to it instead of inlining the rows.
	dataFiles map[string]string
}

// Region is one AWS region (or "local") and how many generators run there.
type Region struct {
	Name       string
	Generators int
}

// Budget caps what a run may cost.
type Budget struct {
	MaxUSD float64
}

// Threshold metrics.
const (
	MetricP50       = "p50"
	MetricP90       = "p90"
	MetricP95       = "p95"
	MetricP99       = "p99"
	MetricP999      = "p99.9"
	MetricMax       = "max"
	MetricMean      = "mean"
	MetricErrorRate = "error_rate"
	MetricRPS       = "rps"
	MetricRequests  = "requests"
)

// Threshold is a pass/fail criterion such as "p99 < 500ms" on one step (or
// all of them when Step is empty).
type Threshold struct {
	Expr   string // as written
	Metric string // one of the Metric constants
	Step   string // step name, "" for overall
	Op     string // "<", "<=", ">", ">="
	// Value in the metric's unit: milliseconds for latencies, a fraction
	// (0.01 = 1%) for error_rate, per second for rps, a count for requests.
	Value       float64
	AbortOnFail bool
}

// Load reads the plan at path, with CSV data files relative to it, and
// resolves the environment variables it references.
func Load(path string) (*Plan, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return Parse(path, src, nil)
}

// Parse parses src (named file in messages). Data files are read relative
// to file's directory; lookupEnv resolves {{ env }} references (os.LookupEnv
// when nil). Every problem is reported at once as Errors.
func Parse(file string, src []byte, lookupEnv func(string) (string, bool)) (*Plan, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	return parse(file, src, lookupEnv)
}

// Error is one problem in a plan.
type Error struct {
	File string
	Line int
	Col  int
	Path string // field path, e.g. scenarios[1].steps[0].method
	Msg  string
	Hint string
}

// Errors is every problem found in a plan.
type Errors []Error
