package orchestrator

import (
	"context"
	"time"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// A Lambda invocation lives at most 15 minutes, so a generator cannot take
// its task at dispatch and wait for a slice that starts half an hour later.
// Run therefore sends the tasks in waves, one per time slice: slice 0's
// before the watch begins, slice s's Lead before its window opens (at
// epoch + Window.Start - Lead), so that every generator waits about Lead
// for its start, whatever the test's length.
//
// Once the run is stopped, the waves not yet sent are never sent:
// sendLater claims their tasks at once (claimTasks), so that every task of
// the manifest is accounted for within the stop's drain and no generator
// is started for a stopped run (on AWS the kill switch may have throttled
// the function anyway).

// wave is the tasks of one time slice and when to send them.
type wave struct {
	at    time.Time
	tasks []shard.Task
}

// waves groups tasks by slice, in slice order.
func waves(tasks []shard.Task, epoch time.Time, lead time.Duration) []wave {
	var out []wave
	for i := range tasks {
		s := tasks[i].Slice
		for len(out) <= s {
			out = append(out, wave{})
		}
		if out[s].tasks == nil {
			out[s].at = epoch.Add(tasks[i].Config.Window.Start - lead)
		}
		out[s].tasks = append(out[s].tasks, tasks[i])
	}
	return out
}

// sendLater sends each wave at its time. It reports the first failure on
// failed (buffered, capacity 1) and carries on with the next waves. Once
// stopped is closed it claims the tasks of the waves left instead. It
// returns when every wave was sent or claimed, or ctx is done; the caller
// owns it and waits for it.
func sendLater(ctx context.Context, b Backend, ws []wave, stopped <-chan struct{}, failed chan<- error) {
	for i, w := range ws {
		if d := time.Until(w.at); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-stopped: // claimed below
			case <-ctx.Done():
				t.Stop()
				return
			}
			t.Stop()
		}
		select {
		case <-stopped: // now, or while waiting above
			claimWaves(ctx, b.Store, ws[i:])
			return
		default:
		}
		if err := dispatch(ctx, b, w.tasks); err != nil {
			select {
			case failed <- err:
			default:
			}
		}
	}
}

// claimWaves claims the tasks of waves that were never sent. A failure
// leaves those tasks missing in the report.
func claimWaves(ctx context.Context, store shard.Store, ws []wave) {
	var tasks []shard.Task
	for _, w := range ws {
		tasks = append(tasks, w.tasks...)
	}
	_ = claimTasks(ctx, store, tasks)
}
