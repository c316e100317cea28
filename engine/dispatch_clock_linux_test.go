package engine

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestFdClock: the timerfd clock never fires early, a re-arm replaces the
// earlier arming, and a kick ends a long wait. (Lower bounds only: how late
// a wake-up is depends on the machine.)
func TestFdClock(t *testing.T) {
	c, err := newFdClock()
	if err != nil {
		t.Fatalf("timerfd: %v", err)
	}
	defer c.close()
	for _, d := range []time.Duration{time.Nanosecond, 200 * time.Microsecond, 3 * time.Millisecond} {
		start := time.Now()
		c.arm(d)
		c.wait()
		if took := time.Since(start); took < d {
			t.Errorf("armed for %v, fired after %v", d, took)
		}
	}
	start := time.Now()
	c.arm(time.Hour)
	c.arm(2 * time.Millisecond) // replaces the hour
	c.wait()
	if took := time.Since(start); took < 2*time.Millisecond || took > 10*time.Minute {
		t.Errorf("re-armed for 2ms, fired after %v", took)
	}
	c.arm(time.Hour)
	go c.kick()
	c.wait() // returns: the test would time out otherwise
}

// TestPreciseClockChoice: outside a bubble the dispatcher's clock is the
// timerfd one; inside, where time is fake, a Go timer.
func TestPreciseClockChoice(t *testing.T) {
	c := newPreciseClock()
	defer c.close()
	if _, ok := c.(*fdClock); !ok {
		t.Errorf("real time: %T; want *fdClock", c)
	}
	synctest.Test(t, func(t *testing.T) {
		c := newPreciseClock()
		defer c.close()
		if _, ok := c.(*timerClock); !ok {
			t.Errorf("in a bubble: %T; want *timerClock", c)
		}
	})
}

// TestDispatcherRealTime runs the dispatcher on the timerfd clock in real
// time: every arrival runs once, none before its due time, none dropped.
func TestDispatcherRealTime(t *testing.T) {
	s, err := NewSchedule(Load{Rate: 1000}, 150*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	clock := newRunClock(time.Now())
	f := &fakeRun{clock: clock}
	c := &fakeCounter{clock: clock}
	d := &dispatcher{
		clock:     clock,
		seq:       newArrivalSeq(s, Shard{Count: 1}, Window{}),
		maxVUs:    8,
		lanes:     2,
		dropAfter: time.Hour,
		counter:   c,
		newVU:     f.newVU,
	}
	d.run(context.Background(), nil)
	if len(f.ran) != 150 || c.started != 150 || c.dropped != 0 {
		t.Fatalf("ran %d, started %d, dropped %d; want 150, 150, 0", len(f.ran), c.started, c.dropped)
	}
	slices.SortFunc(f.ran, func(a, b ranArrival) int { return int(a.index - b.index) })
	for k, r := range f.ran {
		if r.index != int64(k) || r.start < r.due || r.lateness < 0 || r.lateness > r.start-r.due {
			t.Fatalf("arrival %d (index %d) due %v started %v lateness %v", k, r.index, r.due, r.start, r.lateness)
		}
	}
}
