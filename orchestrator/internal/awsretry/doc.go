// Package awsretry is what the AWS adapters (sqsqueue, s3store,
// lambdafunc) share about retries: the retryer they give their calls
// (New) and the middleware that counts each call's attempts (Count), so
// that Ops report every request billed and an error cut short by a
// deadline can say what the service answered last (Call.Explain).
//
// It imports the AWS SDK, smithy-go and the standard library only; it is
// internal to orchestrator/ and knows no service client.
package awsretry
