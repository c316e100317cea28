package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
)

// fleetResult is a 4s run with 1s intervals and four generator spans:
// two on time, two late (1.5s and 1.2s after their window's start, the
// second with no lease time).
func fleetResult() *orchestrator.Result {
	at := func(d time.Duration) time.Time { return epoch.Add(d) }
	total := engine.NewSnapshot(epoch, time.Second)
	total.Start, total.End = epoch, at(4*time.Second)
	return &orchestrator.Result{
		RunID: "fleet", Started: epoch, Ended: at(4 * time.Second), Total: total,
		Shards: orchestrator.ShardStatus{Expected: 4, Completed: 4},
		Generators: []orchestrator.GeneratorSpan{
			{Task: "eu/g0001-s00", Region: "eu", Slice: 0, Leased: at(1200 * time.Millisecond), Started: at(1500 * time.Millisecond),
				Ended: at(2500 * time.Millisecond), WindowStart: epoch},
			{Task: "eu/g0001-s01", Region: "eu", Slice: 1, Started: at(3200 * time.Millisecond),
				Ended: at(4 * time.Second), WindowStart: at(2 * time.Second)},
			{Task: "us/g0000-s00", Region: "us", Slice: 0, Leased: at(-300 * time.Millisecond), Started: at(10 * time.Millisecond),
				Ended: at(2050 * time.Millisecond), WindowStart: epoch},
			{Task: "us/g0000-s01", Region: "us", Slice: 1, Leased: at(1800 * time.Millisecond), Started: at(2 * time.Second),
				Ended: at(4 * time.Second), WindowStart: at(2 * time.Second)},
		},
	}
}

func TestFleet(t *testing.T) {
	rep := Build(fleetResult())
	f := rep.Fleet
	if f.Ran != 4 {
		t.Errorf("ran = %d, want 4", f.Ran)
	}
	want := []Running{{0, 1}, {1, 3}, {2, 3}, {3, 2}}
	if !slices.Equal(f.Running, want) {
		t.Errorf("running = %v, want %v", f.Running, want)
	}
	if f.StartSkewMs != 1500 {
		t.Errorf("start skew = %vms, want 1500ms (1.5s late minus 0s late)", f.StartSkewMs)
	}
	wantLate := []LateJoiner{{"eu/g0001-s00", 1500}, {"eu/g0001-s01", 1200}}
	if !slices.Equal(f.LateJoiners, wantLate) {
		t.Errorf("late joiners = %v, want %v", f.LateJoiners, wantLate)
	}
	i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Kind == FindingLateJoiners })
	if i < 0 {
		t.Fatalf("findings %+v: no %s", rep.Findings, FindingLateJoiners)
	}
	if v := rep.Findings[i].Values; v["late"] != 2 || v["max_late_ms"] != 1500 || v["start_skew_ms"] != 1500 {
		t.Errorf("finding values = %v, want 2 late, max 1500ms, skew 1500ms", v)
	}

	var text bytes.Buffer
	if err := WriteText(&text, rep, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"generators      4 ran · start skew 1.50s · 2 late\n",
		"  late: eu/g0001-s00 (+1.50s), eu/g0001-s01 (+1.20s)\n"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, text.String())
		}
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `aria-label="Generators running over time"`) || strings.Contains(page.String(), "no generator reported") {
		t.Error("the HTML report does not draw the generators chart")
	}
}

// TestFleetClaimed: two tasks the orchestrator claimed after a stop (one
// 9 s after its window's start, one before its window) never ran. They are
// neither late joiners nor part of the start skew nor running, and the
// shard accounting still lists them.
func TestFleetClaimed(t *testing.T) {
	r := fleetResult()
	r.Shards = orchestrator.ShardStatus{Expected: 6, Completed: 6}
	for _, c := range []struct {
		task   string
		window time.Duration
		at     time.Duration
	}{{"us/g0002-s01", 2 * time.Second, 11 * time.Second}, {"eu/g0003-s02", 30 * time.Second, 11 * time.Second}} {
		at := epoch.Add(c.at)
		r.Generators = append(r.Generators, orchestrator.GeneratorSpan{Task: c.task, Region: c.task[:2], Slice: 1,
			Leased: at, Started: at, Ended: at, WindowStart: epoch.Add(c.window), Claimed: true})
	}
	rep := Build(r)
	f := rep.Fleet
	wantLate := []LateJoiner{{"eu/g0001-s00", 1500}, {"eu/g0001-s01", 1200}}
	if f.Ran != 4 || f.Claimed != 2 || f.StartSkewMs != 1500 || !slices.Equal(f.LateJoiners, wantLate) {
		t.Errorf("fleet: %d ran, %d claimed, skew %vms, late %v; want 4, 2, 1500ms (the generators' alone), %v", f.Ran, f.Claimed, f.StartSkewMs, f.LateJoiners, wantLate)
	}
	if want := []Running{{0, 1}, {1, 3}, {2, 3}, {3, 2}}; !slices.Equal(f.Running, want) {
		t.Errorf("running = %v, want %v", f.Running, want)
	}
	if want := []string{"eu/g0003-s02", "us/g0002-s01"}; !slices.Equal(rep.Shards.Claimed, want) || rep.Shards.Completed != 6 || !rep.Shards.Complete() {
		t.Errorf("shards %+v, want 6 completed with %v claimed", rep.Shards, want)
	}
	i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Kind == FindingLateJoiners })
	if i < 0 || rep.Findings[i].Values["late"] != 2 || !strings.Contains(rep.Findings[i].Detail, "2 of 4 generators") {
		t.Errorf("late-joiner finding %+v, want the 2 late generators of the 4 that ran", rep.Findings)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"shards          6/6 completed, 2 claimed after the stop (never ran)\n",
		"  claimed: eu/g0003-s02, us/g0002-s01\n", "generators      4 ran · start skew 1.50s · 2 late (2 claimed tasks never ran: not counted)\n"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, text.String())
		}
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `<span id="claimed">claimed after the stop (never ran):</span> eu/g0003-s02, us/g0002-s01`) {
		t.Error("the HTML report does not list the claimed tasks")
	}
}

// TestFleetThreshold checks the late-joiner boundary: exactly LateJoinAfter
// late is on time; a millisecond more is late. It also checks a run with
// no spans gives no points, no skew and no finding.
func TestFleetThreshold(t *testing.T) {
	r := fleetResult()
	r.Generators = r.Generators[2:]
	r.Generators[0].Started = epoch.Add(LateJoinAfter)
	r.Generators[1].Started = r.Generators[1].WindowStart.Add(LateJoinAfter + time.Millisecond)
	f := Build(r).Fleet
	if want := []LateJoiner{{"us/g0000-s01", 1001}}; !slices.Equal(f.LateJoiners, want) {
		t.Errorf("late joiners = %v, want %v", f.LateJoiners, want)
	}
	if f.StartSkewMs != 1 {
		t.Errorf("start skew = %vms, want 1ms", f.StartSkewMs)
	}

	r.Generators = nil
	rep := Build(r)
	if f := rep.Fleet; f.Ran != 0 || len(f.Running) != 0 || f.StartSkewMs != 0 || len(f.LateJoiners) != 0 {
		t.Errorf("fleet without spans = %+v, want zero", f)
	}
	if slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Kind == FindingLateJoiners }) {
		t.Error("a late-joiner finding without spans")
	}
}
