package engine

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"time"
)

// Defaults applied by Run when the Config leaves a field zero.
const (
	DefaultMaxInflight   = 256
	DefaultDropAfter     = time.Second
	DefaultSnapshotEvery = 5 * time.Second
	DefaultTimeout       = 30 * time.Second
)

// Option configures Run.
type Option func(*options)

type options struct {
	progress func(*Snapshot)
	client   *Client
	tick     time.Duration
}

// WithProgress has Run call fn with a cumulative snapshot every
// Config.SnapshotEvery, from Run's own goroutine; fn must not block long.
func WithProgress(fn func(*Snapshot)) Option { return func(o *options) { o.progress = fn } }

// WithClient has Run send through c instead of a Client of its own (for
// example to keep connections open from one time slice to the next). c's
// options must allow the plan's hosts; Run does not close it.
func WithClient(c *Client) Option { return func(o *options) { o.client = c } }

// DefaultReleaseTick is the open model's release grid unless
// WithReleaseTick says otherwise.
const DefaultReleaseTick = 500 * time.Microsecond

// WithReleaseTick sets the open model's release grid: offsets from the
// epoch that are multiples of tick. An arrival starts at the first grid
// point at or after its due time, never before it, so arrivals less than
// tick apart share one wake-up of the process; each wake-up of an idle
// process costs tens of microseconds of CPU, often more than the request
// itself. The delay (under tick) is the arrival's scheduling lateness and
// is part of its response times (measured from the due time). A larger
// tick costs less CPU at low rates and adds up to tick to every response
// time: at 1,000 req/s, where arrivals 1ms apart share no wake-up at the
// default tick, 8-10% of a core with it against about 3% with 5ms
// (docs/benchmarks.md). Zero or less releases each arrival at its own due
// time. The default is DefaultReleaseTick; a Config's Load.ReleaseTick
// overrides this option.
func WithReleaseTick(tick time.Duration) Option { return func(o *options) { o.tick = max(tick, 0) } }

// runner is one Run's shared, read-only state.
type runner struct {
	plan   *runPlan
	sched  *Schedule
	picker scenarioPicker
	client *Client
	rec    *Recorder
	clock  runClock

	seed                 uint64
	shard                Shard
	start, end           time.Duration // the window, clamped to the test
	lanes                int
	maxVUs               int
	dropAfter            time.Duration
	baseScheme, baseHost string
	env                  map[string]string
	data                 map[string]DataSet
}

// Run executes cfg's share of the plan for its window and returns the
// results. It fails only when the run cannot go on (bad config); failed
// requests are results. Cancelling ctx stops the run early; what completed
// is still returned.
//
// Open model: the window's arrivals are those due in [Window.Start,
// Window.End); each starts at its due time or, with a release grid
// (WithReleaseTick), at the grid point after it, never before. One that
// finds no free virtual user waits, and is dropped (and counted) once it
// has waited Load.DropAfter. A scenario's Think is
// not used (arrivals pace the iterations); step Think is. Closed model:
// users of this shard loop until the window's end; MaxInflight does not
// apply.
//
// At the window's end no new closed-model iteration starts, and the
// open-model arrivals are all released (those due before the end may still
// start late). When ctx is cancelled no new iteration of either model
// starts and arrivals waiting for a user are dropped. Iterations in flight
// then get Config.Grace to finish and are cancelled; requests cut off that
// way are not recorded, and their iterations count as started but neither
// completed nor failed. Arrivals still waiting when the grace ends are
// dropped.
func Run(ctx context.Context, cfg Config, opts ...Option) (*Snapshot, error) {
	o := options{tick: DefaultReleaseTick}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Load.ReleaseTick > 0 {
		o.tick = cfg.Load.ReleaseTick
	}
	r, err := newRunner(&cfg)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if r.client = o.client; r.client == nil {
		if r.client, err = NewClient(clientOptions(&cfg)); err != nil {
			return nil, fmt.Errorf("engine: client: %w", err)
		}
		defer r.client.Close()
	}
	epoch := cfg.Epoch
	if epoch.IsZero() {
		epoch = time.Now()
	}
	r.rec = NewRecorder(r.plan.stepNames, r.plan.workflows, epoch, interval(cfg.Interval, cfg.Duration), r.lanes)
	r.clock = newRunClock(epoch)

	// Wait for the window to open.
	first := r.clock.now()
	if wait := r.start - first; wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return r.snapshot(r.clock.wall(first)), nil
		}
	}
	startWall := time.Now()
	return r.drive(ctx, &cfg, &o, startWall), nil
}

