package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

var progressEpoch = time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)

func progressPlan() *plan.Plan {
	return &plan.Plan{Name: "demo", Engine: engine.Config{Target: "http://127.0.0.1:8080", Duration: 10 * time.Second,
		Load: engine.Load{Model: engine.ModelOpen, Rate: 10, Stages: []engine.Stage{{Duration: 10 * time.Second, Target: 110}}}},
		Regions: []plan.Region{{Name: "us-east-1", Generators: 2}, {Name: "eu-west-1", Generators: 1}}}
}

// progressAt is the progress after secs seconds: 50 requests per second
// so far, one per iteration, interval i taking (i+1) ms each, 2 timeouts
// and 3 503s.
func progressAt(secs int) orchestrator.Progress {
	s := engine.NewSnapshot(progressEpoch, time.Second)
	s.Start, s.End = progressEpoch, progressEpoch.Add(time.Duration(secs)*time.Second)
	st := &engine.StepStats{Requests: int64(50 * secs), Failures: 5, Status: map[int]int64{200: int64(50*secs - 3), 503: 3},
		Errors: map[engine.ErrorClass]int64{engine.ErrTimeout: 2}, Response: engine.NewHistogram(), Service: engine.NewHistogram()}
	for i := range secs {
		iv := &engine.Interval{Index: i, Requests: 50, Response: engine.NewHistogram(), Service: engine.NewHistogram()}
		for range 50 {
			iv.Response.Record(time.Duration(i+1) * time.Millisecond)
		}
		s.Timeline = append(s.Timeline, iv)
	}
	s.Steps["GET /"] = st
	s.Iterations.Started = st.Requests
	return orchestrator.Progress{RunID: "r1", Elapsed: time.Duration(secs) * time.Second, Duration: 10 * time.Second,
		Expected: 3, Leased: 2, Finished: 0, Snapshot: s,
		Regions: []orchestrator.RegionProgress{
			{Name: "us-east-1", Expected: 2, Leased: 1},
			{Name: "eu-west-1", Expected: 1, Leased: 1},
		}}
}

func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	v := newProgress(&buf, progressPlan(), false)
	v.Update(progressAt(2))
	v.Spend = func(orchestrator.Progress) string { return "$0.0012" }
	v.Update(progressAt(4))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`run r1: plan "demo", 10s, 3 generators (us-east-1 ×2, eu-west-1 ×1), target http://127.0.0.1:8080`,
		// Offered at 2s of a 10→110 ramp: 30 req/s (one request per iteration).
		`     2s/10s  requests 100  rps 50.0  p99 2ms  p50 2ms  offered 30.0  errors 5 (5.00%) [timeout 2, 503 3]  tasks 1 ready, 2 running, 0 done of 3 [us-east-1 1/1/0, eu-west-1 0/1/0]  left 8s`,
		`     4s/10s  requests 200  rps 50.0  p99 4ms  p50 4ms  offered 50.0  errors 5 (2.50%) [timeout 2, 503 3]  tasks 1 ready, 2 running, 0 done of 3 [us-east-1 1/1/0, eu-west-1 0/1/0]  left 6s  spend $0.0012`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d\n got %q\nwant %q", i, lines[i], want[i])
		}
	}
	if strings.Contains(buf.String(), "\x1b") {
		t.Error("plain mode wrote an escape sequence")
	}
}

func TestProgressRedraw(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		if noColor {
			t.Setenv("NO_COLOR", "1")
		}
		var buf bytes.Buffer
		v := newProgress(&buf, progressPlan(), true)
		v.Update(progressAt(2))
		first := buf.Len()
		v.Update(progressAt(3))
		out := buf.String()
		second := out[first:]
		if !strings.HasPrefix(second, "\x1b[5A\x1b[2K") {
			t.Errorf("second update does not move up over the 5-line block: %q", second[:min(20, len(second))])
		}
		if n := strings.Count(second, "\x1b[2K"); n != 5 {
			t.Errorf("second update clears %d lines, want 5", n)
		}
		if strings.Contains(out, "\x1b[1m") == noColor {
			t.Errorf("NO_COLOR=%v but colour codes present=%v", noColor, !noColor)
		}
		plain := stripANSI(second)
		for _, want := range []string{"elapsed  3s of 10s  (7s left)", "tasks 1 ready, 2 running, 0 finished of 3  ·  us-east-1 1/1/0, eu-west-1 0/1/0",
			"50.0 req/s achieved  ·  40.0 req/s offered  ·  150 requests", "p50 3ms  ·  p99 3ms  (last interval)", "5 (3.33%)  timeout 2, 503 3"} {
			if !strings.Contains(plain, want) {
				t.Errorf("block lacks %q:\n%s", want, plain)
			}
		}
	}
}

func TestLatestIntervalSkipsPartial(t *testing.T) {
	p := progressAt(3)
	p.Snapshot.End = progressEpoch.Add(2500 * time.Millisecond) // interval 2 is still going
	if iv := latestInterval(p.Snapshot); iv == nil || iv.Index != 1 {
		t.Errorf("latest complete interval = %+v, want index 1", iv)
	}
}

// stripANSI removes SGR and cursor sequences.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z') {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
