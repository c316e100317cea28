package chaos

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/functions/local"
	"github.com/stampede-load/stampede/internal/syncbuf"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// localRig is the local backend as `stampede run` builds it — one
// in-process queue per region, a directory store, generator goroutines
// running the real handler — with the knobs the chaos scenarios turn.
type localRig struct {
	// Visibility is the queues' visibility timeout: shorter than a task's
	// run, it makes the queue deliver every running task again.
	Visibility time.Duration
	// Duplicate sends every task message twice.
	Duplicate bool
	// Gen is the store the generators write through (the orchestrator
	// reads the directory directly); nil: the directory itself.
	Gen *FaultStore
	// Kill, if set, kills that task's generator at that offset from the
	// run's epoch: its context is cancelled and every write it makes
	// from then on fails, as if its process died.
	Kill     *kill
	PollStop time.Duration // the handler's stop-marker poll (default)

	root  string
	store *dirstore.Store
	log   syncbuf.Buffer

	mu         sync.Mutex
	deliveries map[string]int // per task "<region>/<id>"
	sent       atomic.Int64   // task messages sent
}

// kill is a generator to kill mid-slice.
type kill struct {
	Task   string        // "g0001-s00"
	At     time.Duration // after the epoch
	killed atomic.Int64  // unix nanos of the kill (0: not yet)
}

func newLocalRig(t testing.TB) *localRig {
	root := t.TempDir()
	return &localRig{root: root, store: dirstore.New(root), deliveries: map[string]int{}}
}

// run runs p on the rig and returns the result; the generators stop when
// it returns.
func (rg *localRig) run(t testing.TB, p *plan.Plan, opts orchestrator.Options) *orchestrator.Result {
	t.Helper()
	vis := rg.Visibility
	if vis <= 0 {
		vis = p.Slice + p.Engine.Duration + time.Minute // as the CLI's local backend
	}
	b := orchestrator.Backend{Name: orchestrator.BackendLocal, Queues: map[string]orchestrator.Queue{}, Store: rg.store, CheckpointEvery: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tasks := 0
	slices := len(orchestrator.SliceWindows(p.Engine.Duration, p.Slice))
	for _, r := range p.Regions {
		q := memqueue.New(vis)
		b.Queues[r.Name] = &sender{q: q, rig: rg}
		n := r.Generators * slices
		tasks += n
		for range 3 * n { // a worker for each task and its redeliveries
			wg.Go(func() { rg.serve(ctx, q) })
		}
	}
	if opts.PollEvery == 0 {
		opts.PollEvery = 200 * time.Millisecond
	}
	res, err := orchestrator.Run(context.Background(), p, b, opts)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("run: %v\ngenerator log:\n%s", err, rg.log.String())
	}
	return res
}

// sender is a region's queue as the orchestrator sees it.
type sender struct {
	q   *memqueue.Queue
	rig *localRig
}

func (s *sender) Send(ctx context.Context, bodies [][]byte) error {
	s.rig.sent.Add(int64(len(bodies)))
	if s.rig.Duplicate {
		bodies = append(bodies[:len(bodies):len(bodies)], bodies...)
	}
	return s.q.Send(ctx, bodies)
}

// serve is one generator worker, as functions/local's: receive one
// message, handle it, delete it unless the handler reported it failed.
func (rg *localRig) serve(ctx context.Context, q *memqueue.Queue) {
	for {
		msgs, err := q.Receive(ctx, 1)
		if err != nil {
			return
		}
		m := msgs[0]
		h := &generator.Handler{Store: rg.genStore(), Quiet: true, Logf: rg.log.Logf, StopPoll: rg.PollStop}
		hctx := ctx
		var timer *time.Timer
		if task, err := shard.DecodeTask(m.Body); err == nil {
			rg.mu.Lock()
			rg.deliveries[task.Region+"/"+task.ID]++
			rg.mu.Unlock()
			if k := rg.Kill; k != nil && k.Task == task.ID && m.ReceiveCount == 1 {
				var stop context.CancelFunc
				hctx, stop = context.WithCancel(ctx)
				dead := NewFaultStore(h.Store)
				h.Store = dead
				timer = time.AfterFunc(time.Until(task.Config.Epoch.Add(k.At)), func() {
					dead.AddRule(StoreRule{Name: "dead", Op: OpPut})
					dead.AddRule(StoreRule{Name: "dead", Op: OpCreate})
					k.killed.Store(time.Now().UnixNano())
					stop()
				})
			}
		}
		resp, _ := h.Handle(hctx, local.Event(m))
		if timer != nil {
			timer.Stop()
		}
		if len(resp.BatchItemFailures) == 0 {
			_ = q.Delete(context.WithoutCancel(ctx), m.Receipt) // a stale receipt: delivered again meanwhile
		}
	}
}

func (rg *localRig) genStore() shard.Store {
	if rg.Gen != nil {
		return rg.Gen
	}
	return rg.store
}

// Deliveries is how many times the tasks were delivered in all.
func (rg *localRig) Deliveries() int {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	n := 0
	for _, d := range rg.deliveries {
		n += d
	}
	return n
}

// localPlan parses src with the token in the environment, aimed at url.
func localPlan(t testing.TB, src, url string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("chaos.yaml", []byte(src), func(name string) (string, bool) { return token, name == envToken })
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	p.Engine.Target = url
	return p
}
