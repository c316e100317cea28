package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// fetchWorkers bounds concurrent Gets while collecting (store latency, not
// CPU, limits them); decoding and merging run on GOMAXPROCS workers.
const fetchWorkers = 32

// Collect rebuilds a run's Result from what the store holds: the manifest
// and every final result, merged into Total and per region.
//
// Accounting: a task without a final result is named in Shards.Missing as
// "<region>/<task-id>"; if it left a checkpoint, that checkpoint's partial
// counts are still merged (they happened), and the task is still listed as
// missing. A task whose final result carries an engine error and no data is
// listed as "<region>/<task-id> (error: …)". An object under the run's
// results prefix that cannot be read, does not decode, is not a final
// result, or does not belong to a task of this run is named (by key) in
// Shards.Corrupt and skipped. Started is the epoch; Ended the latest end of
// a merged result (the epoch when there is none). Generators holds a span
// (lease, engine start and end, window start) for every completed task.
func Collect(ctx context.Context, store shard.Store, runID string) (*Result, error) {
	data, err := store.Get(ctx, shard.ManifestKey(runID))
	if err != nil {
		return nil, fmt.Errorf("collect run %s: %w", runID, err)
	}
	m, err := shard.DecodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("collect run %s: %w", runID, err)
	}
	if m.RunID != runID {
		return nil, fmt.Errorf("collect run %s: manifest is run %s's", runID, m.RunID)
	}
	p := new(plan.Plan)
	if err := json.Unmarshal(m.Plan, p); err != nil {
		return nil, fmt.Errorf("collect run %s: decode plan: %w", runID, err)
	}
	p.Source = m.Source

	c := newCollector(runID, m)
	c.res.Plan = p
	c.res.Backend, c.res.Dispatch, c.res.Lead = m.Backend, m.Dispatch, m.Lead
	// A stop marker says the run was stopped, by whom or why: the
	// orchestrator itself, or `stampede stop` from elsewhere.
	if reason, err := store.Get(ctx, shard.StopKey(runID)); err == nil {
		c.res.Stopped = string(reason)
	}
	keys, err := store.List(ctx, shard.ResultsPrefix(runID))
	if err != nil {
		return nil, fmt.Errorf("collect run %s: %w", runID, err)
	}
	c.collectEach(ctx, store, keys, c.decodeFinal, c.final)

	var missing []string
	for _, ref := range m.Tasks {
		if !c.done[taskName(ref.Region, ref.ID)] {
			missing = append(missing, shard.CheckpointKey(runID, ref.Region, ref.ID))
		}
	}
	c.collectEach(ctx, store, missing, c.decodeCheckpoint, c.checkpoint)
	c.combine()
	for _, ref := range m.Tasks {
		name := taskName(ref.Region, ref.ID)
		if !c.done[name] {
			if msg, failed := c.failed[name]; failed {
				name += " (error: " + msg + ")"
			}
			c.res.Shards.Missing = append(c.res.Shards.Missing, name)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("collect run %s: %w", runID, err)
	}
	sort.Strings(c.res.Shards.Missing)
	sort.Strings(c.res.Shards.Corrupt)
	sort.Slice(c.res.Generators, func(i, j int) bool { return c.res.Generators[i].Task < c.res.Generators[j].Task })
	return c.res, nil
}

// collector accounts for results on the calling goroutine; the snapshots
// themselves are merged on fetchEach's workers, each into its own partial,
// and the partials into res at the end (combine).
type collector struct {
	runID    string
	res      *Result
	regions  map[string]*RegionResult
	tasks    map[string]bool      // "<region>/<task-id>" of every task of the run
	windows  map[string]time.Time // each task's window start (epoch + Window.Start)
	done     map[string]bool      // tasks with a final result merged
	failed   map[string]string    // tasks whose final result is an engine error
	partials []*partial           // one per merge worker, len GOMAXPROCS
}

// partial is one merge worker's share of the run's totals; only that
// worker touches it until combine.
type partial struct {
	total   *engine.Snapshot
	regions map[string]*engine.Snapshot
	ended   time.Time
}

func newCollector(runID string, m *shard.Manifest) *collector {
	c := &collector{
		runID:   runID,
		regions: map[string]*RegionResult{},
		tasks:   map[string]bool{},
		windows: map[string]time.Time{},
		done:    map[string]bool{},
		failed:  map[string]string{},
		res: &Result{
			RunID: runID, Started: m.Epoch, Ended: m.Epoch,
			Total:  engine.NewSnapshot(m.Epoch, m.Interval),
			Shards: ShardStatus{Expected: len(m.Tasks)},
		},
	}
	c.res.Regions = make([]RegionResult, len(m.Regions))
	for i, r := range m.Regions {
		c.res.Regions[i] = RegionResult{Name: r.Name, Generators: r.Generators, Snapshot: engine.NewSnapshot(m.Epoch, m.Interval)}
		c.regions[r.Name] = &c.res.Regions[i]
	}
	for _, t := range m.Tasks {
		c.tasks[taskName(t.Region, t.ID)] = true
		c.windows[taskName(t.Region, t.ID)] = m.Epoch.Add(t.Window.Start)
	}
	c.partials = make([]*partial, max(1, runtime.GOMAXPROCS(0)))
	for i := range c.partials {
		c.partials[i] = &partial{total: engine.NewSnapshot(m.Epoch, m.Interval), regions: map[string]*engine.Snapshot{}, ended: m.Epoch}
	}
	return c
}

func taskName(region, id string) string { return region + "/" + id }

// fetched is one object read from the store, decoded and checked. Once a
// worker merged r's snapshot it drops it (merged is then true), so that
// only accounting travels back to the collector.
type fetched struct {
	key    string
	r      *shard.Result // nil: corrupt, foreign or unreadable
	merged bool
}

