// Package lambdaharness runs the real generator `bootstrap` under the AWS
// Lambda Runtime Interface Emulator (RIE) on loopback, and plays the SQS
// event source mapping for it: the aws backend's tests use it to run
// generators exactly as Lambda would, with no Docker and no AWS account.
//
// Builds compiles the bootstrap (./cmd/generator, -tags lambda.norpc) and
// installs the RIE (RIEModule at RIEVersion) into a cache directory, once
// per Builds value; the caller owns that value and shares it between its
// tests. Start runs a Fleet: N emulators, each on its own two free
// 127.0.0.1 ports (the RIE serves one invocation at a time), and one
// poller per emulator that receives one message from an SQS queue, POSTs
// it as an events.SQSEvent to its emulator, and deletes the message unless
// the response lists it in BatchItemFailures. StartService runs a
// stand-in for the Lambda service itself (the Invoke API, synchronous and
// asynchronous, and the function-concurrency API) in front of a pool of
// emulators, for the burst dispatch and the kill switch, which the RIE
// alone cannot serve (it has no asynchronous invoke and runs one
// invocation at a time). Everything stops in t.Cleanup.
//
// What the stand-in does not model: Lambda's scaling rate (1,000 new
// execution environments per 10 s per function), cold starts beyond the
// RIE's own, invoke-rate quotas (ThrottleNext plays them), the event
// queue's retry intervals and its at-least-once duplicates (tests invoke
// twice instead).
//
// lambdaharness is test support: it imports testing, the sqsqueue adapter
// and aws-lambda-go's events, and nothing of the orchestrator's control
// plane. Only tests may import it.
package lambdaharness
