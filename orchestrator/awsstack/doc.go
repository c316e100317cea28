// Package awsstack finds the AWS endpoints of a deployed stampede stack and
// checks, before anything is sent, that a run can go ahead: credentials
// (STS), the stack in every region (CloudFormation outputs), and the Lambda
// concurrency the generators need (GetAccountSettings, the function's
// reserved concurrency).
//
// The stack is template.yaml at the repository root, deployed by `stampede
// deploy`; its outputs are named by the Output* constants. An override file
// (LoadOverrides) maps regions to endpoints directly, for stacks deployed by
// other means or for AWS-compatible servers.
//
// It is an AWS adapter: it may import the AWS SDK and yaml.v3, never engine/,
// functions/ or the rest of orchestrator/.
package awsstack
