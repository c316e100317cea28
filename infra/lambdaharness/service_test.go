package lambdaharness

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stampede-load/stampede/infra/localaws"
)

// TestService drives the stand-in with the real SDK client, in front of two
// emulators running the real bootstrap: synchronous invokes run and answer
// the function's error for an event it does not know; reserved concurrency
// 0 throttles synchronous invokes with 429 and holds asynchronous events
// until they age out; deleting the reservation lets held events run.
func TestService(t *testing.T) {
	var builds Builds
	svc := StartService(t, ServiceOptions{
		Binaries:    builds.Binaries(t),
		Emulators:   2,
		Timeout:     10 * time.Second,
		MaxEventAge: 1500 * time.Millisecond,
		Env:         map[string]string{"BUCKET": "results", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
	})
	ctx := context.Background()
	client := localaws.NewLambdaClient(localaws.Config(ctx, t, svc.URL))
	name := aws.String(svc.Function())
	invoke := func(typ types.InvocationType) (*lambda.InvokeOutput, error) {
		return client.Invoke(ctx, &lambda.InvokeInput{FunctionName: name, InvocationType: typ, Payload: []byte(`{"neither":1}`)},
			func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	}

	out, err := invoke(types.InvocationTypeRequestResponse)
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "neither Records") {
		t.Errorf("sync invoke: status %d, function error %q, payload %s; want the generator's unknown-event error",
			out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
	}

	if _, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: name, ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = invoke(types.InvocationTypeRequestResponse)
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || string(tm.Reason) != ReasonReserved {
		t.Fatalf("sync invoke at reserved concurrency 0: %v, want TooManyRequestsException %s", err, ReasonReserved)
	}
	started := svc.Started()
	for range 3 {
		if out, err := invoke(types.InvocationTypeEvent); err != nil || out.StatusCode != 202 {
			t.Fatalf("async invoke while throttled: %v, %v; want 202 (Lambda queues the event)", out, err)
		}
	}
	time.Sleep(2 * time.Second) // past MaxEventAge
	if svc.Started() != started || svc.Dropped() != 3 || svc.Waiting() != 0 {
		t.Errorf("while throttled: started %d (was %d), dropped %d, waiting %d; want none started, 3 dropped",
			svc.Started(), started, svc.Dropped(), svc.Waiting())
	}

	for range 2 {
		if _, err := invoke(types.InvocationTypeEvent); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: name}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for svc.Started() < started+2 || svc.Running() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the reservation was deleted: %d started, want %d", svc.Started(), started+2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fc, err := client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: name})
	if err != nil || fc.ReservedConcurrentExecutions != nil {
		t.Errorf("GetFunctionConcurrency = %+v, %v; want none", fc, err)
	}
	as, err := client.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || as.AccountLimit.ConcurrentExecutions != DefaultAccountLimit {
		t.Errorf("GetAccountSettings = %+v, %v", as, err)
	}
}
