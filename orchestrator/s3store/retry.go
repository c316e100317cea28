package s3store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// Defaults of WithRetry. S3 asks clients that get 503 SlowDown to back off
// for seconds while it scales a prefix, hence more attempts and a longer
// backoff than the SDK's defaults (3 attempts, 20s).
const (
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 30 * time.Second
)

// newRetryer is the SDK's standard retryer (which covers SlowDown,
// throttling, 5xx and connection errors) plus 409
// ConditionalRequestConflict — a conditional write raced another on the
// same key and S3 asks to retry — without the SDK's client-side retry
// quota: thousands of generators writing at once must not fail their
// writes because earlier ones were slowed down.
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{"ConditionalRequestConflict": {}},
		})
	})
}

// attempts is what one operation's attempts came to: how many, and the
// last error S3 or the network gave (which a deadline that ends the
// retries would hide).
type attempts struct {
	n    int
	last error
}

// explain adds the last attempt's error to err when the context ended the
// retries: "request canceled, context deadline exceeded" alone does not
// say why the operation failed.
func (a *attempts) explain(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || a.last == nil || a.n < 2 {
		return err
	}
	return fmt.Errorf("%w (gave up after %d attempts, the last: %v)", err, a.n, a.last)
}

// call returns the per-request options: s's retryer, and counting every
// attempt into counter (retries into s.retries, and this call's attempts
// into attempts when not nil).
func (s *Store) call(counter *atomic.Int64, attempts *attempts) func(*s3.Options) {
	return func(o *s3.Options) {
		o.Retryer = s.retryer
		o.APIOptions = append(o.APIOptions, countAttempts(counter, &s.retries, attempts))
	}
}

// countAttempts adds a middleware after the retry middleware, so that it
// sees every attempt of one operation. The operation's attempts run one
// after another on the caller's goroutine.
func countAttempts(counter, retries *atomic.Int64, attempts *attempts) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		n := 0
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("StampedeCountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				n++
				counter.Add(1)
				if n > 1 {
					retries.Add(1)
				}
				out, md, err := next.HandleFinalize(ctx, in)
				if attempts != nil {
					attempts.n = n
					if err != nil && ctx.Err() == nil { // what S3 (or the network) said, not the deadline
						attempts.last = err
					}
				}
				return out, md, err
			}), middleware.After)
	}
}
