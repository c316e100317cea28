package lambdafunc

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stampede-load/stampede/orchestrator/internal/awsretry"
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

	invokes, calls atomic.Int64
	tally          awsretry.Tally // retries and throttles of all of them
}

// Ops counts the requests a Function made, retried attempts included.
type Ops struct {
	Invokes   int64 // Invoke attempts
	Throttled int64 // attempts throttled (429 TooManyRequestsException or another throttle code)
	Retries   int64 // attempts that retried a failed one
	Calls     int64 // concurrency requests (Get/Put/DeleteFunctionConcurrency)
}

// Option tunes New.
type Option func(*Function)

// WithRetry sets the attempts per request (the first included) and the
// longest backoff between attempts (DefaultMaxAttempts, DefaultMaxBackoff).
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(f *Function) { f.retryer = awsretry.New(maxAttempts, maxBackoff) }
}

// New returns the function name (a name or an ARN) reached through client.
func New(client *lambda.Client, name string, opts ...Option) *Function {
	f := &Function{client: client, name: name, retryer: awsretry.New(DefaultMaxAttempts, DefaultMaxBackoff)}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name is the function's name as given to New.
func (f *Function) Name() string { return f.name }

// Ops returns the requests made so far.
func (f *Function) Ops() Ops {
	return Ops{Invokes: f.invokes.Load(), Throttled: f.tally.Throttles.Load(), Retries: f.tally.Retries.Load(), Calls: f.calls.Load()}
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

// call returns the per-request options: f's retryer (the SDK's standard
// one, where TooManyRequestsException is a throttle code, without the
// client-side retry quota), and counting every attempt into counter,
// retries and throttled attempts into f.tally.
func (f *Function) call(counter *atomic.Int64) func(*lambda.Options) {
	return func(o *lambda.Options) {
		o.Retryer = f.retryer
		o.APIOptions = append(o.APIOptions, awsretry.Count(counter, &f.tally, nil))
	}
}
