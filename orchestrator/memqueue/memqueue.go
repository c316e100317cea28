package memqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// DefaultVisibility is the visibility timeout when New is given zero.
const DefaultVisibility = 30 * time.Second

// ErrReceipt is returned by Delete for a receipt that is not the latest of a
// message still in the queue (deleted already, or delivered again since).
var ErrReceipt = errors.New("memqueue: unknown or stale receipt")

// Message is one delivery of a message.
type Message struct {
	ID string
	// Receipt identifies this delivery; pass it to Delete.
	Receipt string
	Body    []byte
	// ReceiveCount is how many times the message has been delivered,
	// this delivery included (SQS's ApproximateReceiveCount).
	ReceiveCount int
	Sent         time.Time
}

type message struct {
	id        string
	body      []byte
	sent      time.Time
	count     int
	receipt   string
	visibleAt time.Time // while in flight
}

// Queue is an in-process queue. Safe for concurrent use. The zero value is
// not usable: call New.
type Queue struct {
	visibility time.Duration

	mu       sync.Mutex
	seq      int
	ready    []*message          // visible, in send order (redeliveries at the back)
	inflight map[string]*message // by receipt
	wake     chan struct{}       // closed and replaced when a message becomes ready
}

// New returns an empty queue whose received messages come back after
// visibility unless deleted (DefaultVisibility when zero).
func New(visibility time.Duration) *Queue {
	if visibility <= 0 {
		visibility = DefaultVisibility
	}
	return &Queue{visibility: visibility, inflight: map[string]*message{}, wake: make(chan struct{})}
}

// Send enqueues a copy of every body.
func (q *Queue) Send(ctx context.Context, bodies [][]byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: send %d messages: %w", len(bodies), err)
	}
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, b := range bodies {
		q.seq++
		q.ready = append(q.ready, &message{id: "m" + strconv.Itoa(q.seq), body: append([]byte(nil), b...), sent: now})
	}
	if len(bodies) > 0 {
		q.signal()
	}
	return nil
}

// signal wakes every waiting Receive. q.mu must be held.
func (q *Queue) signal() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Receive waits until at least one message is visible and returns up to n
// of them (1 to 10, as SQS), each hidden for the visibility timeout. It
// returns ctx's error when ctx is done first.
func (q *Queue) Receive(ctx context.Context, n int) (_ []Message, err error) {
	n = min(10, max(1, n))
	for {
		q.mu.Lock()
		now := time.Now()
		next := q.requeueExpired(now)
		if len(q.ready) > 0 {
			msgs := q.take(now, n)
			q.mu.Unlock()
			return msgs, nil
		}
		wake := q.wake
		q.mu.Unlock()

		var timer *time.Timer
		var expired <-chan time.Time
		if !next.IsZero() {
			timer = time.NewTimer(next.Sub(now))
			expired = timer.C
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("memqueue: receive: %w", ctx.Err())
		case <-wake:
		case <-expired:
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
}

// requeueExpired moves in-flight messages whose visibility timeout passed
// back to ready and returns when the next in-flight one expires (zero if
// none is in flight). q.mu must be held.
func (q *Queue) requeueExpired(now time.Time) (next time.Time) {
	for receipt, m := range q.inflight {
		if !now.Before(m.visibleAt) {
			delete(q.inflight, receipt)
			m.receipt = ""
			q.ready = append(q.ready, m)
			continue
		}
		if next.IsZero() || m.visibleAt.Before(next) {
			next = m.visibleAt
		}
	}
	return next
}

// take delivers up to n ready messages. q.mu must be held.
func (q *Queue) take(now time.Time, n int) []Message {
	n = min(n, len(q.ready))
	out := make([]Message, 0, n)
	for _, m := range q.ready[:n] {
		q.seq++
		m.count++
		m.receipt = m.id + "-r" + strconv.Itoa(q.seq)
		m.visibleAt = now.Add(q.visibility)
		q.inflight[m.receipt] = m
		out = append(out, Message{ID: m.id, Receipt: m.receipt, Body: m.body, ReceiveCount: m.count, Sent: m.sent})
	}
	clear(q.ready[:n])
	q.ready = q.ready[n:]
	return out
}

// Delete removes the message delivered with receipt. A receipt whose
// visibility timeout has passed is still accepted as long as the message
// has not been delivered again (as SQS does).
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: delete: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.inflight[receipt]; !ok {
		return fmt.Errorf("memqueue: delete %q: %w", receipt, ErrReceipt)
	}
	delete(q.inflight, receipt)
	return nil
}

// Len is the number of messages in the queue, in flight or not.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready) + len(q.inflight)
}
