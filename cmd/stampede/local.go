package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/functions/local"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// localBackend runs every region's generators as goroutines of this
// process, fed by one in-process queue per region, writing to a directory.
type localBackend struct {
	backend orchestrator.Backend
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// startLocal starts the generators for p with results under root. They
// keep running until close: they must outlive a canceled run long enough
// to see the stop marker and write what they measured.
func startLocal(ctx context.Context, p *plan.Plan, root string, logw io.Writer) *localBackend {
	store := dirstore.New(root)
	h := &generator.Handler{Store: store, Quiet: true, Logf: func(format string, args ...any) {
		if logw != nil {
			fmt.Fprintf(logw, format+"\n", args...)
		}
	}}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	lb := &localBackend{
		// Checkpoints cost nothing here: write one every second, so that
		// progress is fresh.
		backend: orchestrator.Backend{Name: "local", Queues: map[string]orchestrator.Queue{}, Store: store, CheckpointEvery: time.Second},
		stop:    stop,
	}
	slices := len(orchestrator.SliceWindows(p.Engine.Duration, p.Slice))
	// A delivery stays invisible for a whole slice and then some: a task
	// that still runs is not handed to a second worker.
	visibility := max(p.Slice, p.Engine.Duration) + time.Minute
	for _, r := range p.Regions {
		q := memqueue.New(visibility)
		lb.backend.Queues[r.Name] = q
		// Every task of the region waits in its own worker, as Lambda's
		// concurrency would provide.
		workers := r.Generators * max(slices, 1)
		lb.wg.Go(func() { local.Start(wctx, q, h, workers) })
	}
	return lb
}

// close stops the generators and waits until every one has returned.
func (lb *localBackend) close() {
	lb.stop()
	lb.wg.Wait()
}
