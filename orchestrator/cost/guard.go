package cost

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
)

// GuardPrefix starts every reason the guard gives to stop a run.
const GuardPrefix = "cost guard: "

// usageAt is what the run has used by test time t (negative: before the
// start) when bytesSent bytes went to the target and the orchestrator made
// orch requests (nil: modelled as in the estimate). Each task counts from
// its dispatch (Lead before its window) to min(t, its end): its invocation,
// billed time, lease, checkpoints, stop-marker reads, result and logs; the
// queue's receives and deletes are the estimate's, pro rata of the time.
func (c *Cost) usageAt(t time.Duration, bytesSent float64, orch *Ops) []RegionUsage {
	o := c.opts
	drain := c.drain()
	byRegion := map[string]*Usage{}
	out := make([]RegionUsage, len(c.Estimate.Regions))
	for i, rc := range c.Estimate.Regions {
		out[i].Region = rc.Region
		byRegion[rc.Region] = &out[i].Usage
	}
	end := c.tasksEnd()
	frac := min(max(float64(t+o.Lead)/float64(end+o.Lead), 0), 1)
	for i := range c.tasks {
		w := c.tasks[i].Config.Window
		from := w.Start - o.Lead
		u := byRegion[c.tasks[i].Region]
		if t < from || u == nil {
			continue
		}
		ran := min(t, w.End+drain+o.ResultWrite) - from
		u.AddInvocation(ran, c.MemoryMB)
		u.LogBytes += o.LogBytes
		u.S3Puts++ // lease
		if engine := min(t, w.End+drain) - w.Start; engine > 0 {
			u.S3Puts += int64(engine / orchestrator.SnapshotEvery)
		}
		if t >= w.End+drain {
			u.S3Puts++ // result
		}
		u.S3Gets += 1 + int64(ran/StopPoll)
	}
	for i, rc := range c.Estimate.Regions {
		u := &out[i].Usage
		u.SQSReceives = int64(math.Round(float64(rc.Usage.SQSReceives) * frac))
		u.SQSDeletes = int64(math.Round(float64(rc.Usage.SQSDeletes) * frac))
		u.BytesOut = int64(bytesSent * float64(rc.Usage.Requests) / float64(max(c.Estimate.Usage.Requests, 1)))
		if orch == nil {
			// the estimate's orchestrator requests, pro rata
			u.SQSSends = rc.Usage.SQSSends
			u.S3Lists = int64(math.Round(float64(rc.Usage.S3Lists) * frac))
		}
	}
	if orch != nil && len(out) > 0 {
		u := &out[0].Usage
		u.SQSSends += orch.SQSSends
		u.S3Puts += orch.S3Puts
		u.S3Lists += orch.S3Lists
		u.S3Gets += orch.S3Gets
	}
	return out
}

func (c *Cost) drain() time.Duration {
	o := c.opts
	if len(c.tasks) == 0 {
		return o.Response
	}
	cfg := c.tasks[0].Config
	grace := 30 * time.Second
	switch {
	case cfg.Grace > 0:
		grace = cfg.Grace
	case cfg.Defaults.Timeout > 0:
		grace = cfg.Defaults.Timeout
	}
	return min(o.Response, grace)
}

// tasksEnd is the test time when the last task ends.
func (c *Cost) tasksEnd() time.Duration {
	var end time.Duration
	for i := range c.tasks {
		end = max(end, c.tasks[i].Config.Window.End)
	}
	return end + c.drain() + c.opts.ResultWrite
}

