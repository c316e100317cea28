package generator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// burstQueue is the in-process queue behind generator.TaskQueue, as the
// SQS adapter is on Lambda: Receive waits up to wait for one message.
type burstQueue struct{ q *memqueue.Queue }

var _ generator.TaskQueue = burstQueue{}

func (b burstQueue) Receive(ctx context.Context, wait time.Duration) (generator.Message, bool, error) {
	c, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msgs, err := b.q.Receive(c, 1)
	if err != nil || len(msgs) == 0 {
		if ctx.Err() != nil {
			return generator.Message{}, false, ctx.Err()
		}
		return generator.Message{}, false, nil
	}
	return generator.Message{ID: msgs[0].ID, Receipt: msgs[0].Receipt, Body: msgs[0].Body}, true, nil
}

func (b burstQueue) Delete(ctx context.Context, receipt string) error {
	return b.q.Delete(ctx, receipt)
}

// loadBurst reads the burst invocation fixture as the Lambda runtime
// would decode it.
func loadBurst(t *testing.T) generator.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "burst-invoke.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev generator.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Burst == nil || len(ev.Records) != 0 {
		t.Fatalf("burst fixture decoded to %+v", ev)
	}
	return ev
}

// burstSetup returns a handler with a burst queue holding the bodies of
// the SQS fixture's records (pointed at tg), in order.
func burstSetup(t *testing.T, tg *target, fixture string, epoch time.Time) (*generator.Handler, *memqueue.Queue, shard.Store, []*shard.Task) {
	t.Helper()
	ev := loadEvent(t, fixture, tg, epoch, nil)
	q := memqueue.New(time.Minute)
	var tasks []*shard.Task
	for _, r := range ev.Records {
		if err := q.Send(context.Background(), [][]byte{[]byte(r.Body)}); err != nil {
			t.Fatal(err)
		}
		if task, err := shard.DecodeTask([]byte(r.Body)); err == nil {
			tasks = append(tasks, task)
		}
	}
	store := dirstore.New(t.TempDir())
	h := newHandler(store)
	h.Tasks = burstQueue{q}
	h.BurstWait = 300 * time.Millisecond
	return h, q, store, tasks
}

func TestInvokeBurstRunsOneTask(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	h, q, store, tasks := burstSetup(t, tg, "sqs-task.json", time.Now().Add(100*time.Millisecond))
	resp, err := h.Invoke(context.Background(), loadBurst(t))
	if err != nil {
		t.Fatal(err)
	}
	task := tasks[0]
	if resp.Burst == nil || resp.Burst.Task != task.Region+"/"+task.ID || resp.Burst.Skipped != 0 || resp.Burst.Empty {
		t.Fatalf("outcome %+v, want task %s", resp.Burst, task.ID)
	}
	if q.Len() != 0 {
		t.Errorf("%d messages left in the burst queue", q.Len())
	}
	r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
	if !r.Final || r.Stopped != "" || tg.total() != 80 {
		t.Errorf("result final=%v stopped=%q, %d requests; want a full run of 80", r.Final, r.Stopped, tg.total())
	}
	assertMatches(t, r.Snapshot, tg)
}

// TestInvokeBurstDuplicates invokes three times for one task, at once: one
// invocation runs it, the other two find no message and end.
func TestInvokeBurstDuplicates(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	h, q, store, tasks := burstSetup(t, tg, "sqs-task.json", time.Now().Add(100*time.Millisecond))
	ev := loadBurst(t)
	outs := make([]*generator.BurstOutcome, 3)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			resp, err := h.Invoke(context.Background(), ev)
			if err != nil {
				t.Error(err)
			}
			outs[i] = resp.Burst
		})
	}
	wg.Wait()
	ran, empty := 0, 0
	for _, o := range outs {
		if o.Task != "" {
			ran++
		}
		if o.Empty {
			empty++
		}
	}
	if ran != 1 || empty != 2 || q.Len() != 0 {
		t.Errorf("outcomes %+v %+v %+v, %d left; want one run and two empty", *outs[0], *outs[1], *outs[2], q.Len())
	}
	r := readResult(t, store, shard.ResultKey(tasks[0].RunID, tasks[0].Region, tasks[0].ID))
	if tg.total() != 80 {
		t.Errorf("target counted %d requests, want 80 (one run)", tg.total())
	}
	assertMatches(t, r.Snapshot, tg)
}

