// Package localaws starts AWS-compatible servers on 127.0.0.1 for tests in
// any package, and builds real aws-sdk-go-v2 clients pointed at them:
// gofakes3 in process for S3 (StartS3), local-aws-sqs 2.0.2 from npm as a
// Node child process for SQS (StartSQS), and a reverse proxy that answers
// the requests its rules select with a fault (StartFaultProxy; StartFaults
// for the first n) to test retries.
//
// Node and the npm package are prerequisites, installed by
// `npm ci --prefix infra/localaws` (.ci/run and `make test` do it); when
// they are missing, StartSQS fails the test saying so — it never skips.
//
// It is test support: it imports the testing package, the AWS SDK,
// gofakes3 and internal/syncbuf, and must not be imported by non-test
// code.
package localaws
