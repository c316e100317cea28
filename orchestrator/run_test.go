package orchestrator_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/functions/local"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

var _ orchestrator.Queue = (*memqueue.Queue)(nil)

const apiToken = "tok-SECRET-7"

// target counts every request it answers by "METHOD /path STATUS". Every
// 7th POST /cart answers 503 and every 4th GET /cart 404.
type target struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int64
	seen   map[string]int
}

func newTarget(t *testing.T) *target {
	tg := &target{counts: map[string]int64{}, seen: map[string]int{}}
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		key := r.Method + " " + r.URL.Path
		tg.seen[key]++
		status := http.StatusOK
		switch {
		case key == "POST /cart" && tg.seen[key]%7 == 0:
			status = http.StatusServiceUnavailable
		case key == "GET /cart" && tg.seen[key]%4 == 0:
			status = http.StatusNotFound
		case r.Header.Get("Authorization") != "Bearer "+apiToken:
			status = http.StatusUnauthorized
		}
		tg.counts[fmt.Sprintf("%s %d", key, status)]++
		tg.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) snapshot() map[string]int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return maps(tg.counts)
}

func maps(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// steps maps the plan's step names to the target's "METHOD /path".
var steps = map[string]string{
	"list products": "GET /products",
	"add to cart":   "POST /cart",
	"view cart":     "GET /cart",
}

// testPlan: two weighted scenarios, a ramp, gens generators in each of two
// regions, 1s slices of a test of duration d.
func testPlan(target string, d time.Duration, gens int) *plan.Plan {
	auth := []engine.KV{{Name: "Authorization", Value: `Bearer {{ env "API_TOKEN" }}`}}
	return &plan.Plan{
		Name: "acceptance",
		Engine: engine.Config{
			Target: target,
			Scenarios: []engine.Scenario{
				{Name: "browse", Weight: 3, Steps: []engine.Step{
					{Name: "list products", Method: "GET", URL: "/products", Headers: auth},
				}},
				{Name: "checkout", Weight: 1, Steps: []engine.Step{
					{Name: "add to cart", Method: "POST", URL: "/cart", Headers: auth,
						Body: &engine.Body{Kind: engine.BodyJSON, JSON: map[string]any{"sku": "A-1", "qty": 2.0}}},
					{Name: "view cart", Method: "GET", URL: "/cart", Headers: auth},
				}},
			},
			Load: engine.Load{Model: engine.ModelOpen, Rate: 20, Stages: []engine.Stage{{Duration: 2 * time.Second, Target: 60}},
				DropAfter: 10 * time.Second},
			Defaults:    engine.Defaults{Timeout: 10 * time.Second},
			Env:         map[string]string{"API_TOKEN": apiToken},
			MaxInflight: 32,
			MaxConns:    32,
			Duration:    d,
			// Generous, like DropAfter: under -race on a busy machine an
			// arrival can start late and a request take long, and dropped
			// arrivals and requests cut off by the grace are not counted
			// the same way by the target and the report.
			Grace: 10 * time.Second,
		},
		Regions: []plan.Region{{Name: "local-a", Generators: gens}, {Name: "local-b", Generators: gens}},
		Slice:   time.Second,
		Secrets: []string{"API_TOKEN"},
		Source:  []byte("name: acceptance\n"),
	}
}

// localBackend wires one memqueue and one functions/local event source per
// region to a dirstore; wrap may interpose on each region's queue.
func localBackend(t *testing.T, p *plan.Plan, wrap func(orchestrator.Queue) orchestrator.Queue) (orchestrator.Backend, string) {
	root := t.TempDir()
	b := orchestrator.Backend{Name: orchestrator.BackendLocal, Queues: map[string]orchestrator.Queue{}, Store: dirstore.New(root)}
	h := &generator.Handler{Store: b.Store, StopPoll: 200 * time.Millisecond, Logf: func(f string, a ...any) { t.Logf(time.Now().Format("05.000 ")+f, a...) }}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	slices := len(orchestrator.SliceWindows(p.Engine.Duration, p.Slice))
	for _, r := range p.Regions {
		q := memqueue.New(time.Minute)
		b.Queues[r.Name] = q
		if wrap != nil {
			b.Queues[r.Name] = wrap(q)
		}
		wg.Go(func() { local.Start(ctx, q, h, r.Generators*slices) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return b, root
}

// assertExact checks that res counts exactly what tg answered, in total
// and summed over regions.
func assertExact(t *testing.T, res *orchestrator.Result, tg *target) {
	t.Helper()
	counted := tg.snapshot()
	got := map[string]int64{}
	var requests int64
	for name, st := range res.Total.Steps {
		for status, n := range st.Status {
			got[fmt.Sprintf("%s %d", steps[name], status)] += n
		}
		requests += st.Requests
		if st.Response.Count() != st.Requests {
			t.Errorf("step %s: %d in the histogram, %d requests", name, st.Response.Count(), st.Requests)
		}
	}
	var total int64
	for k, n := range counted {
		total += n
		if got[k] != n {
			t.Errorf("%s: report %d, target %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := counted[k]; !ok {
			t.Errorf("%s: report %d, target never answered it", k, n)
		}
	}
	if requests != total || total == 0 {
		t.Errorf("report %d requests, target %d", requests, total)
	}
	var regional int64
	for _, r := range res.Regions {
		for _, st := range r.Snapshot.Steps {
			regional += st.Requests
		}
	}
	if regional != requests {
		t.Errorf("regions add up to %d requests, total is %d", regional, requests)
	}
}

func TestRunAcceptance(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := testPlan(tg.srv.URL, 3*time.Second, 3)
	b, root := localBackend(t, p, nil)
	var (
		mu    sync.Mutex
		polls []orchestrator.Progress
	)
	start := time.Now()
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{
		PollEvery: 250 * time.Millisecond,
		Progress: func(pr orchestrator.Progress) {
			mu.Lock()
			defer mu.Unlock()
			polls = append(polls, pr)
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("run %s took %v", res.RunID, time.Since(start))
	assertExact(t, res, tg)
	if res.Shards.Expected != 18 || res.Shards.Completed != 18 || len(res.Shards.Missing) != 0 || len(res.Shards.Corrupt) != 0 {
		t.Errorf("shards = %+v, want 18 expected and completed, none missing or corrupt", res.Shards)
	}
	if res.Stopped != "" {
		t.Errorf("Stopped = %q", res.Stopped)
	}
	// 20/s ramping to 60/s over 2s, then 60/s for 1s: 140 arrivals.
	if res.Total.Iterations.Started != 140 {
		t.Errorf("%d iterations, want 140", res.Total.Iterations.Started)
	}
	if len(res.Regions) != 2 || res.Regions[0].Name != "local-a" || res.Regions[1].Generators != 3 {
		t.Errorf("regions = %+v", res.Regions)
	}
	if !res.Ended.After(res.Started.Add(2500*time.Millisecond)) || res.Plan == nil || res.Plan.Name != "acceptance" || res.Plan.Seed == 0 {
		t.Errorf("started %v ended %v plan %+v", res.Started, res.Ended, res.Plan)
	}
	last := polls[len(polls)-1]
	if len(polls) < 4 || last.Expected != 18 || last.Finished != 18 || last.Leased != 18 {
		t.Errorf("%d progress calls, last %+v", len(polls), last)
	}
	if n := last.Snapshot.Iterations.Started; n != 140 {
		t.Errorf("last progress merged %d iterations, want 140", n)
	}
	wantRegions := []orchestrator.RegionProgress{
		{Name: "local-a", Expected: 9, Leased: 9, Finished: 9},
		{Name: "local-b", Expected: 9, Leased: 9, Finished: 9},
	}
	if !slices.Equal(last.Regions, wantRegions) {
		t.Errorf("last progress by region = %+v, want %+v", last.Regions, wantRegions)
	}
	if first := polls[0]; len(first.Regions) != 2 || first.Regions[0].Expected != 9 || first.Regions[0].Finished != 0 {
		t.Errorf("first progress by region = %+v", first.Regions)
	}
	assertNoSecret(t, root)

	// Collect again, after a corrupt and a foreign object appeared.
	ctx := context.Background()
	junk := []string{
		shard.ResultKey(res.RunID, "local-a", "g0099-s00"), // no such task
		shard.ResultsPrefix(res.RunID) + "zz/local-a/junk.json",
		shard.ResultKey(res.RunID, "local-b", "g0005-s02") + ".bak",
	}
	for _, k := range junk {
		if err := b.Store.Put(ctx, k, []byte(`{"garbage`)); err != nil {
			t.Fatal(err)
		}
	}
	again, err := orchestrator.Collect(ctx, b.Store, res.RunID)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	slices.Sort(junk)
	// How the run went out is part of its record.
	for _, r := range []*orchestrator.Result{res, again} {
		if r.Backend != orchestrator.BackendLocal || r.Dispatch != orchestrator.DispatchLocal || r.Lead != orchestrator.DefaultLeadLocal {
			t.Errorf("backend %q dispatch %q lead %v, want local, local, %v", r.Backend, r.Dispatch, r.Lead, orchestrator.DefaultLeadLocal)
		}
	}
	if !slices.Equal(again.Shards.Corrupt, junk) || again.Shards.Completed != 18 {
		t.Errorf("Corrupt = %q (completed %d), want %q", again.Shards.Corrupt, again.Shards.Completed, junk)
	}
	assertExact(t, again, tg)
}

// assertNoSecret fails if any stored object holds the Env value.
func assertNoSecret(t *testing.T, root string) {
	t.Helper()
	found := false
	err := walk(root, func(path string, data []byte) {
		if strings.Contains(string(data), apiToken) {
			t.Errorf("%s holds the secret", path)
		}
		found = true
	})
	if err != nil || !found {
		t.Fatalf("walk %s: %v (found files: %v)", root, err, found)
	}
}

func walk(root string, fn func(path string, data []byte)) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := root + "/" + e.Name()
		if e.IsDir() {
			if err := walk(path, fn); err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fn(path, data)
	}
	return nil
}

// tamper duplicates one task's message and drops another's.
type tamper struct {
	q         orchestrator.Queue
	dup, drop string // task ids
}

func (tq *tamper) Send(ctx context.Context, bodies [][]byte) error {
	var out [][]byte
	for _, b := range bodies {
		task, err := shard.DecodeTask(b)
		if err != nil {
			return err
		}
		switch task.ID {
		case tq.drop:
			continue
		case tq.dup:
			out = append(out, b)
		}
		out = append(out, b)
	}
	return tq.q.Send(ctx, out)
}

func TestRunDuplicateAndMissing(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := testPlan(tg.srv.URL, 2*time.Second, 1)
	b, _ := localBackend(t, p, func(q orchestrator.Queue) orchestrator.Queue {
		return &tamper{q: q, dup: "g0000-s01", drop: "g0001-s01"}
	})
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{PollEvery: 250 * time.Millisecond, Grace: 4 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertExact(t, res, tg) // the duplicated task ran once
	if want := []string{"local-b/g0001-s01"}; !slices.Equal(res.Shards.Missing, want) || res.Shards.Completed != 3 {
		t.Errorf("Missing = %q, completed %d; want %q and 3", res.Shards.Missing, res.Shards.Completed, want)
	}
	// 20/s ramping to 60/s over 2s: 80 arrivals, 50 of them (30..79) in the
	// second slice; generator 1 of 2 had the odd ones.
	if n := res.Total.Iterations.Started; n != 80-25 {
		t.Errorf("%d iterations, want 55: all but the dropped shard's 25", n)
	}
}

func TestRunAbort(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := testPlan(tg.srv.URL, 3*time.Second, 1)
	b, _ := localBackend(t, p, nil)
	start := time.Now()
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{
		PollEvery: 200 * time.Millisecond,
		Abort: func(pr orchestrator.Progress) string {
			if pr.Elapsed > 300*time.Millisecond {
				return "p99 > 1ms (abort on fail)"
			}
			return ""
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Stopped != "p99 > 1ms (abort on fail)" {
		t.Errorf("Stopped = %q", res.Stopped)
	}
	t.Logf("aborted run took %v", time.Since(start))
	if res.Shards.Completed != 6 || len(res.Shards.Missing) != 0 {
		t.Errorf("shards = %+v; every generator should report after a stop", res.Shards)
	}
	if n := res.Total.Iterations.Started; n == 0 || n >= 140 {
		t.Errorf("%d iterations, want some but fewer than the full 140", n)
	}
	assertExact(t, res, tg)
}

// TestRunStoppedElsewhere stops a run of three slices through its stop
// marker, as `stampede stop` does from another process: Run notices it,
// ends long before the test's end, never sends the last slice and claims
// its tasks, so that every task is accounted for.
func TestRunStoppedElsewhere(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := testPlan(tg.srv.URL, 3*time.Second, 1)
	b, _ := localBackend(t, p, nil)
	const reason = "operator: target on fire"
	var once sync.Once
	start := time.Now()
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{
		PollEvery: 100 * time.Millisecond,
		Progress: func(pr orchestrator.Progress) {
			if pr.Elapsed > 200*time.Millisecond {
				once.Do(func() {
					if err := orchestrator.Stop(context.Background(), b.Store, pr.RunID, reason); err != nil {
						t.Error(err)
					}
				})
			}
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("stopped run took %v", time.Since(start))
	if res.Stopped != reason || res.Shards.Completed != 6 || len(res.Shards.Missing) != 0 {
		t.Fatalf("Stopped %q, shards %+v; want %q and 6 of 6", res.Stopped, res.Shards, reason)
	}
	claimed := 0
	keys, err := b.Store.List(context.Background(), shard.ResultsPrefix(res.RunID))
	if err != nil || len(keys) != 6 {
		t.Fatalf("results %q, %v", keys, err)
	}
	for _, k := range keys {
		data, err := b.Store.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := shard.DecodeResult(data)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Stopped == orchestrator.ClaimedReason {
			claimed++
			if rr.Slice != 2 || rr.Snapshot.Total().Requests != 0 {
				t.Errorf("%s claimed with %d requests; only the unsent slice 2 should be", k, rr.Snapshot.Total().Requests)
			}
		}
	}
	if claimed != 2 {
		t.Errorf("%d tasks claimed, want slice 2 of both regions", claimed)
	}
	assertExact(t, res, tg)
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := testPlan(tg.srv.URL, 3*time.Second, 1)
	b, _ := localBackend(t, p, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res, err := orchestrator.Run(ctx, p, b, orchestrator.Options{PollEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if late := time.Since(res.Started.Add(500 * time.Millisecond)); late > orchestrator.StopDrain+time.Second {
		t.Errorf("Run returned %v after the interrupt, want at most StopDrain", late)
	}
	if res.Stopped != orchestrator.StopInterrupted || res.Shards.Completed+len(res.Shards.Missing) != 6 {
		t.Errorf("Stopped = %q, shards %+v; want interrupted, 6 accounted for", res.Stopped, res.Shards)
	}
	if len(res.Shards.Missing) > 0 {
		// Only on a starved machine: generators did not report within StopDrain.
		t.Logf("missing after the interrupt: %q", res.Shards.Missing)
		return
	}
	assertExact(t, res, tg)
}

// TestRunCheckpointEvery checks that a backend's checkpoint interval reaches
// the generators: with checkpoints every 200ms, progress shows requests
// while the run is still going, long before the default 5s checkpoint.
func TestRunCheckpointEvery(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	p := testPlan(tg.srv.URL, 3*time.Second, 1)
	b, _ := localBackend(t, p, nil)
	b.CheckpointEvery = 200 * time.Millisecond
	var firstSeen time.Duration // elapsed when progress first showed requests
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{
		PollEvery: 100 * time.Millisecond,
		Progress: func(pr orchestrator.Progress) {
			if firstSeen == 0 && pr.Finished == 0 && pr.Snapshot.Total().Requests > 0 {
				firstSeen = pr.Elapsed
			}
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if firstSeen == 0 || firstSeen > 2*time.Second {
		t.Errorf("progress first showed requests at %v of a 3s run; want within 2s with 200ms checkpoints", firstSeen)
	}
	assertExact(t, res, tg)
}
