package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Queue carries encoded shard tasks to generators. Safe for concurrent use.
type Queue interface {
	// Send enqueues every body; it returns an error naming what was not sent.
	Send(ctx context.Context, bodies [][]byte) error
}

// Invoker starts one generator invocation asynchronously (burst
// dispatch): the call returns once the invocation is queued. Safe for
// concurrent use.
type Invoker interface {
	InvokeAsync(ctx context.Context, payload []byte) error
}

// Backend is where a run executes: a queue per region and the blob store.
type Backend struct {
	Name string // "local" or "aws"
	// Queues by region name.
	Queues map[string]Queue
	// Invokers by region name make the dispatch a burst (see burst.go):
	// once a region's tasks are in its queue — a burst queue that no event
	// source reads — its function is invoked once per task. Nil: the
	// queues' consumers (the event source mapping, local workers) run the
	// tasks.
	Invokers map[string]Invoker
	Store    shard.Store
	// CheckpointEvery is how often each generator writes a checkpoint
	// (default SnapshotEvery). Progress is as fresh as the checkpoints: the
	// local backend, where a checkpoint costs nothing, asks for 1s.
	CheckpointEvery time.Duration
}

// Backend names.
const (
	BackendLocal = "local"
	BackendAWS   = "aws"
)

// Default lead times: how far after dispatch test time 0 lies.
const (
	DefaultLeadLocal = time.Second
	DefaultLeadAWS   = 30 * time.Second
)

// ESMRampPerMinute is how many concurrent executions an SQS event source
// mapping in standard mode adds per minute; it starts at ESMStart.
const (
	ESMRampPerMinute = 300
	ESMStart         = 5
)

// LeadAWS is the default lead for p on the aws backend: DefaultLeadAWS plus
// the time the SQS event source mapping needs to get the largest region's
// generators running (a slice's tasks are sent together), so that every
// generator is there at test time 0.
func LeadAWS(p *plan.Plan) time.Duration {
	most := 0
	for _, r := range p.Regions {
		most = max(most, r.Generators)
	}
	ramp := time.Duration(max(0, most-ESMStart)) * time.Minute / ESMRampPerMinute
	return DefaultLeadAWS + ramp.Round(time.Second)
}

// Options tune a run.
type Options struct {
	// RunID names the run (generated when empty).
	RunID string
	// Lead is how long after dispatch the shared start time lies (default 1s
	// locally), so that every generator is ready at test time 0.
	Lead time.Duration
	// Progress is called about every PollEvery while the run goes.
	Progress  func(Progress)
	PollEvery time.Duration
	// Abort, if set, is asked with the merged progress snapshot; a non-empty
	// reason stops the run (thresholds with abort-on-fail, the cost guard).
	Abort func(p Progress) string
	// Grace is how long after the test's end Run waits for final results
	// before it names the missing tasks (default: the engine's grace — the
	// request timeout — plus 15s).
	Grace time.Duration
}

// Progress is the run's state as the generators last reported it.
type Progress struct {
	RunID    string
	Elapsed  time.Duration
	Duration time.Duration
	Expected int // tasks
	Leased   int // tasks a generator has taken
	Finished int // tasks with final results
	// Regions break the task counts down by region, in the plan's order.
	Regions []RegionProgress
	// Snapshot merges the latest checkpoint or final result of every task.
	Snapshot *engine.Snapshot
}

// RegionProgress is one region's task counts: Expected tasks, Leased by a
// generator (running or done), Finished with final results.
type RegionProgress struct {
	Name                       string
	Expected, Leased, Finished int
}

// Stop reasons Run writes into the stop marker itself.
const (
	StopInterrupted = "interrupted"
	StopDispatch    = "dispatch failed"
)

// sendBatch is how many bodies go in one Send call (SQS's batch size);
// sendWorkers bounds the concurrent Send calls.
const (
	sendBatch   = 10
	sendWorkers = 16
)

