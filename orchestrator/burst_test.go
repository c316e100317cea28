package orchestrator

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

var _ Invoker = (*lambdafunc.Function)(nil)

func TestLeadBurst(t *testing.T) {
	for _, tt := range []struct {
		most int
		want time.Duration
	}{
		{1, 15 * time.Second},
		{1000, 15 * time.Second},
		{1001, 25 * time.Second},
		{2500, 35 * time.Second},
		{10000, 105 * time.Second},
	} {
		p := &plan.Plan{Regions: []plan.Region{{Name: "a", Generators: 3}, {Name: "b", Generators: tt.most}}}
		if got := LeadBurst(p); got != tt.want {
			t.Errorf("LeadBurst(%d generators) = %v, want %v", tt.most, got, tt.want)
		}
	}
	// Against the event source mapping's ramp: 1,000 generators.
	p := &plan.Plan{Regions: []plan.Region{{Name: "a", Generators: 1000}}}
	if LeadBurst(p) >= LeadAWS(p)/10 {
		t.Errorf("burst lead %v is not a tenth of the SQS lead %v for 1,000 generators", LeadBurst(p), LeadAWS(p))
	}
}

// burstTasks splits a plan of n generators in each of regions into one
// slice's tasks.
func burstTasks(t *testing.T, n int, regions ...string) []shard.Task {
	t.Helper()
	p := &plan.Plan{
		Engine: engine.Config{Target: "http://127.0.0.1:9", Duration: time.Second, Load: engine.Load{Model: engine.ModelOpen, Rate: 1},
			Scenarios: []engine.Scenario{{Name: "s", Weight: 1, Steps: []engine.Step{{Name: "GET /", Method: "GET", URL: "/"}}}}},
		Slice: time.Minute,
	}
	for _, r := range regions {
		p.Regions = append(p.Regions, plan.Region{Name: r, Generators: n})
	}
	tasks, err := Split(p, "20261203T000000Z-abcdef", time.Now().Add(time.Minute), 1)
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

// TestBurstDispatchThroughput dispatches 1,000 tasks in burst mode: the
// tasks go to the queue, then 1,000 asynchronous invokes go through the
// real SDK lambda client to the Lambda stand-in (no emulators behind it:
// it accepts and holds each event), 50 of them throttled once with 429.
// It logs how long issuing the invokes took. What it cannot measure is
// Lambda's own scaling (1,000 environments per 10 s per function).
func TestBurstDispatchThroughput(t *testing.T) {
	const n = 1000
	svc := lambdaharness.StartService(t, lambdaharness.ServiceOptions{})
	fn := lambdafunc.New(localaws.NewLambdaClient(localaws.Config(context.Background(), t, svc.URL)), svc.Function(),
		lambdafunc.WithRetry(lambdafunc.DefaultMaxAttempts, 50*time.Millisecond))
	q := memqueue.New(time.Minute)
	b := Backend{Queues: map[string]Queue{"us-east-1": q}, Invokers: map[string]Invoker{"us-east-1": fn}}
	tasks := burstTasks(t, n, "us-east-1")
	svc.ThrottleNext(50)
	start := time.Now()
	if err := dispatch(context.Background(), b, tasks); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("burst dispatch of %d tasks: %v (%.0f invokes/s, %d in flight); %+v", n, took.Round(time.Millisecond),
		float64(n)/took.Seconds(), invokeWorkers, fn.Ops())
	if q.Len() != n || svc.Accepted() != n || svc.Throttled() != 50 {
		t.Fatalf("queue %d, accepted %d, throttled %d; want %d, %d, 50", q.Len(), svc.Accepted(), svc.Throttled(), n, n)
	}
	if ops := fn.Ops(); ops.Invokes != n+50 || ops.Throttled != 50 {
		t.Errorf("Ops = %+v, want %d attempts of which 50 throttled", ops, n+50)
	}
}

// TestBurstInvokePayload checks one region's invokes carry its run,
// region and slice, and that a region's failed invokes are reported.
func TestBurstInvokePayload(t *testing.T) {
	svc := lambdaharness.StartService(t, lambdaharness.ServiceOptions{MaxEventAge: 100 * time.Millisecond})
	client := localaws.NewLambdaClient(localaws.Config(context.Background(), t, svc.URL))
	good := lambdafunc.New(client, svc.Function())
	missing := lambdafunc.New(client, "not-deployed")
	b := Backend{
		Queues:   map[string]Queue{"a": memqueue.New(0), "b": memqueue.New(0)},
		Invokers: map[string]Invoker{"a": good, "b": missing},
	}
	tasks := burstTasks(t, 3, "a", "b")
	err := dispatch(context.Background(), b, tasks)
	if err == nil || !strings.Contains(err.Error(), "b: 3 of 3 invocations not accepted") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("dispatch = %v, want region b's 3 failures named", err)
	}
	// No emulators: the events age out and are recorded with their payload.
	deadline := time.Now().Add(5 * time.Second)
	for svc.Dropped() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	invs := svc.Invocations()
	if svc.Accepted() != 3 || len(invs) != 3 {
		t.Fatalf("accepted %d, recorded %d; want region a's 3", svc.Accepted(), len(invs))
	}
	for _, inv := range invs {
		var ev struct {
			Burst shard.Burst `json:"stampede_burst"`
		}
		if err := json.Unmarshal(inv.Payload, &ev); err != nil || ev.Burst != (shard.Burst{RunID: tasks[0].RunID, Region: "a", Slice: 0}) || !inv.Async {
			t.Errorf("payload %s: %+v, %v", inv.Payload, ev, err)
		}
	}
}

