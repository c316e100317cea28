package local_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/functions/local"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

func tasks(t *testing.T, target string, n int, epoch time.Time) [][]byte {
	t.Helper()
	var out [][]byte
	for g := range n {
		task := &shard.Task{
			RunID: "run-local", Region: "local", ID: shard.TaskID(g, 0), Generator: g,
			Config: engine.Config{
				Target:    target,
				Scenarios: []engine.Scenario{{Name: "s", Weight: 1, Steps: []engine.Step{{Name: "GET /", Method: "GET", URL: "/"}}}},
				Load:      engine.Load{Model: engine.ModelOpen, Rate: 30},
				Defaults:  engine.Defaults{Timeout: time.Second},
				Duration:  500 * time.Millisecond,
				Shard:     engine.Shard{Index: g, Count: n, Seed: 1},
				Window:    engine.Window{End: 500 * time.Millisecond},
				Epoch:     epoch,
				Interval:  time.Second,
			},
		}
		b, err := shard.EncodeTask(task)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestStartRunsEveryTask(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	store := dirstore.New(t.TempDir())
	q := memqueue.New(time.Minute)
	if err := q.Send(context.Background(), tasks(t, srv.URL, 3, time.Now().Add(200*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		local.Start(ctx, q, &generator.Handler{Store: store, Logf: t.Logf}, 3)
	}()
	waitFor(t, "every result", func() bool {
		keys, _ := store.List(ctx, shard.ResultsPrefix("run-local"))
		return len(keys) == 3 && q.Len() == 0
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after its context was canceled")
	}
	// 30/s for 0.5s over 3 shards: 15 requests in all.
	if hits.Load() != 15 {
		t.Errorf("target got %d requests, want 15", hits.Load())
	}
}

// flakyStore fails the first Put of each final result.
type flakyStore struct {
	shard.Store
	mu     sync.Mutex
	failed map[string]bool
}

func (s *flakyStore) Put(ctx context.Context, key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Contains(key, "/results/") && !s.failed[key] {
		s.failed[key] = true
		return errors.New("transient")
	}
	return s.Store.Put(ctx, key, data)
}

func TestStartRedeliversFailedMessages(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	store := &flakyStore{Store: dirstore.New(t.TempDir()), failed: map[string]bool{}}
	q := memqueue.New(300 * time.Millisecond)
	if err := q.Send(context.Background(), tasks(t, srv.URL, 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	var logs sync.Map
	h := &generator.Handler{Store: store, Retries: 1, Reserve: 50 * time.Millisecond, Logf: func(f string, a ...any) {
		logs.Store(f, true)
	}}
	// Reserve 50ms is too short for the 200ms first backoff: the record fails.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		local.Start(ctx, q, h, 1)
	}()
	waitFor(t, "the redelivery to be deleted", func() bool { return q.Len() == 0 })
	cancel()
	<-done
	if _, ok := logs.Load("generator: %s: leased already (message %s delivered again): no work"); !ok {
		t.Error("the failed message was not delivered again")
	}
	if hits.Load() != 15 {
		t.Errorf("target got %d requests, want 15 (one run)", hits.Load())
	}
}
