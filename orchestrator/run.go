package orchestrator

import (
	"context"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Queue carries encoded shard tasks to generators. Safe for concurrent use.
type Queue interface {
	// Send enqueues every body; it returns an error naming what was not sent.
	Send(ctx context.Context, bodies [][]byte) error
}

// Backend is where a run executes: a queue per region and the blob store.
type Backend struct {
	Name string // "local" or "aws"
	// Queues by region name.
	Queues map[string]Queue
	Store  shard.Store
}

// Options tune a run.
type Options struct {
	// RunID names the run (generated when empty).
	RunID string
	// Lead is how long after dispatch the shared start time lies (default 1s
	// locally), so that every generator is ready at test time 0.
	Lead time.Duration
	// Progress is called about every PollEvery while the run goes.
	Progress  func(Progress)
	PollEvery time.Duration
	// Abort, if set, is asked with the merged progress snapshot; a non-empty
	// reason stops the run (thresholds with abort-on-fail, the cost guard).
	Abort func(p Progress) string
}

// Progress is the run's state as the generators last reported it.
type Progress struct {
	RunID    string
	Elapsed  time.Duration
	Duration time.Duration
	Expected int // tasks
	Leased   int // tasks a generator has taken
	Finished int // tasks with final results
	// Snapshot merges the latest checkpoint or final result of every task.
	Snapshot *engine.Snapshot
}

// Run executes p on b and returns the merged result. Cancelling ctx stops
// every generator (the stop marker) and still collects what they wrote.
func Run(ctx context.Context, p *plan.Plan, b Backend, opts Options) (*Result, error) {
	panic("not implemented")
}

// Collect rebuilds a run's Result from what the store holds.
func Collect(ctx context.Context, store shard.Store, runID string) (*Result, error) {
	panic("not implemented")
}
