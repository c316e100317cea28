package report

import (
	"math"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// synthInterval is one second of a synthetic run: reqs requests of one
// step, all taking lat, with s429 of them answered 429.
type synthInterval struct {
	reqs int64
	lat  time.Duration
	s429 int64
}

// synthRun builds a one-step run of len(ivs) one-second intervals under
// load; every iteration makes one request.
func synthRun(load engine.Load, ivs []synthInterval) *orchestrator.Result {
	snap := engine.NewSnapshot(epoch, time.Second)
	snap.Start, snap.End = epoch, epoch.Add(time.Duration(len(ivs))*time.Second)
	st := &engine.StepStats{Status: map[int]int64{}, Response: engine.NewHistogram(), Service: engine.NewHistogram()}
	for i, sp := range ivs {
		iv := &engine.Interval{Index: i, Requests: sp.reqs, Failures: sp.s429,
			Status:   map[int]int64{200: sp.reqs - sp.s429},
			Response: engine.NewHistogram(), Service: engine.NewHistogram()}
		if sp.s429 > 0 {
			iv.Status[429] = sp.s429
		}
		for range sp.reqs {
			iv.Response.Record(sp.lat)
			iv.Service.Record(sp.lat)
			st.Response.Record(sp.lat)
			st.Service.Record(sp.lat)
		}
		st.Requests += sp.reqs
		st.Failures += sp.s429
		st.Status[200] += sp.reqs - sp.s429
		st.Status[429] += sp.s429
		snap.Timeline = append(snap.Timeline, iv)
	}
	snap.Steps["GET /api"] = st
	snap.Iterations = engine.Iterations{Started: st.Requests, Completed: st.Requests, Lateness: engine.NewHistogram()}
	p := &plan.Plan{Name: "synthetic", Engine: engine.Config{Load: load, Duration: time.Duration(len(ivs)) * time.Second},
		Regions: []plan.Region{{Name: "local", Generators: 1}}}
	return &orchestrator.Result{RunID: "synth", Plan: p, Started: epoch, Ended: snap.End, Total: snap,
		Regions: []orchestrator.RegionResult{{Name: "local", Generators: 1, Snapshot: snap}},
		Shards:  orchestrator.ShardStatus{Expected: 1, Completed: 1}}
}

// ramp is an open-model load from rate a to b over d.
func ramp(a, b float64, d time.Duration) engine.Load {
	return engine.Load{Model: engine.ModelOpen, Rate: a, Stages: []engine.Stage{{Duration: d, Target: b}}}
}

func findingsOf(rep *Report) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range rep.Findings {
		m[f.Kind] = f
	}
	return m
}

func TestFindingsColdStart(t *testing.T) {
	ivs := make([]synthInterval, 10)
	for i := range ivs {
		ivs[i] = synthInterval{reqs: 100, lat: 20 * time.Millisecond}
	}
	ivs[0].lat = 600 * time.Millisecond
	rep := Build(synthRun(engine.Load{Rate: 100}, ivs))
	got := findingsOf(rep)
	f, ok := got[FindingColdStart]
	if !ok {
		t.Fatalf("no cold-start finding in %+v", rep.Findings)
	}
	if f.Values["t_s"] != 0 || math.Abs(f.Values["p99_ms"]-600) > 6 || math.Abs(f.Values["median_p99_ms"]-20) > 0.2 {
		t.Errorf("cold start values = %v, want t 0, p99 ~600ms, median ~20ms", f.Values)
	}
	if _, ok := got[FindingSaturation]; ok {
		t.Errorf("steady load flagged as saturation: %+v", got[FindingSaturation])
	}
	if len(rep.Detail.Intervals) != 10 || rep.Detail.Intervals[3].Offered != 100 {
		t.Errorf("detail intervals = %d, offered[3] = %v, want 10 and 100", len(rep.Detail.Intervals), rep.Detail.Intervals[3].Offered)
	}
}

