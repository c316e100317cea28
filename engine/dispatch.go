package engine

import (
	"context"
	"sync"
	"time"
)

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
// a pool of at most maxVUs virtual users, created lazily. It has no
// goroutine of its own: the users take turns at being its clock.
//
// The arrival sequence itself is the FIFO of arrivals waiting for a user:
// its head is the oldest arrival not yet taken. At most one free user, the
// leader, sleeps until the head is released (its due time, or the next
// tick of the release grid at or after it), takes it and runs it; before
// it does, it hands the lead to an idle user, or starts a new one while the
// pool has room, so that the next arrival is watched too. A user that
// finishes an iteration takes the head at once if it is due, else leads or
// waits idle. So the hand-off per arrival is one goroutine switch inside a
// running process, never a channel message per arrival from a dispatcher
// goroutine, and the only timer that wakes the process is the leader's.
//
// An arrival starts at or after its due time, never before; its lateness is
// measured from the due time to the moment a user takes it, and response
// times are measured from the due time (coordinated omission corrected).
// An arrival that waited longer than dropAfter for a free user is dropped
// and counted. When every user is busy, arrivals wait (and are counted
// late); the dispatcher never paces per user.
type dispatcher struct {
	clock     runClock
	seq       *arrivalSeq
	maxVUs    int
	lanes     int
	dropAfter time.Duration
	// tick is the release grid (offsets from the epoch that are multiples
	// of tick): an arrival is released at the first grid point at or after
	// its due time, so that arrivals close together share one wake-up.
	// Zero releases each arrival at its own due time.
	tick    time.Duration
	counter iterationCounter
	newVU   func(v int) arrivalRunner // v: the pool's user number, 0-based
	// newReleaseClock makes the leader's clock (nil: newPreciseClock).
	newReleaseClock func() releaseClock

	ctx    context.Context // the iterations' context, set by run
	wg     sync.WaitGroup
	rclock releaseClock

	mu      sync.Mutex
	head    arrival // the oldest arrival not taken, valid while more
	more    bool
	leader  bool      // a user is waiting for the head's release
	idle    []*dispVU // users waiting for work, most recent last
	vus     int       // users started
	stopped bool      // no iteration may start
	prune   *time.Timer
	pruning bool // prune is armed
}

// dispVU is a pool member; wake tells an idle user to look again.
type dispVU struct {
	lane int
	wake chan struct{} // buffered: one pending wake at most
}

// releaseClock is the leader's clock. arm and kick are called with the
// dispatcher's lock held, wait without it. A kick makes the current wait
// return at once (a later arm may cancel a kick nobody waited for: the
// leader checks for a stop before it arms).
type releaseClock interface {
	arm(d time.Duration) // fire once after d > 0, replacing any earlier arming
	wait()               // until fired or kicked
	kick()
	close()
}

// run releases arrivals until the sequence ends or stop is closed, then
// waits for the users to finish their iterations. Iterations run with ctx,
// which the caller cancels when in-flight work must end. After stop no
// iteration starts: arrivals that were due and not yet taken are dropped
// and counted; those not yet due are not part of the run.
func (d *dispatcher) run(ctx context.Context, stop <-chan struct{}) {
	d.ctx = ctx
	newReleaseClock := d.newReleaseClock
	if newReleaseClock == nil {
		newReleaseClock = newPreciseClock
	}
	d.rclock = newReleaseClock()
	defer d.rclock.close()
	d.mu.Lock()
	d.advance()
	if d.more {
		d.spawn()
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-stop:
		d.abort()
		<-done
	}
	d.mu.Lock()
	d.stopped = true // a late prune timer must count nothing now
	if d.prune != nil {
		d.prune.Stop()
	}
	d.mu.Unlock()
}

// advance moves the head to the next arrival of the sequence; d.mu held.
func (d *dispatcher) advance() {
	var i int64
	var due time.Duration
	i, due, d.more = d.seq.Next()
	d.head = arrival{index: i, due: due}
}

// releaseAt is when an arrival due at due is released: due itself, or the
// first point of the tick grid at or after it.
func (d *dispatcher) releaseAt(due time.Duration) time.Duration {
	if d.tick <= 0 {
		return due
	}
	if r := due % d.tick; r != 0 {
		return due + d.tick - r
	}
	return due
}

// spawn starts a new user; d.mu held and d.vus < d.maxVUs.
func (d *dispatcher) spawn() {
	id := d.vus
	d.vus++
	d.wg.Add(1)
	go d.serve(id)
}

// serve is user id's goroutine: it takes and runs arrivals until there are
// no more or the run stops.
func (d *dispatcher) serve(id int) {
	defer d.wg.Done()
	v := &dispVU{lane: id % d.lanes, wake: make(chan struct{}, 1)}
	r := d.newVU(id)
	for {
		a, late, ok := d.take(v)
		if !ok {
			return
		}
		d.counter.IterationStarted(v.lane, late)
		r.runArrival(d.ctx, a, late)
	}
}

