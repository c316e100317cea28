package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// checkedQuantiles are the percentiles the property tests compare.
var checkedQuantiles = []float64{50, 90, 99, 99.9, 100}

// rawQuantileUs is the q-th percentile of sorted raw values with the rank
// HdrHistogram uses: round(q/100 × n), at least 1.
func rawQuantileUs(sorted []int64, q float64) int64 {
	rank := int64(q/100*float64(len(sorted)) + 0.5)
	rank = min(max(rank, 1), int64(len(sorted)))
	return sorted[rank-1]
}

// withinPrecision reports whether got is within the relative error of the
// given digits plus one bucket width of want (both in µs).
func withinPrecision(got, want int64, digits int) bool {
	rel := math.Pow(10, -float64(digits))
	// The sub-bucket count is 2^bitLen(2×10^digits); values above it sit in
	// buckets of width 2^(bitLen(v) - that magnitude).
	width := float64(int64(1) << max(0, bitLen(want)-bitLen(2*int64(math.Pow(10, float64(digits))))))
	return math.Abs(float64(got-want)) <= rel*float64(want)+width
}

func bitLen(v int64) int {
	n := 0
	for ; v > 0; v >>= 1 {
		n++
	}
	return n
}

// randomValuesUs draws n values (µs) from one of several shapes.
func randomValuesUs(r *rand.Rand, n int) []int64 {
	shape := r.IntN(4)
	out := make([]int64, n)
	for i := range out {
		var v float64
		switch shape {
		case 0: // uniform 1µs..10s
			v = 1 + r.Float64()*1e7
		case 1: // log-uniform 1µs..1h
			v = math.Exp(r.Float64() * math.Log(float64(histHighestUs)))
		case 2: // lognormal around 20ms with a heavy tail
			v = 20000 * math.Exp(r.NormFloat64())
		default: // a few spikes
			v = float64([]int64{150, 2000, 45000, 1_200_000}[r.IntN(4)])
		}
		out[i] = min(max(int64(v), 1), histHighestUs)
	}
	return out
}

func TestHistogramRecordClamps(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration // Quantile(100) after one Record
	}{
		{"negative", -5 * time.Second, time.Microsecond},
		{"zero", 0, time.Microsecond},
		{"sub-microsecond", 999 * time.Nanosecond, time.Microsecond},
		{"exact", 1234 * time.Microsecond, 1234 * time.Microsecond},
		{"truncated", 1500*time.Microsecond + 900*time.Nanosecond, 1500 * time.Microsecond},
		// 1h = 3.6e9µs lies in a bucket of width 2^21 starting at 1716×2^21.
		{"one hour", time.Hour, (1716*(1<<21) + (1 << 21) - 1) * time.Microsecond},
		{"above max", 5 * time.Hour, (1716*(1<<21) + (1 << 21) - 1) * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistogram()
			h.Record(tt.in)
			if h.Count() != 1 {
				t.Fatalf("Count = %d, want 1", h.Count())
			}
			if got := h.Quantile(100); got != tt.want {
				t.Errorf("Quantile(100) = %v, want %v", got, tt.want)
			}
			if got := h.Max(); got != tt.want {
				t.Errorf("Max = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	for name, h := range map[string]*Histogram{"nil": nil, "zero": {}, "new": NewHistogram()} {
		if h.Count() != 0 || h.Quantile(99) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 || h.StdDev() != 0 {
			t.Errorf("%s: empty histogram reports values", name)
		}
		if q := h.Quantiles(50, 99); len(q) != 2 || q[0] != 0 || q[1] != 0 {
			t.Errorf("%s: Quantiles = %v", name, q)
		}
		c := h.Clone()
		if c.Count() != 0 || c.Digits() != HistogramDigits {
			t.Errorf("%s: Clone = %d values, %d digits", name, c.Count(), c.Digits())
		}
	}
}

func TestHistogramStats(t *testing.T) {
	h := NewHistogram()
	for _, us := range []int64{100, 200, 300, 400} {
		h.Record(time.Duration(us) * time.Microsecond)
	}
	if got := h.Mean(); got < 249*time.Microsecond || got > 251*time.Microsecond {
		t.Errorf("Mean = %v, want 250µs", got)
	}
	// Population stddev of 100,200,300,400 = 111.8µs.
	if got := h.StdDev(); got < 111*time.Microsecond || got > 113*time.Microsecond {
		t.Errorf("StdDev = %v, want ~111.8µs", got)
	}
	if h.Min() != 100*time.Microsecond || h.Max() != 400*time.Microsecond {
		t.Errorf("Min, Max = %v, %v", h.Min(), h.Max())
	}
	var values, total []int64
	h.Buckets(func(v, c int64) { values = append(values, v); total = append(total, c) })
	if !slices.Equal(values, []int64{100, 200, 300, 400}) || !slices.Equal(total, []int64{1, 1, 1, 1}) {
		t.Errorf("Buckets = %v %v", values, total)
	}
	if q := h.Quantiles(0, 50, 100); !slices.Equal(q, []time.Duration{100 * time.Microsecond, 200 * time.Microsecond, 400 * time.Microsecond}) {
		t.Errorf("Quantiles = %v", q)
	}
}

// TestHistogramMergeMatchesPooled records random values split over many
// histograms (sent through JSON like shard results) and checks that the
// merged histogram's counts and percentiles match the pooled raw values.
func TestHistogramMergeMatchesPooled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 12 {
		parts := 1 + r.IntN(20)
		merged := NewHistogram()
		direct := NewHistogram()
		var pooled []int64
		for range parts {
			vals := randomValuesUs(r, r.IntN(2000))
			h := NewHistogram()
			for _, v := range vals {
				h.Record(time.Duration(v) * time.Microsecond)
				direct.Record(time.Duration(v) * time.Microsecond)
			}
			pooled = append(pooled, vals...)
			data, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			var back Histogram
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if d := merged.Merge(&back); d != 0 {
				t.Fatalf("trial %d: Merge dropped %d", trial, d)
			}
		}
		if merged.Count() != int64(len(pooled)) {
			t.Fatalf("trial %d: Count = %d, want %d", trial, merged.Count(), len(pooled))
		}
		if len(pooled) == 0 {
			continue
		}
		slices.Sort(pooled)
		for _, q := range checkedQuantiles {
			got := int64(merged.Quantile(q) / time.Microsecond)
			want := rawQuantileUs(pooled, q)
			if !withinPrecision(got, want, HistogramDigits) {
				t.Errorf("trial %d: p%v = %dµs, pooled %dµs", trial, q, got, want)
			}
			if d := direct.Quantile(q); d != merged.Quantile(q) {
				t.Errorf("trial %d: p%v merged %v != recorded directly %v", trial, q, merged.Quantile(q), d)
			}
		}
	}
}

// TestHistogramMergeMixedPrecision merges interval-precision histograms into
// a full-precision one: percentiles stay within the coarser precision.
func TestHistogramMergeMixedPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		merged := NewHistogram()
		var pooled []int64
		for range 1 + r.IntN(10) {
			coarse := newHistogramDigits(IntervalDigits)
			vals := randomValuesUs(r, 1+r.IntN(1000))
			for _, v := range vals {
				coarse.Record(time.Duration(v) * time.Microsecond)
			}
			pooled = append(pooled, vals...)
			if d := merged.Merge(coarse); d != 0 {
				t.Fatalf("dropped %d", d)
			}
		}
		if merged.Count() != int64(len(pooled)) {
			t.Fatalf("Count = %d, want %d", merged.Count(), len(pooled))
		}
		slices.Sort(pooled)
		for _, q := range checkedQuantiles {
			got := int64(merged.Quantile(q) / time.Microsecond)
			want := rawQuantileUs(pooled, q)
			if !withinPrecision(got, want, IntervalDigits) {
				t.Errorf("trial %d: p%v = %dµs, pooled %dµs", trial, q, got, want)
			}
		}
	}
}

