// Package sqsqueue is the aws backend's task queue: an adapter from
// stampede's queue contract to Amazon SQS (aws-sdk-go-v2 service/sqs).
//
// The producer side (Send) satisfies orchestrator.Queue: bodies go out in
// SendMessageBatch requests of up to ten entries, several batches in
// flight, with the SDK's retryer backing off on throttling, 5xx and network
// errors and the entries a batch reports as failed sent again. The consumer
// side (Receive, Delete) is what the test harnesses, the burst dispatch and
// the conformance suite (orchestrator/queuetest) use.
//
// It imports the AWS SDK, orchestrator/internal/awsretry (the retryer and
// the attempt counter it shares with the other AWS adapters) and the
// standard library only: not the orchestrator (so that a generator's
// bootstrap may use it without pulling in plans and reports), nor the
// engine. Only adapters like this one, cmd/ and infra/ may import the AWS
// SDK.
package sqsqueue
