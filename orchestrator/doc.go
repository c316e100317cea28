// Package orchestrator is stampede's control plane. It splits a plan into
// shard tasks (Split), writes the run's manifest, sends the tasks to each
// region's queue, watches the generators' checkpoints and final results
// while the run goes (merged progress, abort, the stop marker), and merges
// everything into one Result (Collect).
//
// It talks to queues and blob stores only through Queue and shard.Store;
// the local backend (memqueue, dirstore) and the AWS adapters implement
// them. The shard protocol it shares with the generator functions lives in
// orchestrator/shard.
//
// orchestrator imports the engine, its own subpackages and the standard
// library; never the AWS SDK (only the adapters do), never functions/*,
// and never cmd/.
package orchestrator
