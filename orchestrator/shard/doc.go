// Package shard is the shard protocol: what the orchestrator and the
// generator functions exchange. It owns the task message (Task, EncodeTask,
// DecodeTask), the objects a run leaves in the blob store (Result, Lease,
// Manifest), the keys they live under (everything below "runs/<run-id>/"),
// and the Store interface that S3 and a local directory implement.
//
// Key layout of one run (hh is a 2-hex hash of the task id, which spreads a
// run's objects over 256 prefixes so that thousands of generators stay
// under S3's per-prefix request rate):
//
//	runs/<run-id>/manifest.json                          the run's plan, tasks, epoch, seed
//	runs/<run-id>/stop                                   stop marker (its body is the reason)
//	runs/<run-id>/leases/<hh>/<region>/<task-id>         a generator took the task
//	runs/<run-id>/checkpoints/<hh>/<region>/<task-id>.json  latest cumulative snapshot
//	runs/<run-id>/results/<hh>/<region>/<task-id>.json      final result
//
// Secrets: a Task carries the engine configuration with its Env values (the
// generator needs them), but no object in the store ever does: the manifest
// holds the plan with Env emptied and generators never write their task.
//
// shard imports only the engine and the standard library: it is what the
// generator functions speak, and they must not import the orchestrator.
package shard
