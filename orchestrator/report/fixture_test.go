package report

import (
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// secretValue is an environment value the fixture plan references; no
// report may contain it.
const secretValue = "sk-live-7f3a9c"

var epoch = time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)

// hist returns a histogram holding each of values.
func hist(values ...time.Duration) *engine.Histogram {
	h := engine.NewHistogram()
	for _, v := range values {
		h.Record(v)
	}
	return h
}

// spread returns n values lo, lo+step, lo+2·step, ...
func spread(n int, lo, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = lo + time.Duration(i)*step
	}
	return out
}

// regionSnapshot is one region's results: products requests with response
// times 1ms..n ms, search requests with failures, one workflow and a
// timeline with a gap.
func regionSnapshot(n int, failures int64) *engine.Snapshot {
	s := engine.NewSnapshot(epoch, time.Second)
	s.Start, s.End = epoch, epoch.Add(5*time.Second)
	s.Steps["GET /products"] = &engine.StepStats{
		Requests: int64(n), Status: map[int]int64{200: int64(n)},
		BytesSent: int64(n) * 120, BytesRecv: int64(n) * 2048,
		Response: hist(spread(n, time.Millisecond, time.Millisecond)...),
		Service:  hist(spread(n, 500*time.Microsecond, time.Millisecond)...),
	}
	s.Steps["POST /search"] = &engine.StepStats{
		Requests: 100, Failures: failures,
		Status:    map[int]int64{200: 100 - failures, 503: failures / 2},
		Errors:    map[engine.ErrorClass]int64{engine.ErrTimeout: failures - failures/2},
		BytesSent: 100 * 300, BytesRecv: 100 * 512,
		Response: hist(spread(100, 20*time.Millisecond, 2*time.Millisecond)...),
		Service:  hist(spread(100, 18*time.Millisecond, 2*time.Millisecond)...),
	}
	s.Workflows["browse"] = &engine.WorkflowStats{Completed: 95, Failed: 5, Time: hist(spread(100, 50*time.Millisecond, time.Millisecond)...)}
	s.Iterations = engine.Iterations{Started: 200, Completed: 195, Failed: 5, Late: 3, Dropped: 1,
		Lateness: hist(2*time.Millisecond, 4*time.Millisecond, 30*time.Millisecond)}
	for _, i := range []int{0, 1, 3} {
		iv := &engine.Interval{Index: i, Requests: 10 * int64(i+1), Failures: int64(i),
			Response: hist(spread(10*(i+1), time.Millisecond, time.Millisecond)...),
			Service:  hist(spread(10*(i+1), time.Millisecond, time.Millisecond)...)}
		s.Timeline = append(s.Timeline, iv)
	}
	return s
}

// fixture is a finished two-region run with one missing shard.
func fixture() *orchestrator.Result {
	us, eu := regionSnapshot(400, 10), regionSnapshot(200, 4)
	total := engine.NewSnapshot(epoch, time.Second)
	total.Merge(us)
	total.Merge(eu)
	p := &plan.Plan{
		File: "checkout.yaml",
		Name: "checkout",
		Engine: engine.Config{
			Target: "https://tester:" + secretValue + "@shop.example.com",
			Env:    map[string]string{"API_KEY": secretValue, "EMPTY": ""},
		},
		Regions: []plan.Region{{Name: "us-east-1", Generators: 2}, {Name: "eu-west-1", Generators: 1}},
		Thresholds: []plan.Threshold{
			{Expr: "p99 < 500ms", Metric: plan.MetricP99, Op: plan.OpLess, Value: 500},
			{Expr: "error_rate < 1%", Metric: plan.MetricErrorRate, Op: plan.OpLess, Value: 0.01},
			{Expr: "POST /search: p95 < 300ms", Metric: plan.MetricP95, Step: "POST /search", Op: plan.OpLess, Value: 300},
			{Expr: "rps >= 100", Metric: plan.MetricRPS, Op: plan.OpGreaterEqual, Value: 100},
		},
		Secrets: []string{"API_KEY"},
	}
	return &orchestrator.Result{
		RunID:    "20260406-120000-ab12",
		Plan:     p,
		Started:  epoch,
		Ended:    epoch.Add(6 * time.Second),
		Backend:  orchestrator.BackendAWS,
		Dispatch: orchestrator.DispatchBurst,
		Lead:     15 * time.Second,
		Total:    total,
		Regions: []orchestrator.RegionResult{
			{Name: "us-east-1", Generators: 2, Snapshot: us},
			{Name: "eu-west-1", Generators: 1, Snapshot: eu},
		},
		Shards: orchestrator.ShardStatus{Expected: 3, Completed: 2, Missing: []string{"eu-west-1/g0002-s00"}},
	}
}
