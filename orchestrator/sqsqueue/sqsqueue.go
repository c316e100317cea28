package sqsqueue

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
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

	sends, receives, deletes, retries atomic.Int64
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
		q.retryer = newRetryer(max(1, maxAttempts), maxBackoff)
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
		retryer:  newRetryer(DefaultMaxAttempts, DefaultMaxBackoff),
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
		Retries:  q.retries.Load(),
	}
}

// newRetryer is the SDK's standard retryer (throttling codes, 5xx and
// connection errors are retried) without its client-side retry quota: a
// load test's burst of sends must not fail because earlier ones were
// throttled.
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
	})
}

// call returns the per-request options: q's retryer, and counting every
// attempt into counter (and retries into q.retries).
func (q *Queue) call(counter *atomic.Int64) func(*sqs.Options) {
	return func(o *sqs.Options) {
		o.Retryer = q.retryer
		o.APIOptions = append(o.APIOptions, countAttempts(counter, &q.retries))
	}
}

// countAttempts adds a middleware after the retry middleware, so that it
// sees every attempt of one operation.
func countAttempts(counter, retries *atomic.Int64) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		attempts := 0 // one stack per operation call; attempts are sequential
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("StampedeCountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				attempts++
				counter.Add(1)
				if attempts > 1 {
					retries.Add(1)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