func TestHistogramZeroValueAdoptsPrecision(t *testing.T) {
	coarse := newHistogramDigits(IntervalDigits)
	coarse.Record(12345 * time.Microsecond)
	var h Histogram
	h.Merge(coarse)
	if h.Digits() != IntervalDigits || h.Count() != 1 {
		t.Fatalf("Digits, Count = %d, %d", h.Digits(), h.Count())
	}
	coarse.Record(time.Millisecond) // h must not alias coarse
	if h.Count() != 1 {
		t.Errorf("merged histogram aliases its source: Count = %d", h.Count())
	}
}

func TestHistogramJSONRoundTrip(t *testing.T) {
	type wrapper struct {
		H *Histogram `json:"h"`
	}
	full := NewHistogram()
	for _, v := range randomValuesUs(rand.New(rand.NewPCG(5, 6)), 5000) {
		full.Record(time.Duration(v) * time.Microsecond)
	}
	coarse := newHistogramDigits(IntervalDigits)
	coarse.Record(time.Second)
	for name, h := range map[string]*Histogram{"nil": nil, "zero": {}, "empty": NewHistogram(), "full": full, "coarse": coarse} {
		data, err := json.Marshal(wrapper{h})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var back wrapper
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.H.Count() != h.Count() || back.H.Digits() != h.Digits() {
			t.Errorf("%s: Count, Digits = %d, %d; want %d, %d", name, back.H.Count(), back.H.Digits(), h.Count(), h.Digits())
		}
		if !slices.Equal(back.H.Quantiles(checkedQuantiles...), h.Quantiles(checkedQuantiles...)) {
			t.Errorf("%s: quantiles changed", name)
		}
		var a, b [][2]int64
		h.Buckets(func(v, c int64) { a = append(a, [2]int64{v, c}) })
		back.H.Buckets(func(v, c int64) { b = append(b, [2]int64{v, c}) })
		if !slices.Equal(a, b) {
			t.Errorf("%s: buckets changed", name)
		}
	}
}

func TestDecodeHistogramRejects(t *testing.T) {
	encode := func(h *hdr.Histogram) string {
		b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   string
	}{
		{"not base64", "@@@@"},
		{"too short", "AAAA"},
		{"wrong highest", encode(hdr.New(1, 1000, 3))},
		{"wrong lowest", encode(hdr.New(1000, histHighestUs, 3))},
		{"truncated", encode(hdr.New(1, histHighestUs, 3))[:30]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeHistogram([]byte(tt.in)); err == nil {
				t.Errorf("DecodeHistogram(%q) succeeded", tt.in)
			}
		})
	}
	// The dense library encoding of the right geometry is accepted.
	d := hdr.New(1, histHighestUs, 3)
	_ = d.RecordValues(777, 3)
	h, err := DecodeHistogram([]byte(encode(d)))
	if err != nil || h.Count() != 3 || h.Quantile(50) != 777*time.Microsecond {
		t.Errorf("DecodeHistogram(dense) = %v, %v", h, err)
	}
}
