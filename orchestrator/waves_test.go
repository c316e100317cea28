package orchestrator

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

func TestWaves(t *testing.T) {
	p := &plan.Plan{
		Engine:  engine.Config{Duration: 25 * time.Minute},
		Regions: []plan.Region{{Name: "a", Generators: 2}, {Name: "b", Generators: 1}},
		Slice:   10 * time.Minute,
	}
	epoch := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	tasks, err := Split(p, "r", epoch, 1)
	if err != nil {
		t.Fatal(err)
	}
	ws := waves(tasks, epoch, 30*time.Second)
	if len(ws) != 3 {
		t.Fatalf("%d waves, want 3", len(ws))
	}
	for s, w := range ws {
		if want := epoch.Add(time.Duration(s)*10*time.Minute - 30*time.Second); !w.at.Equal(want) {
			t.Errorf("wave %d at %v, want %v", s, w.at, want)
		}
		if len(w.tasks) != 3 {
			t.Errorf("wave %d has %d tasks, want 3", s, len(w.tasks))
		}
		for _, task := range w.tasks {
			if task.Slice != s {
				t.Errorf("wave %d holds %s", s, task.ID)
			}
		}
	}
}

type failingQueue struct{}

func (failingQueue) Send(context.Context, [][]byte) error { return errors.New("sqs: throttled") }

func TestSendLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &plan.Plan{Engine: engine.Config{Duration: 3 * time.Minute}, Regions: []plan.Region{{Name: "a", Generators: 2}}, Slice: time.Minute}
		epoch := time.Now().Add(10 * time.Second)
		tasks, err := Split(p, "r", epoch, 1)
		if err != nil {
			t.Fatal(err)
		}
		q := memqueue.New(0)
		store := dirstore.New(t.TempDir())
		b := Backend{Queues: map[string]Queue{"a": q}, Store: store}
		ws := waves(tasks, epoch, 10*time.Second)
		stopped := make(chan struct{})
		failed := make(chan error, 1)
		go sendLater(context.Background(), b, ws[1:], stopped, failed)

		time.Sleep(epoch.Add(50 * time.Second).Sub(time.Now()))
		synctest.Wait()
		if q.Len() != 2 {
			t.Errorf("%d tasks sent 10s before slice 1, want 2", q.Len())
		}
		close(stopped) // slice 2 is never sent after a stop: Run claims it
		synctest.Wait()
		if q.Len() != 2 {
			t.Errorf("%d tasks sent after the stop, want still 2", q.Len())
		}
		for _, task := range ws[2].tasks {
			data, err := store.Get(context.Background(), shard.ResultKey("r", task.Region, task.ID))
			if err != nil {
				t.Fatalf("unsent %s was not claimed: %v", task.ID, err)
			}
			if r, err := shard.DecodeResult(data); err != nil || r.Stopped != ClaimedReason || !r.Final {
				t.Errorf("claimed %s: %+v, %v", task.ID, r, err)
			}
		}

		b.Queues["a"] = failingQueue{}
		sendLater(context.Background(), b, ws[1:], make(chan struct{}), failed)
		select {
		case err := <-failed:
			if err == nil {
				t.Error("nil failure")
			}
		default:
			t.Error("a failed send was not reported")
		}
	})
}
