package lambdafunc_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
)

// start returns the stand-in Lambda service (no emulators: invokes are
// accepted and wait) and the adapter pointed at its function.
func start(t *testing.T, opts ...lambdafunc.Option) (*lambdaharness.Service, *lambdafunc.Function) {
	t.Helper()
	svc := lambdaharness.StartService(t, lambdaharness.ServiceOptions{})
	client := localaws.NewLambdaClient(localaws.Config(context.Background(), t, svc.URL))
	return svc, lambdafunc.New(client, svc.Function(), opts...)
}

func TestInvokeAsync(t *testing.T) {
	t.Parallel()
	svc, fn := start(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := fn.InvokeAsync(ctx, []byte(`{"stampede_burst":{}}`)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if svc.Accepted() != 20 || svc.Waiting() != 20 {
		t.Errorf("service accepted %d, waiting %d; want 20 and 20", svc.Accepted(), svc.Waiting())
	}
	if ops := fn.Ops(); ops.Invokes != 20 || ops.Retries != 0 || ops.Throttled != 0 {
		t.Errorf("Ops = %+v, want 20 invokes", ops)
	}
}

// TestInvokeBacksOff: invokes answered 429 are retried until they land.
func TestInvokeBacksOff(t *testing.T) {
	t.Parallel()
	svc, fn := start(t, lambdafunc.WithRetry(5, 20*time.Millisecond))
	svc.ThrottleNext(3)
	if err := fn.InvokeAsync(context.Background(), []byte(`{}`)); err != nil {
		t.Fatalf("InvokeAsync after 3 throttles: %v", err)
	}
	if ops := fn.Ops(); ops.Invokes != 4 || ops.Throttled != 3 || ops.Retries != 3 || svc.Accepted() != 1 {
		t.Errorf("Ops = %+v, accepted %d; want 4 attempts, 3 throttled, 3 retries, 1 accepted", ops, svc.Accepted())
	}

	svc.ThrottleNext(100)
	err := fn.InvokeAsync(context.Background(), []byte(`{}`))
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || tm.Reason != lambdaharness.ReasonRate {
		t.Fatalf("InvokeAsync under constant throttling = %v, want TooManyRequestsException (%s)", err, lambdaharness.ReasonRate)
	}
	if ops := fn.Ops(); ops.Invokes != 9 || ops.Throttled != 8 {
		t.Errorf("Ops = %+v, want 5 more attempts, all throttled", ops)
	}
}

func TestReservedConcurrency(t *testing.T) {
	t.Parallel()
	svc, fn := start(t)
	ctx := context.Background()
	if n, set, err := fn.Reserved(ctx); err != nil || set {
		t.Fatalf("Reserved = %d, %v, %v; want none", n, set, err)
	}
	if err := fn.SetReserved(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n, set, err := fn.Reserved(ctx); err != nil || !set || n != 0 {
		t.Errorf("Reserved after SetReserved(0) = %d, %v, %v", n, set, err)
	}
	if n, ok := svc.Reserved(); !ok || n != 0 {
		t.Errorf("service reserved = %d, %v", n, ok)
	}
	if err := fn.SetReserved(ctx, 25); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := fn.Reserved(ctx); n != 25 {
		t.Errorf("Reserved = %d, want 25", n)
	}
	if err := fn.DeleteReserved(ctx); err != nil {
		t.Fatal(err)
	}
	if _, set, err := fn.Reserved(ctx); err != nil || set {
		t.Errorf("Reserved after DeleteReserved: set %v, %v", set, err)
	}
	if got := fn.Ops().Calls; got != 7 {
		t.Errorf("Calls = %d, want 7", got)
	}
}

func TestUnknownFunction(t *testing.T) {
	t.Parallel()
	svc, _ := start(t)
	client := localaws.NewLambdaClient(localaws.Config(context.Background(), t, svc.URL))
	fn := lambdafunc.New(client, "someone-else")
	err := fn.InvokeAsync(context.Background(), []byte(`{}`))
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "invoke someone-else") {
		t.Fatalf("InvokeAsync(unknown) = %v, want ResourceNotFoundException naming the function", err)
	}
	if ops := fn.Ops(); ops.Invokes != 1 {
		t.Errorf("a missing function was tried %d times, want 1 (not retryable)", ops.Invokes)
	}
	// An ARN names the same function.
	arn := lambdafunc.New(client, "arn:aws:lambda:us-east-1:000000000000:function:"+svc.Function())
	if err := arn.InvokeAsync(context.Background(), []byte(`{}`)); err != nil {
		t.Errorf("InvokeAsync by ARN: %v", err)
	}
}
