// Package queuetest is the conformance suite for task queues: the
// in-process memqueue here, the SQS adapter against an SQS-compatible
// server. It imports only the standard library; each implementation's test
// adapts its queue to the suite's small Queue interface.
package queuetest
