// Package dirstore is the local backend's blob store: a shard.Store whose
// keys are files under a root directory ("runs/<id>/…" is
// <root>/runs/<id>/…), so that a local run leaves the same tree that an aws
// run leaves in S3.
//
// It imports only orchestrator/shard and the standard library.
package dirstore
