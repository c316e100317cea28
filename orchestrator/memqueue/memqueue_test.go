package memqueue_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/queuetest"
)

type adapter struct{ q *memqueue.Queue }

func (a adapter) Send(ctx context.Context, b [][]byte) error { return a.q.Send(ctx, b) }
func (a adapter) Delete(ctx context.Context, r string) error { return a.q.Delete(ctx, r) }
func (a adapter) Receive(ctx context.Context, n int) ([]queuetest.Message, error) {
	msgs, err := a.q.Receive(ctx, n)
	out := make([]queuetest.Message, len(msgs))
	for i, m := range msgs {
		out[i] = queuetest.Message{Body: m.Body, Receipt: m.Receipt, ReceiveCount: m.ReceiveCount}
	}
	return out, err
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, vis time.Duration) queuetest.Queue {
		return adapter{memqueue.New(vis)}
	})
}

// TestRedeliveryTiming checks the visibility timeout to the nanosecond.
func TestRedeliveryTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := memqueue.New(30 * time.Second)
		if err := q.Send(ctx, [][]byte{[]byte("a"), []byte("b")}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		first, err := q.Receive(ctx, 10)
		if err != nil || len(first) != 2 {
			t.Fatalf("Receive = %d messages, %v; want 2", len(first), err)
		}
		if err := q.Delete(ctx, first[0].Receipt); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		again, err := q.Receive(ctx, 10)
		if err != nil || len(again) != 1 || string(again[0].Body) != "b" || again[0].ReceiveCount != 2 {
			t.Fatalf("Receive = %+v, %v; want b again, count 2", again, err)
		}
		if waited := time.Since(start); waited != 30*time.Second {
			t.Errorf("redelivered after %v, want 30s", waited)
		}
		if err := q.Delete(ctx, first[1].Receipt); !errors.Is(err, memqueue.ErrReceipt) {
			t.Errorf("Delete(stale receipt) = %v, want ErrReceipt", err)
		}
		if err := q.Delete(ctx, again[0].Receipt); err != nil {
			t.Errorf("Delete: %v", err)
		}
		if q.Len() != 0 {
			t.Errorf("Len = %d after deleting everything, want 0", q.Len())
		}
	})
}
