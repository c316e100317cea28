package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// runConfig is an open-model Config against srv with one scenario.
func runConfig(srv *echoServer, rate float64, d time.Duration, steps ...Step) Config {
	return Config{
		Target:    srv.URL,
		Scenarios: []Scenario{{Name: "main", Weight: 1, Steps: steps}},
		// Generous DropAfter and Grace keep counts exact on a loaded machine.
		Load:     Load{Model: ModelOpen, Rate: rate, DropAfter: time.Minute},
		Duration: d,
		Defaults: Defaults{Timeout: 5 * time.Second},
		Grace:    30 * time.Second,
	}
}

func mustRun(t *testing.T, ctx context.Context, cfg Config, opts ...Option) *Snapshot {
	t.Helper()
	snap, err := Run(ctx, cfg, opts...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return snap
}

func stepStats(t *testing.T, snap *Snapshot, name string) *StepStats {
	t.Helper()
	st := snap.Steps[name]
	if st == nil {
		t.Fatalf("no stats for step %q (have %v)", name, snap.Steps)
	}
	return st
}

func TestRunOpenExactCount(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 200, 2*time.Second, Step{Name: "echo", Method: "GET", URL: "/echo"})
	var progress int
	snap := mustRun(t, context.Background(), cfg, WithProgress(func(*Snapshot) { progress++ }))
	st := stepStats(t, snap, "echo")
	if st.Requests != 400 || st.Failures != 0 || srv.path("GET /echo") != 400 {
		t.Errorf("requests %d (failures %d), server saw %d; want 400", st.Requests, st.Failures, srv.path("GET /echo"))
	}
	if st.Status[200] != 400 || st.Response.Count() != 400 || st.Service.Count() != 400 {
		t.Errorf("status %v, histograms %d/%d", st.Status, st.Response.Count(), st.Service.Count())
	}
	it := snap.Iterations
	if it.Started != 400 || it.Completed != 400 || it.Dropped != 0 || it.Failed != 0 {
		t.Errorf("iterations %+v", it)
	}
	// Corrected response time is never below the service time.
	if st.Response.Quantile(50) < st.Service.Quantile(50) {
		t.Errorf("p50 response %v < service %v", st.Response.Quantile(50), st.Service.Quantile(50))
	}
	if w := snap.Workflows["main"]; w == nil || w.Completed != 400 {
		t.Errorf("workflow %+v", w)
	}
	if d := snap.End.Sub(snap.Start); d < 1900*time.Millisecond || d > 10*time.Second {
		t.Errorf("run spanned %v; want about 2s", d)
	}
	if progress != 0 {
		t.Errorf("progress called %d times in a 2s run with 5s snapshots", progress)
	}
}

// TestRunShardsAndSlices runs 3 shards × 2 time slices at once against one
// epoch: together they send exactly the plan's arrivals.
func TestRunShardsAndSlices(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 150, time.Second, Step{Name: "echo", URL: "/s"})
	cfg.Epoch = time.Now().Add(50 * time.Millisecond)
	var mu sync.Mutex
	var total int64
	var wg sync.WaitGroup
	for k := range 3 {
		for _, w := range []Window{{0, 400 * time.Millisecond}, {400 * time.Millisecond, 0}} {
			c := cfg
			c.Shard = Shard{Index: k, Count: 3, Seed: 7}
			c.Window = w
			wg.Add(1)
			go func() {
				defer wg.Done()
				snap, err := Run(context.Background(), c)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += snap.Steps["echo"].Requests
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if total != 150 || srv.path("GET /s") != 150 {
		t.Errorf("shards recorded %d, server saw %d; want 150", total, srv.path("GET /s"))
	}
}

// TestRunWeights checks the scenario mix, and that it is the same split or not.
func TestRunWeights(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 1000, time.Second)
	cfg.Scenarios = []Scenario{
		{Name: "light", Weight: 1, Steps: []Step{{Name: "a", URL: "/a"}}},
		{Name: "heavy", Weight: 3, Steps: []Step{{Name: "b", URL: "/b"}}},
	}
	cfg.Shard.Seed = 99
	picker, _ := newScenarioPicker(cfg.Scenarios)
	var want [2]int64
	for i := range uint64(1000) {
		want[picker.pick(seedHash(99, hashArrival, i, 0))]++
	}
	if want[0] < 200 || want[0] > 300 {
		t.Fatalf("picker gives %d of 1000 to weight 1 of 4", want[0])
	}
	var got [2]int64
	for k := range 2 {
		c := cfg
		c.Shard.Index, c.Shard.Count = k, 2
		snap := mustRun(t, context.Background(), c)
		got[0] += stepStats(t, snap, "a").Requests
		got[1] += stepStats(t, snap, "b").Requests
	}
	if got != want {
		t.Errorf("two shards ran %v; the plan-wide mix is %v", got, want)
	}
}

func TestRunClosedUsers(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 0, time.Second, Step{Name: "u", URL: "/u",
		Headers: []KV{{"X-User", "{{ user }}"}}})
	cfg.Load = Load{Model: ModelClosed, Users: 5}
	cfg.Scenarios[0].Think = Think{Kind: ThinkConstant, Min: 100 * time.Millisecond}
	snap := mustRun(t, context.Background(), cfg)
	st := stepStats(t, snap, "u")
	if srv.userCount() != 5 {
		t.Errorf("server saw %d users; want 5", srv.userCount())
	}
	// 5 users × about 10 iterations (100ms think plus a fast request).
	if st.Requests < 20 || st.Requests > 50 || st.Failures != 0 {
		t.Errorf("requests %d (failures %d); want about 50", st.Requests, st.Failures)
	}
	if snap.Iterations.Started != st.Requests || snap.Iterations.Completed != st.Requests {
		t.Errorf("iterations %+v for %d requests", snap.Iterations, st.Requests)
	}
}

