// Package engine is stampede's load engine, a library: given a context and a
// Config (one generator's share of a test plan) Run sends the load and
// returns a mergeable Snapshot of the results.
//
// It owns the schedule (open-model arrivals and closed-model users as pure
// functions of test time, split exactly between shards and time slices),
// the dispatcher and virtual users, the HTTP client, templates, checks and
// captures, the recorder with its HdrHistograms, and the merging of
// snapshots: Snapshot.Merge, and Sum, which adds many encoded snapshots
// (WireSnapshot, from ParseSnapshot) into dense histograms for the
// orchestrator.
//
// Its imports are the standard library, github.com/HdrHistogram/hdrhistogram-go
// and golang.org/x/net only: no AWS or Lambda, no flags, no printing, no
// os.Exit, no package-level mutable state. Failed requests are results,
// counted by status and error class, never Go errors.
package engine
