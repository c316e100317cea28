package cost

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Model defaults (each one is printed as an assumption).
const (
	// DefaultResponse is the response time assumed for the closed model's
	// request count and for the drain after a window's end.
	DefaultResponse = 100 * time.Millisecond
	// DefaultResultWrite is how long writing the final result takes.
	DefaultResultWrite = 100 * time.Millisecond
	// DefaultLogBytes is what one invocation logs (START/END/REPORT lines
	// and the generator's own few lines).
	DefaultLogBytes = 4 << 10
	// DefaultReceivesPerMinute is the event source mapping's empty long
	// polls per queue per minute while the run goes (5 pollers, 20 s
	// each).
	DefaultReceivesPerMinute = 15
	// StopPoll is how often each generator reads the stop marker (as
	// functions/generator.DefaultStopPoll).
	StopPoll = time.Second
	// DefaultMemoryMB is the generator's memory when the plan sets none.
	DefaultMemoryMB = plan.DefaultMemoryMB
	// BurstWait is how long a burst invocation long-polls the burst queue
	// before it concludes there is no task for it (shard.BurstWait, the
	// generator's default): what an invocation that finds no message is
	// billed for.
	BurstWait = shard.BurstWait
)

// Options are the model's knobs; zero values take the defaults.
type Options struct {
	// Backend is orchestrator.BackendLocal or BackendAWS: it sets the lead.
	Backend string
	// Dispatch is how the aws backend starts the generators:
	// orchestrator.DispatchSQS (default: the task queue's event source
	// mapping) or DispatchBurst (one asynchronous Invoke per task; each
	// invocation receives its task from the burst queue and deletes it).
	// The local backend is priced as DispatchSQS.
	Dispatch string
	// Arch is ArchARM64 (default, as template.yaml deploys) or ArchX86.
	Arch string
	// Lead is the time between dispatch and a slice's start (default: the
	// orchestrator's for Backend, orchestrator.LeadAWS on aws). A generator is assumed to be invoked at
	// dispatch and to wait the whole lead.
	Lead time.Duration
	// PollEvery is how often the orchestrator lists the store
	// (orchestrator.DefaultPollEvery).
	PollEvery time.Duration
	// Unwatched says the orchestrator reads no snapshots while it waits
	// (no progress lines and no abort callback: `run --quiet` without a
	// budget): it lists leases and results only, and reads each result
	// once, when collecting.
	Unwatched         bool
	Response          time.Duration
	ResultWrite       time.Duration
	LogBytes          int64
	ReceivesPerMinute int
}

func (o Options) withDefaults() Options {
	if o.Backend == "" {
		o.Backend = orchestrator.BackendLocal
	}
	if o.Dispatch != orchestrator.DispatchBurst || o.Backend != orchestrator.BackendAWS {
		o.Dispatch = orchestrator.DispatchSQS
	}
	if o.Arch == "" {
		o.Arch = ArchARM64
	}
	if o.Lead <= 0 {
		o.Lead = orchestrator.DefaultLeadLocal
		if o.Backend != orchestrator.BackendLocal {
			o.Lead = orchestrator.DefaultLeadAWS
		}
	}
	if o.PollEvery <= 0 {
		o.PollEvery = orchestrator.DefaultPollEvery
	}
	if o.Response <= 0 {
		o.Response = DefaultResponse
	}
	if o.ResultWrite <= 0 {
		o.ResultWrite = DefaultResultWrite
	}
	if o.LogBytes <= 0 {
		o.LogBytes = DefaultLogBytes
	}
	if o.ReceivesPerMinute <= 0 {
		o.ReceivesPerMinute = DefaultReceivesPerMinute
	}
	return o
}

// Cost is a run's cost as report.json's "cost" holds it: the estimate and,
// after the run, the actual cost, both priced as on AWS.
type Cost struct {
	// Backend is where the run went; prices are always AWS's.
	Backend  string `json:"backend"`
	Arch     string `json:"arch"`
	MemoryMB int    `json:"memory_mb"`
	// Prices names the price table (source and date).
	Prices     string `json:"prices"`
	PricesDate string `json:"prices_date"`
	// ActualUSD (after the run), EstimatedUSD and BudgetUSD (0: none) are
	// the totals, in this order: the first non-zero one is the headline.
	ActualUSD    float64    `json:"actual_usd,omitempty"`
	EstimatedUSD float64    `json:"estimated_usd"`
	BudgetUSD    float64    `json:"budget_usd,omitempty"`
	Estimate     *Breakdown `json:"estimate"`
	Actual       *Breakdown `json:"actual,omitempty"`
	Assumptions  []string   `json:"assumptions"`

	// tasks are the plan's tasks (for the guard); not reported.
	tasks []shard.Task
	opts  Options
}

