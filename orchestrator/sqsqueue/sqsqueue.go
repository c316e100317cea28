package sqsqueue

import (
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stampede-load/stampede/orchestrator/internal/awsretry"
)

// Limits of SQS that Send enforces before it asks.
const (
	// MaxBodyBytes is the largest message body SQS accepts (1 MiB; the
	// queue's MaximumMessageSize must be set to it).
	MaxBodyBytes = 1 << 20
	// MaxBatchEntries is the most entries one SendMessageBatch may carry.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most body bytes one SendMessageBatch may carry.
	MaxBatchBytes = 1 << 20
	// MaxWait is the longest long poll SQS allows.
	MaxWait = 20 * time.Second
)

// Defaults of the options.
const (
	DefaultInFlight    = 16
	DefaultMaxAttempts = 8
	DefaultMaxBackoff  = 20 * time.Second
	DefaultResends     = 5
)

// Queue is one SQS queue. Safe for concurrent use.
type Queue struct {
	client   *sqs.Client
	url      string
	inFlight int
	resends  int
	backoff  time.Duration // longest wait between per-entry resends
	retryer  aws.Retryer

	sends, receives, deletes atomic.Int64
	tally                    awsretry.Tally // retries (and throttles) of all of them
}

// Ops counts the requests a Queue made to SQS, retried attempts included
// (each is billed as a request).
type Ops struct {
	Sends    int64 // SendMessageBatch requests
	Receives int64 // ReceiveMessage requests
	Deletes  int64 // DeleteMessage requests
	// Retries is how many of the requests above were retries of a failed
	// attempt (throttling, 5xx, network errors).
	Retries int64
}

// Option tunes New.
type Option func(*Queue)

// WithInFlight sets how many SendMessageBatch requests Send keeps in
// flight at once (default DefaultInFlight).
func WithInFlight(n int) Option {
	return func(q *Queue) { q.inFlight = max(1, n) }
}

// WithRetry sets the attempts per request (first one included) and the
// longest backoff between attempts (defaults DefaultMaxAttempts,
// DefaultMaxBackoff). Backoff is exponential with full jitter.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(q *Queue) {
		q.retryer = awsretry.New(maxAttempts, maxBackoff)
		q.backoff = maxBackoff
	}
}

// WithResends sets how many times Send sends again the entries a batch
// reported as failed before it gives up on them (default DefaultResends).
func WithResends(n int) Option {
	return func(q *Queue) { q.resends = max(0, n) }
}

// New returns the queue at queueURL reached through client.
func New(client *sqs.Client, queueURL string, opts ...Option) *Queue {
	q := &Queue{
		client:   client,
		url:      queueURL,
		inFlight: DefaultInFlight,
		resends:  DefaultResends,
		backoff:  DefaultMaxBackoff,
		retryer:  awsretry.New(DefaultMaxAttempts, DefaultMaxBackoff),
	}
	for _, o := range opts {
		o(q)
	}
	return q
}

// URL is the queue's URL.
func (q *Queue) URL() string { return q.url }

// Ops returns the requests made so far.
func (q *Queue) Ops() Ops {
	return Ops{
		Sends:    q.sends.Load(),
		Receives: q.receives.Load(),
		Deletes:  q.deletes.Load(),
		Retries:  q.tally.Retries.Load(),
	}
}

// call returns the per-request options: q's retryer, and counting every
// attempt into counter (and retries into q.tally).
func (q *Queue) call(counter *atomic.Int64) func(*sqs.Options) {
	return func(o *sqs.Options) {
		o.Retryer = q.retryer
		o.APIOptions = append(o.APIOptions, awsretry.Count(counter, &q.tally, nil))
	}
}
