package cost

import (
	"context"
	"sync/atomic"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Ops counts billable requests to SQS and S3, and the burst dispatch's
// Lambda Invoke requests. SQS requests are counted once per 64 KB chunk.
type Ops struct {
	SQSSends    int64 `json:"sqs_sends"`
	SQSReceives int64 `json:"sqs_receives"`
	SQSDeletes  int64 `json:"sqs_deletes"`
	S3Puts      int64 `json:"s3_puts"`
	S3Lists     int64 `json:"s3_lists"`
	S3Gets      int64 `json:"s3_gets"`
	// InvokesAccepted are the asynchronous Invoke requests Lambda accepted
	// (burst dispatch): each is one billed invocation. InvokeAttempts
	// counts every attempt, retries included; InvokeThrottled those
	// answered 429, which Lambda does not bill.
	InvokesAccepted int64 `json:"invokes_accepted,omitempty"`
	InvokeAttempts  int64 `json:"invoke_attempts,omitempty"`
	InvokeThrottled int64 `json:"invoke_throttled,omitempty"`
}

// Add adds o to x.
func (x *Ops) Add(o Ops) {
	x.SQSSends += o.SQSSends
	x.SQSReceives += o.SQSReceives
	x.SQSDeletes += o.SQSDeletes
	x.S3Puts += o.S3Puts
	x.S3Lists += o.S3Lists
	x.S3Gets += o.S3Gets
	x.InvokesAccepted += o.InvokesAccepted
	x.InvokeAttempts += o.InvokeAttempts
	x.InvokeThrottled += o.InvokeThrottled
}

// Counter reports the requests a client made so far. The orchestrator's
// clients implement it: CountingStore and CountingQueue wrap any Store or
// Queue (the local backend), and the AWS adapters (sqsqueue, s3store) are to
// implement it themselves from the SDK calls they make (their Ops() hook).
// Safe for concurrent use.
type Counter interface {
	Ops() Ops
}

// CountingStore counts the calls made through it to Store: Put and Create
// are PUTs, Get a GET, List one LIST per ListPage keys returned. Safe for
// concurrent use.
type CountingStore struct {
	Store shard.Store
	puts  atomic.Int64
	gets  atomic.Int64
	lists atomic.Int64
}

var (
	_ shard.Store        = (*CountingStore)(nil)
	_ Counter            = (*CountingStore)(nil)
	_ orchestrator.Queue = (*CountingQueue)(nil)
	_ Counter            = (*CountingQueue)(nil)
)

func (s *CountingStore) Put(ctx context.Context, key string, data []byte) error {
	s.puts.Add(1)
	return s.Store.Put(ctx, key, data)
}

func (s *CountingStore) Create(ctx context.Context, key string, data []byte) error {
	s.puts.Add(1)
	return s.Store.Create(ctx, key, data)
}

func (s *CountingStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *CountingStore) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := s.Store.List(ctx, prefix)
	s.lists.Add(ListRequests(len(keys)))
	return keys, err
}

// Ops returns the S3 requests counted so far.
func (s *CountingStore) Ops() Ops {
	return Ops{S3Puts: s.puts.Load(), S3Gets: s.gets.Load(), S3Lists: s.lists.Load()}
}

// CountingQueue counts the SQS send requests made through it: one per
// 64 KB chunk of each Send's payload when Send carries at most SQSBatch
// bodies (as the orchestrator sends them); bigger Sends are counted as
// batches of SQSBatch. Safe for concurrent use.
type CountingQueue struct {
	Queue orchestrator.Queue
	sends atomic.Int64
}

func (q *CountingQueue) Send(ctx context.Context, bodies [][]byte) error {
	sizes := make([]int, len(bodies))
	for i, b := range bodies {
		sizes[i] = len(b)
	}
	q.sends.Add(SendRequests(sizes))
	return q.Queue.Send(ctx, bodies)
}

// Ops returns the SQS requests counted so far.
func (q *CountingQueue) Ops() Ops { return Ops{SQSSends: q.sends.Load()} }

// Counters sums several counters.
type Counters []Counter

// Ops sums every counter's Ops.
func (cs Counters) Ops() Ops {
	var o Ops
	for _, c := range cs {
		if c != nil {
			o.Add(c.Ops())
		}
	}
	return o
}
