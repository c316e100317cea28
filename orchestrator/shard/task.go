package shard

import (
	"encoding/json"
	"errors"
	"fmt"
)

// EncodeTask returns t's message body (JSON). It validates t first, so that
// nothing undecodable is ever sent.
func EncodeTask(t *Task) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	return b, nil
}

// DecodeTask parses and validates a message body. It never panics; any
// body that is not a valid task is an error.
func DecodeTask(body []byte) (*Task, error) {
	var t Task
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	return &t, nil
}

// Validate checks what the generator relies on: names usable in keys, an
// ID that matches Generator and Slice, the generator's shard inside the
// plan's shard count, and a window inside the test.
func (t *Task) Validate() error {
	c := &t.Config
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !ValidName(t.RunID) {
		bad("run id %q is not a valid name", t.RunID)
	}
	if !ValidName(t.Region) {
		bad("region %q is not a valid name", t.Region)
	}
	if t.Generator < 0 || t.Slice < 0 || t.ID != TaskID(t.Generator, t.Slice) {
		bad("id %q does not name generator %d slice %d", t.ID, t.Generator, t.Slice)
	}
	if c.Shard.Count < 1 || c.Shard.Index != t.Generator || c.Shard.Index >= c.Shard.Count {
		bad("shard %d of %d does not fit generator %d", c.Shard.Index, c.Shard.Count, t.Generator)
	}
	if c.Duration <= 0 {
		bad("duration %v is not positive", c.Duration)
	}
	if c.Window.Start < 0 || c.Window.End <= c.Window.Start || c.Window.End > c.Duration {
		bad("window [%v, %v) is not inside [0, %v)", c.Window.Start, c.Window.End, c.Duration)
	}
	if c.Epoch.IsZero() {
		bad("epoch is not set")
	}
	if c.Interval < 0 || c.SnapshotEvery < 0 || c.Grace < 0 {
		bad("interval, snapshot_every and grace must not be negative")
	}
	return errors.Join(errs...)
}
