package chaos

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/infra/hostiletarget"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// stopAWS runs a 30s plan on the aws path, stops it with stop once the
// load flows, and checks that every generator stopped sending within 5s,
// that the run exits with wantCode, and that the report counts exactly
// what the target served and says why it stopped.
func stopAWS(t *testing.T, env *awsEnv, r *Row, stop func(ar *awsRegion, run *cliRun, id string), wantCode int, wantStopped string) {
	ar := newAWSRegion(t, env, awsOptions{Emulators: 2})
	tg := newCountingTarget(t)
	run := ar.start(t, planYAML(30*time.Second, 40, 2, awsRegions), tg.URL)
	id := ar.runID(t)
	tg.waitHits(t, 40, time.Minute)
	// Stop at a random moment: the generators poll the stop marker every
	// second, and a fixed moment would always measure the same phase.
	time.Sleep(time.Duration(mrand.Int64N(int64(time.Second))))
	stopAt := time.Now()
	stop(ar, run.cliRun, id)
	last := tg.quietFor(1500*time.Millisecond, 20*time.Second)
	rep := run.finish(t, r, wantCode)
	exited := run.exited.Sub(stopAt)
	r.Stop = max(last.Sub(stopAt), 0)
	if r.Stop > 5*time.Second {
		t.Errorf("the generators sent requests for %v after the stop, want under 5s", r.Stop)
	}
	r.Lost = tg.Hits() - rep.Requests
	if rep.Stopped != wantStopped {
		t.Errorf("report stopped %q, want %q", rep.Stopped, wantStopped)
	}
	checkReportExact(t, rep, tg)
	r.Note = fmt.Sprintf("last request %v after the stop, exited after %v; report = target = %d; %s",
		r.Stop.Round(10*time.Millisecond), exited.Round(10*time.Millisecond), tg.Hits(), ar.checkSecrets(t, run.out, run.cliRun))
}

// awsStopCommand stops an aws run with `stampede stop s3://BUCKET/runs/ID`
// from a second process.
func awsStopCommand(t *testing.T, env *awsEnv) {
	r := &Row{Order: 4, Backend: "aws", Scenario: "kill switch: `stampede stop s3://…/runs/ID` (and secrets scan)", Faults: "stop marker from another process"}
	row(t, r)
	stopAWS(t, env, r, func(ar *awsRegion, _ *cliRun, id string) {
		code, out, errs := runCLI(t, ar.env, 30*time.Second, "stop", ar.s3URL(id), "--aws-config", ar.config, "--reason", "chaos: stop")
		if code != 0 || !strings.Contains(out, "stop marker written") {
			t.Errorf("stampede stop: exit %d\n%s%s", code, out, errs)
		}
	}, 0, "chaos: stop")
}

// awsInterrupt stops an aws run with Ctrl-C (SIGINT) on `stampede run`.
func awsInterrupt(t *testing.T, env *awsEnv) {
	r := &Row{Order: 5, Backend: "aws", Scenario: "kill switch: Ctrl-C on `stampede run` (and secrets scan)", Faults: "SIGINT"}
	row(t, r)
	stopAWS(t, env, r, func(_ *awsRegion, run *cliRun, _ string) { run.signal(t, os.Interrupt) }, 130, "interrupted")
}