// take returns the next arrival for v once it is released, with how late it
// is, leading or waiting idle meanwhile. It drops the arrivals that waited
// too long. It reports false when v must exit.
func (d *dispatcher) take(v *dispVU) (arrival, time.Duration, bool) {
	d.mu.Lock()
	for {
		if d.stopped {
			d.mu.Unlock()
			return arrival{}, 0, false
		}
		now := d.clock.now()
		d.dropStale(now, v.lane)
		if !d.more {
			d.mu.Unlock()
			return arrival{}, 0, false
		}
		at := d.releaseAt(d.head.due)
		if at <= now {
			a := d.head
			d.advance()
			d.handOn(now)
			d.mu.Unlock()
			return a, now - a.due, true
		}
		if d.leader {
			d.idle = append(d.idle, v)
			d.mu.Unlock()
			<-v.wake
			d.mu.Lock()
			continue
		}
		d.leader = true
		d.rclock.arm(at - now)
		d.mu.Unlock()
		d.rclock.wait()
		d.mu.Lock()
		d.leader = false
	}
}

// handOn sees to the new head after a user took the old one; d.mu held.
// A head that is already released goes to an idle user or a new one (each
// of which hands on in turn, so a batch of released arrivals fans out). A
// future head gets a leader: the current one re-armed, an idle user, or a
// new one. With every user busy the head waits for the first to finish,
// and a prune timer drops it if it waits too long. When the sequence has ended, idle users are told to
// exit.
func (d *dispatcher) handOn(now time.Duration) {
	if !d.more {
		d.wakeAll()
		return
	}
	at := d.releaseAt(d.head.due)
	if d.leader {
		// It takes the new head: now if released (its wake-up is due
		// too), else when re-armed for it.
		if at > now {
			d.rclock.arm(at - now)
		}
		return
	}
	switch {
	case len(d.idle) > 0:
		d.wakeOne()
	case d.vus < d.maxVUs:
		d.spawn()
	default:
		d.armPrune(now)
	}
}

// wakeOne tells the most recently idle user to look again; d.mu held.
func (d *dispatcher) wakeOne() {
	n := len(d.idle) - 1
	v := d.idle[n]
	d.idle[n] = nil
	d.idle = d.idle[:n]
	v.wake <- struct{}{}
}

// wakeAll tells every idle user to look again; d.mu held.
func (d *dispatcher) wakeAll() {
	for len(d.idle) > 0 {
		d.wakeOne()
	}
}

// dropStale drops, from the head, the arrivals that have waited longer than
// dropAfter; d.mu held.
func (d *dispatcher) dropStale(now time.Duration, lane int) {
	for d.more {
		late := now - d.head.due
		if late <= d.dropAfter {
			return
		}
		d.counter.Dropped(lane, late)
		d.advance()
	}
}

// armPrune makes sure that a head no user is free for is dropped once it
// has waited dropAfter, even if no user frees up by then; d.mu held. An
// armed timer is left alone: it fires for an older head, whose deadline is
// no later, and re-arms for the head of then.
func (d *dispatcher) armPrune(now time.Duration) {
	if d.pruning {
		return
	}
	d.pruning = true
	wait := d.head.due + d.dropAfter + 1 - now
	if d.prune == nil {
		d.prune = time.AfterFunc(wait, d.pruneNow)
		return
	}
	d.prune.Reset(wait)
}

// pruneNow is the prune timer's function.
func (d *dispatcher) pruneNow() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pruning = false
	if d.stopped {
		return
	}
	now := d.clock.now()
	d.dropStale(now, 0)
	if !d.more {
		d.wakeAll()
		return
	}
	if !d.leader && len(d.idle) == 0 {
		d.armPrune(now)
	}
}

// abort stops the run: no iteration starts from now on, and the arrivals
// due and not taken are dropped. Users in an iteration exit when it ends.
func (d *dispatcher) abort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	now := d.clock.now()
	for d.more && d.head.due <= now {
		d.counter.Dropped(0, now-d.head.due)
		d.advance()
	}
	d.wakeAll()
	d.rclock.kick()
	if d.prune != nil {
		d.prune.Stop()
	}
}

// timerClock is a releaseClock on a Go timer: exact in a testing/synctest
// bubble, but when the process is idle the runtime's network poller sleeps
// in whole milliseconds, so a wake-up is up to 1ms late.
type timerClock struct {
	t      *time.Timer
	kicked chan struct{}
}

func newTimerClock() releaseClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerClock{t: t, kicked: make(chan struct{}, 1)}
}

func (w *timerClock) arm(d time.Duration) { w.t.Reset(d) }

func (w *timerClock) wait() {
	select {
	case <-w.t.C:
	case <-w.kicked:
	}
}

func (w *timerClock) kick() {
	select {
	case w.kicked <- struct{}{}:
	default:
	}
}

func (w *timerClock) close() { w.t.Stop() }