// drive runs the model until it finishes, stopping it at the window's end or
// when ctx is done, and returns the final snapshot.
func (r *runner) drive(ctx context.Context, cfg *Config, o *options, startWall time.Time) *Snapshot {
	stop := make(chan struct{})
	iterCtx, cancelIter := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelIter()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cfg.Load.Model == ModelClosed {
			r.runClosed(iterCtx, stop)
			return
		}
		d := &dispatcher{
			clock:     r.clock,
			seq:       newArrivalSeq(r.sched, r.shard, Window{Start: r.start, End: r.end}),
			maxVUs:    r.maxVUs,
			lanes:     r.lanes,
			dropAfter: r.dropAfter,
			tick:      o.tick,
			counter:   r.rec,
			newVU: func(id int) arrivalRunner {
				// Plan-wide user numbers: shard k's users are k, k+N, k+2N...
				return r.newVU(id*max(r.shard.Count, 1)+r.shard.Index, id%r.lanes)
			},
		}
		d.run(iterCtx, stop)
	}()

	every := cfg.SnapshotEvery
	if every <= 0 {
		every = DefaultSnapshotEvery
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	end := time.NewTimer(r.end - r.clock.now())
	defer end.Stop()
	endC, ctxDone := end.C, ctx.Done()
	closed := cfg.Load.Model == ModelClosed
	var grace <-chan time.Time
	stopped := false
	stopNow := func() {
		if !stopped {
			stopped = true
			close(stop)
		}
	}
	for {
		select {
		case <-done:
			return r.snapshot(startWall)
		case <-ticker.C:
			if o.progress != nil {
				o.progress(r.snapshot(startWall))
			}
		case <-endC:
			// Closed users stop now. Open-model arrivals due before the end
			// belong to this window: late ones may still start (within
			// DropAfter) until the grace ends.
			endC = nil
			if closed {
				stopNow()
			}
			grace = time.After(graceOf(cfg))
		case <-ctxDone:
			endC, ctxDone = nil, nil
			stopNow()
			if grace == nil {
				grace = time.After(graceOf(cfg))
			}
		case <-grace:
			grace = nil
			stopNow()
			cancelIter()
		}
	}
}

// snapshot is the recorder's snapshot with the span it covers.
func (r *runner) snapshot(start time.Time) *Snapshot {
	s := r.rec.Snapshot()
	s.Start, s.End = start, time.Now()
	return s
}

// newRunner validates and compiles cfg and applies the defaults.
func newRunner(cfg *Config) (*runner, error) {
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("duration: %v is not positive", cfg.Duration)
	}
	sh := cfg.Shard
	if sh.Count < 0 || sh.Index < 0 || (sh.Count > 0 && sh.Index >= sh.Count) || (sh.Count == 0 && sh.Index != 0) {
		return nil, fmt.Errorf("shard: index %d of %d", sh.Index, sh.Count)
	}
	base, err := url.Parse(cfg.Target)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("target: %q is not an http(s) URL", cfg.Target)
	}
	sched, err := NewSchedule(cfg.Load, cfg.Duration)
	if err != nil {
		return nil, err
	}
	plan, err := compilePlan(cfg, base)
	if err != nil {
		return nil, err
	}
	picker, err := newScenarioPicker(cfg.Scenarios)
	if err != nil {
		return nil, err
	}
	if cfg.Window.Start < 0 || cfg.Window.End < 0 {
		return nil, fmt.Errorf("window: %v to %v", cfg.Window.Start, cfg.Window.End)
	}
	start, end := sched.clamp(cfg.Window)
	r := &runner{
		plan: plan, sched: sched, picker: picker,
		seed: cfg.Shard.Seed, shard: sh, start: start, end: max(end, start),
		lanes:      2 * runtime.GOMAXPROCS(0),
		maxVUs:     cfg.MaxInflight,
		dropAfter:  cfg.Load.DropAfter,
		baseScheme: base.Scheme, baseHost: base.Host,
		env: cfg.Env, data: cfg.Data,
	}
	if r.maxVUs <= 0 {
		r.maxVUs = DefaultMaxInflight
	}
	if r.dropAfter <= 0 {
		r.dropAfter = DefaultDropAfter
	}
	return r, nil
}

// clientOptions are the Client's options for cfg: the target's host and the
// plan's allowed hosts, and the defaults.
func clientOptions(cfg *Config) ClientOptions {
	base, _ := url.Parse(cfg.Target)
	o := ClientOptions{
		MaxConns:     cfg.MaxConns,
		Insecure:     cfg.Defaults.Insecure,
		HTTP2:        cfg.Defaults.HTTP2,
		MaxRedirects: cfg.Defaults.MaxRedirects,
		MaxBodyBytes: cfg.Defaults.MaxBodyBytes,
		AllowedHosts: append([]string{base.Host}, cfg.AllowedHosts...),
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return o
}

// interval is the timeline resolution: iv if set, else the smallest whole
// number of seconds (at least 1) giving at most MaxIntervals intervals.
func interval(iv, d time.Duration) time.Duration {
	if iv > 0 {
		return iv
	}
	iv = max(time.Second, (d+MaxIntervals-1)/MaxIntervals)
	return (iv + time.Second - 1) / time.Second * time.Second
}

// graceOf is how long in-flight iterations may run after the stop.
func graceOf(cfg *Config) time.Duration {
	switch {
	case cfg.Grace > 0:
		return cfg.Grace
	case cfg.Defaults.Timeout > 0:
		return cfg.Defaults.Timeout
	}
	return DefaultTimeout
}
