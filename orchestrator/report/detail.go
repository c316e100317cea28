package report

import (
	"math"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
)

// Detail is what the charts and the findings need beyond the summary: the
// timeline's percentiles and error counts per interval, the load the plan
// offered, and the latency distribution as percentile points.
type Detail struct {
	// LoadModel is "open" (Offered is requests per second) or "closed"
	// (Offered is users).
	LoadModel string `json:"load_model"`
	// RequestsPerIteration converts the open model's arrival rate into an
	// offered request rate: requests / iterations started over the run.
	RequestsPerIteration float64          `json:"requests_per_iteration"`
	Intervals            []IntervalDetail `json:"intervals"`
	// Distribution and ServiceDistribution are the whole run's response
	// and service time at percentiles spaced evenly on a log "number of
	// nines" axis, up to the maximum.
	Distribution        []PercentilePoint `json:"distribution"`
	ServiceDistribution []PercentilePoint `json:"service_distribution"`
}

// IntervalDetail is one timeline interval, starting TS seconds after test
// time 0, aligned with Report.Timeline. Latencies are in milliseconds.
type IntervalDetail struct {
	TS float64 `json:"t_s"`
	// Offered is the plan's load at the middle of the interval: requests
	// per second (open model, arrival rate × RequestsPerIteration) or
	// users (closed model).
	Offered    float64          `json:"offered"`
	P50        float64          `json:"p50_ms"`
	P95        float64          `json:"p95_ms"`
	P99        float64          `json:"p99_ms"`
	ServiceP50 float64          `json:"service_p50_ms"`
	ServiceP95 float64          `json:"service_p95_ms"`
	ServiceP99 float64          `json:"service_p99_ms"`
	Status     map[int]int64    `json:"status,omitempty"`
	Errors     map[string]int64 `json:"errors,omitempty"`
}

// PercentilePoint is a latency at a percentile (0..100), in milliseconds.
type PercentilePoint struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// analyze fills the report's Detail from r and then its Findings from the
// report: the one call Build makes into this file.
func (rep *Report) analyze(r *orchestrator.Result, snap *engine.Snapshot) {
	rep.Detail = buildDetail(r, snap, len(rep.Timeline))
	rep.Findings = Analyze(rep)
}

// buildDetail computes n intervals of detail (n = len(Report.Timeline)).
func buildDetail(r *orchestrator.Result, snap *engine.Snapshot, n int) *Detail {
	d := &Detail{LoadModel: engine.ModelOpen, Intervals: []IntervalDetail{}}
	total := snap.Total()
	if snap.Iterations.Started > 0 {
		d.RequestsPerIteration = round(float64(total.Requests)/float64(snap.Iterations.Started), 3)
	}
	var sched *engine.Schedule
	if p := r.Plan; p != nil {
		if p.Engine.Load.Model == engine.ModelClosed {
			d.LoadModel = engine.ModelClosed
		}
		sched, _ = engine.NewSchedule(p.Engine.Load, p.Engine.Duration) // nil: no offered load
	}
	secs := snap.Interval.Seconds()
	byIndex := make(map[int]*engine.Interval, len(snap.Timeline))
	for _, iv := range snap.Timeline {
		byIndex[iv.Index] = iv
	}
	for i := range n {
		id := IntervalDetail{TS: round(float64(i)*secs, 3)}
		if sched != nil {
			mid := time.Duration((float64(i) + 0.5) * float64(snap.Interval))
			if mid < sched.Duration() {
				id.Offered = sched.Value(mid)
				if d.LoadModel == engine.ModelOpen {
					id.Offered *= d.RequestsPerIteration
				}
				id.Offered = round(id.Offered, 3)
			}
		}
		if iv := byIndex[i]; iv != nil {
			id.P50, id.P95, id.P99 = quantiles(iv.Response)
			id.ServiceP50, id.ServiceP95, id.ServiceP99 = quantiles(iv.Service)
			if len(iv.Status) > 0 {
				id.Status = counts(iv.Status)
			}
			if c := classes(iv.Errors); len(c) > 0 {
				id.Errors = c
			}
		}
		d.Intervals = append(d.Intervals, id)
	}
	d.Distribution = distribution(total.Response)
	d.ServiceDistribution = distribution(total.Service)
	return d
}

// quantiles returns h's p50, p95 and p99 in milliseconds.
func quantiles(h *engine.Histogram) (p50, p95, p99 float64) {
	q := h.Quantiles(50, 95, 99)
	if len(q) < 3 {
		return 0, 0, 0
	}
	return ms(q[0]), ms(q[1]), ms(q[2])
}

// distribution samples h at percentiles 1 - 2^(-k/4) (four points per
// halving of the tail, the HdrHistogram way) while the tail still holds at
// least one value, then adds the maximum as 100.
func distribution(h *engine.Histogram) []PercentilePoint {
	out := []PercentilePoint{}
	n := h.Count()
	if n == 0 {
		return out
	}
	for k := 0; ; k++ {
		tail := math.Pow(2, -float64(k)/4)
		if tail*float64(n) < 1 || k > 4*40 {
			break
		}
		p := 100 * (1 - tail)
		out = append(out, PercentilePoint{Percentile: round(p, 6), Ms: ms(h.Quantile(p))})
	}
	return append(out, PercentilePoint{Percentile: 100, Ms: ms(h.Max())})
}
