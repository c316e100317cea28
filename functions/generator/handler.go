package generator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Defaults of the Handler's options.
const (
	DefaultStopPoll = time.Second
	DefaultReserve  = 5 * time.Second
	DefaultSlack    = 5 * time.Second
	DefaultRetries  = 4
	// defaultEngineGrace is the engine's own default grace (the default
	// request timeout) when the task sets neither Grace nor a timeout.
	defaultEngineGrace = 30 * time.Second
	firstBackoff       = 200 * time.Millisecond
)

// Handler runs shard tasks. Its zero options take the defaults; Store is
// required. Safe for concurrent use.
type Handler struct {
	Store shard.Store
	// Logf logs what happened to each record (log.Printf when nil); it is
	// called from concurrent goroutines. It never receives Env values.
	Logf func(format string, args ...any)
	// Quiet drops the routine lines (a task done, a duplicate delivery
	// skipped) and keeps the problems: the local backend sets it, since its
	// generators share the CLI's terminal.
	Quiet bool
	// StopPoll is how often the stop marker is read (DefaultStopPoll).
	StopPoll time.Duration
	// Reserve is the time kept before the invocation's deadline to write
	// the final result (DefaultReserve). The engine is stopped Reserve plus
	// its grace before the deadline.
	Reserve time.Duration
	// Slack is how long past its window's end plus the engine's grace a
	// generator still waits for the engine before it cancels it
	// (DefaultSlack).
	Slack time.Duration
	// Retries is how many times the final result's write is retried with
	// exponential backoff from 200ms (DefaultRetries).
	Retries int
	// EngineOptions are passed to engine.Run.
	EngineOptions []engine.Option
	// Tasks is the burst queue that burst invocations take their task
	// from (nil: the function serves SQS events only).
	Tasks TaskQueue
	// BurstWait is how long a burst invocation waits for a message
	// (DefaultBurstWait); BurstMessages the most messages it takes while
	// looking for work (DefaultBurstMessages).
	BurstWait     time.Duration
	BurstMessages int
}

// Stop reasons recorded in Result.Stopped.
var (
	errStopMarker = errors.New("stop marker")
	errWindowOver = errors.New("window over: generator stopped the engine")
	errDeadline   = errors.New("invocation deadline")
)

