package engine

import (
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchSamples are realistic samples: 10 steps, lognormal latencies around
// 20ms, a few errors, completion times advancing 50µs per sample.
func benchSamples(n int) []Sample {
	r := rand.New(rand.NewPCG(11, 12))
	out := randomSamples(r, n, 10, time.Second)
	for i := range out {
		out[i].At = time.Duration(i) * 50 * time.Microsecond
	}
	return out
}

func BenchmarkRecord(b *testing.B) {
	samples := benchSamples(1 << 16)
	rec := NewRecorder(stepNames(10), nil, testEpoch, time.Second, 1)
	for i := range samples { // warm up: histograms and counters exist
		rec.Record(0, &samples[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &samples[i&(len(samples)-1)]
		s.At = time.Duration(i) * 50 * time.Microsecond // completion times go on advancing
		rec.Record(0, s)
		i++
	}
}

func BenchmarkRecordParallel(b *testing.B) {
	samples := benchSamples(1 << 16)
	lanes := 2 * runtime.GOMAXPROCS(0)
	rec := NewRecorder(stepNames(10), nil, testEpoch, time.Second, lanes)
	for i := range samples {
		rec.Record(i%lanes, &samples[i])
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		lane := int(next.Add(1))
		i := lane * 7919
		for pb.Next() {
			rec.Record(lane, &samples[i&(len(samples)-1)])
			i++
		}
	})
}

// benchSnapshot is a realistic generator result: 10 steps, 120 intervals.
func benchSnapshot(seed uint64) *Snapshot {
	r := rand.New(rand.NewPCG(seed, 13))
	samples := randomSamples(r, 100_000, 10, 120*time.Second)
	rec := NewRecorder(stepNames(10), []string{"w"}, testEpoch, time.Second, 2)
	for i := range samples {
		rec.Record(i%2, &samples[i])
		rec.IterationStarted(i%2, time.Duration(i%5000)*time.Microsecond)
		rec.Workflow(i%2, 0, samples[i].Response*3, true)
	}
	return rec.Snapshot()
}

func BenchmarkSnapshotMerge(b *testing.B) {
	acc, o := benchSnapshot(1), benchSnapshot(2)
	b.ReportAllocs()
	for b.Loop() {
		acc.Merge(o)
	}
}

func BenchmarkSnapshotEncode(b *testing.B) {
	s := benchSnapshot(1)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		data, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n), "bytes")
}

func BenchmarkSnapshotDecode(b *testing.B) {
	data, err := json.Marshal(benchSnapshot(1))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(data)), "bytes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeSnapshot(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecorderSnapshot(b *testing.B) {
	samples := benchSamples(1 << 16)
	rec := NewRecorder(stepNames(10), nil, testEpoch, time.Second, 4)
	for i := range samples {
		rec.Record(i%4, &samples[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		rec.Snapshot()
	}
}

// BenchmarkRecordIteration is the recorder's work for one single-request
// iteration, as a virtual user does it: started (with its lateness), the
// request's sample, done, and the workflow time.
func BenchmarkRecordIteration(b *testing.B) {
	samples := benchSamples(1 << 16)
	rec := NewRecorder(stepNames(10), []string{"w"}, testEpoch, time.Second, 1)
	for i := range samples {
		rec.Record(0, &samples[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &samples[i&(len(samples)-1)]
		s.At = time.Duration(i) * 50 * time.Microsecond
		rec.IterationStarted(0, 0)
		rec.Record(0, s)
		rec.IterationDone(0, true)
		rec.Workflow(0, 0, s.Response, true)
		i++
	}
}
