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

// runDispatcher runs a dispatcher over load inside the current bubble; stop
// closes at stopAt when it is positive.
func runDispatcher(t *testing.T, load Load, dur time.Duration, maxVUs int, busy, stopAt time.Duration) (*fakeRun, *fakeCounter, *Schedule) {
	t.Helper()
	s, err := NewSchedule(load, dur)
	if err != nil {
		t.Fatal(err)
	}
	clock := newRunClock(time.Now())
	f := &fakeRun{busy: busy, clock: clock}
	c := &fakeCounter{}
	d := &dispatcher{
		clock:     clock,
		seq:       newArrivalSeq(s, Shard{Count: 1}, Window{}),
		maxVUs:    maxVUs,
		lanes:     4,
		dropAfter: load.DropAfter,
		counter:   c,
		newVU:     f.newVU,
	}
	stop := make(chan struct{})
	if stopAt > 0 {
		time.AfterFunc(stopAt, func() { close(stop) })
	}
	d.run(context.Background(), stop)
	return f, c, s
}

func TestDispatcherExactDueTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		load := Load{Rate: 20, Stages: []Stage{{time.Second, 200}, {0, 50}}, DropAfter: time.Second}
		f, c, s := runDispatcher(t, load, 2*time.Second, 8, 3*time.Millisecond, 0)
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
			// Released on time or at most releaseSlack early, never late:
			// users are free and the fake clock does not drift.
			if r.start > r.due || r.due-r.start > releaseSlack || r.lateness != 0 {
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
