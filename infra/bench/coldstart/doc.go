// Package coldstart measures the generator's cold start: the size of the
// `bootstrap` binary built as `stampede deploy` builds it (-tags
// lambda.norpc, -trimpath, stripped; for linux/arm64, Lambda's
// architecture, and for this machine), and its init time under the Lambda
// Runtime Interface Emulator (infra/lambdaharness installs it): a fresh
// emulator per iteration, whose INIT REPORT gives the time from starting
// the bootstrap to its first request for an event. Run it with
//
//	go test -run xxx -bench ColdStart -benchtime 20x ./infra/bench/coldstart/
//
// It has no code outside its benchmark; nothing imports it.
package coldstart