func TestFindingsSaturation(t *testing.T) {
	// Offered ramps 20→200 req/s over 10s; the target serves at most
	// 100 req/s and slows down 20× once the offered rate exceeds that.
	ivs := make([]synthInterval, 10)
	for i := range ivs {
		offered := 20 + 18*(float64(i)+0.5)
		lat := 10 * time.Millisecond
		if offered > 100 {
			lat = 200 * time.Millisecond
		}
		ivs[i] = synthInterval{reqs: int64(math.Min(offered, 100)), lat: lat}
	}
	rep := Build(synthRun(ramp(20, 200, 10*time.Second), ivs))
	f, ok := findingsOf(rep)[FindingSaturation]
	if !ok {
		t.Fatalf("no saturation finding in %+v", rep.Findings)
	}
	if f.Values["t_s"] != 4 || f.Values["knee_rps"] != 100 || f.Values["offered"] != 101 || f.Values["max_offered"] != 191 {
		t.Errorf("saturation values = %v, want knee at 4s, 100 req/s achieved, 101 offered, 191 max", f.Values)
	}
	if _, ok := findingsOf(rep)[FindingColdStart]; ok {
		t.Errorf("saturation flagged as a cold start")
	}
}

func TestFindingsThrottling(t *testing.T) {
	// Offered ramps 10→100 req/s; past 50 req/s the target answers 429.
	ivs := make([]synthInterval, 10)
	var want429 int64
	for i := range ivs {
		reqs := int64(math.Round(10 + 9*(float64(i)+0.5)))
		over := max(0, reqs-50)
		want429 += over
		ivs[i] = synthInterval{reqs: reqs, lat: 5 * time.Millisecond, s429: over}
	}
	rep := Build(synthRun(ramp(10, 100, 10*time.Second), ivs))
	got := findingsOf(rep)
	f, ok := got[FindingThrottling]
	if !ok {
		t.Fatalf("no throttling finding in %+v", rep.Findings)
	}
	if f.Values["t_s"] != 4 || f.Values["rps_at_onset"] != 51 || f.Values["count"] != float64(want429) {
		t.Errorf("throttling values = %v, want onset 4s at 51 req/s, %d in all", f.Values, want429)
	}
	for _, k := range []string{FindingSaturation, FindingColdStart, FindingServerError, FindingTimeouts} {
		if _, ok := got[k]; ok {
			t.Errorf("unexpected %s finding: %+v", k, got[k])
		}
	}
}

func TestFindingsSteadyRunHasNone(t *testing.T) {
	ivs := make([]synthInterval, 8)
	for i := range ivs {
		ivs[i] = synthInterval{reqs: 50, lat: time.Duration(10+i%3) * time.Millisecond}
	}
	rep := Build(synthRun(engine.Load{Rate: 50}, ivs))
	if len(rep.Findings) != 0 {
		t.Errorf("findings of a steady run = %+v, want none", rep.Findings)
	}
}

func TestFindingsFixture(t *testing.T) {
	got := findingsOf(Build(fixture()))
	if f, ok := got[FindingGenerators]; !ok || f.Values["dropped"] != 2 || f.Values["late"] != 6 {
		t.Errorf("generator finding = %+v, want 6 late and 2 dropped", f)
	}
	if f, ok := got[FindingWorstRegion]; !ok || f.Values["p99_ms"] <= f.Values["best_p99_ms"]*1.5 {
		t.Errorf("worst region finding = %+v", f)
	}
	if f, ok := got[FindingSlowest]; !ok || f.Values["p99_ms_1"] < f.Values["p99_ms_2"] {
		t.Errorf("slowest endpoints finding = %+v", f)
	}
}

// TestGeneratorBottleneck: dropped arrivals always count; late ones only when
// many are late by at least BottleneckLatenessMs (a few ms is jitter).
func TestGeneratorBottleneck(t *testing.T) {
	tests := []struct {
		name string
		it   Iterations
		want bool
	}{
		{"jitter", Iterations{Started: 1000, Late: 208, Lateness: Lateness{P99: 2.68, Max: 27}}, false},
		{"few late", Iterations{Started: 1000, Late: 5, Lateness: Lateness{P99: 50, Max: 80}}, false},
		{"many late", Iterations{Started: 1000, Late: 200, Lateness: Lateness{P99: 45, Max: 90}}, true},
		{"dropped", Iterations{Started: 1000, Dropped: 1, Lateness: Lateness{P99: 1}}, true},
	}
	for _, tt := range tests {
		if _, got := generatorBottleneck(tt.it); got != tt.want {
			t.Errorf("%s: finding %v, want %v", tt.name, got, tt.want)
		}
	}
}
