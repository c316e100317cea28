package chaos

import (
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// localRunID is the id of the only run under dir's store.
func localRunID(t testing.TB, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("runs under %s: %v %v", dir, entries, err)
	}
	return entries[0].Name()
}

// stopLocal runs a 30s plan of 8 generators with `stampede run` on the
// local backend,
// stops it with stop once the load flows, and checks that every generator
// stopped sending within 5s, that the report counts exactly what the
// target served, says why the run stopped, and that the token is nowhere
// in what stampede wrote or printed.
func stopLocal(t *testing.T, r *Row, stop func(run *cliRun, dir, id string), wantCode int, wantStopped string) {
	tg := newCountingTarget(t)
	dir := t.TempDir()
	planPath := writePlan(t, dir, planYAML(30*time.Second, 80, 8, ""))
	run := startCLI(t, nil, "run", planPath, "--target", tg.URL, "--store", dir, "--progress-every", "500ms")
	tg.waitHits(t, 40, 30*time.Second)
	id := localRunID(t, dir)
	// Stop at a random moment: the generators poll the stop marker every
	// second, and a fixed moment would always measure the same phase.
	time.Sleep(time.Duration(mrand.Int64N(int64(time.Second))))
	stopAt := time.Now()
	stop(run, dir, id)
	last := tg.quietFor(1500*time.Millisecond, 15*time.Second)
	code := run.wait(t, 30*time.Second)
	exited := run.exited.Sub(stopAt)
	r.Runs++
	r.Stop = max(last.Sub(stopAt), 0)
	if r.Stop > 5*time.Second {
		t.Errorf("the generators sent requests for %v after the stop, want under 5s", r.Stop)
	}
	if code != wantCode {
		t.Errorf("stampede run exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, run.stdout.String(), run.stderr.String())
	}
	rep := readReport(t, filepath.Join(dir, "runs", id))
	r.Completed++
	r.Tasks, r.Reported = rep.Shards.Expected, rep.Shards.Completed
	r.Lost = tg.Hits() - rep.Requests
	if rep.Requests != tg.Hits() || !rep.Shards.Complete() || rep.Stopped != wantStopped {
		t.Errorf("report: %d requests (target %d), shards %+v, stopped %q (want %q)", rep.Requests, tg.Hits(), rep.Shards, rep.Stopped, wantStopped)
	}
	var scan secretScan
	scan.dir(t, dir)
	scan.text("stampede run stdout", run.stdout.String())
	scan.text("stampede run stderr", run.stderr.String())
	r.Note = fmt.Sprintf("last request %v after the stop, exited after %v; report = target = %d; %s",
		r.Stop.Round(10*time.Millisecond), exited.Round(10*time.Millisecond), tg.Hits(), scan.check(t))
	if tg.WithToken() != tg.Hits() {
		t.Errorf("%d of %d requests carried the token", tg.WithToken(), tg.Hits())
	}
}

// TestChaosLocalStopCommand stops a local run from a second process.
func TestChaosLocalStopCommand(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 4, Backend: "local", Scenario: "kill switch: `stampede stop RUN` (and secrets scan)", Faults: "stop marker from another process"}
	row(t, r)
	stopLocal(t, r, func(_ *cliRun, dir, id string) {
		code, out, errs := runCLI(t, nil, 30*time.Second, "stop", id, "--store", dir, "--reason", "chaos: stop")
		if code != 0 || !strings.Contains(out, "stop marker written") {
			t.Errorf("stampede stop: exit %d\n%s%s", code, out, errs)
		}
	}, 0, "chaos: stop")
}

// TestChaosLocalInterrupt stops a local run with Ctrl-C (SIGINT).
func TestChaosLocalInterrupt(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 5, Backend: "local", Scenario: "kill switch: Ctrl-C on `stampede run` (and secrets scan)", Faults: "SIGINT"}
	row(t, r)
	stopLocal(t, r, func(run *cliRun, _, _ string) { run.signal(t, os.Interrupt) }, 130, "interrupted")
}

// TestChaosLocalCaps runs plans above the caps: refused with a located
// problem and exit 2 before anything is sent.
func TestChaosLocalCaps(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 7, Backend: "local", Scenario: "caps: rate, generators, duration, max_conns"}
	row(t, r)
	tg := newCountingTarget(t)
	dir := t.TempDir()
	cases := []struct {
		plan string
		args []string
		want string
	}{
		{planYAML(10*time.Second, 50000, 2, ""), nil, ":4:8: load.rate: a rate of 50000 iterations/s is above the 10000/s"},
		{planYAML(2*time.Hour, 10, 2, ""), nil, ":3:1: duration: a test of 2h is longer than the 1h"},
		{planYAML(10*time.Second, 10, 2, ""), []string{"--generators", "500"}, ":5:1: generators: 500 generators in all regions are more than the 100"},
		{strings.Replace(planYAML(10*time.Second, 10, 2, ""), "load: {rate: 10}", "load: {rate: 10, max_conns: 1000}", 1), nil, ":4:29: load.max_conns: 1000 is out of range (want 1 to 900)"},
	}
	for _, c := range cases {
		path := writePlan(t, dir, c.plan)
		code, out, errs := runCLI(t, nil, time.Minute, append([]string{"run", path, "--target", tg.URL, "--store", dir}, c.args...)...)
		r.Runs++
		if code != 2 || !strings.Contains(errs, path+c.want) {
			t.Errorf("run %s: exit %d, want 2 and %q\n%s%s", c.want, code, path+c.want, out, errs)
		}
	}
	if tg.Hits() != 0 {
		t.Errorf("refused plans sent %d requests", tg.Hits())
	}
	r.Faults = fmt.Sprintf("%d plans over a cap", len(cases))
	r.Note = "all refused, as they must be: file:line and a hint, exit 2, 0 requests sent"
}
