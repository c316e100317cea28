package generator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Defaults of the burst path.
const (
	// DefaultBurstWait is how long a burst invocation long-polls its queue
	// for a task before it concludes there is none for it.
	DefaultBurstWait = shard.BurstWait
	// DefaultBurstMessages is the most messages one burst invocation takes
	// while looking for a task with work in it.
	DefaultBurstMessages = 10
)

// Event is what the generator function is invoked with: an SQS event from
// the task queue's event source mapping (Records), or a burst invocation
// (Burst, under shard.BurstKey), sent directly by the orchestrator.
type Event struct {
	Records []events.SQSMessage `json:"Records,omitempty"`
	Burst   *shard.Burst        `json:"stampede_burst,omitempty"`
}

// Response is the function's answer. The event source mapping reads
// batchItemFailures; a burst invocation also says what it did (nobody
// waits for it, but it shows in the logs and in synchronous test invokes).
type Response struct {
	events.SQSEventResponse
	Burst *BurstOutcome `json:"stampede_burst,omitempty"`
}

// BurstOutcome is what one burst invocation did.
type BurstOutcome struct {
	// Task is the "<region>/<task-id>" it ran ("" if none).
	Task string `json:"task,omitempty"`
	// Skipped counts the messages it took that had no work for it: a
	// task leased already, a poison message, a task over before it began.
	Skipped int `json:"skipped"`
	// Empty is true when the queue had no message for it (a duplicate
	// invocation, or its task was taken by another invocation).
	Empty bool `json:"empty"`
}

// TaskQueue is the burst queue: where a burst invocation takes its task.
// cmd/generator wires the SQS adapter to it. Safe for concurrent use.
type TaskQueue interface {
	// Receive returns one message, waiting up to wait for it; ok is false
	// when none came.
	Receive(ctx context.Context, wait time.Duration) (m Message, ok bool, err error)
	// Delete removes the message delivered with receipt.
	Delete(ctx context.Context, receipt string) error
}

// Message is one delivery of a task message from a TaskQueue.
type Message struct {
	ID      string
	Receipt string
	Body    []byte
}

// takeBurst leases m's task as take does, trying again with backoff when
// the lease cannot be written (h.retry), and says how many tries it made
// (fewer than Retries+1 when ctx ends first). A retry that finds the lease
// taken checks whose it is: an earlier try may have written it and lost
// the answer, and then the task is this invocation's.
func (h *Handler) takeBurst(ctx context.Context, m Message) (t *shard.Task, leased time.Time, done bool, tries int) {
	tries = h.retry(ctx, func(try int) bool {
		t, leased, done = h.take(ctx, m.ID, string(m.Body))
		if done && t == nil && try > 1 {
			if mine, at := h.ownLease(ctx, m); mine != nil {
				t, leased = mine, at
			}
		}
		return done
	})
	return t, leased, done, tries
}

// ownLease returns m's task and its lease time when the task's lease names
// m (nil otherwise).
func (h *Handler) ownLease(ctx context.Context, m Message) (*shard.Task, time.Time) {
	t, err := shard.DecodeTask(m.Body)
	if err != nil {
		return nil, time.Time{}
	}
	data, err := h.Store.Get(ctx, shard.LeaseKey(t.RunID, t.Region, t.ID))
	if err != nil {
		return nil, time.Time{}
	}
	var l shard.Lease
	if json.Unmarshal(data, &l) != nil || l.MessageID != m.ID || l.TaskID != t.ID {
		return nil, time.Time{}
	}
	return t, l.Leased
}

// ErrUnknownEvent is returned for a payload that is neither an SQS event
// nor a burst invocation.
var ErrUnknownEvent = errors.New("generator: event has neither Records (SQS) nor " + shard.BurstKey)

// Invoke serves both event shapes; it is what cmd/generator hands to
// lambda.Start. An SQS event (a "Records" list, empty or not) goes to
// Handle; a burst invocation takes its task from Tasks (see burst).
func (h *Handler) Invoke(ctx context.Context, ev Event) (Response, error) {
	switch {
	case ev.Burst != nil && len(ev.Records) == 0:
		out, err := h.burst(ctx, ev.Burst)
		return Response{Burst: out}, err
	case ev.Records != nil: // an SQS event, even one with no records
		resp, err := h.Handle(ctx, events.SQSEvent{Records: ev.Records})
		return Response{SQSEventResponse: resp}, err
	}
	return Response{}, ErrUnknownEvent
}

// burst serves one burst invocation: it receives a message from the burst
// queue, leases its task (exactly once, as the SQS path does), deletes the
// message as soon as the lease is decided, and runs the task. A message
// with no work for it (leased already, poison, stopped or over before its
// window) is deleted and the next one taken, up to BurstMessages, so that
// stale or duplicated messages never cost a fresh task its generator. No
// message within BurstWait means there is nothing to do: a duplicate
// invocation ends here.
//
// The message is deleted right after the lease, not after the result:
// with no event source mapping behind the burst queue, nobody would ever
// deliver it again, and a redelivery would find the lease anyway. A lease
// that cannot be written (a store error) is tried again Retries times with
// backoff from 200 ms (about 3 s: well within the lead); if it still fails
// nothing ran, the message is deleted too (it would stay invisible for the
// queue's visibility timeout, long past the window), and the orchestrator,
// which finds no lease for the task at its window's start, sends it again
// with one more invocation (orchestrator.Run).
func (h *Handler) burst(ctx context.Context, b *shard.Burst) (*BurstOutcome, error) {
	out := &BurstOutcome{}
	if h.Tasks == nil {
		return out, errors.New("generator: a burst invocation, but no burst queue is configured (BURST_QUEUE_URL)")
	}
	from := fmt.Sprintf("burst invocation (run %s %s slice %d)", b.RunID, b.Region, b.Slice)
	messages := h.BurstMessages
	if messages <= 0 {
		messages = DefaultBurstMessages
	}
	for range messages {
		m, ok, err := h.Tasks.Receive(ctx, h.opt(h.BurstWait, DefaultBurstWait))
		if err != nil {
			return out, fmt.Errorf("generator: %s: receive: %w", from, err)
		}
		if !ok {
			out.Empty = true
			h.infof("generator: %s: no task in the burst queue after %v: nothing to do", from, h.opt(h.BurstWait, DefaultBurstWait))
			return out, nil
		}
		t, leased, done, tries := h.takeBurst(ctx, m)
		if err := h.Tasks.Delete(context.WithoutCancel(ctx), m.Receipt); err != nil {
			// Harmless: a redelivery finds the lease and does no work.
			h.logf("generator: %s: delete message %s: %v", from, m.ID, err)
		}
		if !done {
			return out, fmt.Errorf("generator: %s: message %s: lease not written after %d tries; message deleted, the orchestrator dispatches the task again at its window's start", from, m.ID, tries)
		}
		if t == nil {
			out.Skipped++
			continue
		}
		written, loaded := h.finish(ctx, t, leased)
		if !loaded {
			out.Skipped++ // stopped or over before its window: look for more
			continue
		}
		out.Task = t.Region + "/" + t.ID
		if !written {
			return out, fmt.Errorf("generator: %s: %s: final result not written", from, out.Task)
		}
		return out, nil
	}
	return out, nil
}
