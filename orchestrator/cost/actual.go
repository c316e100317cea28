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
	region, id             string
	leased, started, ended time.Time
	final                  bool
	// claimed: the orchestrator leased the task after a stop; no
	// generator ran it (its lease and result are the orchestrator's own
	// requests).
	claimed bool
}

// RegionCounter is a Counter that also tells each region's requests (the
// AWS adapters: a queue, a function and a bucket per region).
type RegionCounter interface {
	Counter
	RegionOps() map[string]Ops
}

// AddActual computes the actual cost of the finished run res from what
// ran and sets c.Actual and c.ActualUSD. c is the run's estimate (its
// options and memory apply).
//
// Per task a generator leased, from the store: its billed duration (lease
// to the engine's end, plus the result write, which the result does not
// time: Options.ResultWrite), its lease, checkpoint and result PUTs and its
// stop-marker GETs (from its running time). A task the orchestrator
// claimed after a stop ran no generator: it costs no invocation. The
// orchestrator's own requests come from orch (its counting store and
// queue, or the AWS adapters' counters; per region when orch is a
// RegionCounter, else shared by task count) when not nil, and are modelled
// as in the estimate otherwise.
//
// On the SQS path each lease is one invocation and the event source
// mapping's receives and deletes are modelled from the run's wall time. On
// the burst path the invocations are the Invoke requests Lambda accepted
// (orch's InvokesAccepted; the leases when not counted): each generator
// that leased a task received and deleted its message, and an accepted
// invocation that leased nothing waited out its BurstWait long poll for
// one empty receive. Bytes and requests are the snapshots' totals.
func (c *Cost) AddActual(ctx context.Context, store shard.Store, res *orchestrator.Result, prices *Prices, orch Counter) error {
	o := c.opts.withDefaults()
	burst := o.Dispatch == orchestrator.DispatchBurst
	// what the run made, before the reads below (store may be counted)
	made := countNow(orch)
	runs, err := readRuns(ctx, store, res.RunID)
	if err != nil {
		return fmt.Errorf("actual cost of run %s: %w", res.RunID, err)
	}
	var receives map[string]int64 // by task, burst path only
	if burst {
		receives = c.receiveRequests()
	}
	var first, last time.Time
	byRegion := map[string]*Usage{}
	claimed := map[string]int64{}
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
		if tr.claimed {
			claimed[tr.region]++
			continue
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
		if burst {
			u.SQSReceives += max(1, receives[taskName(tr.region, tr.id)])
			u.SQSDeletes++
		}
		if first.IsZero() || tr.leased.Before(first) {
			first = tr.leased
		}
		if end.After(last) {
			last = end
		}
	}
	wall := last.Sub(first) + o.ResultWrite
	var parts []Ops
	if made != nil {
		parts = made.parts(order, byRegion)
	}
	for i, name := range order {
		u := byRegion[name]
		n := int(u.Invocations) + int(claimed[name])
		if !burst {
			u.SQSReceives = int64((n+SQSBatch-1)/SQSBatch) + int64(math.Ceil(wall.Minutes()*float64(o.ReceivesPerMinute)))
			u.SQSDeletes = int64((n + SQSBatch - 1) / SQSBatch)
		}
		if parts == nil {
			polls := int64(math.Ceil(wall.Seconds()/o.PollEvery.Seconds())) + 1
			u.S3Lists += polls*3*ListRequests(n) + ListRequests(n)
			u.S3Gets += 2 * int64(n)
			u.S3Puts += 2 * claimed[name] // a claim's lease and result
			u.SQSSends += sendRequests(c.tasks, name)
			if i == 0 {
				u.S3Puts++ // the manifest
				u.S3Gets++
				u.S3Gets += polls + 1 // the stop marker
			}
			if burst { // not counted: one invocation per generator's lease
				u.InvokesAccepted = u.Invocations
			}
		} else {
			p := parts[i]
			u.SQSSends += p.SQSSends
			u.S3Puts += p.S3Puts
			u.S3Lists += p.S3Lists
			u.S3Gets += p.S3Gets
			u.InvokesAccepted, u.InvokeAttempts, u.InvokeThrottled = p.InvokesAccepted, p.InvokeAttempts, p.InvokeThrottled
		}
		if burst {
			// accepted invocations that leased no task found no message
			// (or only stale ones) and waited out their long poll
			for range max(0, u.InvokesAccepted-u.Invocations) {
				u.AddInvocation(BurstWait, c.MemoryMB)
				u.LogBytes += o.LogBytes
				u.SQSReceives++
			}
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

// counted is what the orchestrator's counters said: the total, and per
// region when the counter is a RegionCounter.
type counted struct {
	total     Ops
	perRegion map[string]Ops
}

// countNow reads orch now (nil for nil).
func countNow(orch Counter) *counted {
	if orch == nil {
		return nil
	}
	c := &counted{total: orch.Ops()}
	if rc, ok := orch.(RegionCounter); ok {
		c.perRegion = rc.RegionOps()
	}
	return c
}

// parts is each region's share (in order) of the requests counted: its
// own when counted per region, else shared by the regions' invocations.
func (k *counted) parts(order []string, byRegion map[string]*Usage) []Ops {
	if k.perRegion != nil {
		out := make([]Ops, len(order))
		for i, name := range order {
			out[i] = k.perRegion[name]
		}
		return out
	}
	counts := make([]int64, len(order))
	for i, name := range order {
		counts[i] = byRegion[name].Invocations
	}
	return shareOps(k.total, counts)
}

// receiveRequests is the billed requests of receiving each task's message
// once (one per 64 KB chunk of its body), by "<region>/<task-id>".
func (c *Cost) receiveRequests() map[string]int64 {
	out := make(map[string]int64, len(c.tasks))
	for i := range c.tasks {
		if b, err := shard.EncodeTask(&c.tasks[i]); err == nil {
			out[taskName(c.tasks[i].Region, c.tasks[i].ID)] = SQSRequests(len(b))
		}
	}
	return out
}

func taskName(region, id string) string { return region + "/" + id }

// sendRequests is the SQS send requests of region's tasks (waveSends).
func sendRequests(tasks []shard.Task, region string) int64 {
	bySlice := map[int][]int{}
	for i := range tasks {
		if tasks[i].Region != region {
			continue
		}
		if b, err := shard.EncodeTask(&tasks[i]); err == nil {
			bySlice[tasks[i].Slice] = append(bySlice[tasks[i].Slice], len(b))
		}
	}
	return waveSends(bySlice)
}

// waveSends is the SQS send requests of task bodies (sizes in bytes, by
// slice): each slice's tasks go out together (a wave), in batches of
// SQSBatch.
func waveSends(bySlice map[int][]int) int64 {
	var n int64
	for _, sizes := range bySlice {
		n += SendRequests(sizes)
	}
	return n
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
		tr := taskRun{region: region, id: id, leased: l.Leased, claimed: l.MessageID == orchestrator.ClaimedBy}
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
	fields := opsFields(&ops)
	parts := make([][]*int64, len(out))
	for i := range out {
		parts[i] = opsFields(&out[i])
	}
	for k, x := range fields {
		var given int64
		for i, n := range counts {
			*parts[i][k] = *x * n / total
			given += *parts[i][k]
		}
		*parts[0][k] += *x - given
	}
	return out
}

// opsFields are pointers to o's counters, in a fixed order.
func opsFields(o *Ops) []*int64 {
	return []*int64{&o.SQSSends, &o.SQSReceives, &o.SQSDeletes, &o.S3Puts, &o.S3Lists, &o.S3Gets,
		&o.InvokesAccepted, &o.InvokeAttempts, &o.InvokeThrottled}
}
