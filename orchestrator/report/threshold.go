package report

import (
	"fmt"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// Threshold result units.
const (
	UnitMs       = "ms"
	UnitRatio    = "ratio" // error_rate: 0.01 = 1%
	UnitPerSec   = "1/s"
	UnitRequests = "requests"
)

// ThresholdResult is one threshold evaluated against the results.
type ThresholdResult struct {
	Expr   string `json:"expr"`
	Metric string `json:"metric"`
	Step   string `json:"step,omitempty"`
	OK     bool   `json:"ok"`
	// Actual is the measured value in Unit; Limit the threshold's value.
	Actual float64 `json:"actual"`
	Limit  float64 `json:"limit"`
	Unit   string  `json:"unit"`
	// Note explains a failure that is not a comparison ("no requests").
	Note string `json:"note,omitempty"`
}

// Evaluate checks each threshold against snap, whose data cover elapsed.
// Latency metrics are the coordinated-omission corrected response time in
// milliseconds; error_rate is failed/requests; rps is requests/elapsed.
// A threshold on a step that has no results fails, and so does a latency
// threshold with no requests to measure.
func Evaluate(ths []plan.Threshold, snap *engine.Snapshot, elapsed time.Duration) []ThresholdResult {
	out := make([]ThresholdResult, 0, len(ths))
	var total *engine.StepStats
	for _, th := range ths {
		res := ThresholdResult{Expr: th.Expr, Metric: th.Metric, Step: th.Step, Limit: th.Value, Unit: unit(th.Metric)}
		var st *engine.StepStats
		if th.Step == "" {
			if total == nil {
				total = snapTotal(snap)
			}
			st = total
		} else if snap != nil {
			st = snap.Steps[th.Step]
		}
		if st == nil {
			res.Note = fmt.Sprintf("no results for step %q", th.Step)
			out = append(out, res)
			continue
		}
		actual, note := measure(th.Metric, st, elapsed)
		res.Actual, res.Note = actual, note
		if note == "" {
			res.OK, res.Note = compare(actual, th.Op, th.Value)
		}
		out = append(out, res)
	}
	return out
}

func snapTotal(snap *engine.Snapshot) *engine.StepStats {
	if snap == nil {
		return engine.NewSnapshot(time.Time{}, 0).Total()
	}
	return snap.Total()
}

// measure returns the metric's value on st, or a note saying why it has none.
func measure(metric string, st *engine.StepStats, elapsed time.Duration) (float64, string) {
	h := st.Response
	q := map[string]float64{
		plan.MetricP50: 50, plan.MetricP90: 90, plan.MetricP95: 95, plan.MetricP99: 99, plan.MetricP999: 99.9,
	}
	switch metric {
	case plan.MetricP50, plan.MetricP90, plan.MetricP95, plan.MetricP99, plan.MetricP999, plan.MetricMax, plan.MetricMean:
		if h.Count() == 0 {
			return 0, "no requests to measure"
		}
		switch metric {
		case plan.MetricMax:
			return ms(h.Max()), ""
		case plan.MetricMean:
			return ms(h.Mean()), ""
		}
		return ms(h.Quantile(q[metric])), ""
	case plan.MetricErrorRate:
		return ratio(st.Failures, st.Requests), ""
	case plan.MetricRPS:
		return rate(st.Requests, elapsed), ""
	case plan.MetricRequests:
		return float64(st.Requests), ""
	}
	return 0, fmt.Sprintf("unknown metric %q", metric)
}

// compare applies op; a note says when op is unknown.
func compare(actual float64, op string, limit float64) (bool, string) {
	switch op {
	case plan.OpLess:
		return actual < limit, ""
	case plan.OpLessEqual:
		return actual <= limit, ""
	case plan.OpGreater:
		return actual > limit, ""
	case plan.OpGreaterEqual:
		return actual >= limit, ""
	}
	return false, fmt.Sprintf("unknown operator %q", op)
}

func unit(metric string) string {
	switch metric {
	case plan.MetricErrorRate:
		return UnitRatio
	case plan.MetricRPS:
		return UnitPerSec
	case plan.MetricRequests:
		return UnitRequests
	}
	return UnitMs
}
