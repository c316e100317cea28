package shard

import (
	"bytes"
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

// EncodeResult returns r as two lines of JSON: the result without its
// snapshot, then the snapshot when there is one. A reader thus takes the
// head without scanning the snapshot, and the snapshot on its own
// (engine.ParseSnapshot), which is what makes merging thousands of results
// fast.
func EncodeResult(r *Result) ([]byte, error) {
	head := *r
	head.Snapshot = nil
	b, err := json.Marshal(&head)
	if err != nil {
		return nil, fmt.Errorf("encode result %s: %w", r.TaskID, err)
	}
	if r.Snapshot == nil {
		return b, nil
	}
	snap, err := json.Marshal(r.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("encode result %s: %w", r.TaskID, err)
	}
	return append(append(b, '\n'), snap...), nil
}

// DecodeResult parses and checks a result object, snapshot included (see
// engine.DecodeSnapshot). It also reads the older form, one JSON object
// with the snapshot inside. It never panics.
func DecodeResult(data []byte) (*Result, error) {
	r, snap, err := decodeHead(data)
	if err != nil {
		return nil, err
	}
	if snap != nil {
		if r.Snapshot, err = engine.DecodeSnapshot(snap); err != nil {
			return nil, fmt.Errorf("decode result: %w", err)
		}
	}
	if err := checkResult(r, r.Snapshot != nil); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseResult is DecodeResult leaving the snapshot in its wire form,
// returned apart (nil for an error-only result); r.Snapshot is nil.
func ParseResult(data []byte) (r *Result, snap *engine.WireSnapshot, err error) {
	r, raw, err := decodeHead(data)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case raw != nil:
		snap, err = engine.ParseSnapshot(raw)
	case r.Snapshot != nil: // the older form: rare, so encoded again
		if raw, err = json.Marshal(r.Snapshot); err == nil {
			snap, err = engine.ParseSnapshot(raw)
		}
		r.Snapshot = nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("decode result: %w", err)
	}
	if err := checkResult(r, snap != nil); err != nil {
		return nil, nil, err
	}
	return r, snap, nil
}

// decodeHead decodes the first line of a result object and returns what
// follows it, the snapshot's JSON (nil if there is none).
func decodeHead(data []byte) (*Result, []byte, error) {
	head, snap, _ := bytes.Cut(data, []byte("\n"))
	if len(bytes.TrimSpace(snap)) == 0 {
		snap = nil
	}
	var r Result
	if err := json.Unmarshal(head, &r); err != nil {
		return nil, nil, fmt.Errorf("decode result: %w", err)
	}
	if snap != nil && r.Snapshot != nil {
		return nil, nil, errors.New("decode result: two snapshots")
	}
	return &r, snap, nil
}

// checkResult checks a decoded result's names and that it carries data.
func checkResult(r *Result, hasSnapshot bool) error {
	switch {
	case !ValidName(r.RunID) || !ValidName(r.Region) || r.TaskID != TaskID(r.Generator, r.Slice):
		return fmt.Errorf("decode result: run %q region %q task %q generator %d slice %d do not match",
			r.RunID, r.Region, r.TaskID, r.Generator, r.Slice)
	case !hasSnapshot && r.Error == "":
		return errors.New("decode result: neither a snapshot nor an error")
	}
	return nil
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
