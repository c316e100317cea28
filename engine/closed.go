package engine

import (
	"context"
	"sync"
	"time"
)

// runClosed runs the closed model for this shard: user u of the plan belongs
// to shard u mod Count; each starts when the schedule's user count first
// exceeds u and loops (scenario, steps, think) until the run stops or the
// count falls to u or below, then stops after its current iteration (and
// resumes if the count rises again). Iterations run with ctx; no iteration
// starts after stop is closed. It returns when every user has finished.
func (r *runner) runClosed(ctx context.Context, stop <-chan struct{}) {
	var wg sync.WaitGroup
	n := max(r.shard.Count, 1)
	local := 0
	for u := r.shard.Index; u < r.sched.MaxUsers(); u += n {
		start, ok := r.sched.UserStart(u, r.start)
		if !ok || start >= r.end {
			continue
		}
		wg.Add(1)
		go func(u, lane int) {
			defer wg.Done()
			r.closedUser(ctx, stop, u, lane, start)
		}(u, local%r.lanes)
		local++
	}
	wg.Wait()
}

// closedUser is user u's loop; it first becomes active at start.
func (r *runner) closedUser(ctx context.Context, stop <-chan struct{}, u, lane int, start time.Duration) {
	v := r.newVU(u, lane)
	if !v.sleep(stop, start-r.clock.now()) {
		return
	}
	// intended is when the next iteration should start: the pacing
	// schedule's slot with pacing, otherwise whenever the last one ended.
	intended := start
	for j := uint64(0); ; j++ {
		select {
		case <-stop:
			return
		default:
		}
		now := r.clock.now()
		if !r.sched.Active(u, now) {
			next, ok := r.sched.UserStart(u, now)
			if !ok || next >= r.end {
				return
			}
			if !v.sleep(stop, next-now) {
				return
			}
			intended, now = next, r.clock.now()
		}
		// The iteration number is taken within the slice: plan-wide
		// numbering of a closed user's iterations is not knowable.
		s := r.picker.pick(seedHash(r.seed^uint64(r.start), hashIter, uint64(u), j))
		think := r.plan.scenarios[s].think
		pacing := think.Kind == ThinkPacing && think.Min > 0
		var lateness time.Duration
		if pacing {
			lateness = max(now-intended, 0)
		} else {
			intended = now
		}
		r.rec.IterationStarted(lane, lateness)
		v.iterate(ctx, s, intended, lateness)
		var wait time.Duration
		if pacing {
			intended += think.Min
			wait = intended - r.clock.now()
		} else {
			wait = v.thinkTime(think)
		}
		if !v.sleep(stop, wait) {
			return
		}
	}
}
