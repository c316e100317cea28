package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/report"
)

// writeRunReport writes a report.json with one endpoint into dir/runs/id.
func writeRunReport(t *testing.T, dir, id string, p99, rps float64) string {
	t.Helper()
	rd := runDir(dir, id)
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	l := report.Latency{P50: 10, P95: 50, P99: p99}
	r := &report.Report{RunID: id, Requests: 1000, RPS: rps, Latency: l,
		Endpoints: []report.Endpoint{{Name: "GET /x", Requests: 1000, RPS: rps, Latency: l}}}
	if err := writeFile(filepath.Join(rd, ReportJSON), func(w io.Writer) error { return report.WriteJSON(w, r) }); err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	a := writeRunReport(t, dir, "run-a", 100, 50)
	b := writeRunReport(t, dir, "run-b", 130, 50)
	code, out, errs := runCLI(context.Background(), "compare", a, b)
	if code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitThresholds, out, errs)
	}
	if !strings.Contains(out, "100ms → 130ms (+30.0%) !") || !strings.Contains(out, "2 regression(s) beyond 10.00%") {
		t.Errorf("output:\n%s", out)
	}
	// Within a 50% tolerance, by id under --store.
	code, out, errs = runCLI(context.Background(), "compare", "run-a", "run-b", "--store", dir, "--tolerance", "50%")
	if code != ExitPassed || !strings.Contains(out, "no regression beyond 50.00%") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runCLI(context.Background(), "compare", a, filepath.Join(dir, "nope")); code != ExitUsage {
		t.Errorf("missing run: exit %d, want %d", code, ExitUsage)
	}
}

func TestParseTolerance(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{{"10%", 0.1, true}, {"0.25", 0.25, true}, {" 5% ", 0.05, true}, {"0", 0, true}, {"-1%", 0, false}, {"ten", 0, false}} {
		got, err := parseTolerance(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseTolerance(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestWriteReportsWritesExports(t *testing.T) {
	epoch := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	snap := engine.NewSnapshot(epoch, time.Second)
	snap.Start, snap.End = epoch, epoch.Add(2*time.Second)
	h := engine.NewHistogram()
	h.Record(3 * time.Millisecond)
	snap.Steps["GET /x"] = &engine.StepStats{Requests: 1, Status: map[int]int64{200: 1}, Response: h, Service: h.Clone()}
	snap.Timeline = []*engine.Interval{{Index: 0, Requests: 1, Response: h.Clone(), Service: h.Clone()}}
	res := &orchestrator.Result{RunID: "r", Started: epoch, Ended: snap.End, Total: snap}
	dir := t.TempDir()
	var out strings.Builder
	if _, err := writeReports(&out, res, dir, true, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ReportJSON, ReportHTML, report.HlogFile, report.TimelineCSVFile, report.JUnitFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
	}
	hlog, _ := os.ReadFile(filepath.Join(dir, report.HlogFile))
	if n := strings.Count(string(hlog), "\nTag=GET_/x,0.000,2.000,"); n != 1 {
		t.Errorf("hlog has %d whole-run lines for GET /x, want 1:\n%s", n, hlog)
	}
}
