package orchestrator

import (
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// Result is what a run produced, merged: the input to every report.
type Result struct {
	RunID   string
	Plan    *plan.Plan
	Started time.Time // the shared start time (test time 0)
	Ended   time.Time
	// Backend is where the run went (BackendLocal, BackendAWS), Dispatch
	// how its generators were started (DispatchLocal, DispatchSQS,
	// DispatchBurst) and Lead how long before test time 0 they were
	// dispatched; from the manifest ("" and 0 for runs recorded before).
	Backend  string
	Dispatch string
	Lead     time.Duration
	// Total merges every completed task; Regions break it down.
	Total   *engine.Snapshot
	Regions []RegionResult
	Shards  ShardStatus
	// Stopped says why the run ended early ("" when it ran to the end).
	Stopped string
	// Generators is when each completed task's generator ran, sorted by
	// Task; a task without a final result has no span.
	Generators []GeneratorSpan
}

// GeneratorSpan is when one task's generator ran, from its final result.
type GeneratorSpan struct {
	Task   string // "<region>/<task-id>"
	Region string
	Slice  int
	// Leased is when the generator took the task; Started and Ended bound
	// its engine's run; WindowStart is the epoch plus the task's window
	// start (when the engine was due to start).
	Leased      time.Time
	Started     time.Time
	Ended       time.Time
	WindowStart time.Time
	// Claimed: no generator ran the task; the orchestrator claimed it
	// after a stop (its Leased, Started and Ended are the claim's time).
	Claimed bool
}

// RegionResult is one region's merged results. Its Snapshot has the
// region's steps, workflows and iterations but no timeline: the run's
// timeline is Total's.
type RegionResult struct {
	Name       string
	Generators int
	Snapshot   *engine.Snapshot
}

// ShardStatus accounts for every task of the run.
type ShardStatus struct {
	Expected  int
	Completed int
	// Missing names tasks that never reported final results ("us-east-1/g0007-s02");
	// Corrupt names result objects that could not be read (skipped).
	Missing []string
	Corrupt []string
}
