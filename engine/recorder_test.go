package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRecorderCounts(t *testing.T) {
	rec := NewRecorder([]string{"login", "list"}, []string{"shop"}, testEpoch, time.Second, 3)
	samples := []Sample{
		{Step: 0, At: 100 * time.Millisecond, Response: 5 * time.Millisecond, Service: 4 * time.Millisecond, Status: 200, BytesOut: 10, BytesIn: 100},
		{Step: 0, At: 1500 * time.Millisecond, Response: 7 * time.Millisecond, Service: 7 * time.Millisecond, Status: 401, Failed: true, BytesOut: 10},
		{Step: 1, At: 1900 * time.Millisecond, Response: 2 * time.Second, Service: time.Second, Err: ErrTimeout, Failed: true},
		{Step: 1, At: 2 * time.Second, Response: time.Millisecond, Service: time.Millisecond, Status: 200, Err: ErrExpect, Failed: true},
		{Step: 7, At: time.Second, Status: 200},  // unknown step: ignored
		{Step: -1, At: time.Second, Status: 200}, // unknown step: ignored
	}
	for i := range samples {
		rec.Record(i, &samples[i]) // lanes 3, 4, 5 wrap around
	}
	rec.Record(-2, nil)
	rec.IterationStarted(0, 0)
	rec.IterationStarted(1, 2*time.Millisecond) // late
	rec.IterationStarted(2, time.Millisecond)   // on the threshold: not late
	rec.Dropped(0, 3*time.Second)
	rec.IterationDone(0, true)
	rec.IterationDone(1, false)
	rec.Workflow(0, 0, 30*time.Millisecond, true)
	rec.Workflow(1, 0, 50*time.Millisecond, false)
	rec.Workflow(1, 3, time.Second, true) // unknown workflow: ignored

	s := rec.Snapshot()
	login, list := s.Steps["login"], s.Steps["list"]
	if login.Requests != 2 || login.Failures != 1 || login.BytesSent != 20 || login.BytesRecv != 100 ||
		len(login.Status) != 2 || login.Status[200] != 1 || login.Status[401] != 1 || len(login.Errors) != 0 {
		t.Errorf("login = %+v", login)
	}
	if login.Response.Count() != 2 || !near(login.Response.Max(), 7*time.Millisecond) || login.Service.Min() != 4*time.Millisecond {
		t.Errorf("login histograms: %d values, max %v, service min %v", login.Response.Count(), login.Response.Max(), login.Service.Min())
	}
	// A transport error has no status and is not in Status.
	if list.Requests != 2 || list.Failures != 2 || len(list.Status) != 1 || list.Status[200] != 1 ||
		len(list.Errors) != 2 || list.Errors[ErrTimeout] != 1 || list.Errors[ErrExpect] != 1 {
		t.Errorf("list = %+v", list)
	}
	it := s.Iterations
	if it.Started != 3 || it.Late != 1 || it.Dropped != 1 || it.Completed != 1 || it.Failed != 1 || it.Lateness.Count() != 4 || !near(it.Lateness.Max(), 3*time.Second) {
		t.Errorf("iterations = %+v, lateness %d values max %v", it, it.Lateness.Count(), it.Lateness.Max())
	}
	if w := s.Workflows["shop"]; w.Completed != 1 || w.Failed != 1 || w.Time.Count() != 2 || !near(w.Time.Max(), 50*time.Millisecond) {
		t.Errorf("workflow = %+v", w)
	}
	want := []struct {
		index              int
		requests, failures int64
	}{{0, 1, 0}, {1, 2, 2}, {2, 1, 1}}
	if len(s.Timeline) != len(want) {
		t.Fatalf("timeline has %d intervals, want %d", len(s.Timeline), len(want))
	}
	for i, w := range want {
		iv := s.Timeline[i]
		if iv.Index != w.index || iv.Requests != w.requests || iv.Failures != w.failures || iv.Response.Count() != w.requests {
			t.Errorf("interval %d = %+v, want %+v", i, iv, w)
		}
	}
	if iv := s.Timeline[1]; iv.Status[401] != 1 || iv.Errors[ErrTimeout] != 1 || len(iv.Status) != 1 {
		t.Errorf("interval 1 status %v errors %v", iv.Status, iv.Errors)
	}
	if s.Interval != time.Second || !s.Epoch.Equal(testEpoch) || s.End.Before(s.Start) {
		t.Errorf("epoch, interval, span = %v %v %v..%v", s.Epoch, s.Interval, s.Start, s.End)
	}
}

// near reports whether a histogram value is in the bucket of want: at least
// want and within HistogramDigits precision above it.
func near(got, want time.Duration) bool {
	return got >= want && float64(got-want) <= float64(want)/1000
}

