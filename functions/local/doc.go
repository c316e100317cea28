// Package local is the local backend's event source: it plays the part of
// Lambda's SQS event source mapping, receiving messages from an in-process
// memqueue and calling the generator Handler with one-record SQS events.
//
// local imports only functions/generator (and through it the engine and
// orchestrator/shard), orchestrator/memqueue and aws-lambda-go's events:
// never the orchestrator itself, the plan package or the AWS SDK.
package local
