package generator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

const secret = "tok-SECRET-42" // the fixtures' Env value

// target is a counting HTTP server: every 5th POST /cart answers 503.
type target struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int // "METHOD /path STATUS"
	posts  int
	auth   int // requests that carried the secret token
}

func newTarget(t *testing.T) *target {
	tg := &target{counts: map[string]int{}}
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		status := http.StatusOK
		if r.Method == http.MethodPost {
			tg.posts++
			if tg.posts%5 == 0 {
				status = http.StatusServiceUnavailable
			}
		}
		if r.Header.Get("Authorization") == "Bearer "+secret {
			tg.auth++
		}
		tg.counts[fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status)]++
		tg.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) count(key string) int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return int64(tg.counts[key])
}

func (tg *target) total() int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	n := 0
	for _, c := range tg.counts {
		n += c
	}
	return int64(n)
}

// loadEvent reads a fixture and points every decodable task at tg, with
// its epoch at epoch; change edits each task further.
func loadEvent(t *testing.T, name string, tg *target, epoch time.Time, change func(*shard.Task)) events.SQSEvent {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	for i := range ev.Records {
		task, err := shard.DecodeTask([]byte(ev.Records[i].Body))
		if err != nil {
			continue // a poison fixture
		}
		task.Config.Target = tg.srv.URL
		task.Config.Epoch = epoch
		if change != nil {
			change(task)
		}
		body, err := shard.EncodeTask(task)
		if err != nil {
			t.Fatal(err)
		}
		ev.Records[i].Body = string(body)
	}
	return ev
}

