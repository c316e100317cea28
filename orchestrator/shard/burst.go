package shard

import (
	"encoding/json"
	"fmt"
	"time"
)

// BurstKey is the JSON key that marks a burst invocation's payload:
// {"stampede_burst": {...}}. An SQS event has "Records" instead.
const BurstKey = "stampede_burst"

// BurstWait is how long a burst invocation long-polls its region's burst
// queue for a task before it concludes there is none for it: the
// generator's default (functions/generator.DefaultBurstWait) and what the
// cost model bills an invocation that finds no message
// (orchestrator/cost.BurstWait).
const BurstWait = 10 * time.Second

// Burst is the payload of one direct asynchronous invocation (burst
// dispatch). It names no task: the invocation takes whichever task its
// region's burst queue hands it, and the lease decides that it runs once.
// RunID and Slice say which dispatch sent it (for logs).
type Burst struct {
	RunID  string `json:"run_id"`
	Region string `json:"region"`
	Slice  int    `json:"slice"`
}

// EncodeBurst returns the invocation payload for b.
func EncodeBurst(b Burst) ([]byte, error) {
	if !ValidName(b.RunID) || !ValidName(b.Region) || b.Slice < 0 {
		return nil, fmt.Errorf("encode burst invocation: run %q region %q slice %d", b.RunID, b.Region, b.Slice)
	}
	data, err := json.Marshal(map[string]Burst{BurstKey: b})
	if err != nil {
		return nil, fmt.Errorf("encode burst invocation: %w", err)
	}
	return data, nil
}
