//go:build unix

package engine

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rawResponder is a minimal keep-alive HTTP/1.1 server on 127.0.0.1 that
// answers every bodiless request with a fixed reply: it allocates nothing,
// so a benchmark against it measures the engine.
func rawResponder(tb testing.TB) string { return "http://" + clientCannedServer(tb) }

// BenchmarkRunOpenLoop offers open-model arrivals (one GET each) at 50,000/s,
// beyond what the target and the engine serve on a small machine, so the
// engine runs flat out with MaxInflight users; one op is one offered
// arrival. It reports the requests per second served and the allocations
// per request (engine and target together, process-wide). Arrivals still
// queued when the test ends are dropped, as in a real run.
func BenchmarkRunOpenLoop(b *testing.B) {
	targets := []struct {
		name string
		url  func(testing.TB) string
	}{
		{"raw", rawResponder},
		{"echo", func(tb testing.TB) string { return newEchoServer(tb, echoKnobs{BodySize: 64}).URL }},
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			const rate = 50000.0
			cfg := Config{
				Target:      tg.url(b),
				Scenarios:   []Scenario{{Name: "s", Weight: 1, Steps: []Step{{Name: "get", Method: "GET", URL: "/bench"}}}},
				Load:        Load{Rate: rate, DropAfter: time.Hour},
				Duration:    time.Duration(b.N) * time.Duration(float64(time.Second)/rate),
				MaxInflight: 64,
				Defaults:    Defaults{Timeout: 10 * time.Second},
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			b.ResetTimer()
			start := time.Now()
			snap, err := Run(context.Background(), cfg)
			elapsed := time.Since(start)
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			if err != nil {
				b.Fatal(err)
			}
			st := snap.Steps["get"]
			if st == nil || st.Requests == 0 || st.Failures != 0 {
				b.Fatalf("want good requests; got %+v", st)
			}
			if it := snap.Iterations; it.Started+it.Dropped != int64(b.N) {
				b.Fatalf("%d arrivals offered; %d started, %d dropped", b.N, it.Started, it.Dropped)
			}
			b.ReportMetric(float64(st.Requests)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(st.Requests), "allocs/req")
		})
	}
}

// processCPU is the process's user plus system CPU time.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type noopVU struct{}

func (noopVU) runArrival(context.Context, arrival, time.Duration) {}

// dispatcherCPU runs the dispatcher for n arrivals at rate per second with a
// no-op executor and returns the fraction of one core the process used.
func dispatcherCPU(tb testing.TB, rate float64, n int, tick time.Duration) float64 {
	disp := benchDispatcher(tb, rate, n, DefaultMaxInflight)
	disp.tick = tick
	cpu0, wall0 := processCPU(tb), time.Now()
	disp.run(context.Background(), nil)
	return float64(processCPU(tb)-cpu0) / float64(time.Since(wall0))
}

// benchDispatcher is a dispatcher of n arrivals at rate per second onto
// no-op users that record nothing, so that what is measured is the
// dispatcher alone.
func benchDispatcher(tb testing.TB, rate float64, n, maxVUs int) *dispatcher {
	d := time.Duration(float64(n) / rate * float64(time.Second))
	s, err := NewSchedule(Load{Rate: rate}, d)
	if err != nil {
		tb.Fatal(err)
	}
	return &dispatcher{
		clock:     newRunClock(time.Now()),
		seq:       newArrivalSeq(s, Shard{Count: 1}, Window{}),
		maxVUs:    maxVUs,
		lanes:     4,
		dropAfter: time.Hour,
		counter:   &countOnly{},
		newVU:     func(int) arrivalRunner { return noopVU{} },
	}
}

// countOnly is an iterationCounter that records nothing, so the
// measurement is the dispatcher's alone.
type countOnly struct{}

func (c *countOnly) IterationStarted(int, time.Duration) {}
func (c *countOnly) Dropped(int, time.Duration)          {}

// BenchmarkDispatcherIdle measures the dispatcher's CPU at 1,000 arrivals/s
// (one op is one arrival, so ns/op is about 1ms), releasing each arrival at
// its due time and on release grids of 500µs (the default) and 5ms.
func BenchmarkDispatcherIdle(b *testing.B) {
	for _, tick := range []time.Duration{0, DefaultReleaseTick, 5 * time.Millisecond} {
		b.Run(fmt.Sprintf("tick=%v", tick), func(b *testing.B) {
			frac := dispatcherCPU(b, 1000, max(b.N, 10), tick)
			b.ReportMetric(100*frac, "%core")
		})
	}
}

// BenchmarkDispatch measures the dispatcher's own cost per arrival, flat
// out: arrivals are due far faster than no-op users take them (10 million
// per second), so every release finds work waiting; one op is one arrival.
func BenchmarkDispatch(b *testing.B) {
	b.ReportAllocs()
	disp := benchDispatcher(b, 1e7, max(b.N, 1), 16)
	b.ResetTimer()
	disp.run(context.Background(), nil)
}
