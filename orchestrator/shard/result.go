package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stampede-load/stampede/engine"
)

// Result is what a generator writes for its task: a checkpoint while the
// engine runs (Final false, at CheckpointKey) and the final result once it
// stopped (Final true, at ResultKey). Snapshot is cumulative for the task.
type Result struct {
	RunID     string `json:"run_id"`
	TaskID    string `json:"task_id"`
	Region    string `json:"region"`
	Generator int    `json:"generator"`
	Slice     int    `json:"slice"`
	Final     bool   `json:"final"`
	// Leased is when the generator took the task; Started and Ended bound
	// the engine's run (Ended is the checkpoint's time for a checkpoint).
	Leased  time.Time `json:"leased"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Stopped says why the generator stopped before its window's end
	// ("stop marker", "deadline", "canceled"; "" when it ran to the end).
	Stopped string `json:"stopped,omitempty"`
	// Snapshot is nil only when the engine failed (Error is then set).
	Snapshot *engine.Snapshot `json:"snapshot,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// NewResult returns a Result for t, with no snapshot yet.
func NewResult(t *Task) *Result {
	return &Result{RunID: t.RunID, TaskID: t.ID, Region: t.Region, Generator: t.Generator, Slice: t.Slice}
}

// EncodeResult returns r as JSON.
func EncodeResult(r *Result) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode result %s: %w", r.TaskID, err)
	}
	return b, nil
}

// DecodeResult parses and checks a result object. It never panics.
func DecodeResult(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	switch {
	case !ValidName(r.RunID) || !ValidName(r.Region) || r.TaskID != TaskID(r.Generator, r.Slice):
		return nil, fmt.Errorf("decode result: run %q region %q task %q generator %d slice %d do not match",
			r.RunID, r.Region, r.TaskID, r.Generator, r.Slice)
	case r.Snapshot == nil && r.Error == "":
		return nil, errors.New("decode result: neither a snapshot nor an error")
	}
	return &r, nil
}

// Lease is the body of a lease object: who took a task and when.
type Lease struct {
	TaskID    string    `json:"task_id"`
	Leased    time.Time `json:"leased"`
	MessageID string    `json:"message_id,omitempty"`
}

// Manifest describes a run: everything needed to collect it again later.
type Manifest struct {
	RunID string `json:"run_id"`
	// Source is the plan text as given; Plan the normalized plan (JSON of
	// the orchestrator's plan) with the engine's Env values removed.
	Source   []byte           `json:"source,omitempty"`
	Plan     json.RawMessage  `json:"plan"`
	Epoch    time.Time        `json:"epoch"`
	Seed     uint64           `json:"seed"`
	Duration time.Duration    `json:"duration"`
	Interval time.Duration    `json:"interval"`
	Regions  []ManifestRegion `json:"regions"`
	Tasks    []TaskRef        `json:"tasks"`
	// Backend ("local", "aws"), Dispatch (how the generators were started:
	// "local", "sqs" or "burst") and Lead (dispatch to test time 0) say how
	// the run went out; empty in manifests written before they existed.
	Backend  string        `json:"backend,omitempty"`
	Dispatch string        `json:"dispatch,omitempty"`
	Lead     time.Duration `json:"lead,omitempty"`
}

// ManifestRegion is one region of the run and its generator count.
type ManifestRegion struct {
	Name       string `json:"name"`
	Generators int    `json:"generators"`
}

// TaskRef names one task of the run.
type TaskRef struct {
	ID        string        `json:"id"`
	Region    string        `json:"region"`
	Generator int           `json:"generator"`
	Slice     int           `json:"slice"`
	Window    engine.Window `json:"window"`
}

// Ref returns t's TaskRef.
func (t *Task) Ref() TaskRef {
	return TaskRef{ID: t.ID, Region: t.Region, Generator: t.Generator, Slice: t.Slice, Window: t.Config.Window}
}

// DecodeManifest parses a manifest and checks its names.
func DecodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if !ValidName(m.RunID) {
		return nil, fmt.Errorf("decode manifest: run id %q is not a valid name", m.RunID)
	}
	for _, t := range m.Tasks {
		if !ValidName(t.Region) || t.ID != TaskID(t.Generator, t.Slice) {
			return nil, fmt.Errorf("decode manifest: task %q in region %q is not valid", t.ID, t.Region)
		}
	}
	return &m, nil
}
