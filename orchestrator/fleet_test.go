package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// fleetPlan has 2,500 generators in 4 regions and 4 slices: 10,000 tasks.
func fleetPlan() *plan.Plan {
	p := &plan.Plan{
		Engine: engine.Config{
			Target:    "http://127.0.0.1:1",
			Scenarios: []engine.Scenario{{Name: "s", Weight: 1, Steps: []engine.Step{{Name: "a", Method: "GET", URL: "/"}}}},
			Load:      engine.Load{Rate: 100000},
			Duration:  40 * time.Minute,
		},
		Slice: 10 * time.Minute,
	}
	for _, r := range []string{"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"} {
		p.Regions = append(p.Regions, plan.Region{Name: r, Generators: 625})
	}
	return p
}

// BenchmarkFleetDispatch splits and enqueues 10,000 tasks.
func BenchmarkFleetDispatch(b *testing.B) {
	p := fleetPlan()
	b.ReportAllocs()
	for b.Loop() {
		tasks, err := Split(p, "run-fleet", time.Now(), 1)
		if err != nil {
			b.Fatal(err)
		}
		be := Backend{Queues: map[string]Queue{}}
		for _, r := range p.Regions {
			be.Queues[r.Name] = memqueue.New(0)
		}
		if err := dispatch(context.Background(), be, tasks); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFleetCollect merges 10,000 final results from a directory.
func BenchmarkFleetCollect(b *testing.B) {
	ctx := context.Background()
	p := fleetPlan()
	epoch := time.Now()
	tasks, err := Split(p, "run-fleet", epoch, 1)
	if err != nil {
		b.Fatal(err)
	}
	store := dirstore.New(b.TempDir())
	if err := writeManifest(ctx, store, p, "run-fleet", epoch, 1, tasks); err != nil {
		b.Fatal(err)
	}
	rec := engine.NewRecorder([]string{"a"}, nil, epoch, Interval(p.Engine), 1)
	for i := range 1000 {
		rec.Record(0, &engine.Sample{At: time.Duration(i) * time.Second, Response: time.Duration(i) * time.Microsecond, Status: 200})
	}
	snap, err := json.Marshal(rec.Snapshot())
	if err != nil {
		b.Fatal(err)
	}
	for i := range tasks {
		t := &tasks[i]
		body := fmt.Appendf(nil, `{"run_id":%q,"task_id":%q,"region":%q,"generator":%d,"slice":%d,"final":true,"snapshot":%s}`,
			t.RunID, t.ID, t.Region, t.Generator, t.Slice, snap)
		if err := store.Put(ctx, shard.ResultKey(t.RunID, t.Region, t.ID), body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Collect(ctx, store, "run-fleet")
		if err != nil || res.Shards.Completed != len(tasks) || res.Total.Steps["a"].Requests != int64(1000*len(tasks)) {
			b.Fatalf("Collect = %+v, %v", res.Shards, err)
		}
	}
}
