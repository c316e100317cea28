package orchestrator

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// Fleet geometry: 2,500 generators in each of 4 regions, one 10-minute slice,
// 10 endpoints: 10,000 tasks. Each generator serves fleetGenRate requests/s.
const (
	fleetEndpoints = 10
	fleetDuration  = 10 * time.Minute
	fleetGenRate   = 100 // requests/s per generator: 60,000 per result
	// fleetDistinct distinct generator results are built and reused round
	// robin: their encoded form is what Collect pays for, not who made it.
	fleetDistinct = 8
)

// fleetGenerators is the fleet's size; a smaller one makes profiling quick
// (go test -bench Fleet -fleet.generators 1000).
var fleetGenerators = flag.Int("fleet.generators", 10000, "generators in the fleet benchmarks (a multiple of 4)")

// fleetInterval overrides the timeline resolution (0: the plan's default,
// Interval's rule) to compare resolutions side by side.
var fleetInterval = flag.Duration("fleet.interval", 0, "timeline interval of the fleet benchmarks (0: the default for 10 minutes)")

// fleetPlan has *fleetGenerators generators (2,500 by default) in 4 regions
// and 1 slice.
func fleetPlan() *plan.Plan {
	steps := make([]engine.Step, fleetEndpoints)
	for i := range steps {
		steps[i] = engine.Step{Name: fmt.Sprintf("GET /api/%d", i), Method: "GET", URL: fmt.Sprintf("/api/%d", i)}
	}
	p := &plan.Plan{
		Engine: engine.Config{
			Target:    "http://127.0.0.1:1",
			Scenarios: []engine.Scenario{{Name: "s", Weight: 1, Steps: steps}},
			Load:      engine.Load{Rate: float64(*fleetGenerators * fleetGenRate)},
			Duration:  fleetDuration,
			Interval:  *fleetInterval,
		},
		Slice: fleetDuration,
	}
	for _, r := range []string{"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"} {
		p.Regions = append(p.Regions, plan.Region{Name: r, Generators: *fleetGenerators / 4})
	}
	return p
}

