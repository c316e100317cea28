package chaos

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/shard"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// TestChaosAWS runs the aws scenarios: `stampede run --backend aws` (the
// real binary) against local-aws-sqs and gofakes3, with the real
// generator bootstrap under Runtime Interface Emulators, one fresh queue,
// bucket and fleet per scenario.
func TestChaosAWS(t *testing.T) {
	env := newAWSEnv(t)
	awsBinaries(t) // build before the scenarios start their clocks
	cli(t)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *awsEnv)
	}{
		{"exactly once", awsExactlyOnce},
		{"killed generator", awsKilledGenerator},
		{"stop command", awsStopCommand},
		{"interrupt", awsInterrupt},
		{"orchestrator killed", awsOrchestratorKilled},
		{"infrastructure faults", awsInfraFaults},
		{"final write fails", awsFinalWriteFails},
		{"refused addresses", awsRefusedAddresses},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, env)
		})
	}
}

// awsRegions puts a plan's generators in the scenarios' region.
const awsRegions = "regions: [" + awsRegionName + "]"

// manifest reads run id's manifest from the region's bucket.
func (ar *awsRegion) manifest(t testing.TB, id string) *shard.Manifest {
	t.Helper()
	data, err := ar.store.Get(context.Background(), shard.ManifestKey(id))
	if err != nil {
		t.Fatal(err)
	}
	m, err := shard.DecodeManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkSecrets scans the region's bucket, the report directory, the CLI's
// output and the emulators' log for the token.
func (ar *awsRegion) checkSecrets(t testing.TB, out string, runs ...*cliRun) string {
	t.Helper()
	var scan secretScan
	scan.store(t, ar.store, "")
	scan.dir(t, out)
	for _, r := range runs {
		scan.text("stdout", r.stdout.String())
		scan.text("stderr", r.stderr.String())
	}
	scan.text("emulator log", ar.log.String())
	return scan.check(t)
}

// awsExactlyOnce sends a copy of every task as soon as it is first
// received, and lets the queue's 2s visibility timeout deliver every
// running task again: each runs once, and the report counts exactly what
// the target served.
func awsExactlyOnce(t *testing.T, env *awsEnv) {
	r := &Row{Order: 1, Backend: "aws", Scenario: "exactly once: every task sent twice and redelivered while it runs (SQS visibility 2s)"}
	row(t, r)
	var (
		mu       sync.Mutex
		copied   = map[string]bool{}
		receives atomic.Int64
		redeliv  atomic.Int64
		dupErr   atomic.Value
	)
	var ar *awsRegion
	ar = newAWSRegion(t, env, awsOptions{Emulators: 4, Visibility: 2, OnReceive: func(m sqsqueue.Message) {
		receives.Add(1)
		if m.ReceiveCount > 1 {
			redeliv.Add(1)
		}
		task, err := shard.DecodeTask(m.Body)
		if err != nil {
			return
		}
		mu.Lock()
		first := !copied[task.ID]
		copied[task.ID] = true
		mu.Unlock()
		if first {
			if err := sqsqueue.New(env.sqs, ar.queueURL).Send(context.Background(), [][]byte{m.Body}); err != nil {
				dupErr.Store(err)
			}
		}
	}})
	tg := newCountingTarget(t)
	run := ar.start(t, planYAML(4*time.Second, 40, 2, awsRegions), tg.URL)
	rep := run.finish(t, r, 0)
	r.Lost = tg.Hits() - rep.Requests
	if err, _ := dupErr.Load().(error); err != nil {
		t.Fatalf("send a copy: %v", err)
	}
	extra := receives.Load() - int64(rep.Shards.Expected)
	r.Faults = fmt.Sprintf("%d extra deliveries of %d tasks (%d copies, %d redeliveries)", extra, rep.Shards.Expected, len(copied), redeliv.Load())
	if len(copied) != rep.Shards.Expected || redeliv.Load() < int64(rep.Shards.Expected) {
		t.Errorf("faults: %s; want every task copied and redelivered", r.Faults)
	}
	checkReportExact(t, rep, tg)
	r.Note = fmt.Sprintf("%d invocations, %d tasks ran once each; report = target = %d; %s",
		ar.fleet.Invocations(), rep.Shards.Completed, tg.Hits(), ar.checkSecrets(t, run.out, run.cliRun))
}

// checkReportExact fails t unless rep is complete and counts what tg
// served, every request with the token.
func checkReportExact(t *testing.T, rep *report.Report, tg *countingTarget) {
	t.Helper()
	if !rep.Shards.Complete() || rep.Shards.Completed != rep.Shards.Expected {
		t.Errorf("shards %+v, want every task completed", rep.Shards)
	}
	if rep.Requests == 0 || rep.Requests != tg.Hits() {
		t.Errorf("the report counts %d requests, the target served %d", rep.Requests, tg.Hits())
	}
	if tg.WithToken() != tg.Hits() {
		t.Errorf("%d of %d requests carried the token", tg.WithToken(), tg.Hits())
	}
}

// awsKilledGenerator kills one of two bootstraps (SIGKILL) 6.5s into an
// 8s slice: the report is incomplete and names its task, the run exits 4,
// and the lost requests are at most what that generator sent after its
// last checkpoint (5s apart on aws).
func awsKilledGenerator(t *testing.T, env *awsEnv) {
	r := &Row{Order: 2, Backend: "aws", Scenario: "generator killed mid-slice (SIGKILL of the bootstrap under RIE)"}
	row(t, r)
	ar := newAWSRegion(t, env, awsOptions{Emulators: 2, Visibility: 30})
	tg := newCountingTarget(t)
	const rate, gens = 40, 2
	run := ar.start(t, planYAML(8*time.Second, rate, gens, awsRegions), tg.URL)
	m := ar.manifest(t, ar.runID(t))
	time.Sleep(time.Until(m.Epoch.Add(6500 * time.Millisecond)))
	pid := ar.killBootstrap(t)
	if pid == 0 {
		t.Fatal("no bootstrap to kill")
	}
	r.Faults = fmt.Sprintf("bootstrap (pid %d) killed 6.5s into its 8s slice", pid)
	rep := run.finish(t, r, 4)
	if len(rep.Shards.Missing) != 1 || rep.Shards.Completed != 1 {
		t.Errorf("shards %+v: want one task missing", rep.Shards)
	}
	lost := tg.Hits() - rep.Requests
	bound := int64(rate / gens * 6) // the 5s checkpoint interval, and 1s of requests in flight
	if lost <= 0 || lost > bound {
		t.Errorf("lost %d requests, want 1..%d", lost, bound)
	}
	r.Lost, r.Declared = lost, min(lost, bound)
	r.Note = fmt.Sprintf("exit 4, report names %v missing; lost %d ≤ %d (1 checkpoint interval); %s",
		rep.Shards.Missing, lost, bound, ar.checkSecrets(t, run.out, run.cliRun))
}