// Estimate prices p before it runs.
func Estimate(p *plan.Plan, prices *Prices, opts Options) (*Cost, error) {
	o := opts.withDefaults()
	if opts.Lead <= 0 && o.Backend == orchestrator.BackendAWS {
		o.Lead = orchestrator.LeadAWS(p) // what the run will use
		if o.Dispatch == orchestrator.DispatchBurst {
			o.Lead = orchestrator.LeadBurst(p)
		}
	}
	seed := max(p.Seed, 1)
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tasks, err := orchestrator.Split(p, "estimate", epoch, seed)
	if err != nil {
		return nil, fmt.Errorf("estimate: %w", err)
	}
	tr, err := planTraffic(p.Engine, o.Response, seed)
	if err != nil {
		return nil, fmt.Errorf("estimate: %w", err)
	}
	mem := memoryMB(p)
	drain := min(o.Response, engineGraceOf(p))
	totalGens := 0
	for _, r := range p.Regions {
		totalGens += r.Generators
	}
	wall := o.Lead + p.Engine.Duration + drain + o.ResultWrite
	polls := int64(math.Ceil(wall.Seconds()/o.PollEvery.Seconds())) + 1
	var usage []RegionUsage
	for ri, r := range p.Regions {
		var u Usage
		var bodies []int
		var running time.Duration  // task-seconds of engine time in the region
		bySlice := map[int][]int{} // bodies by slice
		for i := range tasks {
			t := &tasks[i]
			if t.Region != r.Name {
				continue
			}
			w := t.Config.Window
			u.AddInvocation(o.Lead+(w.End-w.Start)+drain+o.ResultWrite, mem)
			body, err := shard.EncodeTask(t)
			if err != nil {
				return nil, fmt.Errorf("estimate: %w", err)
			}
			bodies = append(bodies, len(body))
			bySlice[t.Slice] = append(bySlice[t.Slice], len(body))
			running += w.End - w.Start + drain
			// lease, checkpoints, final result
			u.S3Puts += 2 + int64((w.End-w.Start)/orchestrator.SnapshotEvery)
			// stop-marker reads from the lease to the end of the engine
			u.S3Gets += 1 + int64((o.Lead+w.End-w.Start+drain)/StopPoll)
		}
		n := len(bodies)
		u.SQSSends = waveSends(bySlice)
		if o.Dispatch == orchestrator.DispatchBurst {
			// one Invoke per task; each invocation receives its own
			// message (one request per 64 KB chunk) and deletes it
			u.InvokesAccepted, u.InvokeAttempts = int64(n), int64(n)
			for _, b := range bodies {
				u.SQSReceives += SQSRequests(b)
			}
			u.SQSDeletes = int64(n)
		} else {
			u.SQSReceives = int64((n+SQSBatch-1)/SQSBatch) + int64(math.Ceil(wall.Minutes()*float64(o.ReceivesPerMinute)))
			u.SQSDeletes = int64((n + SQSBatch - 1) / SQSBatch)
		}
		// the orchestrator: leases, results and checkpoints listed every
		// poll; each final result read once while watching and once when
		// collecting; running checkpoints read every SnapshotEvery.
		if o.Unwatched {
			u.S3Lists = polls*2*ListRequests(n) + ListRequests(n)
			u.S3Gets += int64(n)
		} else {
			u.S3Lists = polls*3*ListRequests(n) + ListRequests(n)
			u.S3Gets += 2*int64(n) + int64(running/max(orchestrator.SnapshotEvery, o.PollEvery))
		}
		if ri == 0 { // run-level objects live in the home region's bucket
			u.S3Puts++ // the manifest
			u.S3Gets++ // read back when collecting
			// the stop marker, read every poll and once when collecting
			u.S3Gets += polls + 1
		}
		share := float64(r.Generators) / float64(totalGens)
		u.Requests = int64(math.Round(tr.requests * share))
		u.BytesOut = int64(math.Round(tr.bytes * share))
		u.LogBytes = int64(n) * o.LogBytes
		usage = append(usage, RegionUsage{Region: r.Name, Usage: u})
	}
	est := Price(usage, prices, o.Arch)
	c := &Cost{
		Backend: o.Backend, Arch: o.Arch, MemoryMB: mem,
		Prices: prices.Source, PricesDate: prices.Date,
		BudgetUSD: p.Budget.MaxUSD, EstimatedUSD: round(est.TotalUSD, 6), Estimate: est,
		tasks: tasks, opts: o,
	}
	c.Assumptions = assumptions(p, prices, o, tr, drain)
	return c, nil
}