// awsOrchestratorKilled kills `stampede run` (SIGKILL) 1.5s into a 5s test
// against a target that never answers half the requests (2s timeout):
// nobody writes a stop marker, yet every generator stops by itself at its
// window's end plus the engine's grace, writes its result, and the run
// can be reported later, complete.
func awsOrchestratorKilled(t *testing.T, env *awsEnv) {
	r := &Row{Order: 6, Backend: "aws", Scenario: "apoptosis: orchestrator killed (SIGKILL), target hangs half the requests", Faults: "`stampede run` killed 1.5s in"}
	row(t, r)
	ar := newAWSRegion(t, env, awsOptions{Emulators: 2})
	ht, err := hostiletarget.Start(hostiletarget.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ht.Close)
	const d, grace = 5 * time.Second, 2 * time.Second
	src := fmt.Sprintf(`name: apoptosis
target: %s
duration: %s
load: {rate: 40}
%s
defaults: {timeout: %s}
scenarios:
  - {name: ok, steps: [{name: ok, get: /ok, headers: {Authorization: 'Bearer {{ env "%s" }}'}}]}
  - {name: hang, steps: [{name: hang, get: /hang}]}
`, ht.URL, d, "generators: 2\n"+awsRegions, grace, envToken)
	run := ar.start(t, src, ht.URL)
	id := ar.runID(t)
	m := ar.manifest(t, id)
	time.Sleep(time.Until(m.Epoch.Add(1500 * time.Millisecond)))
	run.signal(t, syscall.SIGKILL)
	run.wait(t, 10*time.Second)

	// Every task's result appears by the window's end + grace + the
	// handler's slack (5s) + a second to write it, with nobody watching.
	end := m.Epoch.Add(d)
	limit := end.Add(grace + 5*time.Second + time.Second)
	ctx := context.Background()
	var latest time.Time
	for _, ref := range m.Tasks {
		key := shard.ResultKey(id, ref.Region, ref.ID)
		var res *shard.Result
		for res == nil {
			data, err := ar.store.Get(ctx, key)
			if err == nil {
				if res, err = shard.DecodeResult(data); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				break
			}
			if !errors.Is(err, shard.ErrNotFound) || time.Now().After(limit.Add(5*time.Second)) {
				t.Fatalf("no result for %s by %v after the window's end: %v", ref.ID, time.Since(end), err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if res.Ended.After(limit) || strings.HasPrefix(res.Stopped, "stop marker") {
			t.Errorf("%s ended %v after its window (stopped %q), want within %v", ref.ID, res.Ended.Sub(end), res.Stopped, limit.Sub(end))
		}
		latest = maxTime(latest, res.Ended)
	}
	okAt, hangAt := ht.Requests(hostiletarget.PathOK), ht.Requests(hostiletarget.PathHang)
	time.Sleep(2 * time.Second)
	if ht.Requests(hostiletarget.PathOK) != okAt || ht.Requests(hostiletarget.PathHang) != hangAt {
		t.Errorf("requests still arrive after every generator wrote its result")
	}
	if _, err := ar.store.Get(ctx, shard.StopKey(id)); !errors.Is(err, shard.ErrNotFound) {
		t.Errorf("stop marker: %v; nobody should have written one", err)
	}
	r.Stop = latest.Sub(end)

	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := runCLI(t, ar.env, time.Minute, "report", ar.s3URL(id), "--out", out, "--ascii")
	r.Runs = 1
	if code != 0 {
		t.Fatalf("stampede report: exit %d\n%s%s", code, stdout, stderr)
	}
	rep := readReport(t, out)
	r.Completed, r.Tasks, r.Reported = 1, rep.Shards.Expected, rep.Shards.Completed
	var ok, hang int64
	for _, e := range rep.Endpoints {
		switch e.Name {
		case "ok":
			ok = e.Requests
		case "hang":
			hang = e.Requests
			if e.ErrorsByClass[string(engine.ErrTimeout)] != e.Requests {
				t.Errorf("hang: %d requests, errors %v; want every one timed out", e.Requests, e.ErrorsByClass)
			}
		}
	}
	r.Lost = ht.Requests(hostiletarget.PathOK) - ok
	if !rep.Shards.Complete() || ok == 0 || r.Lost != 0 || hang == 0 {
		t.Errorf("report: shards %+v, %d ok (target %d), %d hang", rep.Shards, ok, ht.Requests(hostiletarget.PathOK), hang)
	}
	r.Faults += fmt.Sprintf(", %d requests left hanging", hang)
	r.Note = fmt.Sprintf("no stop marker; the last generator ended %v after the test's end (bound %v) and wrote its result; the report rebuilt later is complete, /ok = target = %d",
		r.Stop.Round(10*time.Millisecond), limit.Sub(end), ok)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
