package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	runcost "github.com/stampede-load/stampede/orchestrator/cost"
)

// SchemaVersion is the version of report.json's layout.
const SchemaVersion = 1

// Report is a run's results as report.json holds them. Durations are in
// milliseconds (fields ending in _ms), rates per second.
type Report struct {
	Schema  int    `json:"schema"`
	RunID   string `json:"run_id"`
	Plan    string `json:"plan"`
	Target  string `json:"target,omitempty"`
	Started string `json:"started"` // RFC 3339, UTC
	// Dispatch is how the generators were started (FieldDispatch); nil for
	// a run recorded before the manifest said so.
	Dispatch   *Dispatch `json:"dispatch,omitempty"`
	DurationS  float64   `json:"duration_s"`
	Generators int       `json:"generators"`
	Requests   int64     `json:"requests"`
	// Errors counts failed requests.
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"` // Errors/Requests
	RPS       float64 `json:"rps"`
	Latency   Latency `json:"latency_ms"`
	Service   Latency `json:"service_time_ms"`
	BytesSent int64   `json:"bytes_sent"`
	BytesRecv int64   `json:"bytes_recv"`
	// Status counts responses by HTTP status code; ErrorsByClass counts
	// failed requests by error class.
	Status        map[int]int64     `json:"status"`
	ErrorsByClass map[string]int64  `json:"errors_by_class"`
	Endpoints     []Endpoint        `json:"endpoints"`
	Workflows     []Workflow        `json:"workflows"`
	Iterations    Iterations        `json:"iterations"`
	Regions       []Region          `json:"regions"`
	Timeline      []Point           `json:"timeline"`
	Fleet         Fleet             `json:"fleet"` // when the generators ran (generators.go)
	Shards        Shards            `json:"shards"`
	Thresholds    []ThresholdResult `json:"thresholds"`
	// Stopped says why the run ended early ("" when it ran to the end).
	Stopped string `json:"stopped"`
	// Passed is true when every threshold held and no shard is missing or
	// corrupt.
	Passed bool `json:"passed"`
	// Cost is what the run cost (estimate and actual, priced as on AWS);
	// nil when not computed.
	Cost *runcost.Cost `json:"cost,omitempty"`
	// Findings are the automatic analysis of the results (findings.go);
	// Detail the per-interval data behind them and the charts.
	Findings []Finding `json:"findings"`
	Detail   *Detail   `json:"detail,omitempty"`
}

// FieldDispatch is report.json's key of Report.Dispatch.
const FieldDispatch = "dispatch"

// Dispatch is how a run's generators were started: Backend (local, aws),
// Mode (orchestrator.DispatchLocal, DispatchSQS or DispatchBurst) and the
// lead from dispatch to test time 0, in milliseconds.
type Dispatch struct {
	Backend string  `json:"backend"`
	Mode    string  `json:"mode"`
	LeadMs  float64 `json:"lead_ms"`
}

// String describes d for the summaries: "burst on aws, lead 15.0s"
// ("local, lead 1.00s" on the local backend).
func (d *Dispatch) String() string {
	mode := d.Mode
	if d.Backend != "" && d.Backend != d.Mode {
		mode += " on " + d.Backend
	}
	return mode + ", lead " + fmtMs(d.LeadMs)
}

// dispatchOf is r's Dispatch (nil when its manifest did not say).
func dispatchOf(r *orchestrator.Result) *Dispatch {
	if r.Dispatch == "" {
		return nil
	}
	return &Dispatch{Backend: r.Backend, Mode: r.Dispatch, LeadMs: ms(r.Lead)}
}

// Latency summarizes a latency histogram, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Endpoint is one step name's results.
type Endpoint struct {
	Name          string           `json:"name"`
	Requests      int64            `json:"requests"`
	Errors        int64            `json:"errors"`
	RPS           float64          `json:"rps"`
	Status        map[int]int64    `json:"status"`
	ErrorsByClass map[string]int64 `json:"errors_by_class"`
	Latency       Latency          `json:"latency_ms"`
	Service       Latency          `json:"service_time_ms"`
	BytesSent     int64            `json:"bytes_sent"`
	BytesRecv     int64            `json:"bytes_recv"`
}

