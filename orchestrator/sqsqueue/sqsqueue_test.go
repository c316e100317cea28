package sqsqueue_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/queuetest"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

var _ orchestrator.Queue = (*sqsqueue.Queue)(nil)

// pollWait is the long poll the conformance adapter asks for.
const pollWait = 2 * time.Second

type adapter struct{ q *sqsqueue.Queue }

func (a adapter) Send(ctx context.Context, b [][]byte) error { return a.q.Send(ctx, b) }
func (a adapter) Delete(ctx context.Context, r string) error { return a.q.Delete(ctx, r) }
func (a adapter) Receive(ctx context.Context, n int) ([]queuetest.Message, error) {
	msgs, err := a.q.Receive(ctx, n, pollWait)
	out := make([]queuetest.Message, len(msgs))
	for i, m := range msgs {
		out[i] = queuetest.Message{Body: m.Body, Receipt: m.Receipt, ReceiveCount: m.ReceiveCount}
	}
	return out, err
}

// server is one local-aws-sqs and a client for it.
type server struct {
	endpoint string
	client   *sqs.Client
}

func startServer(t *testing.T) server {
	ep := localaws.StartSQS(t)
	return server{endpoint: ep, client: localaws.NewSQSClient(localaws.Config(context.Background(), t, ep))}
}

// queue creates a fresh queue with a 30 s visibility timeout.
func (s server) queue(t *testing.T, opts ...sqsqueue.Option) *sqsqueue.Queue {
	return sqsqueue.New(s.client, localaws.CreateQueue(t, s.client, "sqsqueue"), opts...)
}

func TestConformance(t *testing.T) {
	srv := startServer(t)
	queuetest.Run(t, func(t *testing.T, vis time.Duration) queuetest.Queue {
		url := localaws.CreateQueueAttrs(t, srv.client, "conformance", map[string]string{
			"VisibilityTimeout": strconv.Itoa(int(vis / time.Second)),
		})
		return adapter{sqsqueue.New(srv.client, url)}
	})
}

// receiveAll receives and deletes until it has want messages or 10 s
// passed, and fails on any body delivered twice.
func receiveAll(t *testing.T, q *sqsqueue.Queue, want int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]int{}
	for n := 0; n < want && ctx.Err() == nil; {
		msgs, err := q.Receive(ctx, 10, time.Second)
		if err != nil && ctx.Err() == nil {
			t.Fatalf("Receive: %v", err)
		}
		for _, m := range msgs {
			seen[string(m.Body)]++
			n++
			if err := q.Delete(ctx, m.Receipt); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
	}
	for b, n := range seen {
		if n != 1 {
			t.Errorf("body %.40q delivered %d times, want 1", b, n)
		}
	}
	if len(seen) != want {
		t.Errorf("received %d distinct bodies, want %d", len(seen), want)
	}
	return seen
}

func bodies(n int, tag string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"tag":%q,"i":%d}`, tag, i)
	}
	return out
}

func TestAdapter(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()

	t.Run("Batches", func(t *testing.T) {
		t.Parallel()
		q := srv.queue(t)
		sent := bodies(25, "batches")
		if err := q.Send(ctx, sent); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := q.Ops().Sends; got != 3 {
			t.Errorf("Ops().Sends = %d, want 3 batches for 25 bodies", got)
		}
		seen := receiveAll(t, q, len(sent))
		for _, b := range sent {
			if seen[string(b)] != 1 {
				t.Errorf("body %s received %d times, want 1", b, seen[string(b)])
			}
		}
		ops := q.Ops()
		if ops.Deletes != 25 || ops.Receives < 3 || ops.Retries != 0 {
			t.Errorf("Ops = %+v, want 25 deletes, at least 3 receives, no retries", ops)
		}
	})

	t.Run("MaxBody", func(t *testing.T) {
		t.Parallel()
		q := srv.queue(t)
		big := bytes.Repeat([]byte("0123456789abcdef"), sqsqueue.MaxBodyBytes/16)
		if err := q.Send(ctx, [][]byte{big}); err != nil {
			t.Fatalf("Send(1 MiB): %v", err)
		}
		msgs, err := q.Receive(ctx, 1, 5*time.Second)
		if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0].Body, big) {
			t.Fatalf("Receive = %d messages, %v; want the 1 MiB body intact", len(msgs), err)
		}
		before := q.Ops().Sends
		err = q.Send(ctx, [][]byte{[]byte("ok"), append(big, 'x')})
		want := "body 1: 1048577 bytes, over the SQS limit of 1048576 bytes (1 MiB)"
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Fatalf("Send(1 MiB + 1) = %v, want an error containing %q", err, want)
		}
		if q.Ops().Sends != before {
			t.Errorf("Send of an oversized body made a request")
		}
	})

	t.Run("ConcurrentBatches", func(t *testing.T) {
		t.Parallel()
		q := srv.queue(t, sqsqueue.WithInFlight(4))
		sent := bodies(203, "many")
		if err := q.Send(ctx, sent); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := q.Ops().Sends; got != 21 {
			t.Errorf("Ops().Sends = %d, want 21 batches for 203 bodies", got)
		}
		receiveAll(t, q, len(sent))
	})
}