func TestDispatchOf(t *testing.T) {
	for _, tt := range []struct {
		b    Backend
		want string
	}{
		{Backend{}, DispatchLocal},
		{Backend{Name: BackendLocal}, DispatchLocal},
		{Backend{Name: BackendAWS}, DispatchSQS},
		{Backend{Name: BackendAWS, Invokers: map[string]Invoker{}}, DispatchBurst},
	} {
		if got := DispatchOf(tt.b); got != tt.want {
			t.Errorf("DispatchOf(%s, invokers %v) = %q, want %q", tt.b.Name, tt.b.Invokers != nil, got, tt.want)
		}
	}
}

// TestClaimedSpans: a task the orchestrator claims after a stop has a
// final result whose "engine start" is the claim's time, long after its
// window's start. Its span says Claimed, so the report can tell it from a
// generator that started late; a generator's span does not.
func TestClaimedSpans(t *testing.T) {
	ctx := context.Background()
	p := &plan.Plan{
		Name:    "claimed",
		Engine:  engine.Config{Target: "http://127.0.0.1:1", Duration: 2 * time.Second},
		Regions: []plan.Region{{Name: "a", Generators: 2}},
	}
	const runID = "20261125T180000Z-c1a1ed"
	store, epoch, tasks := startedRun(t, p, runID, 7)
	ran := shard.NewResult(&tasks[0])
	ran.Final, ran.Leased, ran.Started, ran.Ended = true, epoch.Add(-time.Second), epoch, epoch.Add(2*time.Second)
	ran.Snapshot = engine.NewSnapshot(epoch, time.Second)
	put(t, store, shard.ResultKey(runID, "a", tasks[0].ID), ran)
	lease, _ := json.Marshal(shard.Lease{TaskID: tasks[0].ID, Leased: ran.Leased, MessageID: "m-0"})
	if err := store.Create(ctx, shard.LeaseKey(runID, "a", tasks[0].ID), lease); err != nil {
		t.Fatal(err)
	}
	if err := claimUnstarted(ctx, store, runID, tasks); err != nil {
		t.Fatal(err)
	}
	res, err := Collect(ctx, store, runID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Shards.Completed != 2 || len(res.Generators) != 2 {
		t.Fatalf("shards %+v, %d spans; want 2 completed, 2 spans", res.Shards, len(res.Generators))
	}
	for _, s := range res.Generators {
		wantClaimed := s.Task == "a/"+tasks[1].ID
		if s.Claimed != wantClaimed {
			t.Errorf("%s: Claimed %v, want %v", s.Task, s.Claimed, wantClaimed)
		}
		if wantClaimed && s.Started.Sub(s.WindowStart) < time.Hour {
			t.Errorf("%s: claimed %v after its window's start; the test wants a claim long after it", s.Task, s.Started.Sub(s.WindowStart))
		}
	}
}

// countInvokes is an Invoker that counts its invokes.
type countInvokes struct{ n atomic.Int64 }

func (c *countInvokes) InvokeAsync(context.Context, []byte) error {
	c.n.Add(1)
	return nil
}

// TestRedispatch: at a slice's window start, the tasks of that slice
// without a lease are sent again and invoked once more each — once; not
// before the start, not after the window's end, not when the lease
// listing failed.
func TestRedispatch(t *testing.T) {
	ctx := context.Background()
	q := memqueue.New(time.Minute)
	inv := &countInvokes{}
	b := Backend{Name: BackendAWS, Queues: map[string]Queue{"a": q}, Invokers: map[string]Invoker{"a": inv}}
	epoch := time.Now().Truncate(time.Millisecond)
	p := &plan.Plan{
		Engine: engine.Config{Target: "http://127.0.0.1:9", Duration: 4 * time.Second, Load: engine.Load{Model: engine.ModelOpen, Rate: 1},
			Scenarios: []engine.Scenario{{Name: "s", Weight: 1, Steps: []engine.Step{{Name: "GET /", Method: "GET", URL: "/"}}}}},
		Slice:   2 * time.Second,
		Regions: []plan.Region{{Name: "a", Generators: 3}},
	}
	tasks, err := Split(p, "20261203T000000Z-abcdef", epoch, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := newRedispatch(b, tasks, epoch)
	if newRedispatch(Backend{Queues: b.Queues}, tasks, epoch) != nil {
		t.Error("a second chance without burst dispatch")
	}
	leased := map[string]string{}
	for _, tk := range tasks {
		if tk.ID != "g0001-s00" && tk.ID != "g0002-s01" {
			leased[shard.LeaseKey(tk.RunID, tk.Region, tk.ID)] = taskName(tk.Region, tk.ID)
		}
	}
	r.check(ctx, epoch.Add(-time.Millisecond), leased) // before slice 0
	r.check(ctx, epoch, nil)                           // the listing failed
	if q.Len() != 0 || inv.n.Load() != 0 {
		t.Fatalf("%d sent, %d invoked before the window or without a listing", q.Len(), inv.n.Load())
	}
	r.check(ctx, epoch.Add(100*time.Millisecond), leased)
	r.check(ctx, epoch.Add(time.Second), leased) // once per slice
	if q.Len() != 1 || inv.n.Load() != 1 {
		t.Errorf("slice 0: %d sent, %d invoked; want a/g0001-s00 once", q.Len(), inv.n.Load())
	}
	r.check(ctx, epoch.Add(4*time.Second), leased) // slice 1 is over
	if q.Len() != 1 || inv.n.Load() != 1 {
		t.Errorf("after slice 1's end: %d sent, %d invoked; want nothing more", q.Len(), inv.n.Load())
	}
	var sent []string
	if msgs, err := q.Receive(ctx, 10); err == nil {
		for _, m := range msgs {
			if tk, err := shard.DecodeTask(m.Body); err == nil {
				sent = append(sent, taskName(tk.Region, tk.ID))
			}
		}
	}
	if !slices.Equal(sent, []string{"a/g0001-s00"}) {
		t.Errorf("sent again: %v; want a/g0001-s00", sent)
	}
}
