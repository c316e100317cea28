// Package multistore is a shard.Store over one store per region: the aws
// backend keeps each region's objects in that region's bucket, next to the
// generators that write them, and the orchestrator sees one store.
//
// Routing, by key (see orchestrator/shard/keys.go):
//   - a key that belongs to a region — a lease, a checkpoint or a result,
//     recognised by shard.ParseLeaseKey, ParseCheckpointKey and
//     ParseResultKey — is written to and read from that region's store;
//   - every other key is run-level (the manifest, the stop marker): it is
//     written to every region's store, because each region's generators
//     read their own bucket, and read from the first region's store (the
//     home region). Create of a run-level key is decided by the home store;
//   - a region key naming a region the store does not know is treated as
//     run-level too, so that nothing is lost.
//
// List merges every store's keys, sorted and without duplicates.
//
// multistore imports only orchestrator/shard and the standard library.
package multistore
