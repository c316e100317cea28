// Package depcheck holds no code: its test enforces the project's one hard
// rule about dependency direction (see DESIGN.md), using `go list -deps`.
//
//   - engine imports only the standard library, hdrhistogram-go and x/net
//     (and what x/net itself needs);
//   - functions import the engine and the shard protocol, never the rest of
//     the orchestrator, the plan parser or the AWS SDK (the AWS adapters are
//     wired in cmd/);
//   - only cmd/ imports github.com/aws/aws-lambda-go/lambda;
//   - outside cmd/ and infra/, only the AWS adapters (awsstack, lambdafunc,
//     s3store, sqsqueue) import the AWS SDK.
package depcheck
