package lambdafunc

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"
)

// Defaults of WithRetry: enough for Lambda's invoke-rate throttling to
// pass (the backoff doubles from about 1 s to MaxBackoff), short enough
// that a stopped function (reserved concurrency 0) fails a burst within
// seconds, not minutes.
const (
	DefaultMaxAttempts = 8
	DefaultMaxBackoff  = 5 * time.Second
)

// Function is one Lambda function reached through a client. Safe for
// concurrent use.
type Function struct {
	client  *lambda.Client
	name    string
	retryer aws.Retryer

	invokes, throttled, retries, calls atomic.Int64
}

// Ops counts the requests a Function made, retried attempts included.
type Ops struct {
	Invokes   int64 // Invoke attempts
	Throttled int64 // attempts answered 429 TooManyRequestsException
	Retries   int64 // attempts that retried a failed one
	Calls     int64 // concurrency requests (Get/Put/DeleteFunctionConcurrency)
}

// Option tunes New.
type Option func(*Function)

// WithRetry sets the attempts per request (the first included) and the
// longest backoff between attempts (DefaultMaxAttempts, DefaultMaxBackoff).
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(f *Function) { f.retryer = newRetryer(max(1, maxAttempts), maxBackoff) }
}

// New returns the function name (a name or an ARN) reached through client.
func New(client *lambda.Client, name string, opts ...Option) *Function {
	f := &Function{client: client, name: name, retryer: newRetryer(DefaultMaxAttempts, DefaultMaxBackoff)}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name is the function's name as given to New.
func (f *Function) Name() string { return f.name }

// Ops returns the requests made so far.
func (f *Function) Ops() Ops {
	return Ops{Invokes: f.invokes.Load(), Throttled: f.throttled.Load(), Retries: f.retries.Load(), Calls: f.calls.Load()}
}

// InvokeAsync invokes the function asynchronously (InvocationType Event)
// with payload: Lambda queues the event and answers 202 at once.
func (f *Function) InvokeAsync(ctx context.Context, payload []byte) error {
	out, err := f.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(f.name),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	}, f.call(&f.invokes))
	if err != nil {
		return fmt.Errorf("lambdafunc: invoke %s: %w", f.name, err)
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("lambdafunc: invoke %s: status %d, want 202 (accepted)", f.name, out.StatusCode)
	}
	return nil
}

// Reserved returns the function's reserved concurrency, and false when it
// has none (it shares the account's unreserved pool).
func (f *Function) Reserved(ctx context.Context) (int, bool, error) {
	out, err := f.client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(f.name)}, f.call(&f.calls))
	if err != nil {
		return 0, false, fmt.Errorf("lambdafunc: reserved concurrency of %s: %w", f.name, err)
	}
	if out.ReservedConcurrentExecutions == nil {
		return 0, false, nil
	}
	return int(*out.ReservedConcurrentExecutions), true, nil
}

// SetReserved sets the function's reserved concurrency to n (0: no new
// invocation starts; those running go on).
func (f *Function) SetReserved(ctx context.Context, n int) error {
	_, err := f.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{
		FunctionName:                 aws.String(f.name),
		ReservedConcurrentExecutions: aws.Int32(int32(n)),
	}, f.call(&f.calls))
	if err != nil {
		return fmt.Errorf("lambdafunc: set reserved concurrency of %s to %d: %w", f.name, n, err)
	}
	return nil
}

// DeleteReserved removes the function's reserved concurrency.
func (f *Function) DeleteReserved(ctx context.Context) error {
	_, err := f.client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(f.name)}, f.call(&f.calls))
	if err != nil {
		return fmt.Errorf("lambdafunc: delete reserved concurrency of %s: %w", f.name, err)
	}
	return nil
}

// newRetryer is the SDK's standard retryer (TooManyRequestsException is
// one of its throttle codes; 5xx and connection errors are retried too)
// without the client-side retry quota.
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
	})
}

// call returns the per-request options: f's retryer, and a middleware
// after the retry middleware that sees every attempt: it counts it into
// counter, retries into f.retries and 429s into f.throttled.
func (f *Function) call(counter *atomic.Int64) func(*lambda.Options) {
	return func(o *lambda.Options) {
		o.Retryer = f.retryer
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			attempts := 0 // one stack per call; its attempts are sequential
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("StampedeCountAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					attempts++
					counter.Add(1)
					if attempts > 1 {
						f.retries.Add(1)
					}
					out, md, err := next.HandleFinalize(ctx, in)
					var tm *types.TooManyRequestsException
					if errors.As(err, &tm) {
						f.throttled.Add(1)
					}
					return out, md, err
				}), middleware.After)
		})
	}
}
