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
	// Total merges every completed task; Regions break it down.
	Total   *engine.Snapshot
	Regions []RegionResult
	Shards  ShardStatus
	// Stopped says why the run ended early ("" when it ran to the end).
	Stopped string
}

// RegionResult is one region's merged results.
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