// TestRunClosedStages: 4 users, then a drop to 1 at 400ms; users 1-3 stop
// after their iteration, user 0 goes on. Progress snapshots grow.
func TestRunClosedStages(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 0, time.Second, Step{Name: "u", URL: "/u",
		Headers: []KV{{"X-User", "{{ user }}"}}})
	cfg.Load = Load{Model: ModelClosed, Users: 4, Stages: []Stage{{400 * time.Millisecond, 4}, {0, 1}}}
	cfg.Scenarios[0].Think = Think{Kind: ThinkConstant, Min: 50 * time.Millisecond}
	cfg.SnapshotEvery = 200 * time.Millisecond
	var seen []int64
	snap := mustRun(t, context.Background(), cfg, WithProgress(func(s *Snapshot) {
		seen = append(seen, s.Steps["u"].Requests)
	}))
	u0 := srv.userRequests("0")
	for _, u := range []string{"1", "2", "3"} {
		if n := srv.userRequests(u); n == 0 || 2*n > u0 {
			t.Errorf("user %s sent %d requests, user 0 %d; want users 1-3 stopped at 400ms", u, n, u0)
		}
	}
	if len(seen) < 3 || seen[0] == 0 || seen[len(seen)-1] <= seen[0] {
		t.Errorf("progress snapshots %v; want 3 or more, growing", seen)
	}
	if got := snap.Steps["u"].Requests; got != srv.requests.Load() {
		t.Errorf("recorded %d, server saw %d", got, srv.requests.Load())
	}
}

func TestRunClosedPacing(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 0, time.Second, Step{Name: "p", URL: "/p?delay=150ms"})
	cfg.Load = Load{Model: ModelClosed, Users: 2}
	// Iterations every 100ms take 150ms: each one starts later than its slot.
	cfg.Scenarios[0].Think = Think{Kind: ThinkPacing, Min: 100 * time.Millisecond}
	snap := mustRun(t, context.Background(), cfg)
	it := snap.Iterations
	if it.Started < 5 || it.Started > 16 || it.Late < it.Started-2 {
		t.Errorf("iterations %+v; want about 14, all but the first of each user late", it)
	}
	st := stepStats(t, snap, "p")
	if st.Response.Max() < 400*time.Millisecond {
		t.Errorf("max response %v; lateness against the pacing should add up", st.Response.Max())
	}
}