// TestInvokeBurstSkipsNoWork puts, ahead of a fresh task, a poison message
// and a task that is leased already: the invocation skips both (deleting
// them) and runs the fresh one.
func TestInvokeBurstSkipsNoWork(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	epoch := time.Now().Add(100 * time.Millisecond)
	h, q, store, tasks := burstSetup(t, tg, "sqs-two-tasks.json", epoch)
	// Lease the first task as if another generator had it; put a poison
	// message in front of everything.
	first, second := tasks[0], tasks[1]
	if err := store.Create(context.Background(), shard.LeaseKey(first.RunID, first.Region, first.ID), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	poisoned := memqueue.New(time.Minute)
	_ = poisoned.Send(context.Background(), [][]byte{[]byte("not a task")})
	for q.Len() > 0 {
		msgs, _ := q.Receive(context.Background(), 1)
		_ = poisoned.Send(context.Background(), [][]byte{msgs[0].Body})
		_ = q.Delete(context.Background(), msgs[0].Receipt)
	}
	h.Tasks = burstQueue{poisoned}
	resp, err := h.Invoke(context.Background(), loadBurst(t))
	if err != nil {
		t.Fatal(err)
	}
	if o := resp.Burst; o.Task != second.Region+"/"+second.ID || o.Skipped != 2 || o.Empty {
		t.Errorf("outcome %+v, want task %s after 2 skipped", o, second.ID)
	}
	if poisoned.Len() != 0 {
		t.Errorf("%d messages left", poisoned.Len())
	}
	if _, err := store.Get(context.Background(), shard.ResultKey(first.RunID, first.Region, first.ID)); !errors.Is(err, shard.ErrNotFound) {
		t.Errorf("the task leased elsewhere has a result here: %v", err)
	}
	readResult(t, store, shard.ResultKey(second.RunID, second.Region, second.ID))
}

// TestInvokeBurstStoppedLooksFurther: a task whose run was stopped before
// its window is no work: the invocation writes its empty result and takes
// the next message.
func TestInvokeBurstStoppedLooksFurther(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	h, q, store, tasks := burstSetup(t, tg, "sqs-two-tasks.json", time.Now().Add(time.Hour))
	if err := store.Put(context.Background(), shard.StopKey(tasks[0].RunID), []byte("stopped by stampede stop")); err != nil {
		t.Fatal(err)
	}
	resp, err := h.Invoke(context.Background(), loadBurst(t))
	if err != nil {
		t.Fatal(err)
	}
	if o := resp.Burst; o.Task != "" || o.Skipped != 2 || !o.Empty || q.Len() != 0 || tg.total() != 0 {
		t.Errorf("outcome %+v, %d left, %d requests; want both skipped, then empty", o, q.Len(), tg.total())
	}
	for _, task := range tasks {
		if r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID)); r.Stopped == "" {
			t.Errorf("%s: result not marked stopped", task.ID)
		}
	}
}

