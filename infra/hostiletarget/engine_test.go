package hostiletarget

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// hostilePlan is a plan of two scenarios: "hostile" sends one request to
// url, "ok" one to the target's /ok, at 20 iterations/s in all for 2s
// (about 20 requests of each), with a 300ms timeout.
func hostilePlan(t *testing.T, target, url, extra string) engine.Config {
	t.Helper()
	src := fmt.Sprintf(`target: %s
duration: 2s
load: {rate: 20, max_conns: 8}
defaults: {timeout: 300ms, max_redirects: 3}
%s
scenarios:
  - name: hostile
    steps: [{name: hostile, get: '%s'}]
  - name: ok
    steps: [{name: ok, get: /ok, expect: {status: 200, body_contains: ok}}]
`, target, extra, url)
	p, err := plan.Parse("hostile.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, src)
	}
	cfg := p.Engine
	cfg.Shard = engine.Shard{Count: 1, Seed: 7}
	// In-flight requests (300ms at most) always finish: every request is
	// recorded, so that the counts are exact.
	cfg.Grace = 2 * time.Second
	return cfg
}

// TestEngineAgainstHostileTarget runs the engine against every way the
// target fails: each hostile request is counted under its error class (or
// succeeds, for a huge body), the generator keeps going — every /ok
// request in between succeeds — and the target saw exactly the /ok
// requests the snapshot reports.
func TestEngineAgainstHostileTarget(t *testing.T) {
	opts := Options{Slow: 2 * time.Second, HugeBytes: 4 << 20, EndlessEvery: 2 * time.Millisecond, EndlessChunk: 8 << 10}
	// The subtests run in parallel, each against its own server; this one's
	// TLS listener serves the certificate case, and self in a URL stands
	// for the subtest's own server.
	s := start(t, opts)
	tlsHost := strings.TrimPrefix(s.TLSURL, "https://")
	const self = "SELF"

	// A server the plan does not declare, and one that redirects to it.
	var undeclaredHits atomic.Int64
	undeclared := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { undeclaredHits.Add(1) }))
	t.Cleanup(undeclared.Close)
	redirector := httptest.NewServer(http.RedirectHandler(undeclared.URL+"/ok", http.StatusFound))
	t.Cleanup(redirector.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	type mode struct {
		name  string
		url   string
		extra string
		want  engine.ErrorClass // ErrNone: a 200
		path  string            // what the target counts ("": nothing it serves)
	}
	tests := []mode{
		{"untrusted certificate", s.TLSURL + PathOK, "allowed_hosts: ['" + tlsHost + "']", engine.ErrTLS, ""},
		{"tls to a plain port", "https://" + self + PathOK, "", engine.ErrTLS, ""},
		{"dns failure", "http://stampede-hostile.invalid/ok", "allowed_hosts: [stampede-hostile.invalid]", engine.ErrDNS, ""},
		{"connection refused", "http://" + refused + "/ok", "allowed_hosts: ['" + refused + "']", engine.ErrConnRefused, ""},
		{"undeclared host (template)", "http://{{ h }}/ok", "vars: {h: '" + strings.TrimPrefix(undeclared.URL, "http://") + "'}", engine.ErrHostRefused, ""},
		{"undeclared host (redirect)", redirector.URL + "/", "allowed_hosts: ['" + strings.TrimPrefix(redirector.URL, "http://") + "']", engine.ErrHostRefused, ""},
	}
	for _, p := range Paths()[1:] {
		tests = append(tests, mode{p, p, "", engine.ErrorClass(Class(p)), p})
	}
	t.Run("modes", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s := start(t, opts)
				url := strings.ReplaceAll(tt.url, self, strings.TrimPrefix(s.URL, "http://"))
				checkMode(t, s, url, tt.extra, tt.want, tt.path)
			})
		}
	})
	if n := undeclaredHits.Load(); n != 0 {
		t.Errorf("the undeclared host got %d requests", n)
	}
}