func TestRunTokenFlow(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 0, 500*time.Millisecond,
		Step{Name: "me", URL: "/me", Headers: []KV{{"Authorization", "Bearer {{ token }}"}},
			Expect: &Expect{Status: []int{200}}})
	cfg.Load = Load{Model: ModelClosed, Users: 3}
	cfg.Scenarios[0].Setup = []Step{{Name: "login", Method: "POST", URL: "/login",
		Body:    &Body{Kind: BodyJSON, JSON: map[string]any{"user": "u{{ user }}"}},
		Capture: []Capture{{Var: "token", From: CaptureJSON, Expr: "$.token"}}}}
	cfg.Scenarios[0].Think = Think{Kind: ThinkConstant, Min: 50 * time.Millisecond}
	snap := mustRun(t, context.Background(), cfg)
	login, me := stepStats(t, snap, "login"), stepStats(t, snap, "me")
	if login.Requests != 3 || srv.path("POST /login") != 3 {
		t.Errorf("login %d times; want once per user (3)", login.Requests)
	}
	if me.Requests < 6 || me.Failures != 0 || me.Status[200] != me.Requests {
		t.Errorf("me: %d requests, %d failures, status %v", me.Requests, me.Failures, me.Status)
	}
}

// TestRunUserSetup checks that the plan-level setup runs once per virtual
// user, whichever scenarios it then runs, and that its captures reach them all.
func TestRunUserSetup(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	me := func(name string) Step {
		return Step{Name: name, URL: "/me", Headers: []KV{{Name: "Authorization", Value: "Bearer {{ token }}"}},
			Expect: &Expect{Status: []int{200}}}
	}
	cfg := runConfig(srv, 0, 600*time.Millisecond, me("a"))
	cfg.Scenarios = append(cfg.Scenarios, Scenario{Name: "other", Weight: 1, Steps: []Step{me("b")}})
	cfg.Load = Load{Model: ModelClosed, Users: 3}
	cfg.Setup = []Step{{Name: "login", Method: "POST", URL: "/login",
		Body:    &Body{Kind: BodyJSON, JSON: map[string]any{"user": "u{{ user }}"}},
		Capture: []Capture{{Var: "token", From: CaptureJSON, Expr: "$.token"}}}}
	for i := range cfg.Scenarios {
		cfg.Scenarios[i].Think = Think{Kind: ThinkConstant, Min: 30 * time.Millisecond}
	}
	snap := mustRun(t, context.Background(), cfg)
	if login := stepStats(t, snap, "login"); login.Requests != 3 || srv.path("POST /login") != 3 {
		t.Errorf("login ran %d times (server saw %d); want once per user: 3", login.Requests, srv.path("POST /login"))
	}
	a, b := stepStats(t, snap, "a"), stepStats(t, snap, "b")
	if a.Requests == 0 || b.Requests == 0 || a.Failures+b.Failures != 0 {
		t.Errorf("scenarios after setup: a %d requests %d failed, b %d requests %d failed", a.Requests, a.Failures, b.Requests, b.Failures)
	}
}

func TestRunCaptureMissFails(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 10, 500*time.Millisecond,
		Step{Name: "c", URL: "/c", Capture: []Capture{{Var: "x", From: CaptureJSON, Expr: "$.nothing"}}},
		Step{Name: "never", URL: "/never"})
	snap := mustRun(t, context.Background(), cfg)
	c := stepStats(t, snap, "c")
	if c.Requests != 5 || c.Failures != 5 || c.Errors[ErrCapture] != 5 {
		t.Errorf("capture step: %+v", c)
	}
	if snap.Steps["never"] != nil && snap.Steps["never"].Requests != 0 {
		t.Errorf("a failed step did not end its iteration")
	}
	if snap.Iterations.Failed != 5 || snap.Workflows["main"].Failed != 5 {
		t.Errorf("iterations %+v, workflow %+v", snap.Iterations, snap.Workflows["main"])
	}
}

func TestRunPolling(t *testing.T) {
	tests := []struct {
		name     string
		maxTries int
		polls    int64 // requests of the poll step
		failed   int64
		minTime  time.Duration // the poll waits, part of the workflow time
	}{
		{"completes", 10, 6, 0, 100 * time.Millisecond}, // two jobs, three polls each
		{"runs out of tries", 2, 4, 2, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEchoServer(t, echoKnobs{})
			cfg := runConfig(srv, 4, 500*time.Millisecond,
				Step{Name: "submit", Method: "POST", URL: "/jobs",
					Capture: []Capture{{Var: "job", From: CaptureJSON, Expr: "$.id"}}},
				Step{Name: "status", URL: "/jobs/{{ job }}", Poll: &Poll{
					Interval: 50 * time.Millisecond, MaxTries: tt.maxTries,
					Until: Cond{Path: "$.status", Equals: "completed"},
					While: &Cond{Path: "$.status", In: []any{"pending", "completed"}},
				}})
			snap := mustRun(t, context.Background(), cfg)
			st := stepStats(t, snap, "status")
			if st.Requests != tt.polls || st.Failures != tt.failed || st.Errors[ErrPoll] != tt.failed {
				t.Errorf("poll step: %d requests, %d failures, errors %v", st.Requests, st.Failures, st.Errors)
			}
			w := snap.Workflows["main"]
			if w.Completed != 2-tt.failed || w.Failed != tt.failed {
				t.Errorf("workflow %+v", w)
			}
			if min := w.Time.Quantile(0); min < tt.minTime {
				t.Errorf("shortest workflow %v; want >= %v", min, tt.minTime)
			}
		})
	}
}