func TestInvokeShapes(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	store := dirstore.New(t.TempDir())
	h := newHandler(store)
	if _, err := h.Invoke(context.Background(), generator.Event{}); !errors.Is(err, generator.ErrUnknownEvent) {
		t.Errorf("empty event: %v, want ErrUnknownEvent", err)
	}
	var noRecords generator.Event // what {"Records":[]} decodes to: an SQS event with nothing to do
	if err := json.Unmarshal([]byte(`{"Records":[]}`), &noRecords); err != nil {
		t.Fatal(err)
	}
	if resp, err := h.Invoke(context.Background(), noRecords); err != nil || len(resp.BatchItemFailures) != 0 || resp.Burst != nil {
		t.Errorf(`Invoke({"Records":[]}) = %+v, %v; want no failures`, resp, err)
	}
	if _, err := h.Invoke(context.Background(), loadBurst(t)); err == nil {
		t.Error("a burst invocation without a burst queue succeeded")
	}
	// An SQS event through Invoke is Handle's, and answers batchItemFailures.
	sqsEv := loadEvent(t, "sqs-task.json", tg, time.Now().Add(50*time.Millisecond), nil)
	resp, err := h.Invoke(context.Background(), generator.Event{Records: sqsEv.Records})
	if err != nil || len(resp.BatchItemFailures) != 0 || resp.Burst != nil {
		t.Fatalf("Invoke(SQS) = %+v, %v", resp, err)
	}
	data, err := json.Marshal(resp)
	if err != nil || string(data) != `{"batchItemFailures":null}` {
		t.Errorf("SQS response JSON %s, %v; want the event source mapping's shape only", data, err)
	}
	if tg.total() != 80 {
		t.Errorf("%d requests, want 80", tg.total())
	}
}

// leaseFaults fails the first n lease Creates through it; with written set
// a failed Create has written the lease all the same (its answer lost).
type leaseFaults struct {
	shard.Store
	mu       sync.Mutex
	n, tries int
	written  bool
}

func (f *leaseFaults) Create(ctx context.Context, key string, data []byte) error {
	f.mu.Lock()
	f.tries++
	fail := f.tries <= f.n
	f.mu.Unlock()
	if !fail {
		return f.Store.Create(ctx, key, data)
	}
	if f.written {
		if err := f.Store.Create(ctx, key, data); err != nil {
			return err
		}
	}
	return errors.New("fault: 503 SlowDown")
}

// TestInvokeBurstLeaseRetried: a lease that cannot be written is tried
// again with backoff. Two faults: the third try leases and the task runs.
// A lease written whose answer was lost: the retry finds it, sees it names
// this message, and runs the task. Faults on every try: nothing runs, the
// message is deleted (the orchestrator sends the task again) and the
// invocation says so, with the number of tries made: fewer when the
// invocation's deadline ends them.
func TestInvokeBurstLeaseRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		faults        int
		written, runs bool
		creates       int
		timeout       time.Duration // of the invocation; 0: none
	}{
		{"two faults", 2, false, true, 3, 0},
		{"answer lost", 1, true, true, 2, 0},
		{"every try", 100, false, false, 1 + generator.DefaultRetries, 0},
		// Tries at 0, 200 and 600 ms; the next would be at 1.4 s.
		{"deadline", 100, false, false, 3, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			h, q, store, tasks := burstSetup(t, tg, "sqs-task.json", time.Now().Add(4*time.Second))
			faults := &leaseFaults{Store: store, n: tc.faults, written: tc.written}
			h.Store = faults
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			resp, err := h.Invoke(ctx, loadBurst(t))
			task := tasks[0]
			if faults.tries != tc.creates || q.Len() != 0 {
				t.Errorf("%d lease tries, %d messages left; want %d, none", faults.tries, q.Len(), tc.creates)
			}
			if !tc.runs {
				want := fmt.Sprintf("lease not written after %d tries; message deleted, the orchestrator dispatches the task again", faults.tries)
				if err == nil || !strings.Contains(err.Error(), want) || resp.Burst.Task != "" || tg.total() != 0 {
					t.Errorf("Invoke = %+v, %v; want the failure named and nothing run (%d requests)", resp.Burst, err, tg.total())
				}
				return
			}
			if err != nil || resp.Burst.Task != task.Region+"/"+task.ID {
				t.Fatalf("Invoke = %+v, %v; want task %s run", resp.Burst, err, task.ID)
			}
			r := readResult(t, store, shard.ResultKey(task.RunID, task.Region, task.ID))
			if !r.Final || tg.total() != 80 {
				t.Errorf("result final=%v, %d requests; want a full run of 80", r.Final, tg.total())
			}
		})
	}
}
