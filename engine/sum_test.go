package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func mustParse(t *testing.T, s *Snapshot) *WireSnapshot {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSumMatchesMerge adds random shards' snapshots to a Sum, whole or
// split in their totals and timeline, and checks that the result is
// bucket for bucket what Snapshot.Merge makes of the same shards, what
// recording everything at once makes, and that the percentiles match the
// pooled raw values.
func TestSumMatchesMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	steps := stepNames(4)
	for trial := range 4 {
		all := randomSamples(r, 200+r.IntN(800), len(steps), 20*time.Second)
		sum := NewSum(testEpoch, time.Second)
		merged := NewSnapshot(testEpoch, time.Second)
		for rest := all; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(300))
			part := recordAll(steps, rest[:n])
			w := mustParse(t, part)
			if trial%2 == 0 {
				totals, timeline := w.Split()
				sum.Add(timeline)
				sum.Add(totals)
			} else if d := sum.Add(w); d != 0 {
				t.Fatalf("Add dropped %d", d)
			}
			merged.Merge(roundTrip(t, part))
			rest = rest[n:]
		}
		got := sum.Snapshot()
		if a, b := resultJSON(t, got), resultJSON(t, merged); !bytes.Equal(a, b) {
			t.Fatalf("trial %d: Sum differs from Snapshot.Merge:\n%.400s\n%.400s", trial, a, b)
		}
		if a, b := resultJSON(t, got), resultJSON(t, recordAll(steps, all)); !bytes.Equal(a, b) {
			t.Fatalf("trial %d: Sum differs from recording at once", trial)
		}
		var pooled []int64
		for _, s := range all {
			pooled = append(pooled, int64(s.Service/time.Microsecond))
		}
		slices.Sort(pooled)
		total := got.Total()
		if total.Requests != int64(len(all)) || total.Service.Count() != int64(len(all)) {
			t.Fatalf("trial %d: %d requests, %d values; want %d", trial, total.Requests, total.Service.Count(), len(all))
		}
		for _, q := range checkedQuantiles {
			g := int64(total.Service.Quantile(q) / time.Microsecond)
			if want := rawQuantileUs(pooled, q); !withinPrecision(g, want, HistogramDigits) {
				t.Errorf("trial %d: p%v = %dµs, pooled %dµs", trial, q, g, want)
			}
		}
		var timeline int64
		for _, iv := range got.Timeline {
			timeline += iv.Response.Count()
		}
		if timeline != int64(len(all)) {
			t.Errorf("trial %d: timeline holds %d values, want %d", trial, timeline, len(all))
		}
	}
}

// TestSumRemapsAndAdoptsPrecision adds a snapshot on another timeline
// (10s later, 5s intervals) whose histograms have other precisions: its
// intervals land where they start, and its values are added at the Sum's
// precision (IntervalDigits for the timeline, HistogramDigits for steps).
func TestSumRemapsAndAdoptsPrecision(t *testing.T) {
	o := NewSnapshot(testEpoch.Add(10*time.Second), 5*time.Second)
	fine := newHistogramDigits(4)
	fine.Record(12345 * time.Microsecond)
	coarse := newHistogramDigits(1)
	coarse.Record(12345 * time.Microsecond)
	o.Steps["x"] = &StepStats{Requests: 1, Response: fine, Service: coarse}
	for _, i := range []int{0, 1, 3} {
		iv := newInterval(i)
		iv.Requests = int64(i + 1)
		iv.Response = newHistogramDigits(3)
		iv.Response.Record(time.Duration(i+1) * 1234567 * time.Nanosecond)
		o.Timeline = append(o.Timeline, iv)
	}
	sum := NewSum(testEpoch, 2*time.Second)
	sum.Add(mustParse(t, o))
	s := sum.Snapshot()
	var idx []int
	for _, iv := range s.Timeline {
		idx = append(idx, iv.Index)
		if iv.Response.Digits() != IntervalDigits || iv.Response.Count() != 1 {
			t.Errorf("interval %d: %d digits, %d values", iv.Index, iv.Response.Digits(), iv.Response.Count())
		}
	}
	// Starts 10s, 15s, 25s after the epoch: indexes 5, 7, 12.
	if !slices.Equal(idx, []int{5, 7, 12}) || s.Timeline[2].Requests != 4 {
		t.Errorf("remapped indexes = %v", idx)
	}
	x := s.Steps["x"]
	if x.Response.Digits() != HistogramDigits || !withinPrecision(int64(x.Response.Quantile(50)/time.Microsecond), 12345, HistogramDigits) {
		t.Errorf("fine step histogram added as %d digits, p50 %v", x.Response.Digits(), x.Response.Quantile(50))
	}
	if !withinPrecision(int64(x.Service.Quantile(50)/time.Microsecond), 12345, 1) {
		t.Errorf("coarse step histogram: p50 %v", x.Service.Quantile(50))
	}
}

// TestSumSnapshotIsIndependent checks that a Sum's snapshot shares nothing
// with it and that its histograms are sparse like any other.
func TestSumSnapshotIsIndependent(t *testing.T) {
	part := recordAll([]string{"x"}, []Sample{{Step: 0, At: time.Second, Response: time.Millisecond, Status: 200}})
	w := mustParse(t, part)
	sum := NewSum(testEpoch, time.Second)
	sum.Add(w)
	first := sum.Snapshot()
	sum.Add(w)
	if first.Steps["x"].Requests != 1 || first.Steps["x"].Response.Count() != 1 || first.Timeline[0].Requests != 1 || first.Steps["x"].Status[200] != 1 {
		t.Fatalf("an earlier Snapshot changed when the Sum grew: %+v", first.Steps["x"])
	}
	for _, h := range []*Histogram{first.Steps["x"].Response, first.Timeline[0].Service, first.Iterations.Lateness} {
		if h.d != nil || h.p == nil {
			t.Fatal("a Sum's snapshot holds a dense histogram")
		}
	}
	if second := sum.Snapshot(); second.Steps["x"].Requests != 2 || second.Iterations.Started != 2 {
		t.Errorf("second snapshot = %+v, %+v", second.Steps["x"], second.Iterations)
	}
}

// TestSumDropsPastMaxInt64 adds a histogram whose total would overflow the
// Sum's: its values are dropped and counted, and the Sum stays consistent.
func TestSumDropsPastMaxInt64(t *testing.T) {
	big := NewSnapshot(testEpoch, time.Second)
	h := NewHistogram()
	h.recordUs(1000, math.MaxInt64/2+1)
	big.Steps["x"] = &StepStats{Requests: 1, Response: h, Service: NewHistogram()}
	w := mustParse(t, big)
	sum := NewSum(testEpoch, time.Second)
	if d := sum.Add(w); d != 0 {
		t.Fatalf("first Add dropped %d", d)
	}
	if d := sum.Add(w); d != math.MaxInt64/2+1 {
		t.Fatalf("second Add dropped %d, want %d", d, int64(math.MaxInt64/2+1))
	}
	if c := sum.Snapshot().Steps["x"].Response.Count(); c != math.MaxInt64/2+1 {
		t.Errorf("Count = %d", c)
	}
}