func TestRunExpectations(t *testing.T) {
	t.Run("body", func(t *testing.T) {
		srv := newEchoServer(t, echoKnobs{})
		cfg := runConfig(srv, 20, 500*time.Millisecond,
			Step{Name: "e", URL: "/e", Expect: &Expect{BodyContains: "nope"}})
		st := stepStats(t, mustRun(t, context.Background(), cfg), "e")
		if st.Requests != 10 || st.Failures != 10 || st.Errors[ErrExpect] != 10 {
			t.Errorf("%d requests, %d failures, errors %v; want 10 expect_failed", st.Requests, st.Failures, st.Errors)
		}
	})
	t.Run("status mix", func(t *testing.T) {
		srv := newEchoServer(t, echoKnobs{Statuses: []int{200, 503}})
		cfg := runConfig(srv, 20, 500*time.Millisecond, Step{Name: "e", URL: "/e"})
		st := stepStats(t, mustRun(t, context.Background(), cfg), "e")
		if st.Requests != 10 || st.Failures != 5 || st.Status[503] != 5 || st.Status[200] != 5 || len(st.Errors) != 0 {
			t.Errorf("%d requests, %d failures, status %v, errors %v", st.Requests, st.Failures, st.Status, st.Errors)
		}
	})
}

func TestRunDrops(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{Delay: 200 * time.Millisecond})
	cfg := runConfig(srv, 50, time.Second, Step{Name: "slow", URL: "/slow"})
	cfg.MaxInflight = 2
	cfg.Load.DropAfter = 100 * time.Millisecond
	snap := mustRun(t, context.Background(), cfg)
	it := snap.Iterations
	// 2 users × 5 iterations/s; every arrival is either run or dropped.
	if it.Started+it.Dropped != 50 || it.Started < 4 || it.Started > 16 || it.Late < it.Started/2 {
		t.Errorf("iterations %+v; want about 12 run and 38 dropped of 50", it)
	}
	if got := stepStats(t, snap, "slow").Requests; got != it.Completed {
		t.Errorf("%d requests for %d completed iterations", got, it.Completed)
	}
}

// TestRunReleaseTick: a plan's release grid holds arrivals to its points.
// At 100/s, arrivals are 10ms apart and the grid is every 20ms, so every
// other arrival waits 10ms for its grid point (never less), whatever the
// WithReleaseTick option says.
func TestRunReleaseTick(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 100, time.Second, Step{Name: "echo", URL: "/echo"})
	cfg.Load.ReleaseTick = 20 * time.Millisecond
	snap := mustRun(t, context.Background(), cfg, WithReleaseTick(0))
	it := snap.Iterations
	if it.Started != 100 || it.Dropped != 0 {
		t.Fatalf("iterations %+v; want 100 started", it)
	}
	if it.Late < 50 {
		t.Errorf("%d of 100 arrivals started more than 1ms late; want at least the 50 between grid points", it.Late)
	}
	// HDR precision: 10ms reads back within 0.1%.
	if p := it.Lateness.Quantile(55); p < 9990*time.Microsecond {
		t.Errorf("lateness p55 %v; want at least 10ms (half the arrivals wait for the next grid point)", p)
	}
}

