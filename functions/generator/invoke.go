package generator

import (
	"context"
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
	DefaultBurstWait = 10 * time.Second
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

// ErrUnknownEvent is returned for a payload that is neither an SQS event
// nor a burst invocation.
var ErrUnknownEvent = errors.New("generator: event has neither Records (SQS) nor " + shard.BurstKey)

// Invoke serves both event shapes; it is what cmd/generator hands to
// lambda.Start. An SQS event goes to Handle; a burst invocation takes its
// task from Tasks (see burst).
func (h *Handler) Invoke(ctx context.Context, ev Event) (Response, error) {
	switch {
	case len(ev.Records) > 0:
		resp, err := h.Handle(ctx, events.SQSEvent{Records: ev.Records})
		return Response{SQSEventResponse: resp}, err
	case ev.Burst != nil:
		out, err := h.burst(ctx, ev.Burst)
		return Response{Burst: out}, err
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
// that could not be written leaves the message in the queue (nothing ran).
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
		t, leased, done := h.take(ctx, m.ID, string(m.Body))
		if !done {
			return out, fmt.Errorf("generator: %s: message %s: lease not written; left in the queue", from, m.ID)
		}
		if err := h.Tasks.Delete(context.WithoutCancel(ctx), m.Receipt); err != nil {
			// Harmless: a redelivery finds the lease and does no work.
			h.logf("generator: %s: delete message %s: %v", from, m.ID, err)
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
