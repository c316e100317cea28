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
// themselves are added on collectEach's workers, each snapshot's totals
// into one engine.Sum per region (behind its own lock: adding is a small
// part of the work, decoding the rest) and its timeline into the worker's
// own Sum (a timeline is most of a snapshot, and one working set per core
// stays in cache where four regions' would not). combine merges them at
// the end. Memory is thus a few dense histograms per region and step plus
// a timeline per worker, whatever the number of results or requests.
type collector struct {
	runID     string
	res       *Result
	regions   map[string]*RegionResult
	sums      map[string]*regionSum // every region of a task; read-only once made
	timelines []*engine.Sum         // one per worker, len GOMAXPROCS
	tasks     map[string]bool       // "<region>/<task-id>" of every task of the run
	windows   map[string]time.Time  // each task's window start (epoch + Window.Start)
	done      map[string]bool       // tasks with a final result merged
	failed    map[string]string     // tasks whose final result is an engine error
}

// regionSum is one region's total, guarded by mu.
type regionSum struct {
	mu  sync.Mutex
	sum *engine.Sum
}

func newCollector(runID string, m *shard.Manifest) *collector {
	c := &collector{
		runID:   runID,
		regions: map[string]*RegionResult{},
		sums:    map[string]*regionSum{},
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
		if c.sums[t.Region] == nil {
			c.sums[t.Region] = &regionSum{sum: engine.NewSum(m.Epoch, m.Interval)}
		}
	}
	c.timelines = make([]*engine.Sum, max(1, runtime.GOMAXPROCS(0)))
	for i := range c.timelines {
		c.timelines[i] = engine.NewSum(m.Epoch, m.Interval)
	}
	return c
}

func taskName(region, id string) string { return region + "/" + id }

// fetched is one object read from the store, decoded and checked: r is
// its head (nil: corrupt, foreign or unreadable), merged whether its
// snapshot was added. Only this accounting travels back to the collector.
type fetched struct {
	key    string
	r      *shard.Result
	merged bool
}

// decoded is what a worker made of an object: its head and its snapshot,
// to be added to the region's sum (nil: nothing to add).
type decoded struct {
	key  string
	r    *shard.Result
	snap *engine.WireSnapshot
}

// decodeFinal and decodeCheckpoint run on collectEach's workers; they read
// only the collector's immutable fields (runID, tasks).
func (c *collector) decodeFinal(key string, data []byte, err error) decoded {
	region, id, ok := shard.ParseResultKey(c.runID, key)
	r, snap, derr := c.decode(region, id, ok, data, err)
	if derr != nil || !r.Final {
		return decoded{key: key}
	}
	return decoded{key: key, r: r, snap: snap}
}

func (c *collector) decodeCheckpoint(key string, data []byte, err error) decoded {
	region, id, ok := shard.ParseCheckpointKey(c.runID, key)
	r, snap, derr := c.decode(region, id, ok, data, err)
	if derr != nil || r.Final || snap == nil {
		return decoded{key: key}
	}
	return decoded{key: key, r: r, snap: snap}
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
	c.ended(f)
	c.res.Generators = append(c.res.Generators, GeneratorSpan{
		Task: name, Region: f.r.Region, Slice: f.r.Slice,
		Leased: f.r.Leased, Started: f.r.Started, Ended: f.r.Ended, WindowStart: c.windows[name],
		Claimed: f.r.Stopped == ClaimedReason,
	})
}

// checkpoint: a missing task's valid checkpoint was merged by a worker;
// only its end is left to account for.
func (c *collector) checkpoint(f fetched) { c.ended(f) }

// ended moves res.Ended to a merged result's end if that is later.
func (c *collector) ended(f fetched) {
	if f.merged && f.r.Ended.After(c.res.Ended) {
		c.res.Ended = f.r.Ended
	}
}

// decode checks that data is a result of task id in region of this run.
func (c *collector) decode(region, id string, keyOK bool, data []byte, err error) (*shard.Result, *engine.WireSnapshot, error) {
	if err != nil {
		return nil, nil, err
	}
	if !keyOK || !c.tasks[taskName(region, id)] {
		return nil, nil, errors.New("not a task of the run")
	}
	r, snap, err := shard.ParseResult(data)
	if err != nil {
		return nil, nil, err
	}
	if r.RunID != c.runID || r.Region != region || r.TaskID != id {
		return nil, nil, errors.New("result of another task")
	}
	return r, snap, nil
}

// add adds a decoded snapshot's totals to its region's sum and its
// timeline to the worker's.
func (c *collector) add(d decoded, timeline *engine.Sum) {
	totals, tl := d.snap.Split()
	rs := c.sums[d.r.Region] // present: the task is the run's
	rs.mu.Lock()
	rs.sum.Add(totals)
	rs.mu.Unlock()
	timeline.Add(tl)
}

// combine builds each region's snapshot and each worker's timeline from
// their sums, on a goroutine each, and merges them all into the total.
func (c *collector) combine() {
	regions := make(map[string]*engine.Snapshot, len(c.sums))
	timelines := make([]*engine.Snapshot, len(c.timelines))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, rs := range c.sums {
		wg.Go(func() {
			s := rs.sum.Snapshot()
			mu.Lock()
			regions[name] = s
			mu.Unlock()
		})
	}
	for i, tl := range c.timelines {
		wg.Go(func() { timelines[i] = tl.Snapshot() })
	}
	wg.Wait()
	for name, s := range regions {
		c.res.Total.Merge(s)
		if rr := c.regions[name]; rr != nil {
			rr.Snapshot = s
		}
	}
	for _, s := range timelines {
		c.res.Total.Merge(s)
	}
}

// collectEach Gets every key, fetchWorkers at a time, and hands what it got
// to one worker per timeline sum that runs decode on it and adds a
// snapshot it carries (c.add). It then calls use with each key's outcome from the
// calling goroutine: use needs no lock, and only a few undecoded objects
// and no decoded snapshot wait in the channels.
func (c *collector) collectEach(ctx context.Context, store shard.Store, keys []string,
	decode func(key string, data []byte, err error) decoded, use func(fetched)) {
	type got struct {
		key  string
		data []byte
		err  error
	}
	in := make(chan string)
	raw := make(chan got, len(c.timelines))
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
	var workers sync.WaitGroup
	for _, timeline := range c.timelines {
		workers.Go(func() {
			for g := range raw {
				d := decode(g.key, g.data, g.err)
				if d.snap != nil {
					c.add(d, timeline)
				}
				out <- fetched{key: d.key, r: d.r, merged: d.snap != nil}
			}
		})
	}
	go func() {
		workers.Wait()
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