func TestRunCancel(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 50, time.Minute, Step{Name: "c", URL: "/c"})
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	cancelled := make(chan time.Duration, 1)
	time.AfterFunc(300*time.Millisecond, func() {
		cancelled <- time.Since(start)
		cancel()
	})
	snap := mustRun(t, ctx, cfg)
	took, at := time.Since(start), <-cancelled
	if took-at > time.Second {
		t.Errorf("Run returned %v after the cancel", took-at)
	}
	// Arrivals every 20ms from 0 until the cancel, none after it.
	st := stepStats(t, snap, "c")
	if most := int64(at/(20*time.Millisecond)) + 2; st.Requests < 5 || st.Requests > most || st.Failures != 0 {
		t.Errorf("partial result: %d requests (%d failed) for a cancel at %v; want 5..%d", st.Requests, st.Failures, at, most)
	}
	if snap.Iterations.Completed != st.Requests {
		t.Errorf("iterations %+v", snap.Iterations)
	}
}

// TestRunGraceCancels: a request still in flight when the grace ends is
// cancelled and not counted against the target.
func TestRunGraceCancels(t *testing.T) {
	srv := newEchoServer(t, echoKnobs{})
	cfg := runConfig(srv, 2, time.Second, Step{Name: "hang", URL: "/h?delay=10s"})
	cfg.Grace = 200 * time.Millisecond
	start := time.Now()
	snap := mustRun(t, context.Background(), cfg)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v; want about 1.2s", d)
	}
	if st := snap.Steps["hang"]; st != nil && st.Requests != 0 {
		t.Errorf("cancelled requests recorded: %+v", st)
	}
	if it := snap.Iterations; it.Started != 2 || it.Completed != 0 || it.Failed != 0 {
		t.Errorf("iterations %+v; want 2 started and cut off", it)
	}
}

func TestRunInvalidConfig(t *testing.T) {
	good := Config{
		Target:    "http://127.0.0.1:1",
		Scenarios: []Scenario{{Name: "s", Steps: []Step{{Name: "a", URL: "/"}}}},
		Load:      Load{Rate: 1},
		Duration:  time.Second,
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no scenarios", func(c *Config) { c.Scenarios = nil }, "scenarios"},
		{"no steps", func(c *Config) { c.Scenarios[0].Steps = nil }, "scenarios[0] (s).steps"},
		{"bad template", func(c *Config) { c.Scenarios[0].Steps[0].URL = "/{{ nosuch 1 2" }, "scenarios[0].steps[0] (a): url"},
		{"bad header", func(c *Config) { c.Scenarios[0].Steps[0].Headers = []KV{{"Bad Name", "x"}} }, "headers[0]"},
		{"bad body", func(c *Config) { c.Scenarios[0].Steps[0].Body = &Body{Kind: "xml"} }, "body"},
		{"bad model", func(c *Config) { c.Load.Model = "bursty" }, "load.model"},
		{"bad target", func(c *Config) { c.Target = "ftp://x" }, "target"},
		{"bad shard", func(c *Config) { c.Shard = Shard{Index: 3, Count: 2} }, "shard"},
		{"no duration", func(c *Config) { c.Duration = 0 }, "duration"},
		{"bad poll", func(c *Config) { c.Scenarios[0].Steps[0].Poll = &Poll{Until: Cond{Path: "$.a"}} }, "poll: until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			c.Scenarios = []Scenario{{Name: "s", Steps: []Step{{Name: "a", URL: "/"}}}}
			tt.change(&c)
			_, err := Run(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v; want an error about %s", err, tt.want)
			}
		})
	}
}

func TestInterval(t *testing.T) {
	tests := []struct{ set, d, want time.Duration }{
		{0, time.Minute, time.Second},
		{0, 120 * time.Second, time.Second},
		{0, 121 * time.Second, 2 * time.Second},
		{0, 10 * time.Minute, 5 * time.Second},
		{0, time.Hour, 30 * time.Second},
		{0, 1000 * time.Second, 9 * time.Second},
		{500 * time.Millisecond, time.Hour, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := interval(tt.set, tt.d); got != tt.want {
			t.Errorf("interval(%v, %v) = %v; want %v", tt.set, tt.d, got, tt.want)
		}
	}
}

func ExampleRun() {
	cfg := Config{
		Target:    "http://127.0.0.1:8080",
		Scenarios: []Scenario{{Name: "browse", Weight: 1, Steps: []Step{{Name: "GET /", Method: "GET", URL: "/"}}}},
		Load:      Load{Model: ModelOpen, Rate: 100},
		Duration:  10 * time.Second,
	}
	_ = cfg // Run(ctx, cfg) returns the run's *Snapshot
	fmt.Println(cfg.Load.Rate)
	// Output: 100
}
