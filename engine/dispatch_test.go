package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeCounter counts what the dispatcher reports.
type fakeCounter struct {
	mu       sync.Mutex
	started  int
	late     int
	dropped  int
	lateness []time.Duration
	dropLate []time.Duration // each drop's wait
	dropAt   []time.Duration // when each drop was counted, on clock
	clock    runClock
}

func (c *fakeCounter) IterationStarted(lane int, lateness time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started++
	if lateness > LateThreshold {
		c.late++
	}
	c.lateness = append(c.lateness, lateness)
}

func (c *fakeCounter) Dropped(lane int, lateness time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped++
	c.dropLate = append(c.dropLate, lateness)
	c.dropAt = append(c.dropAt, c.clock.now())
}

// fakeRun records the arrivals it ran; each takes busy (fake) time.
type fakeRun struct {
	busy  time.Duration
	clock runClock
	mu    sync.Mutex
	ran   []ranArrival
	users map[int]bool
}

type ranArrival struct {
	arrival
	start, lateness time.Duration
}

type fakeVU struct {
	f *fakeRun
}

func (v fakeVU) runArrival(ctx context.Context, a arrival, lateness time.Duration) {
	v.f.mu.Lock()
	v.f.ran = append(v.f.ran, ranArrival{a, v.f.clock.now(), lateness})
	v.f.mu.Unlock()
	if v.f.busy > 0 {
		time.Sleep(v.f.busy)
	}
}

func (f *fakeRun) newVU(v int) arrivalRunner {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users == nil {
		f.users = map[int]bool{}
	}
	f.users[v] = true
	return fakeVU{f}
}

// dispRun describes one dispatcher run inside the current bubble.
type dispRun struct {
	load   Load
	dur    time.Duration
	maxVUs int
	busy   time.Duration // fake time each arrival takes
	stopAt time.Duration // stop closes then, when positive
	tick   time.Duration
	shard  Shard
	window Window
	// clock: nil leaves the dispatcher's default (which must notice the
	// bubble's fake time and use a Go timer).
	clock func() releaseClock
}

// run runs r's dispatcher to its end and returns what it did.
func (r dispRun) run(t *testing.T) (*fakeRun, *fakeCounter, *Schedule) {
	t.Helper()
	s, err := NewSchedule(r.load, r.dur)
	if err != nil {
		t.Fatal(err)
	}
	if r.shard.Count == 0 {
		r.shard.Count = 1
	}
	clock := newRunClock(time.Now())
	f := &fakeRun{busy: r.busy, clock: clock}
	c := &fakeCounter{clock: clock}
	d := &dispatcher{
		clock:           clock,
		seq:             newArrivalSeq(s, r.shard, r.window),
		maxVUs:          r.maxVUs,
		lanes:           4,
		dropAfter:       r.load.DropAfter,
		tick:            r.tick,
		counter:         c,
		newVU:           f.newVU,
		newReleaseClock: r.clock,
	}
	stop := make(chan struct{})
	if r.stopAt > 0 {
		time.AfterFunc(r.stopAt, func() { close(stop) })
	}
	d.run(context.Background(), stop)
	return f, c, s
}

// runDispatcher runs a dispatcher over load inside the current bubble; stop
// closes at stopAt when it is positive.
func runDispatcher(t *testing.T, load Load, dur time.Duration, maxVUs int, busy, stopAt time.Duration) (*fakeRun, *fakeCounter, *Schedule) {
	t.Helper()
	return dispRun{load: load, dur: dur, maxVUs: maxVUs, busy: busy, stopAt: stopAt, clock: newTimerClock}.run(t)
}

func TestDispatcherExactDueTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		load := Load{Rate: 20, Stages: []Stage{{time.Second, 200}, {0, 50}}, DropAfter: time.Second}
		// The default release clock: it must notice the bubble's fake time.
		f, c, s := dispRun{load: load, dur: 2 * time.Second, maxVUs: 8, busy: 3 * time.Millisecond}.run(t)
		want := s.Count(Window{})
		if int64(len(f.ran)) != want || int64(c.started) != want {
			t.Fatalf("ran %d, started %d; want %d", len(f.ran), c.started, want)
		}
		slices.SortFunc(f.ran, func(a, b ranArrival) int { return int(a.index - b.index) })
		for k, r := range f.ran {
			at, _ := s.At(int64(k))
			if r.index != int64(k) || r.due != at {
				t.Fatalf("arrival %d: index %d due %v; want due %v", k, r.index, r.due, at)
			}
			// Started exactly on time, never early: users are free and the
			// fake clock does not drift.
			if r.start != r.due || r.lateness != 0 {
				t.Fatalf("arrival %d due %v started %v (lateness %v)", k, r.due, r.start, r.lateness)
			}
		}
		if c.late != 0 || c.dropped != 0 {
			t.Errorf("late %d, dropped %d; want none", c.late, c.dropped)
		}
		if len(f.users) > 8 {
			t.Errorf("%d users; want at most 8", len(f.users))
		}
	})
}