func TestRecorderClampsIndex(t *testing.T) {
	rec := NewRecorder([]string{"a"}, nil, testEpoch, time.Second, 1)
	for _, at := range []time.Duration{-time.Hour, 0, 10 * time.Hour} {
		rec.Record(0, &Sample{Step: 0, At: at, Status: 200})
	}
	s := rec.Snapshot()
	if len(s.Timeline) != 2 || s.Timeline[0].Index != 0 || s.Timeline[0].Requests != 2 ||
		s.Timeline[1].Index != 2*MaxIntervals-1 || s.Timeline[1].Requests != 1 {
		t.Errorf("timeline = %+v %+v", s.Timeline[0], s.Timeline[len(s.Timeline)-1])
	}
}

func TestRecorderSnapshotIsIndependent(t *testing.T) {
	rec := NewRecorder([]string{"a"}, []string{"w"}, testEpoch, time.Second, 2)
	rec.Record(0, &Sample{Step: 0, Response: time.Millisecond, Status: 200})
	s1 := rec.Snapshot()
	s1.Steps["a"].Response.Record(time.Second)
	s1.Timeline[0].Requests = 99
	rec.Record(1, &Sample{Step: 0, Response: time.Millisecond, Status: 200})
	s2 := rec.Snapshot()
	if s2.Steps["a"].Requests != 2 || s2.Steps["a"].Response.Count() != 2 || s2.Timeline[0].Requests != 2 {
		t.Errorf("second snapshot = %+v, interval %+v", s2.Steps["a"], s2.Timeline[0])
	}
	if s1.Steps["a"].Requests != 1 {
		t.Errorf("first snapshot changed: %+v", s1.Steps["a"])
	}
	if s2.Workflows["w"] == nil || s2.Workflows["w"].Time == nil {
		t.Error("workflow without data missing from the snapshot")
	}
}

// TestRecorderConcurrent records from 8 goroutines on 4 lanes while another
// goroutine takes snapshots; the final snapshot has exactly what was
// recorded, per step, status, class and interval (run with -race).
func TestRecorderConcurrent(t *testing.T) {
	const workers, perWorker, lanes = 8, 10_000, 4
	steps := stepNames(3)
	rec := NewRecorder(steps, []string{"w"}, testEpoch, time.Second, lanes)
	type key struct {
		step     int
		status   int
		class    ErrorClass
		interval int
	}
	expected := make([]map[key]int64, workers)
	var taken atomic.Int64 // snapshots taken so far
	var wg sync.WaitGroup
	for w := range workers {
		samples := randomSamples(rand.New(rand.NewPCG(uint64(w), 42)), perWorker, len(steps), 60*time.Second)
		expected[w] = map[key]int64{}
		for _, s := range samples {
			expected[w][key{s.Step, s.Status, s.Err, int(s.At / time.Second)}]++
		}
		wg.Go(func() {
			for i := range samples {
				// Every 2,000 samples, wait for another snapshot so that
				// snapshots interleave with recording.
				for i%2000 == 0 && taken.Load() < int64(i/2000) {
					runtime.Gosched()
				}
				rec.Record(w%lanes, &samples[i])
				rec.IterationStarted(w%lanes, 0)
				rec.IterationDone(w%lanes, true)
			}
		})
	}
	done := make(chan struct{})
	var sg sync.WaitGroup
	sg.Go(func() {
		var last int64
		for {
			select {
			case <-done:
				return
			default:
			}
			s := rec.Snapshot()
			taken.Add(1)
			if n := s.Total().Requests; n < last {
				t.Errorf("cumulative count went down: %d < %d", n, last)
			} else {
				last = n
			}
		}
	})
	wg.Wait()
	close(done)
	sg.Wait()

	want := map[key]int64{}
	for _, m := range expected {
		for k, n := range m {
			want[k] += n
		}
	}
	s := rec.Snapshot()
	total := int64(workers * perWorker)
	if s.Iterations.Started != total || s.Iterations.Completed != total || s.Total().Requests != total || s.Total().Response.Count() != total {
		t.Fatalf("totals: %+v, %d requests", s.Iterations, s.Total().Requests)
	}
	for i, name := range steps {
		st := s.Steps[name]
		var req, failed int64
		status := map[int]int64{}
		classes := map[ErrorClass]int64{}
		for k, n := range want {
			if k.step != i {
				continue
			}
			req += n
			if k.status != 0 {
				status[k.status] += n
			}
			if k.class != ErrNone {
				classes[k.class] += n
			}
			if k.status >= 400 || k.class != ErrNone {
				failed += n
			}
		}
		if st.Requests != req || st.Failures != failed || st.Response.Count() != req || st.Service.Count() != req {
			t.Errorf("%s: %d requests %d failures, want %d %d", name, st.Requests, st.Failures, req, failed)
		}
		if fmt.Sprint(st.Status) != fmt.Sprint(status) || fmt.Sprint(st.Errors) != fmt.Sprint(classes) {
			t.Errorf("%s: status %v errors %v, want %v %v", name, st.Status, st.Errors, status, classes)
		}
	}
	perInterval := map[int]int64{}
	for k, n := range want {
		perInterval[k.interval] += n
	}
	if len(s.Timeline) != len(perInterval) {
		t.Fatalf("timeline has %d intervals, want %d", len(s.Timeline), len(perInterval))
	}
	for _, iv := range s.Timeline {
		if iv.Requests != perInterval[iv.Index] || iv.Response.Count() != iv.Requests {
			t.Errorf("interval %d: %d requests, want %d", iv.Index, iv.Requests, perInterval[iv.Index])
		}
	}
	// The workers wait for snapshot k before their sample 2000k, k = 1…4:
	// at least four snapshots interleaved with recording.
	if want := int64((perWorker - 1) / 2000); taken.Load() < want {
		t.Errorf("only %d snapshots taken while recording, want at least %d", taken.Load(), want)
	}
	t.Logf("%d snapshots taken while recording", taken.Load())
}

