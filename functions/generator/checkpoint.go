package generator

import (
	"context"
	"sync"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// checkpointer writes a task's progress snapshots. offer runs on the
// engine's goroutine: it encodes the snapshot and hands the bytes to the
// writer goroutine, replacing any checkpoint not yet written, so that a slow
// store never blocks the engine. close stops the writer and waits for it.
type checkpointer struct {
	ctx    context.Context
	h      *Handler
	key    string
	base   shard.Result
	latest chan []byte // capacity 1: the newest unwritten checkpoint
	done   chan struct{}
	wg     sync.WaitGroup
}

func newCheckpointer(ctx context.Context, h *Handler, t *shard.Task, leased, started time.Time) *checkpointer {
	c := &checkpointer{
		ctx:    ctx,
		h:      h,
		key:    shard.CheckpointKey(t.RunID, t.Region, t.ID),
		base:   *shard.NewResult(t),
		latest: make(chan []byte, 1),
		done:   make(chan struct{}),
	}
	c.base.Leased = leased
	c.base.Started = started
	c.wg.Go(c.write)
	return c
}

// offer encodes s as the task's latest checkpoint.
func (c *checkpointer) offer(s *engine.Snapshot) {
	r := c.base
	r.Ended = time.Now()
	r.Snapshot = s
	data, err := shard.EncodeResult(&r)
	if err != nil {
		c.h.logf("generator: checkpoint %s: %v", c.key, err)
		return
	}
	for {
		select {
		case c.latest <- data:
			return
		default:
		}
		select {
		case <-c.latest: // drop the older checkpoint
		default:
		}
	}
}

func (c *checkpointer) write() {
	for {
		select {
		case <-c.done:
			return
		case data := <-c.latest:
			if err := c.h.Store.Put(c.ctx, c.key, data); err != nil {
				c.h.logf("generator: checkpoint: %v", err)
			}
		}
	}
}

// close stops the writer (a pending checkpoint is dropped: the final
// result supersedes it) and waits for a write in progress.
func (c *checkpointer) close() {
	close(c.done)
	c.wg.Wait()
}