// TestDispatcherBusyUsers: one user busy 230ms per arrival, arrivals every
// 100ms, drop after 300ms of waiting. Worked by hand:
//
//	a0 starts 0 · a1 at 230 (late 130) · a2 at 460 (late 260) ·
//	a3 dropped (waited 390 at 690), a4 at 690 (late 290) ·
//	a5, a6 dropped at 920, a7 at 920 (late 220) · then a8, a9:
//	stopped at 1s → both dropped; not stopped → a8 dropped at 1150,
//	a9 at 1150 (late 250).
func TestDispatcherBusyUsers(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name     string
		stopAt   time.Duration
		lateness []time.Duration
		ran      []int64
		dropped  int
	}{
		{"stopped at end", time.Second,
			[]time.Duration{0, ms(130), ms(260), ms(290), ms(220)}, []int64{0, 1, 2, 4, 7}, 5},
		{"drained", 0,
			[]time.Duration{0, ms(130), ms(260), ms(290), ms(220), ms(250)}, []int64{0, 1, 2, 4, 7, 9}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				load := Load{Rate: 10, DropAfter: ms(300)}
				f, c, _ := runDispatcher(t, load, time.Second, 1, ms(230), tt.stopAt)
				if !slices.Equal(c.lateness, tt.lateness) {
					t.Errorf("lateness %v; want %v", c.lateness, tt.lateness)
				}
				var ran []int64
				for _, r := range f.ran {
					ran = append(ran, r.index)
				}
				if !slices.Equal(ran, tt.ran) {
					t.Errorf("ran %v; want %v", ran, tt.ran)
				}
				if c.dropped != tt.dropped || c.started+c.dropped != 10 {
					t.Errorf("dropped %d, started %d; want %d dropped of 10", c.dropped, c.started, tt.dropped)
				}
				if want := len(tt.lateness) - 1; c.late != want {
					t.Errorf("late %d; want %d", c.late, want)
				}
			})
		})
	}
}

// TestDispatcherPoolBound: arrivals pile up on a pool of 3 slow users; no
// more than 3 users are created and every arrival is run or dropped.
func TestDispatcherPoolBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		load := Load{Rate: 1000, DropAfter: 50 * time.Millisecond}
		f, c, _ := runDispatcher(t, load, time.Second, 3, 10*time.Millisecond, 0)
		if len(f.users) != 3 {
			t.Errorf("%d users; want 3", len(f.users))
		}
		if c.started+c.dropped != 1000 {
			t.Errorf("started %d + dropped %d; want 1000", c.started, c.dropped)
		}
		// 3 users × 100 iterations/s each serve about 300 in the second,
		// plus about 15 from the last 50ms of the queue after it.
		if c.started < 305 || c.started > 320 {
			t.Errorf("started %d; want about 315", c.started)
		}
		if c.late < c.started-10 {
			t.Errorf("late %d of %d started; nearly all should be late", c.late, c.started)
		}
	})
}

// TestDispatcherTickGrid: with a 10ms release grid, arrivals every 4ms start
// exactly at the first grid point at or after their due time, with that
// lateness (never early), and count late beyond LateThreshold.
func TestDispatcherTickGrid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tick := 10 * time.Millisecond
		f, c, s := dispRun{load: Load{Rate: 250, DropAfter: time.Second}, dur: 200 * time.Millisecond,
			maxVUs: 8, busy: time.Millisecond, tick: tick}.run(t)
		if len(f.ran) != 50 || c.started != 50 || c.dropped != 0 {
			t.Fatalf("ran %d, started %d, dropped %d; want 50, 50, 0", len(f.ran), c.started, c.dropped)
		}
		late := 0
		for _, r := range f.ran {
			at, _ := s.At(r.index)
			release := (at + tick - 1) / tick * tick
			if r.due != at || r.start != release || r.lateness != release-at {
				t.Fatalf("arrival %d due %v (schedule %v): started %v late %v; want %v late %v",
					r.index, r.due, at, r.start, r.lateness, release, release-at)
			}
			if r.lateness > LateThreshold {
				late++
			}
		}
		if c.late != late || late != 40 { // due at 0 or 2ms past a grid point (4, 8, 12, 16 ms mod 20) are not late
			t.Errorf("late %d (counted %d); want 40", late, c.late)
		}
	})
}

