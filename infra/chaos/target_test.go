package chaos

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// countingTarget serves GET /hit (200) and counts what it served: the
// requests, those that carried the plan's token, and when the last one
// came. Safe for concurrent use.
type countingTarget struct {
	URL string

	mu        sync.Mutex
	hits      int64
	withToken int64
	first     time.Time
	last      time.Time
}

func newCountingTarget(t testing.TB) *countingTarget {
	t.Helper()
	tg := &countingTarget{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hit" {
			http.NotFound(w, r)
			return
		}
		now := time.Now()
		tg.mu.Lock()
		tg.hits++
		if r.Header.Get("Authorization") == "Bearer "+token {
			tg.withToken++
		}
		if tg.first.IsZero() {
			tg.first = now
		}
		tg.last = now
		tg.mu.Unlock()
		w.Write([]byte("hit"))
	}))
	t.Cleanup(srv.Close)
	tg.URL = srv.URL
	return tg
}

// Hits is how many /hit requests the target served.
func (tg *countingTarget) Hits() int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.hits
}

// WithToken is how many of them carried the token.
func (tg *countingTarget) WithToken() int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.withToken
}

// Last is when the latest request came (zero: none yet).
func (tg *countingTarget) Last() time.Time {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.last
}

// waitHits waits until the target served n requests or d passed.
func (tg *countingTarget) waitHits(t testing.TB, n int64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for tg.Hits() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the target served %d requests in %v, want %d", tg.Hits(), d, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// quietFor waits until no request came for quiet (or d passed) and returns
// the last request's time.
func (tg *countingTarget) quietFor(quiet, d time.Duration) time.Time {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if last := tg.Last(); !last.IsZero() && time.Since(last) > quiet {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	return tg.Last()
}