func decodeTask(t *testing.T, body string) *shard.Task {
	t.Helper()
	task, err := shard.DecodeTask([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func readResult(t *testing.T, s shard.Store, key string) *shard.Result {
	t.Helper()
	data, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	r, err := shard.DecodeResult(data)
	if err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
	return r
}

func newHandler(s shard.Store) *generator.Handler {
	return &generator.Handler{Store: s, Logf: func(string, ...any) {}}
}

// assertMatches checks that the snapshot counts exactly what tg answered.
func assertMatches(t *testing.T, snap *engine.Snapshot, tg *target) {
	t.Helper()
	get, post := snap.Steps["GET /products"], snap.Steps["POST /cart"]
	if get == nil || post == nil {
		t.Fatalf("snapshot steps = %v, want GET /products and POST /cart", snap.Steps)
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"GET 200", get.Status[200], tg.count("GET /products 200")},
		{"POST 200", post.Status[200], tg.count("POST /cart 200")},
		{"POST 503", post.Status[503], tg.count("POST /cart 503")},
		{"requests", get.Requests + post.Requests, tg.total()},
		{"POST failures", post.Failures, tg.count("POST /cart 503")},
		{"histogram", get.Response.Count() + post.Response.Count(), tg.total()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: snapshot %d, target %d", c.name, c.got, c.want)
		}
	}
}

func TestHandleRunsTask(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	root := t.TempDir()
	store := dirstore.New(root)
	epoch := time.Now().Add(200 * time.Millisecond)
	ev := loadEvent(t, "sqs-task.json", tg, epoch, func(task *shard.Task) {
		task.Config.SnapshotEvery = 300 * time.Millisecond
	})
	resp, err := newHandler(store).Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failures", resp, err)
	}
	task := decodeTask(t, ev.Records[0].Body)
	r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
	if !r.Final || r.Error != "" || r.Stopped != "" {
		t.Fatalf("result final=%v error=%q stopped=%q, want a clean final result", r.Final, r.Error, r.Stopped)
	}
	// 40/s for 1s, one shard: exactly 40 iterations of 2 requests.
	sched, err := engine.NewSchedule(task.Config.Load, task.Config.Duration)
	if err != nil {
		t.Fatal(err)
	}
	if want := sched.Count(task.Config.Window); r.Snapshot.Iterations.Started != want || tg.total() != 2*want {
		t.Errorf("iterations %d, target requests %d; want %d and %d", r.Snapshot.Iterations.Started, tg.total(), want, 2*want)
	}
	assertMatches(t, r.Snapshot, tg)
	tg.mu.Lock()
	if gets := tg.counts["GET /products 200"]; tg.auth != gets || gets == 0 {
		t.Errorf("%d requests carried the env token, want the %d GETs", tg.auth, gets)
	}
	tg.mu.Unlock()
	if r.Started.Before(epoch) {
		t.Errorf("started %v, before the window start %v", r.Started, epoch)
	}
	cp := readResult(t, store, shard.CheckpointKey(task.RunID, task.Region, task.ID))
	if cp.Final || cp.Snapshot == nil {
		t.Errorf("checkpoint final=%v snapshot=%v, want a non-final snapshot", cp.Final, cp.Snapshot != nil)
	}
	if _, err := store.Get(context.Background(), shard.LeaseKey(task.RunID, task.Region, task.ID)); err != nil {
		t.Errorf("lease: %v", err)
	}
	assertNoSecret(t, root)
}

// assertNoSecret fails if any stored object holds the Env value.
func assertNoSecret(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if strings.Contains(string(data), secret) {
			t.Errorf("%s holds the secret", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHandleDuplicateRunsOnce(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	store := dirstore.New(t.TempDir())
	ev := loadEvent(t, "sqs-task.json", tg, time.Now().Add(100*time.Millisecond), nil)
	h := newHandler(store)
	var wg sync.WaitGroup
	for range 3 { // the same message, delivered three times at once
		wg.Go(func() {
			if resp, err := h.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("Handle = %+v, %v", resp, err)
			}
		})
	}
	wg.Wait()
	task := decodeTask(t, ev.Records[0].Body)
	r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
	if want := int64(80); tg.total() != want {
		t.Errorf("target counted %d requests, want %d (one run)", tg.total(), want)
	}
	assertMatches(t, r.Snapshot, tg)
}

func TestHandleBatchOfTwoShards(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	store := dirstore.New(t.TempDir())
	ev := loadEvent(t, "sqs-two-tasks.json", tg, time.Now().Add(100*time.Millisecond), nil)
	resp, err := newHandler(store).Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	total := engine.NewSnapshot(time.Time{}, time.Second)
	for _, rec := range ev.Records {
		task := decodeTask(t, rec.Body)
		total.Merge(readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID)).Snapshot)
	}
	// Two shards of 40/s: 20 iterations each, 80 requests in all.
	if total.Iterations.Started != 40 || tg.total() != 80 {
		t.Errorf("iterations %d, requests %d; want 40 and 80", total.Iterations.Started, tg.total())
	}
	assertMatches(t, total, tg)
}

func TestHandleStopMarker(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	store := dirstore.New(t.TempDir())
	ev := loadEvent(t, "sqs-task.json", tg, time.Now(), func(task *shard.Task) {
		task.Config.Duration = time.Minute
		task.Config.Window.End = time.Minute
	})
	task := decodeTask(t, ev.Records[0].Body)
	go func() {
		time.Sleep(500 * time.Millisecond)
		store.Put(context.Background(), shard.StopKey(task.RunID), []byte("aborted: p99"))
	}()
	start := time.Now()
	resp, err := newHandler(store).Handle(context.Background(), ev)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("Handle took %v after a stop at 0.5s, want about 1s more at most", took)
	}
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
	if !strings.Contains(r.Stopped, "stop marker: aborted: p99") {
		t.Errorf("Stopped = %q, want the stop marker's reason", r.Stopped)
	}
	if r.Snapshot.Iterations.Started == 0 || r.Snapshot.Iterations.Started > 80 {
		t.Errorf("%d iterations before the stop, want 1..80", r.Snapshot.Iterations.Started)
	}
	assertMatches(t, r.Snapshot, tg)
}