// TestDispatcherStopDropsDue: one user stuck in its first iteration; at the
// stop every arrival due and not taken is dropped, none due later is
// counted, and nothing starts after the stop.
func TestDispatcherStopDropsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stopAt := 505 * time.Millisecond
		f, c, s := dispRun{load: Load{Rate: 100, DropAfter: 10 * time.Second}, dur: time.Second,
			maxVUs: 1, busy: time.Hour, stopAt: stopAt, clock: newTimerClock}.run(t)
		dueByStop := int(s.First(stopAt + 1)) // 0, 10ms, ..., 500ms
		if dueByStop != 51 || c.started != 1 || c.dropped != dueByStop-1 {
			t.Fatalf("started %d, dropped %d; want 1 and %d", c.started, c.dropped, dueByStop-1)
		}
		for _, r := range f.ran {
			if r.start > stopAt {
				t.Errorf("arrival %d started at %v, after the stop", r.index, r.start)
			}
		}
		for k, at := range c.dropAt {
			if at != stopAt {
				t.Fatalf("drop %d counted at %v; want at the stop", k, at)
			}
		}
	})
}

// TestDispatcherPrunesWhileSaturated: while the only user is stuck, each
// waiting arrival is dropped as soon as it has waited DropAfter, not when a
// user frees up, and its recorded wait is DropAfter (plus 1ns).
func TestDispatcherPrunesWhileSaturated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dropAfter := 300 * time.Millisecond
		_, c, s := dispRun{load: Load{Rate: 10, DropAfter: dropAfter}, dur: time.Second,
			maxVUs: 1, busy: time.Hour, clock: newTimerClock}.run(t)
		if c.started != 1 || c.dropped != 9 {
			t.Fatalf("started %d, dropped %d; want 1 and 9", c.started, c.dropped)
		}
		for k := range c.dropped {
			due, _ := s.At(int64(k + 1))
			if c.dropAt[k] != due+dropAfter+1 || c.dropLate[k] != dropAfter+1 {
				t.Errorf("drop %d (due %v): at %v after %v; want at %v after %v",
					k, due, c.dropAt[k], c.dropLate[k], due+dropAfter+1, dropAfter+1)
			}
		}
	})
}

// TestDispatcherShardsAndWindows: 3 shards × 3 windows of a ramp, run at
// once; every arrival of the plan runs exactly once, in its shard, at its
// due time.
func TestDispatcherShardsAndWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		load := Load{Rate: 50, Stages: []Stage{{time.Second, 400}, {0, 100}, {time.Second, 300}}, DropAfter: time.Second}
		dur := 2 * time.Second
		windows := []Window{{End: 700 * time.Millisecond}, {Start: 700 * time.Millisecond, End: 1300 * time.Millisecond}, {Start: 1300 * time.Millisecond}}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		var s *Schedule
		for k := range 3 {
			for _, w := range windows {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f, c, sched := dispRun{load: load, dur: dur, maxVUs: 16, busy: 2 * time.Millisecond,
						shard: Shard{Index: k, Count: 3}, window: w, clock: newTimerClock}.run(t)
					mu.Lock()
					defer mu.Unlock()
					s = sched
					if c.dropped != 0 || c.started != len(f.ran) {
						t.Errorf("shard %d window %v: started %d, ran %d, dropped %d", k, w, c.started, len(f.ran), c.dropped)
					}
					for _, r := range f.ran {
						at, _ := sched.At(r.index)
						if r.index%3 != int64(k) || r.due != at || r.start != at || r.due < w.Start || (w.End > 0 && r.due >= w.End) {
							t.Errorf("shard %d window %v ran arrival %d due %v at %v", k, w, r.index, r.due, r.start)
						}
						seen[r.index]++
					}
				}()
			}
		}
		wg.Wait()
		n := s.Count(Window{})
		if int64(len(seen)) != n {
			t.Fatalf("%d distinct arrivals ran; the plan has %d", len(seen), n)
		}
		for i := range n {
			if seen[i] != 1 {
				t.Fatalf("arrival %d ran %d times", i, seen[i])
			}
		}
	})
}

// TestDispatcherFewUsers: at a low rate with quick iterations the pool stays
// at one user in an iteration plus the leader, whatever MaxInflight allows.
func TestDispatcherFewUsers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, c, _ := dispRun{load: Load{Rate: 100, DropAfter: time.Second}, dur: time.Second,
			maxVUs: 50, busy: 2 * time.Millisecond, clock: newTimerClock}.run(t)
		if c.started != 100 || len(f.users) > 2 {
			t.Errorf("started %d with %d users; want 100 with at most 2", c.started, len(f.users))
		}
	})
}

// TestDispatcherStopBeforeWindow: stopped while the leader waits for a
// window that opens later, the run ends at the stop with nothing counted.
func TestDispatcherStopBeforeWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f, c, _ := dispRun{load: Load{Rate: 100, DropAfter: time.Second}, dur: 20 * time.Second, maxVUs: 4,
			window: Window{Start: 10 * time.Second}, stopAt: time.Second, clock: newTimerClock}.run(t)
		if took := time.Since(start); took != time.Second {
			t.Errorf("run returned after %v; want 1s", took)
		}
		if len(f.ran) != 0 || c.started != 0 || c.dropped != 0 {
			t.Errorf("ran %d, started %d, dropped %d; want none", len(f.ran), c.started, c.dropped)
		}
	})
}
