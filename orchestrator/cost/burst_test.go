package cost

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// TestEstimateBurst checks every count of smallPlan with burst dispatch by
// hand: 2 tasks of 20 s, the burst lead of 15 s, drain and result write
// 100 ms each, polls every 1 s.
func TestEstimateBurst(t *testing.T) {
	p := parsePlan(t, smallPlan)
	c, err := Estimate(p, testPrices(t), Options{Backend: orchestrator.BackendAWS, Dispatch: orchestrator.DispatchBurst, PollEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	u := c.Estimate.Usage
	want := Usage{
		Invocations: 2,
		// 15 + 20 + 0.1 + 0.1 s each
		GeneratorSeconds: 70.4,
		GBSeconds:        70.4 * 1769 / 1024,
		Ops: Ops{
			// one batch of 2 tasks to the burst queue; each invocation
			// receives its message and deletes it; no event source polls
			SQSSends: 1, SQSReceives: 2, SQSDeletes: 2,
			// 2 × (lease + 4 checkpoints + result) + the manifest
			S3Puts: 13,
			// (ceil(35.2 s / 1 s) + 1) = 37 polls × 3 prefixes + the collect's
			S3Lists: 112,
			// the generators' stop-marker reads 2 × (1 + 35); results read
			// twice, 2 × 2; 40.2 s / 5 s checkpoint reads; the manifest; the
			// orchestrator's stop-marker reads, 37 polls + the collect
			S3Gets: 72 + 4 + 8 + 1 + 38,
			// one Invoke per task
			InvokesAccepted: 2, InvokeAttempts: 2,
		},
		BytesOut: c.Estimate.Usage.BytesOut,
		LogBytes: 2 * DefaultLogBytes,
		Requests: 200,
	}
	checkUsage(t, u, want)
	if l := c.Estimate.Line(ItemInvoke); l.Quantity != 2 || !near(l.USD, 2*0.2e-6, 1e-15) {
		t.Errorf("lambda requests %+v, want 2 at $0.20 per million", l)
	}
	if l := c.Estimate.Line(ItemSQS); l.Quantity != 5 {
		t.Errorf("sqs requests %v, want 5 (1 send, 2 receives, 2 deletes)", l.Quantity)
	}
	if a := strings.Join(c.Assumptions, "\n"); !strings.Contains(a, "dispatch: burst, load starts 15s after dispatch") || !strings.Contains(a, "one asynchronous Lambda Invoke per task") {
		t.Errorf("assumptions do not describe the burst dispatch:\n%s", a)
	}

	// The same plan through the event source mapping: its batched receives
	// and deletes, its long polls, and no Invoke of its own.
	sqsRun, err := Estimate(p, testPrices(t), Options{Backend: orchestrator.BackendAWS, Lead: 15 * time.Second, PollEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s := sqsRun.Estimate.Usage; s.SQSReceives != 1+9 || s.SQSDeletes != 1 || s.InvokeAttempts != 0 || s.GeneratorSeconds != u.GeneratorSeconds {
		t.Errorf("sqs dispatch: %+v; want 1 + ceil(35.2 s × 15/min) = 10 receives, 1 delete, no invokes, the same compute", s)
	}
}

// regionOps is a RegionCounter of fixed counts.
type regionOps map[string]Ops

func (r regionOps) Ops() Ops {
	var o Ops
	for _, x := range r {
		o.Add(x)
	}
	return o
}

func (r regionOps) RegionOps() map[string]Ops { return r }

// TestActualBurst prices a stopped burst run by hand: of smallPlan's two
// tasks one ran (leased at T, its engine from T+15 s to T+35.1 s), the
// other was claimed by the orchestrator after the stop. The orchestrator's
// counters say Lambda accepted 2 invokes of 3 attempts (one 429): the
// second invocation found no message and waited out its long poll.
func TestActualBurst(t *testing.T) {
	p := parsePlan(t, smallPlan)
	prices := testPrices(t)
	c, err := Estimate(p, prices, Options{Backend: orchestrator.BackendAWS, Dispatch: orchestrator.DispatchBurst, PollEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const runID = "20261203T000000Z-abcdef"
	ctx := context.Background()
	store := dirstore.New(t.TempDir())
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	put := func(key string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
	}
	ran, claimed := c.tasks[0], c.tasks[1]
	ran.RunID, claimed.RunID = runID, runID
	put(shard.LeaseKey(runID, ran.Region, ran.ID), shard.Lease{TaskID: ran.ID, Leased: at, MessageID: "m-1"})
	r := shard.NewResult(&ran)
	r.Final, r.Leased, r.Started, r.Ended = true, at, at.Add(15*time.Second), at.Add(35100*time.Millisecond)
	r.Snapshot = engine.NewSnapshot(at, time.Second)
	put(shard.ResultKey(runID, ran.Region, ran.ID), r)
	put(shard.LeaseKey(runID, claimed.Region, claimed.ID), shard.Lease{TaskID: claimed.ID, Leased: at.Add(20 * time.Second), MessageID: orchestrator.ClaimedBy})
	cr := shard.NewResult(&claimed)
	cr.Final, cr.Stopped = true, orchestrator.ClaimedReason
	cr.Leased, cr.Started, cr.Ended = at.Add(20*time.Second), at.Add(20*time.Second), at.Add(20*time.Second)
	cr.Snapshot = engine.NewSnapshot(at, time.Second)
	put(shard.ResultKey(runID, claimed.Region, claimed.ID), cr)

	res := &orchestrator.Result{RunID: runID, Ended: at.Add(36 * time.Second), Regions: []orchestrator.RegionResult{{Name: ran.Region}}}
	orch := regionOps{ran.Region: {SQSSends: 1, S3Puts: 5, S3Lists: 40, S3Gets: 50, InvokesAccepted: 2, InvokeAttempts: 3, InvokeThrottled: 1}}
	if err := c.AddActual(ctx, store, res, prices, orch); err != nil {
		t.Fatal(err)
	}
	u := c.Actual.Usage
	want := Usage{
		// the generator's lease to its end + the result write, and the
		// empty invocation's 10 s long poll; none for the claimed task
		Invocations:      2,
		GeneratorSeconds: 35.2 + 10,
		GBSeconds:        45.2 * 1769 / 1024,
		Ops: Ops{
			// the orchestrator's send; the generator's receive and delete,
			// the empty invocation's receive
			SQSSends: 1, SQSReceives: 2, SQSDeletes: 1,
			// the generator's lease, 4 checkpoints (20.1 s / 5 s) and
			// result; the orchestrator's 5 (its claim among them)
			S3Puts:  6 + 5,
			S3Lists: 40,
			// the generator's stop-marker reads, 1 + 35; the orchestrator's 50
			S3Gets:          36 + 50,
			InvokesAccepted: 2, InvokeAttempts: 3, InvokeThrottled: 1,
		},
		LogBytes: 2 * DefaultLogBytes,
	}
	checkUsage(t, u, want)
	wantUSD := want.GBSeconds*0.0000133334 + 2*0.2e-6 + 4*0.4e-6 + 51*0.005e-3 + 86*0.0004e-3 + float64(want.LogBytes)/GB*0.5
	if !near(c.Actual.TotalUSD, wantUSD, 1e-12) {
		t.Errorf("actual $%.9f, want $%.9f", c.Actual.TotalUSD, wantUSD)
	}

	// Without counters the orchestrator is modelled: the claim's lease and
	// result, one invocation per generator's lease (none empty), the stop
	// marker read every poll of the run's 35.2 s wall time (37) and when
	// collecting.
	if err := c.AddActual(ctx, store, res, prices, nil); err != nil {
		t.Fatal(err)
	}
	m := c.Actual.Usage
	if m.Invocations != 1 || m.InvokesAccepted != 1 || m.SQSReceives != 1 || m.SQSDeletes != 1 || m.S3Puts != 6+2+1 || m.S3Gets != 36+2*2+1+38 {
		t.Errorf("modelled usage %+v", m)
	}
}
