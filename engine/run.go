package engine

import "context"

// Option configures Run.
type Option func(*options)

type options struct {
	progress func(*Snapshot)
	client   *Client
}

// WithProgress has Run call fn with a cumulative snapshot every
// Config.SnapshotEvery, from Run's own goroutine; fn must not block long.
func WithProgress(fn func(*Snapshot)) Option { return func(o *options) { o.progress = fn } }

// Run executes cfg's share of the plan for its window and returns the
// results. It fails only when the run cannot go on (bad config); failed
// requests are results. Cancelling ctx stops the run early; what completed
// is still returned.
func Run(ctx context.Context, cfg Config, opts ...Option) (*Snapshot, error) {
	panic("engine: Run not implemented")
}
