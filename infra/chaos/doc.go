// Package chaos is stampede's reliability suite: `make chaos` (and `make
// test`) run its scenarios on the local backend and on the AWS-integration
// path — the real CLI binary, the local SQS server, gofakes3, and the real
// generator bootstrap under the Lambda Runtime Interface Emulator — while
// injecting faults: tasks delivered twice, generators killed mid-slice,
// corrupt results, stops and interrupts, the orchestrator killed, S3 and
// SQS errors and throttling, hostile targets, secrets in the environment.
// Each scenario checks its invariant against a target that counts what it
// served, and adds a row to the table TestMain prints: scenario, faults
// injected, runs completed, requests lost (beyond what the report declares
// missing), stop latency.
//
// The scenarios are tests (they need the testing.TB of lambdaharness and
// localaws); the package's non-test code is the fault injection they share
// around a shard.Store (FaultStore; localaws.FaultProxy faults the requests
// to the AWS-compatible servers) and the Table. See docs/reliability.md.
package chaos