// checkMode runs hostilePlan against s with the hostile step at url and
// checks the counts: every hostile request is of class want (or a 200 with
// the whole body for ErrNone), every /ok request succeeded, the target saw
// as many /ok requests as the snapshot has and, for a path it serves, at
// least as many hostile ones.
func checkMode(t *testing.T, s *Server, url, extra string, want engine.ErrorClass, path string) {
	t.Helper()
	okBefore, hostileBefore := s.Requests(PathOK), s.Requests(path)
	snap, err := engine.Run(context.Background(), hostilePlan(t, s.URL, url, extra))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := snap.Steps["hostile"], snap.Steps["ok"]
	if h == nil || ok == nil || h.Requests < 5 || ok.Requests < 5 {
		t.Fatalf("steps %+v %+v: want both run about 20 times", h, ok)
	}
	if want == engine.ErrNone {
		if h.Status[200] != h.Requests || h.Failures != 0 || h.BytesRecv < h.Requests*(4<<20) {
			t.Errorf("hostile: %d requests, status %v, errors %v, %d bytes in; want all 200 with the whole body",
				h.Requests, h.Status, h.Errors, h.BytesRecv)
		}
	} else if h.Errors[want] != h.Requests || h.Failures != h.Requests {
		t.Errorf("hostile: %d requests, errors %v, status %v; want every one %q", h.Requests, h.Errors, h.Status, want)
	}
	if ok.Status[200] != ok.Requests || ok.Failures != 0 {
		t.Errorf("ok: %d requests, status %v, errors %v: the generator did not keep going", ok.Requests, ok.Status, ok.Errors)
	}
	if served := s.Requests(PathOK) - okBefore; served != ok.Requests {
		t.Errorf("the target served %d /ok requests, the snapshot has %d", served, ok.Requests)
	}
	if path != "" && path != PathOK {
		// A GET that failed on a reused connection before any
		// response byte is sent once more on a fresh one.
		if served := s.Requests(path) - hostileBefore; served < h.Requests || served > 2*h.Requests {
			t.Errorf("the target read %d %s requests, the snapshot has %d", served, path, h.Requests)
		}
	}
	if snap.Iterations.Dropped != 0 {
		t.Errorf("%d arrivals dropped", snap.Iterations.Dropped)
	}
}

// heapPeak samples the live heap every 20ms while run runs and returns the
// largest growth over the heap before it (bytes).
func heapPeak(run func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	run()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// TestEngineMemoryBounded reads endless and huge bodies, with the body
// kept for an expectation, and checks that the heap grows by far less than
// what was read: the client keeps at most max_body_bytes per response and
// discards the rest.
func TestEngineMemoryBounded(t *testing.T) {
	s := start(t, Options{HugeBytes: 32 << 20, EndlessChunk: 16 << 10, EndlessEvery: time.Millisecond})
	const keep = 256 << 10 // max_body_bytes
	for _, tt := range []struct {
		path     string
		minBytes int64 // at least this much read in all
	}{
		{PathEndless, 64 << 20},
		{PathHuge, 256 << 20},
	} {
		t.Run(tt.path, func(t *testing.T) {
			src := fmt.Sprintf(`target: %s
duration: 3s
load: {rate: 4}
defaults: {timeout: 1s, max_body_bytes: %d}
scenarios:
  - steps: [{name: big, get: %s, expect: {body_contains: "no such text"}}]
`, s.URL, keep, tt.path)
			p, err := plan.Parse("memory.yaml", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			var snap *engine.Snapshot
			peak := heapPeak(func() {
				snap, err = engine.Run(context.Background(), p.Engine)
			})
			if err != nil {
				t.Fatal(err)
			}
			st := snap.Steps["big"]
			t.Logf("%s: %d requests, %d MiB read, heap grew by at most %.1f MiB", tt.path, st.Requests, st.BytesRecv>>20, float64(peak)/(1<<20))
			if st.BytesRecv < tt.minBytes {
				t.Fatalf("read %d bytes, want at least %d for the bound to mean something", st.BytesRecv, tt.minBytes)
			}
			// A few responses in flight keep 256 KiB each; buffers,
			// histograms and the race detector's shadow need the rest.
			if limit := uint64(24 << 20); peak > limit {
				t.Errorf("heap grew by %d bytes while reading %d: over %d", peak, st.BytesRecv, limit)
			}
			if uint64(st.BytesRecv) < 8*peak {
				t.Errorf("heap grew by %d bytes, more than an eighth of the %d read", peak, st.BytesRecv)
			}
		})
	}
}
