package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/infra/hostiletarget"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// requests is the number of requests a result counts.
func requests(res *orchestrator.Result) int64 { return res.Total.Total().Requests }

// account fills r's run and task counts from res.
func account(r *Row, res *orchestrator.Result) {
	r.Runs++
	if res != nil {
		r.Completed++
		r.Tasks += res.Shards.Expected
		r.Reported += res.Shards.Completed
	}
}

// checkExact fails t unless res is complete and counts what tg served,
// every request with the token.
func checkExact(t *testing.T, res *orchestrator.Result, tg *countingTarget) {
	t.Helper()
	if len(res.Shards.Missing) > 0 || len(res.Shards.Corrupt) > 0 || res.Shards.Completed != res.Shards.Expected {
		t.Errorf("shards %+v, want every task completed", res.Shards)
	}
	if got := requests(res); got == 0 || got != tg.Hits() {
		t.Errorf("the report counts %d requests, the target served %d", got, tg.Hits())
	}
	if tg.WithToken() != tg.Hits() {
		t.Errorf("%d of %d requests carried the token", tg.WithToken(), tg.Hits())
	}
}

// TestChaosLocalExactlyOnce delivers every task at least twice: each is
// sent twice, and the queue's 700ms visibility timeout hands every
// running task to another worker again. Every task runs once: the report
// counts exactly what the target served.
func TestChaosLocalExactlyOnce(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 1, Backend: "local", Scenario: "exactly once: every task sent twice and redelivered while it runs"}
	row(t, r)
	tg := newCountingTarget(t)
	p := localPlan(t, planYAML(4*time.Second, 40, 2, "slice: 2s"), tg.URL)
	rg := newLocalRig(t)
	rg.Visibility, rg.Duplicate = 700*time.Millisecond, true
	res := rg.run(t, p, orchestrator.Options{Grace: 5 * time.Second})
	checkExact(t, res, tg)
	extra := rg.Deliveries() - int(rg.sent.Load())
	r.Faults = fmt.Sprintf("%d extra deliveries of %d tasks", extra, rg.sent.Load())
	if extra < 2*int(rg.sent.Load()) {
		t.Errorf("%d deliveries of %d tasks: want each sent twice and redelivered at least once", rg.Deliveries(), rg.sent.Load())
	}
	account(r, res)
	r.Lost = tg.Hits() - requests(res)
	r.Note = fmt.Sprintf("%d tasks ran once each; report = target = %d requests", res.Shards.Completed, tg.Hits())
}

// TestChaosLocalKilledGenerator kills one of two generators 2.5s into a 4s
// slice (its context cancelled, every later write failing). The report
// is incomplete and names the task, the lost requests are at most that
// generator's last checkpoint interval (1s on the local backend), the
// redelivered task runs nothing, and `stampede report` exits 4.
func TestChaosLocalKilledGenerator(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 2, Backend: "local", Scenario: "generator killed mid-slice"}
	row(t, r)
	tg := newCountingTarget(t)
	const rate, gens = 40, 2
	p := localPlan(t, planYAML(4*time.Second, rate, gens, ""), tg.URL)
	rg := newLocalRig(t)
	rg.Visibility = time.Second
	rg.Kill = &kill{Task: "g0001-s00", At: 2500 * time.Millisecond}
	res := rg.run(t, p, orchestrator.Options{Grace: 3 * time.Second})
	account(r, res)
	r.Faults = "1 generator killed 2.5s into its 4s slice"
	if rg.Kill.killed.Load() == 0 {
		t.Fatal("the generator was not killed")
	}
	want := []string{"local/g0001-s00"}
	if !slices.Equal(res.Shards.Missing, want) || res.Shards.Completed != 1 {
		t.Errorf("shards %+v, want %q missing and 1 completed", res.Shards, want)
	}
	lost := tg.Hits() - requests(res)
	// The generator's share is rate/gens per second; it loses what it
	// sent since its last checkpoint, plus what was in flight.
	bound := int64(rate / gens * 2)
	if lost <= 0 || lost > bound {
		t.Errorf("lost %d requests, want 1..%d (what the killed generator sent after its last checkpoint)", lost, bound)
	}
	r.Lost, r.Declared = lost, min(lost, bound)
	if n := rg.deliveries["local/g0001-s00"]; n < 2 {
		t.Errorf("the killed task was delivered %d times, want again after it failed", n)
	}

	code, out, errs := runCLI(t, nil, time.Minute, "report", rg.root+"/runs/"+res.RunID, "--ascii")
	if code != 4 || !strings.Contains(out, "local/g0001-s00") || !strings.Contains(out, "missing") {
		t.Errorf("stampede report: exit %d, want 4 naming the missing task\n%s%s", code, out, errs)
	}
	r.Note = fmt.Sprintf("report names %s missing, exit 4; lost %d ≤ %d (1 checkpoint interval)", want[0], lost, bound)
}

