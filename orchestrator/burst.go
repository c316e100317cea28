package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Dispatch modes of the aws backend.
//
// DispatchSQS sends the tasks to each region's task queue, whose SQS event
// source mapping invokes one generator per task. It is self-throttling but
// slow to scale: the mapping starts at ESMStart concurrent executions and
// adds ESMRampPerMinute a minute, so LeadAWS allows for that ramp.
//
// DispatchBurst sends the tasks to each region's burst queue (no event
// source mapping reads it) and then invokes the function directly and
// asynchronously once per task (Backend.Invokers); each invocation takes
// one task from the burst queue. Lambda scales a function by
// LambdaScalePerStep execution environments every LambdaScaleStep, so
// 1,000 generators can be running within seconds: LeadBurst.
//
// DispatchLocal is the local backend's: generator goroutines of the
// orchestrator's process take the tasks from in-process queues.
const (
	DispatchSQS   = "sqs"
	DispatchBurst = "burst"
	DispatchLocal = "local"
)

// DispatchOf names how b starts its generators: DispatchBurst when it has
// invokers, DispatchLocal on the local backend, DispatchSQS otherwise.
func DispatchOf(b Backend) string {
	switch {
	case b.Invokers != nil:
		return DispatchBurst
	case b.Name == BackendLocal || b.Name == "":
		return DispatchLocal
	}
	return DispatchSQS
}

// Lambda's documented scaling rate per function (DESIGN.md): up to 1,000
// new execution environments every 10 s.
const (
	LambdaScalePerStep = 1000
	LambdaScaleStep    = 10 * time.Second
)

// DefaultLeadBurst is the burst lead for up to LambdaScalePerStep
// generators per region: sending the tasks, issuing the invokes (about a
// second for a thousand, invokeWorkers at a time), a cold start, the
// receive and the lease, with room to spare.
const DefaultLeadBurst = 15 * time.Second

// invokeWorkers bounds the asynchronous invokes in flight.
const invokeWorkers = 64

// LeadBurst is the default lead for p with burst dispatch: DefaultLeadBurst
// plus one LambdaScaleStep for every further LambdaScalePerStep generators
// in the largest region (a slice's invokes go out together; Lambda scales
// each region's function separately). 1,000 generators: 15 s; 2,500: 35 s.
func LeadBurst(p *plan.Plan) time.Duration {
	most := 0
	for _, r := range p.Regions {
		most = max(most, r.Generators)
	}
	steps := max(0, most-1) / LambdaScalePerStep
	return DefaultLeadBurst + time.Duration(steps)*LambdaScaleStep
}

