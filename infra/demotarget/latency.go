package demotarget

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// tailChance is the probability that a request lands in the latency tail,
// and tailFactor how much slower it is then (up to).
const (
	tailChance = 0.01
	tailFactor = 20
)

// serviceTime draws a latency around base: 0.5×–1.5× most of the time, and
// up to tailFactor× on a rare slow request.
func serviceTime(base time.Duration) time.Duration {
	d := jitter(base)
	if rand.Float64() < tailChance {
		d *= time.Duration(2 + rand.IntN(tailFactor-1))
	}
	return d
}

// jitter returns d scaled by a uniform factor in [0.5, 1.5).
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// sleep waits d, or until the request's context ends; it reports whether
// the full wait happened.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// bucket is a token bucket: rate tokens per second, at most burst saved.
// Safe for concurrent use.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	b := float64(burst)
	if burst <= 0 {
		b = max(1, rate/10)
	}
	return &bucket{rate: rate, burst: b, tokens: b}
}

// take reports whether a request arriving at now may pass.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
