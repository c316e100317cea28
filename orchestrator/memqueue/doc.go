// Package memqueue is the local backend's queue: an in-process stand-in for
// SQS with the semantics the generators rely on — at-least-once delivery, a
// visibility timeout after which a message that was received but not
// deleted is delivered again, and a receive count per message.
//
// It imports only the standard library (it satisfies orchestrator.Queue
// without importing the orchestrator, so that functions/local may use it).
package memqueue
