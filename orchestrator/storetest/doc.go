// Package storetest is the conformance suite every shard.Store must pass
// (the directory store here, the S3 store against an S3-compatible server).
// It imports only orchestrator/shard and the standard library.
package storetest