// TestChaosLocalCorruptResults damages a completed run's results: one
// task's result truncated, a copy of a result under a key with a wrong
// hash, a valid result of another run under a key of a task this run does
// not have, and a non-JSON object. Each is named corrupt and skipped; the
// truncated task is missing (its last checkpoint still counts); the rest
// is merged exactly; `stampede report` exits 4.
func TestChaosLocalCorruptResults(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 3, Backend: "local", Scenario: "corrupt, truncated and foreign result objects"}
	row(t, r)
	tg := newCountingTarget(t)
	p := localPlan(t, planYAML(2*time.Second, 30, 3, ""), tg.URL)
	rg := newLocalRig(t)
	res := rg.run(t, p, orchestrator.Options{})
	checkExact(t, res, tg)

	ctx := context.Background()
	run := res.RunID
	get := func(key string) []byte {
		b, err := rg.store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	put := func(key string, b []byte) {
		if err := rg.store.Put(ctx, key, b); err != nil {
			t.Fatal(err)
		}
	}
	decode := func(b []byte) int64 {
		res, err := shard.DecodeResult(b)
		if err != nil {
			t.Fatal(err)
		}
		return res.Snapshot.Total().Requests
	}
	truncated := shard.ResultKey(run, "local", "g0002-s00")
	final2 := get(truncated)
	checkpoint2 := decode(get(shard.CheckpointKey(run, "local", "g0002-s00")))
	put(truncated, final2[:len(final2)/2])
	wrongHash := strings.Replace(shard.ResultKey(run, "local", "g0000-s00"), "/"+shard.Hash("g0000-s00")+"/", "/zz/", 1)
	put(wrongHash, get(shard.ResultKey(run, "local", "g0000-s00")))
	otherRun := shard.ResultKey(run, "local", "g0007-s00")
	put(otherRun, get(shard.ResultKey(run, "local", "g0001-s00")))
	garbage := shard.ResultKey(run, "local", "g0001-s01")
	put(garbage, []byte("\x00\x01 not json"))

	again, err := orchestrator.Collect(ctx, rg.store, run)
	if err != nil {
		t.Fatal(err)
	}
	account(r, again)
	wantCorrupt := []string{truncated, wrongHash, otherRun, garbage}
	slices.Sort(wantCorrupt)
	if !slices.Equal(again.Shards.Corrupt, wantCorrupt) {
		t.Errorf("corrupt %q, want %q", again.Shards.Corrupt, wantCorrupt)
	}
	if want := []string{"local/g0002-s00"}; !slices.Equal(again.Shards.Missing, want) || again.Shards.Completed != 2 {
		t.Errorf("shards %+v, want %q missing, 2 completed", again.Shards, want)
	}
	want := tg.Hits() - decode(final2) + checkpoint2
	if got := requests(again); got != want {
		t.Errorf("merged %d requests, want %d (all but the truncated task's, plus its last checkpoint)", got, want)
	}
	code, out, errs := runCLI(t, nil, time.Minute, "report", rg.root+"/runs/"+run, "--ascii")
	if code != 4 || !strings.Contains(out, "corrupt") || !strings.Contains(out, otherRun) {
		t.Errorf("stampede report: exit %d, want 4 naming the corrupt objects\n%s%s", code, out, errs)
	}
	r.Faults = "4 bad objects under results/"
	r.Lost = tg.Hits() - requests(again)
	r.Declared = r.Lost // the truncated task's requests after its last checkpoint: it is named missing
	r.Note = fmt.Sprintf("4 named corrupt, 1 task missing, the rest merged exactly (%d requests); exit 4", requests(again))
}

// TestChaosLocalStoreFaults fails the generators' store calls throughout a
// run: every other lease once (the task is delivered again), every third
// checkpoint, every final result's first write (retried), every other
// stop-marker read. Every task still runs once and the counts are exact;
// the log says what failed.
func TestChaosLocalStoreFaults(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 10, Backend: "local", Scenario: "store errors during the whole run (generator side)"}
	row(t, r)
	tg := newCountingTarget(t)
	p := localPlan(t, planYAML(3*time.Second, 30, 3, ""), tg.URL)
	rg := newLocalRig(t)
	rg.Visibility = 400 * time.Millisecond
	rg.PollStop = 200 * time.Millisecond
	rg.Gen = NewFaultStore(rg.store,
		StoreRule{Name: "lease", Op: OpCreate, Key: "/" + shard.LeasesDir + "/", Every: 2, Once: true},
		StoreRule{Name: "checkpoint", Op: OpPut, Key: "/" + shard.CheckpointsDir + "/", Every: 3},
		StoreRule{Name: "result", Op: OpPut, Key: "/" + shard.ResultsDir + "/", Once: true},
		StoreRule{Name: "stop", Op: OpGet, Key: "/" + shard.StopName, Every: 2},
	)
	res := rg.run(t, p, orchestrator.Options{Grace: 5 * time.Second})
	checkExact(t, res, tg)
	f := rg.Gen
	total := f.Faulted("lease") + f.Faulted("checkpoint") + f.Faulted("result") + f.Faulted("stop")
	r.Faults = fmt.Sprintf("%d store errors (%d leases, %d checkpoints, %d results, %d stop reads)",
		total, f.Faulted("lease"), f.Faulted("checkpoint"), f.Faulted("result"), f.Faulted("stop"))
	if f.Faulted("lease") == 0 || f.Faulted("result") != 3 || f.Faulted("checkpoint") == 0 || f.Faulted("stop") == 0 {
		t.Errorf("faults: %s; want each kind, and all 3 results", r.Faults)
	}
	log := rg.log.String()
	for _, want := range []string{"lease: " + ErrInjected.Error(), "checkpoint: " + ErrInjected.Error()} {
		if !strings.Contains(log, want) {
			t.Errorf("the generator log does not say %q:\n%s", want, log)
		}
	}
	account(r, res)
	r.Lost = tg.Hits() - requests(res)
	r.Note = "failed leases redelivered, final writes retried; report = target"
}

