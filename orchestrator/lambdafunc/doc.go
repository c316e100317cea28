// Package lambdafunc is the generator function on AWS Lambda, as the
// orchestrator uses it: direct asynchronous invokes for the burst dispatch
// (InvokeAsync) and the function's reserved concurrency for the kill
// switch's backstop (Reserved, SetReserved, DeleteReserved). It adapts the
// aws-sdk-go-v2 lambda client; the interfaces it satisfies are defined by
// their users (orchestrator.Invoker, backstop.Function).
//
// Invokes back off on throttling (429 TooManyRequestsException, 5xx and
// network errors) with the SDK's standard retryer, exponential with full
// jitter, without its client-side retry quota: a burst of a thousand
// invokes must not give up because earlier ones were throttled. Every
// attempt is counted (Ops), and so is every attempt answered 429.
//
// AWS_ENDPOINT_URL_LAMBDA points the client at a Lambda-compatible server
// (the tests' infra/lambdaharness.Service).
//
// It imports the AWS SDK, orchestrator/internal/awsretry (the retryer and
// the attempt counter it shares with the other AWS adapters) and the
// standard library only: not the orchestrator nor the engine.
package lambdafunc