// Run executes p on b and returns the merged result. Cancelling ctx stops
// every generator (the stop marker) and still collects what they wrote.
//
// Run writes the manifest, sends slice 0's tasks, sends every later slice's
// tasks Lead before that slice starts (see waves.go), polls the store every
// PollEvery (progress, abort, the stop marker), and ends when every task has
// a final result, StopDrain after an interrupt, the engine's grace plus
// StopDrain after an abort or a stop marker written elsewhere (`stampede
// stop`), or at epoch + Duration + Options.Grace. After a stop it claims the
// tasks no generator took (claimUnstarted); then it Collects.
func Run(ctx context.Context, p *plan.Plan, b Backend, opts Options) (*Result, error) {
	if p == nil || b.Store == nil {
		return nil, errors.New("run: a plan and a store are required")
	}
	for _, r := range p.Regions {
		if b.Queues[r.Name] == nil {
			return nil, fmt.Errorf("run: no queue for region %q on backend %q", r.Name, b.Name)
		}
		if b.Invokers != nil && b.Invokers[r.Name] == nil {
			return nil, fmt.Errorf("run: burst dispatch but no invoker for region %q", r.Name)
		}
	}
	runID := opts.RunID
	if runID == "" {
		runID = NewRunID(time.Now())
	}
	seed := p.Seed
	for seed == 0 {
		seed = mrand.Uint64()
	}
	lead := opts.Lead
	if lead <= 0 {
		lead = DefaultLeadLocal
		if b.Name != BackendLocal && b.Name != "" {
			lead = DefaultLeadAWS
		}
	}
	epoch := time.Now().Add(lead).UTC().Truncate(time.Millisecond)
	tasks, err := Split(p, runID, epoch, seed)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if b.CheckpointEvery > 0 {
		for i := range tasks {
			tasks[i].Config.SnapshotEvery = b.CheckpointEvery
		}
	}
	store := context.WithoutCancel(ctx) // store calls outlive an interrupt
	how := shard.Manifest{Backend: b.Name, Dispatch: DispatchOf(b), Lead: lead}
	if err := writeManifest(store, b.Store, p, runID, epoch, seed, tasks, how); err != nil {
		return nil, fmt.Errorf("run %s: %w", runID, err)
	}
	ws := waves(tasks, epoch, lead)
	if err := dispatch(ctx, b, ws[0].tasks); err != nil {
		stopErr := b.Store.Put(store, shard.StopKey(runID), []byte(StopDispatch))
		return nil, fmt.Errorf("run %s: %w", runID, errors.Join(err, stopErr))
	}
	w := newWatcher(b.Store, p, runID, epoch, tasks, opts)
	w.dispatchFailed = make(chan error, 1)
	w.redispatch = newRedispatch(b, tasks, epoch)
	var wg sync.WaitGroup
	wg.Go(func() { sendLater(store, b, ws[1:], w.stopped, w.dispatchFailed) })
	stopped := w.watch(ctx)
	w.stop() // the waves not sent yet never will be
	wg.Wait()
	if stopped != "" {
		// A claim that fails leaves its task missing in the report: named,
		// not lost.
		_ = claimUnstarted(store, b.Store, runID, tasks)
	}
	res, err := Collect(store, b.Store, runID)
	if err != nil {
		return nil, err
	}
	if stopped != "" {
		res.Stopped = stopped // else the stop marker's reason, if any
	}
	return res, nil
}

// StopExternal is the reason Stop writes when none is given.
const StopExternal = "stopped by stampede stop"

// Stop stops a run from anywhere that reaches its store: it writes the stop
// marker, which every generator polls (about every second) and the run's
// report shows as the reason it stopped. The run must exist.
func Stop(ctx context.Context, store shard.Store, runID, reason string) error {
	if _, err := store.Get(ctx, shard.ManifestKey(runID)); err != nil {
		return fmt.Errorf("stop run %s: no manifest: %w", runID, err)
	}
	if reason == "" {
		reason = StopExternal
	}
	if err := store.Put(ctx, shard.StopKey(runID), []byte(reason)); err != nil {
		return fmt.Errorf("stop run %s: %w", runID, err)
	}
	return nil
}

// NewRunID returns a run id that sorts by time: "20261125T175155Z-3fa9c1".
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// writeManifest creates the run's manifest (a run id is used once), with
// how's Backend, Dispatch and Lead. The plan is stored with the engine's
// Env values removed.
func writeManifest(ctx context.Context, store shard.Store, p *plan.Plan, runID string, epoch time.Time, seed uint64, tasks []shard.Task, how shard.Manifest) error {
	clean := *p
	clean.Engine.Env = nil
	clean.Seed = seed
	clean.Source = nil // stored once, in Manifest.Source
	planJSON, err := json.Marshal(&clean)
	if err != nil {
		return fmt.Errorf("manifest: encode plan: %w", err)
	}
	m := shard.Manifest{
		RunID: runID, Source: p.Source, Plan: planJSON, Epoch: epoch, Seed: seed,
		Duration: p.Engine.Duration, Interval: Interval(p.Engine),
		Backend: how.Backend, Dispatch: how.Dispatch, Lead: how.Lead,
	}
	for _, r := range p.Regions {
		m.Regions = append(m.Regions, shard.ManifestRegion{Name: r.Name, Generators: r.Generators})
	}
	m.Tasks = make([]shard.TaskRef, len(tasks))
	for i := range tasks {
		m.Tasks[i] = tasks[i].Ref()
	}
	data, err := json.Marshal(&m)
	if err != nil {
		return fmt.Errorf("manifest: encode: %w", err)
	}
	if err := store.Create(ctx, shard.ManifestKey(runID), data); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// dispatch encodes the tasks and sends them to their regions' queues in
// batches, sendWorkers at a time; on a burst backend it then invokes each
// region's function once per task sent there (invokeAll).
func dispatch(ctx context.Context, b Backend, tasks []shard.Task) error {
	byRegion := map[string][][]byte{}
	var order []string
	for i := range tasks {
		body, err := shard.EncodeTask(&tasks[i])
		if err != nil {
			return fmt.Errorf("dispatch: %w", err)
		}
		r := tasks[i].Region
		if _, ok := byRegion[r]; !ok {
			order = append(order, r)
		}
		byRegion[r] = append(byRegion[r], body)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		failed = map[string]bool{}
		sem    = make(chan struct{}, sendWorkers)
	)
	for _, r := range order {
		bodies := byRegion[r]
		for lo := 0; lo < len(bodies); lo += sendBatch {
			batch := bodies[lo:min(lo+sendBatch, len(bodies))]
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := b.Queues[r].Send(ctx, batch); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("send %d tasks to %s: %w", len(batch), r, err))
					failed[r] = true
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if b.Invokers != nil && len(tasks) > 0 {
		var sent []string
		for _, r := range order {
			if !failed[r] { // a region whose send failed stops the run anyway
				sent = append(sent, r)
			}
		}
		if err := invokeAll(ctx, b.Invokers, tasks[0].RunID, tasks[0].Slice, sent, byRegion); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	return nil
}