// NewGuard returns an orchestrator Abort callback that stops the run
// before its cost crosses budgetUSD. At each poll it computes the spend so
// far — the tasks dispatched so far for the time they have run, the bytes
// the snapshot says were sent, the orchestrator's own requests as orch
// counts them (modelled when orch is nil) — and projects it to when a stop
// decided at the next poll would have taken effect: two polls later (one
// of margin), plus the stop marker's read interval, the drain and the
// result write, with
// bytes and the orchestrator's requests growing at the rate seen so far.
// When that projection exceeds the budget it returns "cost guard:
// projected $X exceeds budget $Y (spent $Z in the first Ns)". c is the
// run's estimate. The callback is called from Run's goroutine only.
func (c *Cost) NewGuard(budgetUSD float64, pollEvery time.Duration, orch Counter) func(orchestrator.Progress) string {
	if pollEvery <= 0 {
		pollEvery = orchestrator.DefaultPollEvery
	}
	prices := c.pricesOf()
	// lag is how long after this poll a stop decided at the next one
	// would take effect, plus one more poll of margin: spend grows in
	// steps of a poll's requests.
	lag := 2*pollEvery + StopPoll + c.drain() + c.opts.ResultWrite
	return func(p orchestrator.Progress) string {
		var bytes float64
		if p.Snapshot != nil {
			bytes = float64(p.Snapshot.Total().BytesSent)
		}
		now := p.Elapsed
		var ops, projOps *Ops
		if orch != nil {
			o := orch.Ops()
			ops = &o
			// requests grow at their rate since dispatch, and the final
			// collect reads every result once more
			k := float64(now+c.opts.Lead+lag) / float64(now+c.opts.Lead)
			n := int64(len(c.tasks))
			projOps = &Ops{SQSSends: o.SQSSends, S3Puts: o.S3Puts + 1,
				S3Lists: int64(float64(o.S3Lists)*k) + ListRequests(int(n)),
				S3Gets:  int64(float64(o.S3Gets)*k) + n}
		}
		spent := Price(c.usageAt(now, bytes, ops), prices, c.Arch).TotalUSD
		ahead := now + lag
		projBytes := bytes
		if now > 0 {
			projBytes = bytes * float64(ahead) / float64(now)
		}
		projected := Price(c.usageAt(ahead, projBytes, projOps), prices, c.Arch).TotalUSD
		if projected <= budgetUSD {
			return ""
		}
		return fmt.Sprintf("%sprojected $%.6f exceeds budget $%.6f (spent $%.6f in the first %s)",
			GuardPrefix, projected, budgetUSD, spent, now.Round(100*time.Millisecond))
	}
}

// Spent is what the run has cost by p.Elapsed: every task's invocation so
// far, the bytes p's snapshot says went to the target, and the
// orchestrator's requests as orch counts them (modelled when nil). It
// prices as the estimate did; the live progress shows it.
func (c *Cost) Spent(p orchestrator.Progress, orch Counter) float64 {
	var bytes float64
	if p.Snapshot != nil {
		bytes = float64(p.Snapshot.Total().BytesSent)
	}
	var ops *Ops
	if orch != nil {
		o := orch.Ops()
		ops = &o
	}
	return Price(c.usageAt(p.Elapsed, bytes, ops), c.pricesOf(), c.Arch).TotalUSD
}

// pricesOf rebuilds a price table from the estimate's unit prices, so that
// the guard prices exactly as the estimate did.
func (c *Cost) pricesOf() *Prices {
	p := &Prices{Regions: map[string]RegionPrices{}}
	for _, rc := range c.Estimate.Regions {
		unit := func(item string) float64 {
			for _, l := range rc.Lines {
				if l.Item == item {
					return l.UnitPriceUSD
				}
			}
			return 0
		}
		r := RegionPrices{
			LambdaGBSecondARM64USD: unit(ItemCompute), LambdaGBSecondX86USD: unit(ItemCompute),
			LambdaPerMillionUSD: unit(ItemInvoke) * 1e6, SQSPerMillionUSD: unit(ItemSQS) * 1e6,
			S3PutListPerThousand: unit(ItemS3PutLst) * 1e3, S3GetPerThousandUSD: unit(ItemS3Get) * 1e3,
			DataOutPerGBUSD: unit(ItemTransfer), LogsIngestPerGBUSD: unit(ItemLogs),
		}
		p.Regions[rc.Region] = r
		if p.DefaultRegion == "" {
			p.DefaultRegion = rc.Region
		}
	}
	return p
}
