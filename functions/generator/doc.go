// Package generator is the generator function: the handler that turns one
// shard task (an SQS message) into load and results. The same Handler
// serves AWS Lambda (cmd wires it to lambda.Start) and the local backend
// (functions/local feeds it from an in-process queue).
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
// generator imports only the engine, orchestrator/shard and aws-lambda-go's
// events: never the orchestrator or the plan package, and never the AWS SDK.
package generator