// TestChaosLocalHostileTarget runs two generators against a target that
// misbehaves in every way hostiletarget knows, plus an untrusted
// certificate, TLS to a plain port and a name that does not resolve,
// mixed with a well-behaved /ok. Each failure is counted under its class,
// the generators keep going (every /ok succeeds) and the report counts
// exactly the /ok requests the target served.
func TestChaosLocalHostileTarget(t *testing.T) {
	t.Parallel()
	r := &Row{Order: 9, Backend: "local", Scenario: "hostile target: resets, hangs, slow, endless/huge bodies, bad HTTP, bad TLS, DNS"}
	row(t, r)
	ht, err := hostiletarget.Start(hostiletarget.Options{Slow: 2 * time.Second, HugeBytes: 8 << 20, EndlessEvery: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ht.Close)
	host := strings.TrimPrefix(ht.URL, "http://")
	type mode struct {
		name, url string
		class     engine.ErrorClass
	}
	cases := []mode{
		{"bad-cert", ht.TLSURL + hostiletarget.PathOK, engine.ErrTLS},
		{"tls-to-plain", "https://" + host + hostiletarget.PathOK, engine.ErrTLS},
		{"dns", "http://stampede-hostile.invalid/ok", engine.ErrDNS},
	}
	for _, p := range hostiletarget.Paths()[1:] {
		cases = append(cases, mode{strings.TrimPrefix(p, "/"), p, engine.ErrorClass(hostiletarget.Class(p))})
	}
	var src strings.Builder
	fmt.Fprintf(&src, "target: %s\nduration: 3s\nload: {rate: 60}\ngenerators: 2\ndefaults: {timeout: 500ms}\n", ht.URL)
	fmt.Fprintf(&src, "allowed_hosts: ['%s', stampede-hostile.invalid]\n", strings.TrimPrefix(ht.TLSURL, "https://"))
	src.WriteString("scenarios:\n  - {name: ok, weight: 6, steps: [{name: ok, get: /ok, expect: {status: 200, body_contains: ok}}]}\n")
	for _, c := range cases {
		fmt.Fprintf(&src, "  - {name: %s, steps: [{name: %s, get: '%s'}]}\n", c.name, c.name, c.url)
	}
	p := localPlan(t, src.String(), ht.URL)
	rg := newLocalRig(t)
	res := rg.run(t, p, orchestrator.Options{})
	account(r, res)
	steps := res.Total.Steps
	var hostile int64
	for _, c := range cases {
		st := steps[c.name]
		switch {
		case st == nil || st.Requests == 0:
			t.Errorf("%s: no requests", c.name)
		case c.class == engine.ErrNone && (st.Status[200] != st.Requests || st.BytesRecv < st.Requests*(8<<20)):
			t.Errorf("%s: %d requests, status %v, %d bytes: want every one 200 with its whole body", c.name, st.Requests, st.Status, st.BytesRecv)
		case c.class != engine.ErrNone && st.Errors[c.class] != st.Requests:
			t.Errorf("%s: %d requests, errors %v, status %v: want every one %q", c.name, st.Requests, st.Errors, st.Status, c.class)
		default:
			hostile += st.Requests
		}
	}
	ok := steps["ok"]
	if ok == nil || ok.Requests == 0 || ok.Status[200] != ok.Requests || ok.Requests != ht.Requests(hostiletarget.PathOK) {
		t.Errorf("ok: %+v; the target served %d /ok: want all 200 and equal", ok, ht.Requests(hostiletarget.PathOK))
	}
	if len(res.Shards.Missing) > 0 || len(res.Shards.Corrupt) > 0 {
		t.Errorf("shards %+v", res.Shards)
	}
	if ok != nil {
		r.Lost = ht.Requests(hostiletarget.PathOK) - ok.Requests
		r.Note = fmt.Sprintf("%d hostile requests each counted by class; all %d /ok succeeded, = the target's count", hostile, ok.Requests)
	}
	r.Faults = fmt.Sprintf("%d kinds of failure, %d requests", len(cases), hostile)
}