// assumptions says what the estimate takes for granted.
func assumptions(p *plan.Plan, prices *Prices, o Options, tr traffic, drain time.Duration) []string {
	a := []string{
		fmt.Sprintf("prices: %s table of %s; local and AWS runs are priced as Lambda %s with %d MB", prices.DefaultRegion, prices.Date, o.Arch, memoryMB(p)),
		fmt.Sprintf("each generator is invoked when its task is sent and waits the %s lead, runs its window, drains for %s and writes its result in %s (billed per invocation, rounded up to 1 ms)", o.Lead, drain, o.ResultWrite),
		fmt.Sprintf("%.0f iterations, %.0f requests, %.0f bytes sent (HTTP layer; TCP/TLS overhead and responses, which are inbound and free, not counted)", tr.iterations, tr.requests, tr.bytes),
		fmt.Sprintf("every step rendered once with a seeded scope; captured values taken as %d bytes; a polling step takes all its tries; setup steps not counted", CapturedValueBytes),
		dispatchAssumption(o),
		fmt.Sprintf("S3: per task a lease, a checkpoint every %s, a final result and a stop-marker read every %s; %s; the orchestrator reads the stop marker every poll", orchestrator.SnapshotEvery, StopPoll, watching(o)),
		fmt.Sprintf("CloudWatch Logs: %d KB per invocation; no free tier, no stop marker", o.LogBytes>>10),
	}
	if p.Engine.Load.Model == "closed" {
		a = append(a, fmt.Sprintf("closed model: each request takes %s, so an iteration takes %s", o.Response, tr.iterTime.Round(time.Millisecond)))
	}
	for _, r := range p.Regions {
		if _, as := prices.Region(r.Name); as != r.Name {
			a = append(a, fmt.Sprintf("region %s is priced as %s", r.Name, as))
		}
	}
	return a
}

// dispatchAssumption says how the generators start and what SQS and
// Lambda requests that takes.
func dispatchAssumption(o Options) string {
	if o.Dispatch == orchestrator.DispatchBurst {
		return fmt.Sprintf("dispatch: burst, load starts %s after dispatch — tasks sent to the burst queue in batches of %d (one request per 64 KB chunk of a batch); "+
			"one asynchronous Lambda Invoke per task (a billed request; a throttled 429 attempt is not billed); each invocation receives its task with one ReceiveMessage "+
			"and deletes it with one DeleteMessage; an invocation that finds no message is billed its %s long poll; no event source reads the burst queue "+
			"(the task queue's idle polling is the stack's standing cost)", o.Lead, SQSBatch, BurstWait)
	}
	return fmt.Sprintf("dispatch: sqs, load starts %s after dispatch — tasks sent in batches of %d (one request per 64 KB chunk of a batch); the event source mapping receives and deletes in batches of %d and long-polls %d times a minute per queue while the run goes",
		o.Lead, SQSBatch, SQSBatch, o.ReceivesPerMinute)
}

func memoryMB(p *plan.Plan) int {
	if p.MemoryMB > 0 {
		return p.MemoryMB
	}
	return DefaultMemoryMB
}

// engineGraceOf is the engine's grace after a window: Grace, else the
// request timeout, else 30 s.
func engineGraceOf(p *plan.Plan) time.Duration {
	switch {
	case p.Engine.Grace > 0:
		return p.Engine.Grace
	case p.Engine.Defaults.Timeout > 0:
		return p.Engine.Defaults.Timeout
	}
	return 30 * time.Second
}

func watching(o Options) string {
	if o.Unwatched {
		return fmt.Sprintf("the orchestrator lists leases and results every %s per region and reads each result once", o.PollEvery)
	}
	return fmt.Sprintf("the orchestrator lists leases, results and checkpoints every %s per region, reads running checkpoints every %s and each result twice", o.PollEvery, orchestrator.SnapshotEvery)
}
