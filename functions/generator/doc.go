// Package generator is the generator function: the handler that turns one
// shard task (an SQS message) into load and results. The same Handler
// serves AWS Lambda (cmd wires Invoke to lambda.Start) and the local
// backend (functions/local feeds Handle from an in-process queue).
//
// Invoke takes both event shapes: an SQS event from the task queue's
// event source mapping (default dispatch), and a burst invocation
// ({"stampede_burst": ...}, sent directly by the orchestrator) that takes
// its task from the burst queue (Tasks) itself: receive, lease, delete,
// run. Both go through the same lease and run code, so a task runs once
// whichever way, and however often, it arrives.
//
// For each record it decodes the task, leases it (a conditional create of
// the lease key, so that a task delivered twice runs once), waits for the
// window's start, runs the engine for its window while writing a
// checkpoint on every progress report and watching the stop marker, and
// writes the final result.
//
// Failure policy, per record:
//   - an undecodable body is a poison message: it is logged and treated as
//     done (redelivering it would only fail again, forever);
//   - a lease that exists already means the task ran or runs elsewhere: done,
//     no work;
//   - a lease that could not be written is reported in BatchItemFailures
//     (nothing ran; the queue delivers it again);
//   - a final result that could not be written after retries is reported in
//     BatchItemFailures. The redelivery finds the lease and does no work, so
//     the task is then named missing by the orchestrator — never run twice.
//
// Burst invocations, per message: a task leased already, a poison message
// or a task stopped or over before its window is no work: the message is
// deleted and the next one taken; no message within BurstWait ends the
// invocation (a duplicate invoke). See burst in invoke.go.
//
// generator imports only the engine, orchestrator/shard and aws-lambda-go's
// events: never the orchestrator or the plan package, and never the AWS SDK
// (the burst queue is the TaskQueue interface, wired in cmd/generator).
package generator