// decodeFinal and decodeCheckpoint run on fetchEach's workers; they read
// only the collector's immutable fields (runID, tasks).
func (c *collector) decodeFinal(key string, data []byte, err error) fetched {
	region, id, ok := shard.ParseResultKey(c.runID, key)
	r, derr := c.decode(region, id, ok, data, err)
	if derr != nil || !r.Final {
		return fetched{key: key}
	}
	return fetched{key: key, r: r}
}

func (c *collector) decodeCheckpoint(key string, data []byte, err error) fetched {
	region, id, ok := shard.ParseCheckpointKey(c.runID, key)
	r, derr := c.decode(region, id, ok, data, err)
	if derr != nil || r.Final || r.Snapshot == nil {
		return fetched{key: key}
	}
	return fetched{key: key, r: r}
}

// final accounts for one final result (merged by a worker), or names the
// object corrupt.
func (c *collector) final(f fetched) {
	if f.r == nil {
		c.res.Shards.Corrupt = append(c.res.Shards.Corrupt, f.key)
		return
	}
	name := taskName(f.r.Region, f.r.TaskID)
	if !f.merged {
		c.failed[name] = f.r.Error
		return
	}
	c.done[name] = true
	c.res.Shards.Completed++
	c.res.Generators = append(c.res.Generators, GeneratorSpan{
		Task: name, Region: f.r.Region, Slice: f.r.Slice,
		Leased: f.r.Leased, Started: f.r.Started, Ended: f.r.Ended, WindowStart: c.windows[name],
		Claimed: f.r.Stopped == ClaimedReason,
	})
}

// checkpoint: a missing task's valid checkpoint was merged by a worker;
// nothing is left to account for.
func (c *collector) checkpoint(fetched) {}

// decode checks that data is a result of task id in region of this run.
func (c *collector) decode(region, id string, keyOK bool, data []byte, err error) (*shard.Result, error) {
	if err != nil {
		return nil, err
	}
	if !keyOK || !c.tasks[taskName(region, id)] {
		return nil, errors.New("not a task of the run")
	}
	r, err := shard.DecodeResult(data)
	if err != nil {
		return nil, err
	}
	if r.RunID != c.runID || r.Region != region || r.TaskID != id {
		return nil, errors.New("result of another task")
	}
	return r, nil
}

// merge adds r's snapshot to p and drops it from r.
func (p *partial) merge(r *shard.Result) {
	p.total.Merge(r.Snapshot)
	reg := p.regions[r.Region]
	if reg == nil {
		reg = engine.NewSnapshot(p.total.Epoch, p.total.Interval)
		p.regions[r.Region] = reg
	}
	reg.Merge(r.Snapshot)
	if r.Ended.After(p.ended) {
		p.ended = r.Ended
	}
	r.Snapshot = nil
}

// combine merges the workers' partials into res: the total and each region
// on a goroutine of their own.
func (c *collector) combine() {
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, p := range c.partials {
			c.res.Total.Merge(p.total)
			if p.ended.After(c.res.Ended) {
				c.res.Ended = p.ended
			}
		}
	})
	for name, rr := range c.regions {
		wg.Go(func() {
			for _, p := range c.partials {
				if s := p.regions[name]; s != nil {
					rr.Snapshot.Merge(s)
				}
			}
		})
	}
	wg.Wait()
}

// collectEach Gets every key, fetchWorkers at a time, and hands what it got
// to len(c.partials) workers that run decode on it and merge a result that
// carries a snapshot into their own partial. It then calls use with each
// key's outcome from the calling goroutine: use needs no lock, and only a
// few undecoded objects and no decoded snapshot wait in the channels.
func (c *collector) collectEach(ctx context.Context, store shard.Store, keys []string,
	decode func(key string, data []byte, err error) fetched, use func(fetched)) {
	type got struct {
		key  string
		data []byte
		err  error
	}
	in := make(chan string)
	raw := make(chan got, len(c.partials))
	out := make(chan fetched, fetchWorkers)
	go func() {
		defer close(in)
		for _, k := range keys {
			in <- k
		}
	}()
	var fetchers sync.WaitGroup
	for range min(fetchWorkers, len(keys)) {
		fetchers.Go(func() {
			for key := range in {
				data, err := store.Get(ctx, key)
				raw <- got{key, data, err}
			}
		})
	}
	go func() {
		fetchers.Wait()
		close(raw)
	}()
	var mergers sync.WaitGroup
	for _, p := range c.partials {
		mergers.Go(func() {
			for g := range raw {
				f := decode(g.key, g.data, g.err)
				if f.r != nil && f.r.Snapshot != nil {
					p.merge(f.r)
					f.merged = true
				}
				out <- f
			}
		})
	}
	go func() {
		mergers.Wait()
		close(out)
	}()
	for f := range out {
		use(f)
	}
}

// fetchEach Gets every key and runs work on what it got, fetchWorkers at a
// time (decoding runs in parallel), then calls use with work's value for
// each key from the calling goroutine: use needs no lock, and only a few
// decoded objects are held in memory at once.
func fetchEach[T any](ctx context.Context, store shard.Store, keys []string,
	work func(key string, data []byte, err error) T, use func(T)) {
	out := make(chan T, fetchWorkers)
	in := make(chan string)
	var wg sync.WaitGroup
	for range min(fetchWorkers, len(keys)) {
		wg.Go(func() {
			for key := range in {
				data, err := store.Get(ctx, key)
				out <- work(key, data, err)
			}
		})
	}
	go func() {
		defer close(in)
		for _, k := range keys {
			in <- k
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	for v := range out {
		use(v)
	}
}
