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
// Once the run is stopped, the waves not yet sent go out at once: their
// generators find the stop marker and report empty final results, so that
// every task of the manifest is accounted for.

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

// sendLater sends each wave at its time, or at once after stopped is
// closed. It reports the first failure on failed (buffered, capacity 1) and
// carries on with the next waves. It returns when every wave was sent or
// ctx is done; the caller owns it and waits for it.
func sendLater(ctx context.Context, b Backend, ws []wave, stopped <-chan struct{}, failed chan<- error) {
	for _, w := range ws {
		if d := time.Until(w.at); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-stopped:
			case <-ctx.Done():
				t.Stop()
				return
			}
			t.Stop()
		}
		if err := dispatch(ctx, b, w.tasks); err != nil {
			select {
			case failed <- err:
			default:
			}
		}
	}
}