// invokeAll invokes the function of every region in regions once per task
// it was sent (len(bodies[region])), invokeWorkers at a time, with the
// burst payload of runID and slice. The invokers back off on throttling
// themselves; invokeAll reports, per region, how many invokes failed in
// the end, and the first error.
func invokeAll(ctx context.Context, invokers map[string]Invoker, runID string, slice int, regions []string, bodies map[string][][]byte) error {
	var (
		wg     sync.WaitGroup
		sem    = make(chan struct{}, invokeWorkers)
		mu     sync.Mutex
		failed = map[string]int{}
		first  error
	)
	payloads := make(map[string][]byte, len(regions))
	for _, r := range regions { // all of them before any invoke goes out
		payload, err := shard.EncodeBurst(shard.Burst{RunID: runID, Region: r, Slice: slice})
		if err != nil {
			return fmt.Errorf("invoke %s: %w", r, err)
		}
		payloads[r] = payload
	}
	for _, r := range regions {
		payload := payloads[r]
		for range len(bodies[r]) {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := invokers[r].InvokeAsync(ctx, payload); err != nil {
					mu.Lock()
					failed[r]++
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(failed) == 0 {
		return nil
	}
	var msgs []string
	for _, r := range regions {
		if k := failed[r]; k > 0 {
			msgs = append(msgs, fmt.Sprintf("%s: %d of %d invocations not accepted", r, k, len(bodies[r])))
		}
	}
	return fmt.Errorf("burst invoke: %s: %w", strings.Join(msgs, "; "), first)
}

// redispatch is the burst dispatch's second chance for a task whose
// generator did not take it: a lease the generator could not write (it
// retries, then deletes the message), an invocation Lambda lost or that
// failed before its lease. No event source would ever deliver such a task
// again. So once per slice, at its window's start (when the lead has
// given every generator time to take its task), Run sends each task of the
// slice that has no lease yet to the burst queue once more and invokes
// the function once more for it. Its generator starts late (a late joiner
// in the report) instead of never. A generator that was only slow and
// leases after all leaves the second invocation nothing to do: the lease
// is a conditional create. It is owned by the watcher.
type redispatch struct {
	b     Backend
	waves []wave // by slice; at: the window's start
	done  []bool
}

// newRedispatch returns the second chance of b's tasks (nil unless b
// dispatches in bursts).
func newRedispatch(b Backend, tasks []shard.Task, epoch time.Time) *redispatch {
	if b.Invokers == nil {
		return nil
	}
	ws := waves(tasks, epoch, 0)
	return &redispatch{b: b, waves: ws, done: make([]bool, len(ws))}
}

// check dispatches again, once per slice whose window has started and not
// ended by now, the slice's tasks whose lease key leases (the latest lease
// listing, as watcher.list returns it) does not hold. A nil leases (the
// listing failed) waits for the next poll. A task whose second dispatch
// fails stays missing, named in the report.
func (r *redispatch) check(ctx context.Context, now time.Time, leases map[string]string) {
	if r == nil || leases == nil {
		return
	}
	for i, w := range r.waves {
		if r.done[i] || len(w.tasks) == 0 || now.Before(w.at) {
			continue
		}
		r.done[i] = true
		if !now.Before(w.at.Add(w.tasks[0].Config.Window.End - w.tasks[0].Config.Window.Start)) {
			continue // over already: a generator would do nothing
		}
		var again []shard.Task
		for _, t := range w.tasks {
			if _, ok := leases[shard.LeaseKey(t.RunID, t.Region, t.ID)]; !ok {
				again = append(again, t)
			}
		}
		if len(again) == 0 {
			continue
		}
		_ = dispatch(ctx, r.b, again)
	}
}

// ClaimedReason is the Stopped reason of a task the orchestrator claimed;
// ClaimedBy the MessageID of its lease.
const (
	ClaimedReason = "claimed by the orchestrator: the run was stopped before a generator took this task"
	ClaimedBy     = "orchestrator"
)

// claimUnstarted accounts for the tasks of a stopped run that no generator
// took (sent, but throttled by the kill switch or never picked up): every
// task without a lease is claimed. A task a generator leases meanwhile
// keeps its generator: the lease is a conditional create.
func claimUnstarted(ctx context.Context, store shard.Store, runID string, tasks []shard.Task) error {
	keys, err := store.List(ctx, shard.LeasesPrefix(runID))
	if err != nil {
		return fmt.Errorf("claim unstarted tasks: %w", err)
	}
	leased := make(map[string]bool, len(keys))
	for _, k := range keys {
		leased[k] = true
	}
	var todo []shard.Task
	for _, t := range tasks {
		if !leased[shard.LeaseKey(runID, t.Region, t.ID)] {
			todo = append(todo, t)
		}
	}
	return claimTasks(ctx, store, todo)
}

// claimTasks claims tasks, fetchWorkers at a time: for each it creates the
// lease itself (so that a generator invoked later finds it taken and does
// no work) and writes an empty final result saying why. It returns every
// failure; such a task is missing in the report.
func claimTasks(ctx context.Context, store shard.Store, tasks []shard.Task) error {
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, fetchWorkers)
		mu   sync.Mutex
		errs []error
	)
	for i := range tasks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := claim(ctx, store, &tasks[i]); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// claim leases t for the orchestrator and writes its empty final result.
func claim(ctx context.Context, store shard.Store, t *shard.Task) error {
	now := time.Now()
	lease, err := json.Marshal(shard.Lease{TaskID: t.ID, Leased: now, MessageID: ClaimedBy})
	if err != nil {
		return fmt.Errorf("claim %s/%s: %w", t.Region, t.ID, err)
	}
	err = store.Create(ctx, shard.LeaseKey(t.RunID, t.Region, t.ID), lease)
	if errors.Is(err, shard.ErrExists) {
		return nil // a generator took it after all
	}
	if err != nil {
		return fmt.Errorf("claim %s/%s: %w", t.Region, t.ID, err)
	}
	res := shard.NewResult(t)
	res.Final = true
	res.Leased, res.Started, res.Ended = now, now, now
	res.Stopped = ClaimedReason
	res.Snapshot = engine.NewSnapshot(t.Config.Epoch, t.Config.Interval)
	data, err := shard.EncodeResult(res)
	if err != nil {
		return fmt.Errorf("claim %s/%s: %w", t.Region, t.ID, err)
	}
	if err := store.Put(ctx, shard.ResultKey(t.RunID, t.Region, t.ID), data); err != nil {
		return fmt.Errorf("claim %s/%s: %w", t.Region, t.ID, err)
	}
	return nil
}