// fleetSnapshot is one generator's result for the whole 10-minute run,
// recorded through the engine's Recorder from realistic latencies: endpoint
// k's service times are log-normal around a median of (4+3k) ms (σ 0.35),
// 1% of requests take 3–10× longer (a slow path), scheduling adds up to
// 200 µs, and 0.3% of requests fail with a 503.
func fleetSnapshot(epoch time.Time, interval time.Duration, seed uint64) *engine.Snapshot {
	names := make([]string, fleetEndpoints)
	for i := range names {
		names[i] = fmt.Sprintf("GET /api/%d", i)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	const lanes = 4
	rec := engine.NewRecorder(names, nil, epoch, interval, lanes)
	n := int(fleetDuration.Seconds()) * fleetGenRate
	for i := range n {
		k := i % fleetEndpoints
		median := float64(4+3*k) * float64(time.Millisecond)
		svc := median * math.Exp(0.35*rng.NormFloat64())
		if rng.IntN(100) == 0 {
			svc *= 3 + 7*rng.Float64()
		}
		s := engine.Sample{
			Step:     k,
			At:       time.Duration(i) * time.Second / fleetGenRate,
			Service:  time.Duration(svc),
			Response: time.Duration(svc) + time.Duration(rng.IntN(200))*time.Microsecond,
			Status:   200,
			BytesOut: 120,
			BytesIn:  2048,
		}
		if rng.IntN(1000) < 3 {
			s.Status, s.Failed = 503, true
		}
		rec.IterationStarted(i%lanes, time.Duration(rng.IntN(300))*time.Microsecond)
		rec.Record(i%lanes, &s)
		rec.IterationDone(i%lanes, !s.Failed)
	}
	snap := rec.Snapshot()
	snap.Start, snap.End = epoch, epoch.Add(fleetDuration)
	return snap
}

// fleetStore writes the manifest and one final result per task into a
// directory store and returns the store, the tasks and the size in bytes of
// one result object.
func fleetStore(b *testing.B) (shard.Store, []shard.Task, int) {
	ctx := context.Background()
	p := fleetPlan()
	store, epoch, tasks := startedRun(b, p, "run-fleet", 1)
	snaps := make([]*engine.Snapshot, fleetDistinct)
	for i := range snaps {
		snaps[i] = fleetSnapshot(epoch, Interval(p.Engine), uint64(i))
	}
	// Encode each distinct snapshot once (a snapshot's histograms cost far
	// more to encode than the rest of a result) and splice it into each
	// task's result, after its head line as EncodeResult writes it.
	encoded := make([][]byte, fleetDistinct)
	for i, s := range snaps {
		var err error
		if encoded[i], err = json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
	size := 0
	for i := range tasks {
		t := &tasks[i]
		r := shard.NewResult(t)
		r.Final, r.Started, r.Ended = true, epoch, epoch.Add(fleetDuration)
		head, err := shard.EncodeResult(r)
		if err != nil {
			b.Fatal(err)
		}
		body := append(append(head, '\n'), encoded[i%fleetDistinct]...)
		size = max(size, len(body))
		if err := store.Put(ctx, shard.ResultKey(t.RunID, t.Region, t.ID), body); err != nil {
			b.Fatal(err)
		}
	}
	return store, tasks, size
}

// BenchmarkFleetDispatch splits the fleet's plan into its 10,000 tasks and
// enqueues them, one queue per region: into the in-process queue
// (memqueue), and through sqsqueue and the AWS SDK into local-aws-sqs
// (sqs, started by infra/localaws; its queues are counted afterwards). It
// reports this process's CPU time (cpu-s; the SQS server's own is not in
// it).
func BenchmarkFleetDispatch(b *testing.B) {
	p := fleetPlan()
	b.Run("memqueue", func(b *testing.B) {
		benchDispatch(b, p, func(region string) (Queue, func() int) {
			q := memqueue.New(0)
			return q, q.Len
		})
	})
	b.Run("sqs", func(b *testing.B) {
		ctx := context.Background()
		client := localaws.NewSQSClient(localaws.Config(ctx, b, localaws.StartSQS(b)))
		benchDispatch(b, p, func(region string) (Queue, func() int) {
			url := localaws.CreateQueue(b, client, region)
			return sqsqueue.New(client, url), func() int { return queueLen(b, client, url) }
		})
	})
}

// benchDispatch splits p and dispatches its tasks to a fresh queue per
// region each round (newQueue returns the queue and how to count what it
// holds), then checks that every task arrived.
func benchDispatch(b *testing.B, p *plan.Plan, newQueue func(region string) (Queue, func() int)) {
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		be := Backend{Queues: map[string]Queue{}}
		counts := map[string]func() int{}
		for _, r := range p.Regions {
			be.Queues[r.Name], counts[r.Name] = newQueue(r.Name)
		}
		cpu0 := processCPU(b)
		b.StartTimer()
		tasks, err := Split(p, "run-fleet", time.Now(), 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := dispatch(context.Background(), be, tasks); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU(b) - cpu0
		for _, r := range p.Regions {
			if n := counts[r.Name](); n != r.Generators {
				b.Fatalf("%s holds %d tasks, want %d", r.Name, n, r.Generators)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// queueLen is how many messages an SQS queue holds.
func queueLen(tb testing.TB, client *sqs.Client, url string) int {
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkFleetCollect merges the final results of 10,000 generators × 10
// endpoints of a 10-minute run from a directory. It reports the size of one
// result object (result-bytes) and the peak live heap during Collect
// (peak-heap-MB, sampled every 2ms).
func BenchmarkFleetCollect(b *testing.B) {
	ctx := context.Background()
	store, tasks, size := fleetStore(b)
	want := int64(len(tasks)) * int64(fleetDuration.Seconds()) * fleetGenRate
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		stop := sampleHeap(&peak)
		cpu0 := processCPU(b)
		b.StartTimer()
		res, err := Collect(ctx, store, "run-fleet")
		b.StopTimer()
		cpu += processCPU(b) - cpu0
		stop()
		if err != nil || res.Shards.Completed != len(tasks) || res.Total.Total().Requests != want {
			b.Fatalf("Collect = %+v, %v; want %d requests", res.Shards, err, want)
		}
		b.StartTimer()
	}
	// CPU time holds better than wall time on a shared machine.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(size), "result-bytes")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// processCPU is the process's user plus system CPU time.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleHeap records the largest live heap (bytes in heap objects) into
// *peak every 2ms until the returned stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 {
			*peak = max(*peak, v.Uint64())
		}
	}
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// TestCollectMergesInParallelExactly collects 60 results of different sizes
// (task i recorded i+1 requests, half of them at 3ms) on the parallel
// merge workers and checks that every request is counted exactly once,
// per region and in total, with the pooled percentiles and the latest end.
func TestCollectMergesInParallelExactly(t *testing.T) {
	ctx := context.Background()
	p := &plan.Plan{
		Engine:  engine.Config{Target: "http://127.0.0.1:1", Duration: 30 * time.Second},
		Regions: []plan.Region{{Name: "a", Generators: 20}, {Name: "b", Generators: 10}},
		Slice:   15 * time.Second,
	}
	const run = "run-parallel"
	store, epoch, tasks := startedRun(t, p, run, 3)
	want := map[string]int64{}
	var total, slow int64
	for i := range tasks {
		rec := engine.NewRecorder([]string{"a"}, nil, epoch, Interval(p.Engine), 1)
		for j := range i + 1 {
			d := time.Millisecond
			if j%2 == 1 {
				d, slow = 3*time.Millisecond, slow+1
			}
			rec.Record(0, &engine.Sample{At: time.Duration(j) * time.Second, Response: d, Service: d, Status: 200})
		}
		r := shard.NewResult(&tasks[i])
		r.Final, r.Snapshot, r.Ended = true, rec.Snapshot(), epoch.Add(time.Duration(i)*time.Second)
		put(t, store, shard.ResultKey(run, tasks[i].Region, tasks[i].ID), r)
		want[tasks[i].Region] += int64(i + 1)
		total += int64(i + 1)
	}
	res, err := Collect(ctx, store, run)
	if err != nil {
		t.Fatal(err)
	}
	if res.Shards.Completed != len(tasks) || len(res.Shards.Missing)+len(res.Shards.Corrupt) != 0 {
		t.Fatalf("shards = %+v, want %d completed", res.Shards, len(tasks))
	}
	if got := res.Total.Steps["a"].Requests; got != total {
		t.Errorf("total requests = %d, want %d", got, total)
	}
	if got := res.Total.Steps["a"].Response.Count(); got != total {
		t.Errorf("total histogram count = %d, want %d", got, total)
	}
	var timeline int64
	for _, iv := range res.Total.Timeline {
		timeline += iv.Requests
	}
	if timeline != total {
		t.Errorf("timeline requests = %d, want %d", timeline, total)
	}
	// slow of total requests took 3ms: p99 is 3ms, p1 is 1ms (HDR precision).
	if q := res.Total.Steps["a"].Service.Quantile(99); q < 2990*time.Microsecond || q > 3010*time.Microsecond {
		t.Errorf("p99 = %v, want 3ms (%d of %d slow)", q, slow, total)
	}
	for _, r := range res.Regions {
		if got := r.Snapshot.Steps["a"].Requests; got != want[r.Name] {
			t.Errorf("region %s requests = %d, want %d", r.Name, got, want[r.Name])
		}
	}
	if wantEnd := epoch.Add(time.Duration(len(tasks)-1) * time.Second); !res.Ended.Equal(wantEnd) {
		t.Errorf("Ended = %v, want %v", res.Ended, wantEnd)
	}
}