// Handle runs every record's task concurrently and reports the records
// whose final result could not be written (or whose lease could not be
// taken) as batch item failures. It never returns an error: failures are
// per record.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ok := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i := range ev.Records {
		wg.Go(func() { ok[i] = h.record(ctx, &ev.Records[i]) })
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, done := range ok {
		if !done {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// record handles one message and reports whether it is done (deletable).
func (h *Handler) record(ctx context.Context, msg *events.SQSMessage) bool {
	t, leased, done := h.take(ctx, msg.MessageId, msg.Body)
	if t == nil {
		return done
	}
	written, _ := h.finish(ctx, t, leased)
	return written
}

// take decodes a message's task and leases it. It returns the task when
// this delivery took the lease (nil otherwise), and whether the message is
// done with: true for a poison message and for a task leased already,
// false when the lease could not be written (nothing ran; deliver again).
func (h *Handler) take(ctx context.Context, msgID, body string) (t *shard.Task, leased time.Time, done bool) {
	t, err := shard.DecodeTask([]byte(body))
	if err != nil {
		h.logf("generator: message %s: %v: dropped (poison message)", msgID, err)
		return nil, time.Time{}, true
	}
	name := t.Region + "/" + t.ID
	leased = time.Now()
	lease, err := json.Marshal(shard.Lease{TaskID: t.ID, Leased: leased, MessageID: msgID})
	if err != nil {
		h.logf("generator: %s: lease: %v", name, err)
		return nil, time.Time{}, false
	}
	err = h.Store.Create(ctx, shard.LeaseKey(t.RunID, t.Region, t.ID), lease)
	if errors.Is(err, shard.ErrExists) {
		h.infof("generator: %s: leased already (message %s delivered again): no work", name, msgID)
		return nil, time.Time{}, true
	}
	if err != nil {
		h.logf("generator: %s: lease: %v", name, err)
		return nil, time.Time{}, false
	}
	return t, leased, true
}

// finish runs the leased task t and writes its final result. It reports
// whether the result was written and whether the engine ran at all (false
// when the run was stopped or the window was over before it began).
func (h *Handler) finish(ctx context.Context, t *shard.Task, leased time.Time) (written, loaded bool) {
	name := t.Region + "/" + t.ID
	res, loaded := h.execute(ctx, t, leased)
	wrote := time.Now()
	if err := h.writeFinal(ctx, res); err != nil {
		h.logf("generator: %s: %v", name, err)
		return false, loaded
	}
	h.infof("generator: %s: done: engine ended %v after its window's end, result written in %v (stopped: %q, error: %q)", name,
		res.Ended.Sub(t.Config.Epoch.Add(t.Config.Window.End)).Round(time.Millisecond),
		time.Since(wrote).Round(time.Millisecond), res.Stopped, res.Error)
	return true, loaded
}

// execute runs the engine for t's window and returns the final result, and
// whether the engine ran (the window began before a stop).
func (h *Handler) execute(ctx context.Context, t *shard.Task, leased time.Time) (*shard.Result, bool) {
	cfg := t.Config
	runCtx, cancel := h.runContext(ctx, &cfg)
	defer cancel(nil)

	var wg sync.WaitGroup
	wg.Go(func() { h.watchStop(runCtx, t.RunID, cancel) })

	res := shard.NewResult(t)
	res.Final = true
	res.Leased = leased
	loaded := waitUntil(runCtx, cfg.Epoch.Add(cfg.Window.Start))
	if loaded {
		res.Started = time.Now()
		cp := newCheckpointer(ctx, h, t, leased, res.Started)
		snap, err := engine.Run(runCtx, cfg, append(h.EngineOptions, engine.WithProgress(cp.offer))...)
		cp.close()
		res.Snapshot = snap
		if err != nil {
			res.Error = err.Error()
		}
	} else {
		res.Started = time.Now() // stopped before the window began: no load
	}
	res.Ended = time.Now()
	if cause := context.Cause(runCtx); cause != nil {
		res.Stopped = cause.Error()
	}
	if res.Snapshot == nil && res.Error == "" {
		res.Snapshot = engine.NewSnapshot(cfg.Epoch, cfg.Interval)
	}
	cancel(nil)
	wg.Wait()
	return res, loaded
}

// runContext bounds the engine's run: the stop marker (through cancel),
// the window's end plus the engine's grace plus Slack, and the
// invocation's deadline minus Reserve minus the engine's grace (after a
// cancel, in-flight iterations still get the grace to finish, and the
// final result must be written before the invocation ends).
func (h *Handler) runContext(ctx context.Context, cfg *engine.Config) (context.Context, context.CancelCauseFunc) {
	grace := cfg.Grace
	if grace <= 0 {
		grace = cfg.Defaults.Timeout
	}
	if grace <= 0 {
		grace = defaultEngineGrace
	}
	hardStop := cfg.Epoch.Add(cfg.Window.End + grace + h.opt(h.Slack, DefaultSlack))
	c, cancelWindow := context.WithDeadlineCause(ctx, hardStop, errWindowOver)
	cancelDeadline := context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); ok {
		c, cancelDeadline = context.WithDeadlineCause(c, dl.Add(-h.opt(h.Reserve, DefaultReserve)-grace), errDeadline)
	}
	c, cancelCause := context.WithCancelCause(c)
	return c, func(cause error) {
		cancelCause(cause)
		cancelDeadline()
		cancelWindow()
	}
}

// watchStop cancels the run when the stop marker appears; it returns when
// ctx is done.
func (h *Handler) watchStop(ctx context.Context, runID string, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(h.opt(h.StopPoll, DefaultStopPoll))
	defer tick.Stop()
	for {
		body, err := h.Store.Get(ctx, shard.StopKey(runID))
		switch {
		case err == nil:
			cancel(fmt.Errorf("%w: %s", errStopMarker, body))
			return
		case !errors.Is(err, shard.ErrNotFound) && ctx.Err() == nil:
			h.logf("generator: run %s: read stop marker: %v", runID, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitUntil waits for t; it reports false if ctx ended first.
func waitUntil(ctx context.Context, t time.Time) bool {
	if d := time.Until(t); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
	}
	return ctx.Err() == nil
}

// writeFinal puts the final result, retrying with exponential backoff, within
// Reserve even when ctx is already canceled (the work is done: keep it).
func (h *Handler) writeFinal(ctx context.Context, res *shard.Result) error {
	data, err := shard.EncodeResult(res)
	if err != nil {
		return fmt.Errorf("write final result: %w", err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opt(h.Reserve, DefaultReserve))
	defer cancel()
	key := shard.ResultKey(res.RunID, res.Region, res.TaskID)
	tries := h.retry(wctx, func(int) bool {
		err = h.Store.Put(wctx, key, data)
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("write final result (%d tries): %w", tries, err)
	}
	return nil
}

// retries is how many times a write is tried again (DefaultRetries).
func (h *Handler) retries() int {
	if h.Retries > 0 {
		return h.Retries
	}
	return DefaultRetries
}

// retry calls try (with the number of this try, from 1) until it reports
// success, at most h.retries()+1 times, waiting firstBackoff, doubling,
// between tries. It returns the tries made: fewer when ctx ends a wait.
func (h *Handler) retry(ctx context.Context, try func(n int) bool) (tries int) {
	backoff := firstBackoff
	for {
		tries++
		if try(tries) || tries > h.retries() || !waitUntil(ctx, time.Now().Add(backoff)) {
			return tries
		}
		backoff *= 2
	}
}

func (h *Handler) opt(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// infof logs a routine line unless the handler is Quiet.
func (h *Handler) infof(format string, args ...any) {
	if !h.Quiet {
		h.logf(format, args...)
	}
}

func (h *Handler) logf(format string, args ...any) {
	if h.Logf != nil {
		h.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}
