package orchestrator

import (
	"cmp"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Watch timing defaults.
const (
	DefaultPollEvery = time.Second
	// StopDrain is how long Run keeps collecting after an interrupt (ctx
	// cancelled) wrote the stop marker, for the generators to stop and
	// write their final results. After an abort Run waits longer: the
	// engine's grace (in-flight requests may finish) plus StopDrain.
	StopDrain = 5 * time.Second
	// defaultGraceExtra is added to the engine's grace for the default
	// Options.Grace.
	defaultGraceExtra = 15 * time.Second
)

// watcher follows a run's progress. It is owned by Run's goroutine.
type watcher struct {
	store    shard.Store
	runID    string
	grace    time.Duration // the engine's grace
	epoch    time.Time
	duration time.Duration
	interval time.Duration
	tasks    map[string]bool // "<region>/<task-id>"
	regions  []string        // the plan's regions, in order
	opts     Options
	deadline time.Time
	// checkpointEvery is how often the tasks write checkpoints: a
	// checkpoint fetched more recently than that is not read again.
	checkpointEvery time.Duration

	// merged is asked for when Progress or Abort is set: only then are
	// results and checkpoints read and merged.
	merged      bool
	finals      map[string]bool        // tasks whose final result is merged into finalTotal
	finalTotal  *engine.Snapshot       // every final result read so far
	checkpoints map[string]*checkpoint // latest checkpoint of each unfinished task
	// leases is the latest lease listing (nil when it failed); redispatch,
	// on a burst backend, sends unleased tasks again at their window's
	// start.
	leases     map[string]string
	redispatch *redispatch

	// stopped is closed (by stop) once the run is stopped, for sendLater;
	// dispatchFailed reports sendLater's failures.
	stopped        chan struct{}
	stopOnce       sync.Once
	dispatchFailed chan error
}

// stop closes w.stopped once.
func (w *watcher) stop() { w.stopOnce.Do(func() { close(w.stopped) }) }

type checkpoint struct {
	snap    *engine.Snapshot
	fetched time.Time
}

func newWatcher(store shard.Store, p *plan.Plan, runID string, epoch time.Time, tasks []shard.Task, opts Options) *watcher {
	if opts.PollEvery <= 0 {
		opts.PollEvery = DefaultPollEvery
	}
	if opts.Grace <= 0 {
		opts.Grace = engineGrace(p.Engine) + defaultGraceExtra
	}

	w := &watcher{
		store: store, runID: runID, epoch: epoch, opts: opts, grace: engineGrace(p.Engine),
		duration: p.Engine.Duration, interval: Interval(p.Engine), checkpointEvery: SnapshotEvery,
		tasks:       make(map[string]bool, len(tasks)),
		merged:      opts.Progress != nil || opts.Abort != nil,
		finals:      map[string]bool{},
		finalTotal:  engine.NewSnapshot(epoch, Interval(p.Engine)),
		checkpoints: map[string]*checkpoint{},
		stopped:     make(chan struct{}),
	}
	w.deadline = epoch.Add(w.duration + opts.Grace)
	for _, r := range p.Regions {
		w.regions = append(w.regions, r.Name)
	}
	for i := range tasks {
		w.tasks[taskName(tasks[i].Region, tasks[i].ID)] = true
		w.checkpointEvery = cmp.Or(tasks[i].Config.SnapshotEvery, w.checkpointEvery)
	}
	return w
}

// engineGrace is how long the engine lets iterations run past a window's
// end: Config.Grace, else the request timeout, else the 30s default.
func engineGrace(cfg engine.Config) time.Duration {
	switch {
	case cfg.Grace > 0:
		return cfg.Grace
	case cfg.Defaults.Timeout > 0:
		return cfg.Defaults.Timeout
	}
	return 30 * time.Second
}

// watch polls until every task has a final result, the deadline passes, or
// StopDrain after a stop. It returns why the run was stopped ("" if it
// was not). Cancelling ctx writes the stop marker (StopInterrupted).
func (w *watcher) watch(ctx context.Context) (stopped string) {
	store := context.WithoutCancel(ctx)
	tick := time.NewTicker(w.opts.PollEvery)
	defer tick.Stop()
	done := ctx.Done()
	deadline := w.deadline
	// halt ends the run within drain; stop also writes the stop marker.
	halt := func(reason string, drain time.Duration) {
		w.stop()
		stopped = reason
		deadline = minTime(deadline, time.Now().Add(drain))
	}
	stop := func(reason string, drain time.Duration) {
		halt(reason, drain)
		if err := w.store.Put(store, shard.StopKey(w.runID), []byte(reason)); err != nil {
			stopped = reason + " (stop marker not written: " + err.Error() + ")"
		}
	}
	for {
		p := w.poll(store)
		if w.opts.Progress != nil {
			w.opts.Progress(p)
		}
		if stopped == "" && w.opts.Abort != nil {
			if reason := w.opts.Abort(p); reason != "" {
				stop(reason, w.grace+StopDrain)
			}
		}
		if stopped == "" {
			if reason := w.stopMarker(store); reason != "" { // stopped from elsewhere (`stampede stop`)
				halt(reason, w.grace+StopDrain)
			} else {
				w.redispatch.check(store, time.Now(), w.leases)
			}
		}
		if p.Finished == p.Expected || !time.Now().Before(deadline) {
			return stopped
		}
		select {
		case <-done:
			done = nil
			if stopped == "" {
				stop(StopInterrupted, StopDrain)
			}
		case err := <-w.dispatchFailed:
			if stopped == "" {
				stop(StopDispatch+": "+err.Error(), w.grace+StopDrain)
			}
		case <-tick.C:
		}
	}
}

// stopMarker returns the run's stop marker's reason, "" if there is none
// (or it cannot be read now: the next poll asks again).
func (w *watcher) stopMarker(ctx context.Context) string {
	body, err := w.store.Get(ctx, shard.StopKey(w.runID))
	if err != nil {
		return ""
	}
	if len(body) == 0 {
		return StopExternal
	}
	return string(body)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// poll counts leases and final results and, when a merged snapshot is
// wanted, merges every final result once (as it appears) and the latest
// checkpoint of every task still running. The cost of a poll grows with the
// running tasks, not with the finished ones. Store errors leave the
// previous state (the next poll tries again).
func (w *watcher) poll(ctx context.Context) Progress {
	p := Progress{
		RunID: w.runID, Duration: w.duration, Expected: len(w.tasks),
		Elapsed: max(time.Since(w.epoch), 0),
	}
	leases := w.list(ctx, shard.LeasesPrefix(w.runID), shard.ParseLeaseKey)
	p.Leased = len(leases)
	w.leases = leases
	results := w.list(ctx, shard.ResultsPrefix(w.runID), shard.ParseResultKey)
	p.Regions = w.byRegion(leases, results)
	p.Finished = len(results)
	if !w.merged {
		return p
	}
	var get []string
	for key, name := range results {
		if !w.finals[name] {
			get = append(get, key)
		}
	}
	w.fetch(ctx, get, results, func(name string, r *shard.Result) {
		if r.Final {
			w.finals[name] = true
			w.finalTotal.Merge(r.Snapshot)
			delete(w.checkpoints, name)
		}
	})
	now := time.Now()
	get = get[:0]
	checkpoints := w.list(ctx, shard.CheckpointsPrefix(w.runID), shard.ParseCheckpointKey)
	for key, name := range checkpoints {
		if cp := w.checkpoints[name]; !w.finals[name] && (cp == nil || now.Sub(cp.fetched) >= w.checkpointEvery) {
			get = append(get, key)
		}
	}
	w.fetch(ctx, get, checkpoints, func(name string, r *shard.Result) {
		if !r.Final && !w.finals[name] {
			w.checkpoints[name] = &checkpoint{snap: r.Snapshot, fetched: now}
		}
	})
	p.Snapshot = engine.NewSnapshot(w.epoch, w.interval)
	p.Snapshot.Merge(w.finalTotal)
	for _, cp := range w.checkpoints {
		p.Snapshot.Merge(cp.snap)
	}
	return p
}

// list returns the keys under prefix that name a task of the run, with
// that task's name.
// byRegion counts the expected, leased and finished tasks of each region
// (leases and results map keys to task names).
func (w *watcher) byRegion(leases, results map[string]string) []RegionProgress {
	out := make([]RegionProgress, len(w.regions))
	at := make(map[string]*RegionProgress, len(w.regions))
	for i, name := range w.regions {
		out[i].Name = name
		at[name] = &out[i]
	}
	region := func(task string) *RegionProgress {
		name, _, _ := strings.Cut(task, "/")
		return at[name]
	}
	for task := range w.tasks {
		if r := region(task); r != nil {
			r.Expected++
		}
	}
	for _, task := range leases {
		if r := region(task); r != nil {
			r.Leased++
		}
	}
	for _, task := range results {
		if r := region(task); r != nil {
			r.Finished++
		}
	}
	return out
}

func (w *watcher) list(ctx context.Context, prefix string, parse func(runID, key string) (string, string, bool)) map[string]string {
	keys, err := w.store.List(ctx, prefix)
	if err != nil {
		return nil
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if region, id, ok := parse(w.runID, k); ok && w.tasks[taskName(region, id)] {
			out[k] = taskName(region, id)
		}
	}
	return out
}

// fetch Gets keys and passes each result that decodes, belongs to the task
// its key names and has a snapshot to use (on the calling goroutine).
func (w *watcher) fetch(ctx context.Context, keys []string, names map[string]string, use func(name string, r *shard.Result)) {
	type got struct {
		name string
		r    *shard.Result
	}
	fetchEach(ctx, w.store, keys, func(key string, data []byte, err error) got {
		if err != nil {
			return got{}
		}
		r, err := shard.DecodeResult(data)
		if err != nil || r.RunID != w.runID || taskName(r.Region, r.TaskID) != names[key] || r.Snapshot == nil {
			return got{}
		}
		return got{names[key], r}
	}, func(g got) {
		if g.r != nil {
			use(g.name, g.r)
		}
	})
}
