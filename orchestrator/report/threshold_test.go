package report

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

func TestEvaluate(t *testing.T) {
	// Overall: 600 products (1..400ms, 1..200ms) and 200 searches with 14
	// failures, over 5s.
	snap := fixture().Total
	tests := []struct {
		th     plan.Threshold
		ok     bool
		actual float64
		note   string
	}{
		{plan.Threshold{Metric: plan.MetricRequests, Op: plan.OpGreaterEqual, Value: 800}, true, 800, ""},
		{plan.Threshold{Metric: plan.MetricRequests, Op: plan.OpGreater, Value: 800}, false, 800, ""},
		{plan.Threshold{Metric: plan.MetricRPS, Op: plan.OpGreaterEqual, Value: 160}, true, 160, ""},
		{plan.Threshold{Metric: plan.MetricErrorRate, Op: plan.OpLess, Value: 0.01}, false, 0.0175, ""},
		{plan.Threshold{Metric: plan.MetricErrorRate, Op: plan.OpLessEqual, Value: 0.0175}, true, 0.0175, ""},
		{plan.Threshold{Metric: plan.MetricErrorRate, Step: "GET /products", Op: plan.OpLess, Value: 0.0001}, true, 0, ""},
		{plan.Threshold{Metric: plan.MetricRPS, Step: "POST /search", Op: plan.OpLess, Value: 41}, true, 40, ""},
		{plan.Threshold{Metric: plan.MetricMax, Step: "GET /products", Op: plan.OpLess, Value: 400}, false, 400.383, ""},
		{plan.Threshold{Metric: plan.MetricP50, Step: "POST /search", Op: plan.OpLess, Value: 120}, true, 118.015, ""},
		{plan.Threshold{Metric: plan.MetricP99, Step: "nope", Op: plan.OpLess, Value: 1}, false, 0, `no results for step "nope"`},
		{plan.Threshold{Metric: "p42", Op: plan.OpLess, Value: 1}, false, 0, `unknown metric "p42"`},
		{plan.Threshold{Metric: plan.MetricMean, Op: "=", Value: 1}, false, -1, `unknown operator "="`},
	}
	for _, tt := range tests {
		got := Evaluate([]plan.Threshold{tt.th}, snap, 5*time.Second)[0]
		if got.OK != tt.ok || (tt.actual >= 0 && !near(got.Actual, tt.actual)) || (tt.note != "" && got.Note != tt.note) {
			t.Errorf("%s %s %s %v (step %q) = %+v; want ok=%v actual≈%v note %q", tt.th.Metric, tt.th.Op, tt.th.Step, tt.th.Value, tt.th.Step, got, tt.ok, tt.actual, tt.note)
		}
	}
}

func TestEvaluateLatencyOverall(t *testing.T) {
	snap := fixture().Total
	got := Evaluate([]plan.Threshold{
		{Metric: plan.MetricP99, Op: plan.OpLess, Value: 500},
		{Metric: plan.MetricMean, Op: plan.OpLess, Value: 1},
	}, snap, 5*time.Second)
	// Overall p99 is the 792nd of 800 values.
	want := Build(fixture()).Latency.P99
	if !got[0].OK || got[0].Actual != want || got[0].Unit != UnitMs {
		t.Errorf("p99: %+v, want actual %v", got[0], want)
	}
	if got[1].OK || got[1].Actual < 100 {
		t.Errorf("mean: %+v", got[1])
	}
}

func TestEvaluateNoRequests(t *testing.T) {
	empty := engine.NewSnapshot(epoch, time.Second)
	got := Evaluate([]plan.Threshold{
		{Metric: plan.MetricP95, Op: plan.OpLess, Value: 300},
		{Metric: plan.MetricErrorRate, Op: plan.OpLess, Value: 0.01},
		{Metric: plan.MetricRPS, Op: plan.OpGreater, Value: 0},
	}, empty, 0)
	if got[0].OK || got[0].Note != "no requests to measure" {
		t.Errorf("latency without requests: %+v", got[0])
	}
	if !got[1].OK || got[1].Actual != 0 {
		t.Errorf("error rate without requests: %+v", got[1])
	}
	if got[2].OK {
		t.Errorf("rps > 0 without requests held: %+v", got[2])
	}
	if Evaluate(nil, nil, 0) == nil {
		t.Error("Evaluate(nil) returned nil, want an empty slice")
	}
}
