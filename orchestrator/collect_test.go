package orchestrator

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// snapshotOf returns a snapshot of n requests of status to step "a".
func snapshotOf(epoch time.Time, n int, status int) *engine.Snapshot {
	rec := engine.NewRecorder([]string{"a"}, nil, epoch, time.Second, 1)
	for i := range n {
		rec.Record(0, &engine.Sample{At: time.Duration(i) * time.Millisecond, Response: time.Millisecond, Service: time.Millisecond, Status: status})
	}
	return rec.Snapshot()
}

func put(t *testing.T, s shard.Store, key string, r *shard.Result) {
	t.Helper()
	data, err := shard.EncodeResult(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), key, data); err != nil {
		t.Fatal(err)
	}
}

// testEpoch is the start time of the runs the collect tests build by hand.
var testEpoch = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// startedRun splits p as Run would and writes its manifest into a fresh
// directory store, as a run that has been dispatched but not yet reported.
func startedRun(t testing.TB, p *plan.Plan, runID string, seed uint64) (*dirstore.Store, time.Time, []shard.Task) {
	t.Helper()
	store := dirstore.New(t.TempDir())
	tasks, err := Split(p, runID, testEpoch, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeManifest(context.Background(), store, p, runID, testEpoch, seed, tasks, shard.Manifest{}); err != nil {
		t.Fatal(err)
	}
	return store, testEpoch, tasks
}

// TestCollectAccounting covers every kind of task outcome at once.
func TestCollectAccounting(t *testing.T) {
	ctx := context.Background()
	p := &plan.Plan{
		Name:    "collect",
		Engine:  engine.Config{Target: "http://127.0.0.1:1", Duration: 2 * time.Second, Env: map[string]string{"K": "secret-v"}},
		Regions: []plan.Region{{Name: "a", Generators: 2}, {Name: "b", Generators: 1}},
		Slice:   time.Second,
	}
	const run = "run-collect"
	store, epoch, tasks := startedRun(t, p, run, 5)
	// tasks: a/g0000-s00 a/g0000-s01 a/g0001-s00 a/g0001-s01 b/g0002-s00 b/g0002-s01
	result := func(i int, final bool, snap *engine.Snapshot, errMsg string) *shard.Result {
		r := shard.NewResult(&tasks[i])
		r.Final, r.Snapshot, r.Error = final, snap, errMsg
		r.Ended = epoch.Add(time.Duration(i+1) * time.Second)
		return r
	}
	key := func(i int) string { return shard.ResultKey(run, tasks[i].Region, tasks[i].ID) }
	put(t, store, key(0), result(0, true, snapshotOf(epoch, 10, 200), ""))
	put(t, store, key(1), result(1, true, snapshotOf(epoch, 5, 503), ""))
	put(t, store, key(4), result(4, true, snapshotOf(epoch, 7, 200), ""))
	put(t, store, key(2), result(2, true, nil, "engine: target: bad URL"))                                     // engine failed
	put(t, store, shard.CheckpointKey(run, "a", tasks[3].ID), result(3, false, snapshotOf(epoch, 3, 200), "")) // only a checkpoint
	// task 5: nothing at all.
	foreign := shard.ResultKey(run, "b", tasks[0].ID) // task 0's result under the wrong region
	put(t, store, foreign, result(0, true, snapshotOf(epoch, 100, 200), ""))
	notFinal := shard.ResultKey(run, "b", tasks[5].ID) // a checkpoint where the final belongs
	put(t, store, notFinal, result(5, false, snapshotOf(epoch, 100, 200), ""))

	res, err := Collect(ctx, store, run)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	st := res.Total.Steps["a"]
	if st == nil || st.Requests != 10+5+7+3 || st.Status[200] != 20 || st.Status[503] != 5 {
		t.Fatalf("total step a = %+v, want 25 requests (20×200, 5×503)", st)
	}
	if res.Shards.Expected != 6 || res.Shards.Completed != 3 {
		t.Errorf("shards = %+v, want 6 expected, 3 completed", res.Shards)
	}
	wantMissing := []string{"a/g0001-s00 (error: engine: target: bad URL)", "a/g0001-s01", "b/g0002-s01"}
	if !slices.Equal(res.Shards.Missing, wantMissing) {
		t.Errorf("Missing = %q, want %q", res.Shards.Missing, wantMissing)
	}
	wantCorrupt := []string{foreign, notFinal}
	slices.Sort(wantCorrupt)
	if !slices.Equal(res.Shards.Corrupt, wantCorrupt) {
		t.Errorf("Corrupt = %q, want %q", res.Shards.Corrupt, wantCorrupt)
	}
	if a, b := res.Regions[0].Snapshot.Steps["a"].Requests, res.Regions[1].Snapshot.Steps["a"].Requests; a != 18 || b != 7 {
		t.Errorf("regions a=%d b=%d requests, want 18 and 7", a, b)
	}
	if !res.Started.Equal(epoch) || !res.Ended.Equal(epoch.Add(5*time.Second)) {
		t.Errorf("started %v ended %v, want the epoch and epoch+5s", res.Started, res.Ended)
	}
	if res.Plan.Name != "collect" || res.Plan.Seed != 5 || len(res.Plan.Engine.Env) != 0 {
		t.Errorf("plan = %+v, want the run's plan with its seed and no env", res.Plan)
	}
	manifest, _ := store.Get(ctx, shard.ManifestKey(run))
	if strings.Contains(string(manifest), "secret-v") {
		t.Error("the manifest holds an Env value")
	}
}

func TestCollectErrors(t *testing.T) {
	ctx := context.Background()
	store := dirstore.New(t.TempDir())
	if _, err := Collect(ctx, store, "no-such-run"); err == nil {
		t.Error("Collect of a run without a manifest succeeded")
	}
	if err := store.Put(ctx, shard.ManifestKey("bad"), []byte("{")); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(ctx, store, "bad"); err == nil {
		t.Error("Collect with a corrupt manifest succeeded")
	}
}