func TestHandleStopBeforeWindow(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	store := dirstore.New(t.TempDir())
	ev := loadEvent(t, "sqs-task.json", tg, time.Now().Add(time.Hour), nil)
	task := decodeTask(t, ev.Records[0].Body)
	if err := store.Put(context.Background(), shard.StopKey(task.RunID), []byte("interrupted")); err != nil {
		t.Fatal(err)
	}
	resp, err := newHandler(store).Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
	if r.Snapshot == nil || r.Snapshot.Iterations.Started != 0 || tg.total() != 0 || r.Stopped == "" {
		t.Errorf("result %+v, %d requests; want an empty, stopped result", r, tg.total())
	}
}

func TestHandleDeadline(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	store := dirstore.New(t.TempDir())
	ev := loadEvent(t, "sqs-task.json", tg, time.Now(), func(task *shard.Task) {
		task.Config.Duration = time.Minute
		task.Config.Window.End = time.Minute
	})
	h := newHandler(store)
	h.Reserve = 500 * time.Millisecond
	// Deadline 2.5s - Reserve 0.5s - grace 1s: the engine stops at 1s.
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	resp, err := h.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if ctx.Err() != nil {
		t.Errorf("Handle returned after the invocation's deadline")
	}
	task := decodeTask(t, ev.Records[0].Body)
	r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
	if !strings.Contains(r.Stopped, "deadline") || r.Snapshot.Iterations.Started == 0 {
		t.Errorf("Stopped = %q after %d iterations, want the invocation deadline after some", r.Stopped, r.Snapshot.Iterations.Started)
	}
	assertMatches(t, r.Snapshot, tg)
}

func TestHandlePoison(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	root := t.TempDir()
	var (
		mu     sync.Mutex
		logged []string
	)
	h := &generator.Handler{Store: dirstore.New(root), Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(f, a...))
	}}
	resp, err := h.Handle(context.Background(), loadEvent(t, "sqs-poison.json", tg, time.Now(), nil))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; a poison message must not be redelivered", resp, err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("poison messages wrote %d objects", len(entries))
	}
	if len(logged) != 2 || !strings.Contains(strings.Join(logged, "\n"), "poison") {
		t.Errorf("logged %q, want both poison messages", logged)
	}
}

// failingStore fails every Put of a final result.
type failingStore struct {
	shard.Store
	mu   sync.Mutex
	puts int
}

func (s *failingStore) Put(ctx context.Context, key string, data []byte) error {
	if strings.Contains(key, "/"+shard.ResultsDir+"/") {
		s.mu.Lock()
		s.puts++
		s.mu.Unlock()
		return errors.New("s3: service unavailable")
	}
	return s.Store.Put(ctx, key, data)
}

// TestHandleFinalWriteFails: a final result that cannot be written is
// tried again Retries times within Reserve, the record is reported failed,
// and the log says how many tries were made, counted, not assumed: when
// Reserve ends the retries early the count is lower.
func TestHandleFinalWriteFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		retries int
		reserve time.Duration // 0: DefaultReserve
		puts    int
	}{
		{"all retries", 2, 0, 3},
		// Tries at 0 and 200 ms; the next would be at 600 ms, past Reserve.
		{"reserve ends them", 4, 400 * time.Millisecond, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			store := &failingStore{Store: dirstore.New(t.TempDir())}
			ev := loadEvent(t, "sqs-task.json", tg, time.Now(), func(task *shard.Task) {
				task.Config.Window.End = 200 * time.Millisecond
			})
			h := newHandler(store)
			h.Retries, h.Reserve = tc.retries, tc.reserve
			var mu sync.Mutex
			var logs []string
			h.Logf = func(f string, a ...any) {
				mu.Lock()
				defer mu.Unlock()
				logs = append(logs, fmt.Sprintf(f, a...))
			}
			resp, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].MessageId {
				t.Fatalf("BatchItemFailures = %+v, want the record", resp.BatchItemFailures)
			}
			if store.puts != tc.puts {
				t.Errorf("final result written %d times, want %d", store.puts, tc.puts)
			}
			want := fmt.Sprintf("write final result (%d tries): ", store.puts)
			mu.Lock()
			defer mu.Unlock()
			if !slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, want) }) {
				t.Errorf("log %q; want a line saying %q", logs, want)
			}
		})
	}
}
