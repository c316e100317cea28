package demotarget

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Target. The zero value is the realistic demo.
type Options struct {
	// NoDelay turns simulated latency, tails and cold-start delays off (tests).
	NoDelay bool
	// ColdStart is the extra delay of a cold start (default 150ms; the
	// actual delay varies between 0.5× and 1.5× of it).
	ColdStart time.Duration
	// IdleTimeout is how long a route may sit idle before its instances go
	// cold again (default 60s).
	IdleTimeout time.Duration
	// RateLimit is the request rate, per second over all routes, beyond which
	// the target answers 429 Too Many Requests (0: no throttling).
	RateLimit float64
	// Burst is how many requests may exceed the rate at once (default
	// RateLimit/10, at least 1).
	Burst int
	// JobTime is how long a report job takes to complete (default: random
	// between 1s and 3s per job). It is queued for the first third of it.
	JobTime time.Duration
	// MaxJobs caps the report job table (default 10,000); the oldest job is
	// forgotten first.
	MaxJobs int
	// JobTTL is how long a job is remembered after it was created (default 10m).
	JobTTL time.Duration
}

// Default option values.
const (
	DefaultColdStart   = 150 * time.Millisecond
	DefaultIdleTimeout = 60 * time.Second
	DefaultMaxJobs     = 10000
	DefaultJobTTL      = 10 * time.Minute
	// TokenLifetime is how long an issued access token is valid.
	TokenLifetime = time.Hour
	// maxBodyBytes caps request bodies the target reads.
	maxBodyBytes = 1 << 20
)

// HeaderColdStart is set to "true" on responses that paid a cold start.
const HeaderColdStart = "X-Cold-Start"

// Target is the demo API. It is an http.Handler, safe for concurrent use.
type Target struct {
	opts     Options
	mux      *http.ServeMux
	routes   []*route
	requests atomic.Int64
	throttle *bucket
	jobs     *jobTable
	tokenKey []byte
}

// route is one registered pattern with its counters and warm instances.
type route struct {
	pattern  string
	base     time.Duration // typical latency
	requests atomic.Int64
	cold     atomic.Int64
	pool     pool
}

// New returns a Target configured by opts.
func New(opts Options) *Target {
	if opts.ColdStart <= 0 {
		opts.ColdStart = DefaultColdStart
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxJobs <= 0 {
		opts.MaxJobs = DefaultMaxJobs
	}
	if opts.JobTTL <= 0 {
		opts.JobTTL = DefaultJobTTL
	}
	t := &Target{
		opts:     opts,
		mux:      http.NewServeMux(),
		jobs:     newJobTable(opts.MaxJobs, opts.JobTTL, opts.JobTime),
		tokenKey: make([]byte, 32),
	}
	rand.Read(t.tokenKey) // never fails (crypto/rand panics internally instead)
	if opts.RateLimit > 0 {
		t.throttle = newBucket(opts.RateLimit, opts.Burst)
	}
	ms := time.Millisecond
	t.handle("GET /prod/health", ms, t.health)
	t.handle("GET /prod/products", 4*ms, t.listProducts)
	t.handle("GET /prod/products/{id}", 3*ms, t.productDetail)
	t.handle("POST /prod/search", 18*ms, t.search)
	t.handle("POST /auth/token", 8*ms, t.issueToken)
	t.handle("GET /prod/account/profile", 4*ms, t.authed(t.profile))
	t.handle("GET /prod/account/orders", 6*ms, t.authed(t.orders))
	t.handle("POST /prod/cart/items", 5*ms, t.authed(t.addCartItem))
	t.handle("POST /prod/reports", 5*ms, t.createReport)
	t.handle("GET /prod/reports/{jobId}", 2*ms, t.reportStatus)
	t.handle("GET /edge/home", ms, t.edgeHome)
	t.handle("GET /edge/content/{slug}", 2*ms, t.edgeContent)
	t.handle("POST /edge/track", ms, t.edgeTrack)
	return t
}

// ServeHTTP serves the demo API and counts every request.
func (t *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.requests.Add(1)
	t.mux.ServeHTTP(w, r)
}

// Requests is the number of requests served so far, whatever their outcome.
func (t *Target) Requests() int64 { return t.requests.Load() }

// RouteStats are one route's counters.
type RouteStats struct {
	Pattern    string
	Requests   int64
	ColdStarts int64
}

// Routes returns every route's counters, in registration order.
func (t *Target) Routes() []RouteStats {
	out := make([]RouteStats, len(t.routes))
	for i, rt := range t.routes {
		out[i] = RouteStats{Pattern: rt.pattern, Requests: rt.requests.Load(), ColdStarts: rt.cold.Load()}
	}
	return out
}

// handle registers h under pattern behind the simulation: throttling, cold
// starts and latency.
func (t *Target) handle(pattern string, base time.Duration, h http.HandlerFunc) {
	rt := &route{pattern: pattern, base: base}
	t.routes = append(t.routes, rt)
	t.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rt.requests.Add(1)
		now := time.Now()
		if t.throttle != nil && !t.throttle.take(now) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Too Many Requests"})
			return
		}
		cold := rt.pool.acquire(now, t.opts.IdleTimeout)
		defer rt.pool.release()
		delay := time.Duration(0)
		if cold {
			rt.cold.Add(1)
			w.Header().Set(HeaderColdStart, "true")
			if !t.opts.NoDelay {
				delay += jitter(t.opts.ColdStart)
			}
		}
		if !t.opts.NoDelay {
			delay += serviceTime(rt.base)
		}
		if !sleep(r, delay) {
			return // the client went away
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		h(w, r)
	})
}

// pool tracks a route's warm instances: a request that finds them all busy
// starts one more (a cold start); after IdleTimeout without requests the idle
// ones are reclaimed.
type pool struct {
	mu       sync.Mutex
	warm     int
	busy     int
	lastUsed time.Time
}

// acquire marks one instance busy and reports whether it had to start cold.
func (p *pool) acquire(now time.Time, idle time.Duration) (cold bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lastUsed.IsZero() && now.Sub(p.lastUsed) > idle {
		p.warm = p.busy
	}
	p.lastUsed = now
	p.busy++
	if p.busy > p.warm {
		p.warm = p.busy
		return true
	}
	return false
}

func (p *pool) release() {
	p.mu.Lock()
	p.busy--
	p.mu.Unlock()
}

// writeJSON writes v as the JSON response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // a failed write is the client's loss
}

// writeError writes {"message": msg} with status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"message": msg})
}

// readJSON decodes the request body into v; it answers 400 and returns
// false when the body is not valid JSON.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return false
	}
	return true
}

func (t *Target) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}