// Workflow is one scenario's end-to-end iteration times.
type Workflow struct {
	Name      string  `json:"name"`
	Completed int64   `json:"completed"`
	Failed    int64   `json:"failed"`
	Time      Latency `json:"time_ms"`
}

// Iterations counts scenario iterations and how late they started.
type Iterations struct {
	Started   int64    `json:"started"`
	Completed int64    `json:"completed"`
	Failed    int64    `json:"failed"`
	Late      int64    `json:"late"`
	Dropped   int64    `json:"dropped"`
	Lateness  Lateness `json:"lateness_ms"`
}

// Lateness summarizes how late iterations started, in milliseconds.
type Lateness struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Region is one region's results.
type Region struct {
	Name       string  `json:"name"`
	Generators int     `json:"generators"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	RPS        float64 `json:"rps"`
	Latency    Latency `json:"latency_ms"`
}

// Point is one timeline interval, starting TS seconds after test time 0.
type Point struct {
	TS       float64 `json:"t_s"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
}

// Shards accounts for every task of the run.
type Shards struct {
	Expected  int      `json:"expected"`
	Completed int      `json:"completed"`
	Missing   []string `json:"missing"`
	Corrupt   []string `json:"corrupt"`
	// Claimed names the completed tasks no generator ran: the orchestrator
	// claimed them after a stop, with an empty result.
	Claimed []string `json:"claimed"`
}

// claimedTasks names the claimed spans' tasks, sorted.
func claimedTasks(spans []orchestrator.GeneratorSpan) []string {
	out := []string{}
	for _, s := range spans {
		if s.Claimed {
			out = append(out, s.Task)
		}
	}
	slices.Sort(out)
	return out
}

// Complete reports whether every shard delivered readable results.
func (s Shards) Complete() bool { return len(s.Missing) == 0 && len(s.Corrupt) == 0 }

// ThresholdsOK reports whether every threshold held.
func (r *Report) ThresholdsOK() bool {
	for _, t := range r.Thresholds {
		if !t.OK {
			return false
		}
	}
	return true
}

// Build computes the report of r. It never fails: absent parts (no plan,
// no snapshot) give zero values.
func Build(r *orchestrator.Result) *Report {
	snap := r.Total
	if snap == nil {
		snap = engine.NewSnapshot(r.Started, 0)
	}
	elapsed := Elapsed(r)
	total := snap.Total()
	rep := &Report{
		Schema:        SchemaVersion,
		RunID:         r.RunID,
		Dispatch:      dispatchOf(r),
		DurationS:     round(elapsed.Seconds(), 3),
		Requests:      total.Requests,
		Errors:        total.Failures,
		ErrorRate:     ratio(total.Failures, total.Requests),
		RPS:           rate(total.Requests, elapsed),
		Latency:       latency(total.Response),
		Service:       latency(total.Service),
		BytesSent:     total.BytesSent,
		BytesRecv:     total.BytesRecv,
		Status:        counts(total.Status),
		ErrorsByClass: classes(total.Errors),
		Endpoints:     endpoints(snap, elapsed),
		Workflows:     workflows(snap),
		Iterations:    iterations(snap.Iterations),
		Timeline:      timeline(snap, elapsed),
		Shards: Shards{
			Expected:  r.Shards.Expected,
			Completed: r.Shards.Completed,
			Missing:   sorted(r.Shards.Missing),
			Corrupt:   sorted(r.Shards.Corrupt),
			Claimed:   claimedTasks(r.Generators),
		},
		Stopped: r.Stopped,
	}
	if !r.Started.IsZero() {
		rep.Started = r.Started.UTC().Format(time.RFC3339)
	}
	for _, rr := range r.Regions {
		rep.Regions = append(rep.Regions, region(rr, elapsed))
		rep.Generators += rr.Generators
	}
	rep.Regions = orEmpty(rep.Regions)
	var secrets []string
	if p := r.Plan; p != nil {
		rep.Plan = p.Name
		rep.Target = stripUserinfo(p.Engine.Target)
		if rep.Generators == 0 {
			for _, pr := range p.Regions {
				rep.Generators += pr.Generators
			}
		}
		rep.Thresholds = Evaluate(p.Thresholds, snap, elapsed)
		for _, v := range p.Engine.Env {
			secrets = append(secrets, v)
		}
	}
	rep.Thresholds = orEmpty(rep.Thresholds)
	rep.Passed = rep.ThresholdsOK() && rep.Shards.Complete()
	rep.redact(secrets)
	rep.Fleet = fleet(r, len(rep.Timeline), snap.Interval)
	rep.analyze(r, snap)
	return rep
}

