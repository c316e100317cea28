package cost

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// taskRun is what the store says one task's generator did.
type taskRun struct {
	region                 string
	leased, started, ended time.Time
	final                  bool
}

// AddActual computes the actual cost of the finished run res from what
// ran and sets c.Actual and c.ActualUSD. c is the run's estimate (its
// options and memory apply).
//
// Per task, from the store: the invocation (its lease), its billed duration
// (lease to the engine's end, plus the result write, which the result does
// not time: Options.ResultWrite), its lease, checkpoint and result PUTs and
// its stop-marker GETs (from its running time). The orchestrator's own
// requests come from orch (its counting store and queue; the AWS adapters'
// Ops later) when not nil, and are modelled as in the estimate otherwise.
// The event source mapping's receives and deletes are modelled from the
// run's wall time. Bytes and requests are the snapshots' totals.
func (c *Cost) AddActual(ctx context.Context, store shard.Store, res *orchestrator.Result, prices *Prices, orch Counter) error {
	o := c.opts.withDefaults()
	runs, err := readRuns(ctx, store, res.RunID)
	if err != nil {
		return fmt.Errorf("actual cost of run %s: %w", res.RunID, err)
	}
	var first, last time.Time
	byRegion := map[string]*Usage{}
	var order []string
	for _, r := range res.Regions {
		byRegion[r.Name] = &Usage{}
		order = append(order, r.Name)
		if r.Snapshot != nil {
			t := r.Snapshot.Total()
			byRegion[r.Name].Requests, byRegion[r.Name].BytesOut = t.Requests, t.BytesSent
		}
	}
	for _, tr := range runs {
		u := byRegion[tr.region]
		if u == nil {
			continue // a region the manifest does not name
		}
		end := tr.ended
		if end.IsZero() {
			end = res.Ended // leased, never reported: assume it ran to the end
		}
		u.AddInvocation(end.Sub(tr.leased)+o.ResultWrite, c.MemoryMB)
		u.LogBytes += o.LogBytes
		u.S3Puts++ // the lease
		if tr.final {
			u.S3Puts++
		}
		if !tr.started.IsZero() && end.After(tr.started) {
			u.S3Puts += int64(end.Sub(tr.started) / orchestrator.SnapshotEvery)
		}
		u.S3Gets += 1 + int64(max(end.Sub(tr.leased), 0)/StopPoll)
		if first.IsZero() || tr.leased.Before(first) {
			first = tr.leased
		}
		if end.After(last) {
			last = end
		}
	}
	wall := last.Sub(first) + o.ResultWrite
	var ops Ops
	if orch != nil {
		ops = orch.Ops()
	}
	for i, name := range order {
		u := byRegion[name]
		n := int(u.Invocations)
		u.SQSReceives = int64((n+SQSBatch-1)/SQSBatch) + int64(math.Ceil(wall.Minutes()*float64(o.ReceivesPerMinute)))
		u.SQSDeletes = int64((n + SQSBatch - 1) / SQSBatch)
		if orch == nil {
			polls := int64(math.Ceil(wall.Seconds()/o.PollEvery.Seconds())) + 1
			u.S3Lists += polls*3*ListRequests(n) + ListRequests(n)
			u.S3Gets += 2 * int64(n)
			u.SQSSends += c.sendRequests(name)
			if i == 0 {
				u.S3Puts++ // the manifest
				u.S3Gets++
			}
		}
	}
	if orch != nil {
		counts := make([]int64, len(order))
		for i, name := range order {
			counts[i] = byRegion[name].Invocations
		}
		for i, part := range shareOps(ops, counts) {
			u := byRegion[order[i]]
			u.SQSSends += part.SQSSends
			u.S3Puts += part.S3Puts
			u.S3Lists += part.S3Lists
			u.S3Gets += part.S3Gets
		}
	}
	usage := make([]RegionUsage, len(order))
	for i, name := range order {
		usage[i] = RegionUsage{Region: name, Usage: *byRegion[name]}
	}
	c.Actual = Price(usage, prices, c.Arch)
	c.ActualUSD = round(c.Actual.TotalUSD, 6)
	return nil
}

// sendRequests is the modelled SQS send requests of region's tasks.
func (c *Cost) sendRequests(region string) int64 {
	var sizes []int
	for i := range c.tasks {
		if c.tasks[i].Region != region {
			continue
		}
		if b, err := shard.EncodeTask(&c.tasks[i]); err == nil {
			sizes = append(sizes, len(b))
		}
	}
	if len(sizes) == 0 {
		return 0
	}
	return SendRequests(sizes)
}

// readRuns reads every lease of the run and each leased task's final
// result (or, failing that, its checkpoint). It reads through store
// directly: these reads are accounting, not part of the run.
func readRuns(ctx context.Context, store shard.Store, runID string) ([]taskRun, error) {
	leases, err := store.List(ctx, shard.LeasesPrefix(runID))
	if err != nil {
		return nil, err
	}
	var out []taskRun
	for _, key := range leases {
		region, id, ok := shard.ParseLeaseKey(runID, key)
		if !ok {
			continue
		}
		data, err := store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		var l shard.Lease
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("lease %s: %w", key, err)
		}
		tr := taskRun{region: region, leased: l.Leased}
		for _, k := range []string{shard.ResultKey(runID, region, id), shard.CheckpointKey(runID, region, id)} {
			data, err := store.Get(ctx, k)
			if err != nil {
				continue
			}
			r, err := shard.DecodeResult(data)
			if err != nil {
				continue
			}
			tr.started, tr.ended, tr.final = r.Started, r.Ended, r.Final
			break
		}
		out = append(out, tr)
	}
	return out, nil
}

// shareOps splits ops among regions in proportion to counts (their task
// counts); the first region takes what rounding down leaves, so that the
// parts add up to ops.
func shareOps(ops Ops, counts []int64) []Ops {
	out := make([]Ops, len(counts))
	var total int64
	for _, n := range counts {
		total += n
	}
	if len(out) == 0 {
		return out
	}
	if total == 0 {
		out[0] = ops
		return out
	}
	part := func(x, n int64) int64 { return x * n / total }
	var given Ops
	for i, n := range counts {
		out[i] = Ops{SQSSends: part(ops.SQSSends, n), S3Puts: part(ops.S3Puts, n),
			S3Lists: part(ops.S3Lists, n), S3Gets: part(ops.S3Gets, n)}
		given.Add(out[i])
	}
	out[0].SQSSends += ops.SQSSends - given.SQSSends
	out[0].S3Puts += ops.S3Puts - given.S3Puts
	out[0].S3Lists += ops.S3Lists - given.S3Lists
	out[0].S3Gets += ops.S3Gets - given.S3Gets
	return out
}
