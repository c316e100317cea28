package orchestrator

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// TestCollectGeneratorSpans checks that Collect gives every completed task
// a span from its final result, sorted by task, and none to a task without
// one.
func TestCollectGeneratorSpans(t *testing.T) {
	ctx := context.Background()
	p := &plan.Plan{
		Name:    "spans",
		Engine:  engine.Config{Target: "http://127.0.0.1:1", Duration: 2 * time.Second},
		Regions: []plan.Region{{Name: "a", Generators: 1}, {Name: "b", Generators: 1}},
		Slice:   time.Second,
	}
	const run = "run-spans"
	store, epoch, tasks := startedRun(t, p, run, 1)
	// tasks: a/g0000-s00 a/g0000-s01 b/g0001-s00 b/g0001-s01; b/g0001-s00
	// leaves only a checkpoint, so it has no span.
	for i, tk := range tasks {
		r := shard.NewResult(&tasks[i])
		r.Final = i != 2
		r.Snapshot = snapshotOf(epoch, 1, 200)
		win := epoch.Add(tk.Config.Window.Start)
		r.Leased = win.Add(-200 * time.Millisecond)
		r.Started = win.Add(time.Duration(i*10) * time.Millisecond)
		r.Ended = epoch.Add(tk.Config.Window.End + 50*time.Millisecond)
		key := shard.ResultKey(run, tk.Region, tk.ID)
		if !r.Final {
			key = shard.CheckpointKey(run, tk.Region, tk.ID)
		}
		put(t, store, key, r)
	}
	res, err := Collect(ctx, store, run)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	var names []string
	for _, s := range res.Generators {
		names = append(names, s.Task)
		if s.Leased.After(s.Ended) {
			t.Errorf("%s: leased %v after ended %v", s.Task, s.Leased, s.Ended)
		}
	}
	want := []string{"a/g0000-s00", "a/g0000-s01", "b/g0001-s01"}
	if !slices.Equal(names, want) {
		t.Fatalf("spans = %q, want %q", names, want)
	}
	wantSpan := GeneratorSpan{
		Task: "b/g0001-s01", Region: "b", Slice: 1,
		Leased:      epoch.Add(800 * time.Millisecond),
		Started:     epoch.Add(1030 * time.Millisecond),
		Ended:       epoch.Add(2050 * time.Millisecond),
		WindowStart: epoch.Add(time.Second),
	}
	if got := res.Generators[2]; !got.Leased.Equal(wantSpan.Leased) || !got.Started.Equal(wantSpan.Started) ||
		!got.Ended.Equal(wantSpan.Ended) || !got.WindowStart.Equal(wantSpan.WindowStart) ||
		got.Task != wantSpan.Task || got.Region != wantSpan.Region || got.Slice != wantSpan.Slice {
		t.Errorf("span = %+v, want %+v", got, wantSpan)
	}
	if got := res.Generators[0].WindowStart; !got.Equal(epoch) {
		t.Errorf("a/g0000-s00 window start = %v, want the epoch", got)
	}
}
