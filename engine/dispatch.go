package engine

import (
	"context"
	"sync"
	"time"
)

// releaseSlack is how close a due time must be for the dispatcher to release
// an arrival now rather than sleep on a timer: waking once per arrival costs
// more than starting an iteration up to this much early.
const releaseSlack = time.Millisecond

// arrival is one open-model arrival: its plan-wide index and when it is due
// (an offset from the epoch).
type arrival struct {
	index int64
	due   time.Duration
}

// iterationCounter receives the dispatcher's counts; *Recorder is one.
type iterationCounter interface {
	IterationStarted(lane int, lateness time.Duration)
	Dropped(lane int, lateness time.Duration)
}

var _ iterationCounter = (*Recorder)(nil)

// arrivalRunner is one virtual user's executor of open-model arrivals. It
// is used by one goroutine at a time.
type arrivalRunner interface {
	// runArrival runs a's iteration, which started lateness after a.due.
	runArrival(ctx context.Context, a arrival, lateness time.Duration)
}

// runClock reads test time: offsets from the epoch, on the monotonic clock.
type runClock struct {
	base    time.Time     // a monotonic reading
	baseOff time.Duration // base's offset from the epoch
}

func newRunClock(epoch time.Time) runClock {
	now := time.Now()
	return runClock{base: now, baseOff: now.Sub(epoch)}
}

// now is the current offset from the epoch.
func (c runClock) now() time.Duration { return c.baseOff + time.Since(c.base) }

// offset is t as an offset from the epoch (t should carry a monotonic reading).
func (c runClock) offset(t time.Time) time.Duration { return c.baseOff + t.Sub(c.base) }

// wall is the wall-clock time at offset d.
func (c runClock) wall(d time.Duration) time.Time { return c.base.Add(d - c.baseOff) }

// dispatcher releases one shard's open-model arrivals at their due times to
// a pool of at most maxVUs virtual users, created lazily. An arrival that
// finds no free user waits in a FIFO; one that waited longer than dropAfter
// is dropped and counted. The dispatcher never paces per user: a slow
// target makes arrivals late (and counted late), not fewer.
type dispatcher struct {
	clock     runClock
	seq       *arrivalSeq
	maxVUs    int
	lanes     int
	dropAfter time.Duration
	counter   iterationCounter
	newVU     func(v int) arrivalRunner // v: the pool's user number, 0-based

	mu      sync.Mutex
	queue   []arrival // FIFO of released arrivals waiting for a user, from head
	head    int
	idle    []*dispVU // users waiting for an arrival
	vus     int       // users created
	closing bool      // no more arrivals: users exit once the queue is empty
	wg      sync.WaitGroup
}

// dispVU is a pool member. next carries its next arrival; the dispatcher
// closes it to let an idle user go.
type dispVU struct {
	lane int
	next chan arrival
}

// run releases arrivals until the sequence ends or stop is closed, then
// waits for the users to finish their iterations. Iterations run with ctx,
// which the caller cancels when in-flight work must end. After stop no
// iteration starts: arrivals queued, or due but not yet released (a
// dispatcher running behind), are dropped and counted; those not yet due
// are not part of the run.
func (d *dispatcher) run(ctx context.Context, stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	i, due, ok := d.seq.Next()
	abort := func() {
		now := d.clock.now()
		d.finish(true)
		for ; ok && due <= now; i, due, ok = d.seq.Next() {
			d.counter.Dropped(0, now-due)
		}
		d.wg.Wait()
	}
	for ok {
		now := d.clock.now()
		if wait := due - now; wait > releaseSlack {
			d.prune(now)
			timer.Reset(wait)
			select {
			case <-timer.C:
				continue
			case <-stop:
				abort()
				return
			}
		}
		// Release everything due by now (plus the slack), each stamped with
		// its own due time, not the wake-up time.
		for ok && due <= now+releaseSlack {
			d.release(ctx, arrival{index: i, due: due})
			i, due, ok = d.seq.Next()
		}
		select {
		case <-stop:
			abort()
			return
		default:
		}
	}
	d.finish(false)
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-stop:
		d.finish(true)
		<-done
	}
}

// release hands a to an idle user, a new one, or the FIFO.
func (d *dispatcher) release(ctx context.Context, a arrival) {
	d.mu.Lock()
	if n := len(d.idle); n > 0 {
		v := d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		v.next <- a // buffered: never blocks
		return
	}
	if d.vus < d.maxVUs {
		id := d.vus
		d.vus++
		d.mu.Unlock()
		d.wg.Add(1)
		go d.serve(ctx, id, a)
		return
	}
	d.queue = append(d.queue, a)
	d.mu.Unlock()
}

// serve is user id's goroutine: it runs a, then takes arrivals until told
// to go.
func (d *dispatcher) serve(ctx context.Context, id int, a arrival) {
	defer d.wg.Done()
	v := &dispVU{lane: id % d.lanes, next: make(chan arrival, 1)}
	r := d.newVU(id)
	for {
		late := max(d.clock.now()-a.due, 0)
		d.counter.IterationStarted(v.lane, late)
		r.runArrival(ctx, a, late)
		var ok bool
		if a, ok = d.take(v); !ok {
			return
		}
	}
}

// take returns the oldest queued arrival that has not waited too long
// (dropping those that have), or parks v until the dispatcher hands it one.
// It reports false when v must exit.
func (d *dispatcher) take(v *dispVU) (arrival, bool) {
	now := d.clock.now()
	d.mu.Lock()
	for d.head < len(d.queue) {
		a := d.pop()
		if late := now - a.due; late > d.dropAfter {
			d.counter.Dropped(v.lane, late)
			continue
		}
		d.mu.Unlock()
		return a, true
	}
	if d.closing {
		d.mu.Unlock()
		return arrival{}, false
	}
	d.idle = append(d.idle, v)
	d.mu.Unlock()
	a, ok := <-v.next
	return a, ok
}

// pop removes the queue's head; d.mu must be held.
func (d *dispatcher) pop() arrival {
	a := d.queue[d.head]
	d.head++
	switch {
	case d.head == len(d.queue):
		d.queue, d.head = d.queue[:0], 0
	case d.head > 1024 && d.head > len(d.queue)/2:
		n := copy(d.queue, d.queue[d.head:])
		d.queue, d.head = d.queue[:n], 0
	}
	return a
}

// prune drops queued arrivals that have waited longer than dropAfter, so
// the FIFO stays bounded by rate × dropAfter even when no user frees up.
func (d *dispatcher) prune(now time.Duration) {
	d.mu.Lock()
	for d.head < len(d.queue) {
		late := now - d.queue[d.head].due
		if late <= d.dropAfter {
			break
		}
		d.pop()
		d.counter.Dropped(0, late)
	}
	d.mu.Unlock()
}

// finish marks the end of arrivals: idle users exit, and busy ones exit once
// the queue is empty. With abort, the queued arrivals are dropped (they were
// due but the run stopped before a user was free for them).
func (d *dispatcher) finish(abort bool) {
	now := d.clock.now()
	d.mu.Lock()
	d.closing = true
	if abort {
		for d.head < len(d.queue) {
			a := d.pop()
			d.counter.Dropped(0, max(now-a.due, 0))
		}
	}
	for _, v := range d.idle {
		close(v.next)
	}
	d.idle = nil
	d.mu.Unlock()
}
