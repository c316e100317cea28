package queuetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Message is one delivery, as the suite sees it.
type Message struct {
	Body         []byte
	Receipt      string
	ReceiveCount int
}

// Queue is what the suite exercises.
type Queue interface {
	Send(ctx context.Context, bodies [][]byte) error
	// Receive returns up to max visible messages. It may wait for messages
	// (long polling) and may return none; when ctx is done it returns
	// promptly (an error or no messages).
	Receive(ctx context.Context, max int) ([]Message, error)
	Delete(ctx context.Context, receipt string) error
}

// Visibility is the visibility timeout the suite asks newQueue for.
const Visibility = time.Second

// Run runs the suite; newQueue returns an empty queue whose visibility
// timeout is visibility.
func Run(t *testing.T, newQueue func(t *testing.T, visibility time.Duration) Queue) {
	tests := []struct {
		name string
		fn   func(t *testing.T, q Queue)
	}{
		{"SendReceiveDelete", testSendReceiveDelete},
		{"Redelivery", testRedelivery},
		{"ConcurrentReceivers", testConcurrentReceivers},
		{"ReceiveWaits", testReceiveWaits},
		{"LargeBody", testLargeBody},
		{"ReceiveCanceled", testReceiveCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newQueue(t, Visibility)) })
	}
}

func bodies(n int, tag string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"tag":%q,"i":%d}`, tag, i)
	}
	return out
}

// receive collects messages until it has want of them or within passes.
func receive(t *testing.T, q Queue, want int, within time.Duration) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []Message
	for len(got) < want && ctx.Err() == nil {
		msgs, err := q.Receive(ctx, min(10, want-len(got)))
		if err != nil && ctx.Err() == nil {
			t.Fatalf("Receive: %v", err)
		}
		got = append(got, msgs...)
	}
	return got
}

func send(t *testing.T, q Queue, b [][]byte) {
	t.Helper()
	if err := q.Send(context.Background(), b); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func del(t *testing.T, q Queue, m Message) {
	t.Helper()
	if err := q.Delete(context.Background(), m.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func testSendReceiveDelete(t *testing.T, q Queue) {
	sent := bodies(25, "srd")
	send(t, q, sent)
	got := receive(t, q, len(sent), 10*time.Second)
	seen := map[string]bool{}
	for _, m := range got {
		if seen[string(m.Body)] {
			t.Errorf("body %s delivered twice", m.Body)
		}
		seen[string(m.Body)] = true
		if m.ReceiveCount != 1 {
			t.Errorf("ReceiveCount = %d, want 1", m.ReceiveCount)
		}
		del(t, q, m)
	}
	for _, b := range sent {
		if !seen[string(b)] {
			t.Errorf("body %s never delivered", b)
		}
	}
	if extra := receive(t, q, 1, Visibility+500*time.Millisecond); len(extra) != 0 {
		t.Errorf("deleted message delivered again: %s", extra[0].Body)
	}
}

func testRedelivery(t *testing.T, q Queue) {
	send(t, q, [][]byte{[]byte("again")})
	first := receive(t, q, 1, 5*time.Second)
	if len(first) != 1 || string(first[0].Body) != "again" || first[0].ReceiveCount != 1 {
		t.Fatalf("first receive = %+v, want body \"again\" count 1", first)
	}
	if hidden := receive(t, q, 1, Visibility/3); len(hidden) != 0 {
		t.Fatalf("message visible again before its visibility timeout")
	}
	second := receive(t, q, 1, Visibility+5*time.Second)
	if len(second) != 1 || string(second[0].Body) != "again" || second[0].ReceiveCount != 2 {
		t.Fatalf("second receive = %+v, want body \"again\" count 2", second)
	}
	del(t, q, second[0])
	if extra := receive(t, q, 1, Visibility+500*time.Millisecond); len(extra) != 0 {
		t.Errorf("deleted message delivered again")
	}
}

func testConcurrentReceivers(t *testing.T, q Queue) {
	sent := bodies(60, "conc")
	send(t, q, sent)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				msgs, _ := q.Receive(ctx, 3)
				for _, m := range msgs {
					mu.Lock()
					seen[string(m.Body)]++
					done := len(seen) == len(sent)
					mu.Unlock()
					if err := q.Delete(context.Background(), m.Receipt); err != nil {
						t.Errorf("Delete: %v", err)
					}
					if done {
						cancel()
					}
				}
			}
		})
	}
	wg.Wait()
	for _, b := range sent {
		if seen[string(b)] != 1 {
			t.Errorf("body %s delivered %d times, want 1", b, seen[string(b)])
		}
	}
}

func testReceiveWaits(t *testing.T, q Queue) {
	got := make(chan []Message, 1)
	go func() { got <- receive(t, q, 1, 5*time.Second) }()
	time.Sleep(100 * time.Millisecond)
	send(t, q, [][]byte{[]byte("late")})
	select {
	case msgs := <-got:
		if len(msgs) != 1 || string(msgs[0].Body) != "late" {
			t.Fatalf("receive = %+v, want the message sent while waiting", msgs)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("Receive did not return the message sent while it waited")
	}
}

func testLargeBody(t *testing.T, q Queue) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16) // 200 KiB, under SQS's 256 KiB
	send(t, q, [][]byte{big})
	got := receive(t, q, 1, 5*time.Second)
	if len(got) != 1 || !bytes.Equal(got[0].Body, big) {
		t.Fatalf("large body not received intact")
	}
	del(t, q, got[0])
}

func testReceiveCanceled(t *testing.T, q Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Receive(ctx, 1)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Receive did not return within 2s of its context being canceled")
	}
}
