package awsretry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// middlewareID names the counting middleware in a call's stack.
const middlewareID = "StampedeCountAttempts"

// New returns the SDK's standard retryer (throttling codes, 5xx and
// connection errors are retried; backoff is exponential with full jitter
// up to maxBackoff) making at most maxAttempts attempts per call (the
// first included; at least 1), with the API error codes in codes retried
// too, and without the SDK's client-side retry quota: a load test's burst
// of requests must not fail because earlier ones were throttled.
func New(maxAttempts int, maxBackoff time.Duration, codes ...string) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = max(1, maxAttempts)
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
		if len(codes) > 0 {
			set := make(map[string]struct{}, len(codes))
			for _, c := range codes {
				set[c] = struct{}{}
			}
			o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: set})
		}
	})
}

// Tally is an adapter's totals over all its calls: the attempts that
// retried a failed one, and the attempts the service throttled. Safe for
// concurrent use.
type Tally struct {
	Retries   atomic.Int64
	Throttles atomic.Int64
}

// Call is what one operation call's attempts came to. Count's middleware
// writes it while the call runs (its attempts run one after another on
// the caller's goroutine); read it after the call returns. Not safe for
// concurrent use; one Call serves one operation call at a time.
type Call struct {
	Attempts  int   // attempts made, the first included
	Throttles int   // attempts answered HTTP 429 or a throttle error code
	Last      error // the last attempt error the service or the network gave, not the context's
}

// Explain adds the last attempt's error to err when the context ended the
// retries ("request canceled, context deadline exceeded" alone does not
// say why the call failed); otherwise it returns err as it is.
func (c *Call) Explain(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || c.Last == nil || c.Attempts < 2 {
		return err
	}
	return fmt.Errorf("%w (gave up after %d attempts, the last: %v)", err, c.Attempts, c.Last)
}

// Count returns a stack option (for a client's per-call APIOptions) that
// adds a finalize middleware after the retry middleware,
// where it sees every attempt of the call: each attempt adds 1 to
// attempts, each retry and each throttled attempt to t, and all of them
// to c. A nil c stands for a Call of the stack's own; a given c is reset
// when the call starts.
func Count(attempts *atomic.Int64, t *Tally, c *Call) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		call := c // the SDK builds one stack per operation call
		if call == nil {
			call = new(Call)
		}
		*call = Call{}
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc(middlewareID,
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				call.Attempts++
				attempts.Add(1)
				if call.Attempts > 1 {
					t.Retries.Add(1)
				}
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil && IsThrottle(err) {
					call.Throttles++
					t.Throttles.Add(1)
				}
				if err != nil && ctx.Err() == nil { // what the service (or the network) said, not the deadline
					call.Last = err
				}
				return out, md, err
			}), middleware.After)
	}
}

// IsThrottle reports whether err is the service throttling a request: an
// HTTP 429 answer (whatever its error code), or what the SDK's retryer
// takes for a throttle (retry.DefaultThrottles: one of the throttle error
// codes such as ThrottlingException, TooManyRequestsException, SlowDown,
// RequestThrottled).
func IsThrottle(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests {
		return true
	}
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
}
