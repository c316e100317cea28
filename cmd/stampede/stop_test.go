package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator/report"
)

// TestStopCommand stops a running 30 s test from a second CLI call, as
// another terminal would: the generators stop within seconds, every request
// the target served is in the report, and the report says who stopped it.
func TestStopCommand(t *testing.T) {
	tg, url := startTarget(t)
	dir := t.TempDir()
	p := writePlan(t, dir, "long.yaml", strings.Replace(goodPlan, "duration: 2s", "duration: 30s", 1))
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		code, out, errs := runCLI(context.Background(), "run", p, "--target", url, "--store", dir, "--quiet")
		done <- result{code, out, errs}
	}()
	// Once the load flows, find the run and stop it by its id.
	for tg.Requests() < 10 {
		if time.Since(start) > 20*time.Second {
			t.Fatal("no load after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ids, err := os.ReadDir(filepath.Join(dir, "runs"))
	if err != nil || len(ids) != 1 {
		t.Fatalf("runs: %v %v", ids, err)
	}
	stopAt := time.Now()
	code, out, errs := runCLI(context.Background(), "stop", ids[0].Name(), "--store", dir, "--reason", "operator: target on fire")
	if code != 0 || !strings.Contains(out, "stop marker written") {
		t.Fatalf("stop: exit %d\n%s\n%s", code, out, errs)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end within 20s of the stop")
	}
	t.Logf("run ended %v after the stop", time.Since(stopAt))
	if time.Since(start) > 25*time.Second {
		t.Errorf("the 30s run ran %v: the stop did not cut it short", time.Since(start))
	}
	rep, err := report.ReadJSON(filepath.Join(reportDir(t, r.out), ReportJSON))
	if err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", r.code, err, r.out, r.err)
	}
	if rep.Stopped != "operator: target on fire" {
		t.Errorf("report stopped = %q", rep.Stopped)
	}
	if rep.Requests != tg.Requests() || rep.Shards.Completed != rep.Shards.Expected {
		t.Errorf("report: %d requests (target served %d), shards %+v", rep.Requests, tg.Requests(), rep.Shards)
	}

	// A run that does not exist cannot be stopped.
	if code, _, errs := runCLI(context.Background(), "stop", "20990101T000000Z-000000", "--store", dir); code != ExitUsage || !strings.Contains(errs, "no run") {
		t.Errorf("stop of an unknown run: exit %d, %s", code, errs)
	}
}
