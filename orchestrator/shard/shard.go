package shard

import (
	"context"
	"errors"

	"github.com/stampede-load/stampede/engine"
)

// Task is one generator invocation's work: one shard of the plan for one
// time slice in one region. It is the message body on the queue (JSON).
type Task struct {
	RunID  string `json:"run_id"`
	Region string `json:"region"`
	// ID names the task in keys and reports: "g0007-s02" (generator 7, slice 2).
	ID        string `json:"id"`
	Generator int    `json:"generator"`
	Slice     int    `json:"slice"`
	// Config is the engine configuration with Shard, Window and Epoch set.
	Config engine.Config `json:"config"`
}

// Store holds a run's objects under "runs/<run-id>/…" (the same keys on S3
// and in a local directory). Implementations are safe for concurrent use.
type Store interface {
	Put(ctx context.Context, key string, data []byte) error
	// Create writes key only if it does not exist yet; ErrExists otherwise.
	Create(ctx context.Context, key string, data []byte) error
	// Get returns ErrNotFound for a missing key.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns every key under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Store errors.
var (
	ErrExists   = errors.New("object already exists")
	ErrNotFound = errors.New("object not found")
)
