package orchestrator

import (
	"errors"
	"fmt"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// SnapshotEvery is how often each generator writes a checkpoint (so the
// orchestrator sees fresh progress at least every 2×SnapshotEvery).
const SnapshotEvery = 5 * time.Second

// Split cuts p into the tasks of one run: every region's generators × every
// time slice. Generators are numbered across all regions (region by
// region, in plan order), and generator g runs shard g of Count = the total
// generator count, so that the engine's striping (arrival i belongs to
// shard i mod Count) makes the shares add up exactly to the plan, whatever
// the regions. Slice s covers test time [s·Slice, min((s+1)·Slice,
// Duration)): the last slice is shorter when Slice does not divide the
// Duration. Every task carries the same Epoch, Seed and timeline Interval so
// that their results merge.
func Split(p *plan.Plan, runID string, epoch time.Time, seed uint64) ([]shard.Task, error) {
	if p == nil {
		return nil, errors.New("split: no plan")
	}
	d := p.Engine.Duration
	if d <= 0 {
		return nil, fmt.Errorf("split: duration %v is not positive", d)
	}
	if !shard.ValidName(runID) {
		return nil, fmt.Errorf("split: run id %q is not a valid name", runID)
	}
	count := 0
	for _, r := range p.Regions {
		if !shard.ValidName(r.Name) || r.Generators < 1 {
			return nil, fmt.Errorf("split: region %q with %d generators", r.Name, r.Generators)
		}
		count += r.Generators
	}
	if count == 0 {
		return nil, errors.New("split: no generators")
	}
	windows := SliceWindows(d, p.Slice)
	interval := Interval(p.Engine)
	tasks := make([]shard.Task, 0, count*len(windows))
	g := 0
	for _, r := range p.Regions {
		for range r.Generators {
			for s, w := range windows {
				cfg := p.Engine
				cfg.Shard = engine.Shard{Index: g, Count: count, Seed: seed}
				cfg.Window = w
				cfg.Epoch = epoch
				cfg.Interval = interval
				cfg.SnapshotEvery = SnapshotEvery
				tasks = append(tasks, shard.Task{
					RunID: runID, Region: r.Name, ID: shard.TaskID(g, s),
					Generator: g, Slice: s, Config: cfg,
				})
			}
			g++
		}
	}
	return tasks, nil
}

// SliceWindows tiles [0, d) with consecutive windows of length slice (the
// last one shorter); slice <= 0 or >= d gives one window.
func SliceWindows(d, slice time.Duration) []engine.Window {
	if slice <= 0 || slice >= d {
		return []engine.Window{{Start: 0, End: d}}
	}
	n := int((d + slice - 1) / slice)
	out := make([]engine.Window, n)
	for s := range out {
		out[s] = engine.Window{Start: time.Duration(s) * slice, End: min(time.Duration(s+1)*slice, d)}
	}
	return out
}

// Interval is the plan-wide timeline interval: cfg.Interval when set,
// otherwise the engine's default rule, max(1s, Duration/MaxIntervals)
// rounded up to a whole second. Every task uses it so that all timelines
// align when merged.
func Interval(cfg engine.Config) time.Duration {
	if cfg.Interval > 0 {
		return cfg.Interval
	}
	iv := max(time.Second, cfg.Duration/engine.MaxIntervals)
	return (iv + time.Second - 1) / time.Second * time.Second
}