// TestRecorderLaneMemory measures one lane with 10 steps and 120 intervals.
func TestRecorderLaneMemory(t *testing.T) {
	steps := stepNames(10)
	samples := randomSamples(rand.New(rand.NewPCG(5, 5)), 50_000, len(steps), 120*time.Second)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := NewRecorder(steps, nil, testEpoch, time.Second, 1)
	for i := range samples {
		rec.Record(0, &samples[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("one lane, 10 steps, 120 intervals, %d samples: %d KB", len(samples), used/1024)
	// 20 dense histograms of 188 KB, plus the timeline.
	if used > 6<<20 {
		t.Errorf("one lane uses %d bytes, want under 6 MB", used)
	}
	runtime.KeepAlive(rec)
	runtime.KeepAlive(samples)
}

// histBuckets lists h's populated buckets.
func histBuckets(h *Histogram) [][2]int64 {
	var out [][2]int64
	h.Buckets(func(v, c int64) { out = append(out, [2]int64{v, c}) })
	return out
}

// TestRecorderDenseHotPath: samples arriving mostly in time order, with
// stragglers from earlier intervals and snapshots taken in between, give
// the same timeline, lateness and workflow histograms, bucket for bucket,
// as recording each value straight into sparse histograms.
func TestRecorderDenseHotPath(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	samples := randomSamples(r, 20_000, 3, time.Second)
	for i := range samples { // 10 intervals in order; one in ten lags by up to 2s
		samples[i].At = time.Duration(i) * 500 * time.Microsecond
		if r.IntN(10) == 0 {
			samples[i].At = max(samples[i].At-time.Duration(r.Int64N(int64(2*time.Second))), 0)
		}
	}
	rec := NewRecorder(stepNames(3), []string{"w"}, testEpoch, time.Second, 2)
	wantResp, wantSvc := map[int]*Histogram{}, map[int]*Histogram{}
	wantLate, wantFlow := NewHistogram(), NewHistogram()
	for i := range samples {
		s := &samples[i]
		rec.Record(i%2, s)
		idx := int(s.At / time.Second)
		if wantResp[idx] == nil {
			wantResp[idx], wantSvc[idx] = newHistogramDigits(IntervalDigits), newHistogramDigits(IntervalDigits)
		}
		wantResp[idx].Record(s.Response)
		wantSvc[idx].Record(s.Service)
		late := time.Duration(r.Int64N(int64(3 * time.Millisecond)))
		if i%5 == 0 {
			late = time.Duration(r.Int64N(int64(time.Microsecond))) // on time: counted apart until a snapshot
		}
		rec.IterationStarted(i%2, late)
		wantLate.Record(late)
		if i%3 == 0 {
			rec.Dropped(i%2, time.Second+late)
			wantLate.Record(time.Second + late)
		}
		rec.Workflow(i%2, 0, s.Response*2, s.Failed)
		wantFlow.Record(s.Response * 2)
		if i%4999 == 0 {
			rec.Snapshot() // flushes the current intervals midway
		}
	}
	snap := rec.Snapshot()
	if len(snap.Timeline) != len(wantResp) {
		t.Fatalf("%d intervals; want %d", len(snap.Timeline), len(wantResp))
	}
	for _, iv := range snap.Timeline {
		if !slices.Equal(histBuckets(iv.Response), histBuckets(wantResp[iv.Index])) ||
			!slices.Equal(histBuckets(iv.Service), histBuckets(wantSvc[iv.Index])) {
			t.Errorf("interval %d: histograms differ from the values recorded", iv.Index)
		}
		if iv.Response.Digits() != IntervalDigits {
			t.Errorf("interval %d: %d digits", iv.Index, iv.Response.Digits())
		}
	}
	if !slices.Equal(histBuckets(snap.Iterations.Lateness), histBuckets(wantLate)) {
		t.Error("lateness histogram differs from the values recorded")
	}
	if !slices.Equal(histBuckets(snap.Workflows["w"].Time), histBuckets(wantFlow)) {
		t.Error("workflow histogram differs from the values recorded")
	}
}
