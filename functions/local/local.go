package local

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
)

// Region is the awsRegion the local events carry.
const Region = "local"

// Start runs concurrency workers; each receives one message at a time from
// q, calls h.Handle with a one-record event (BatchSize 1) and deletes the
// message unless the handler reported it failed (it is then delivered again
// after the queue's visibility timeout). Start blocks until ctx is done and
// every worker has returned; a worker running a task lets the handler
// finish it (the handler stops the engine and writes its result when ctx is
// canceled).
//
// concurrency must be at least the number of tasks in the queue so that
// every slice's task is already waiting when its window starts (as
// Lambda's concurrency would provide).
func Start(ctx context.Context, q *memqueue.Queue, h *generator.Handler, concurrency int) {
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Go(func() { serve(ctx, q, h) })
	}
	wg.Wait()
}

func serve(ctx context.Context, q *memqueue.Queue, h *generator.Handler) {
	for {
		msgs, err := q.Receive(ctx, 1)
		if err != nil {
			return // only when ctx is done
		}
		for _, m := range msgs {
			resp, err := h.Handle(ctx, Event(m))
			if err != nil || len(resp.BatchItemFailures) > 0 {
				continue // left for redelivery
			}
			// A failed delete (the visibility timeout passed and the
			// message went out again) is harmless: the lease makes the
			// second delivery a no-op.
			_ = q.Delete(context.WithoutCancel(ctx), m.Receipt)
		}
	}
}

// Event builds the SQS event Lambda would deliver for m.
func Event(m memqueue.Message) events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{{
		MessageId:     m.ID,
		ReceiptHandle: m.Receipt,
		Body:          string(m.Body),
		EventSource:   "aws:sqs",
		AWSRegion:     Region,
		Attributes: map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount),
			"SentTimestamp":           strconv.FormatInt(m.Sent.UnixMilli(), 10),
		},
	}}}
}