// Elapsed is the test time the results cover: from the shared start to
// the end of the latest data (the end of the run when there is none).
func Elapsed(r *orchestrator.Result) time.Duration {
	end := r.Ended
	if r.Total != nil && !r.Total.End.IsZero() {
		end = r.Total.End
	}
	start := r.Started
	if start.IsZero() && r.Total != nil {
		start = r.Total.Start
	}
	if start.IsZero() || end.Before(start) {
		return 0
	}
	return end.Sub(start)
}

func endpoints(s *engine.Snapshot, elapsed time.Duration) []Endpoint {
	out := []Endpoint{}
	for _, name := range s.StepNames() {
		st := s.Steps[name]
		if st == nil {
			continue
		}
		out = append(out, Endpoint{
			Name:          name,
			Requests:      st.Requests,
			Errors:        st.Failures,
			RPS:           rate(st.Requests, elapsed),
			Status:        counts(st.Status),
			ErrorsByClass: classes(st.Errors),
			Latency:       latency(st.Response),
			Service:       latency(st.Service),
			BytesSent:     st.BytesSent,
			BytesRecv:     st.BytesRecv,
		})
	}
	return out
}

func workflows(s *engine.Snapshot) []Workflow {
	out := []Workflow{}
	for name, w := range s.Workflows {
		if w == nil {
			continue
		}
		out = append(out, Workflow{Name: name, Completed: w.Completed, Failed: w.Failed, Time: latency(w.Time)})
	}
	slices.SortFunc(out, func(a, b Workflow) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func iterations(it engine.Iterations) Iterations {
	return Iterations{
		Started:   it.Started,
		Completed: it.Completed,
		Failed:    it.Failed,
		Late:      it.Late,
		Dropped:   it.Dropped,
		Lateness: Lateness{
			P50: ms(it.Lateness.Quantile(50)),
			P99: ms(it.Lateness.Quantile(99)),
			Max: ms(it.Lateness.Max()),
		},
	}
}

func region(rr orchestrator.RegionResult, elapsed time.Duration) Region {
	reg := Region{Name: rr.Name, Generators: rr.Generators}
	if rr.Snapshot == nil {
		return reg
	}
	t := rr.Snapshot.Total()
	reg.Requests, reg.Errors = t.Requests, t.Failures
	reg.RPS = rate(t.Requests, elapsed)
	reg.Latency = latency(t.Response)
	return reg
}

// timeline returns one Point per interval from test time 0 to the last
// interval with data or the end of elapsed, whichever is later; intervals
// without data are zero.
func timeline(s *engine.Snapshot, elapsed time.Duration) []Point {
	out := []Point{}
	if s.Interval <= 0 {
		return out
	}
	n := int((elapsed + s.Interval - 1) / s.Interval)
	if k := len(s.Timeline); k > 0 && s.Timeline[k-1].Index+1 > n {
		n = s.Timeline[k-1].Index + 1
	}
	n = min(n, 2*engine.MaxIntervals)
	secs := s.Interval.Seconds()
	next := 0
	for i := range n {
		p := Point{TS: round(float64(i)*secs, 3)}
		for next < len(s.Timeline) && s.Timeline[next].Index < i {
			next++
		}
		if next < len(s.Timeline) && s.Timeline[next].Index == i {
			iv := s.Timeline[next]
			p.Requests, p.Errors = iv.Requests, iv.Failures
			p.RPS = round(float64(iv.Requests)/secs, 3)
			p.P50, p.P99 = ms(iv.Response.Quantile(50)), ms(iv.Response.Quantile(99))
		}
		out = append(out, p)
	}
	return out
}
