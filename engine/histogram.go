package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry. Values are recorded in whole microseconds.
const (
	// HistogramMin and HistogramMax bound the recorded values; values
	// outside are clamped to them.
	HistogramMin = time.Microsecond
	HistogramMax = time.Hour
	// HistogramDigits is the precision (significant decimal digits) of step,
	// workflow and lateness histograms: relative error at most 0.1%.
	HistogramDigits = 3
	// IntervalDigits is the precision of timeline histograms: relative
	// error at most 1%, about a tenth of the buckets.
	IntervalDigits = 2

	histLowestUs  = int64(HistogramMin / time.Microsecond)
	histHighestUs = int64(HistogramMax / time.Microsecond)
)

// Histogram is an HdrHistogram of durations recorded in microseconds, from
// 1µs to 1h, 3 significant digits (2 for timeline intervals); values outside
// are clamped to the bounds. Storage is sparse: it grows with the number of
// populated buckets, not with the range. The zero value is an empty
// histogram of HistogramDigits. It is not safe for concurrent use. Its JSON
// form is the standard HdrHistogram V2 compressed encoding, base64.
//
// Inside a Sum, histograms are dense instead (d set, p nil): adding to one
// is an array increment. A dense Histogram never leaves its Sum: Clone
// returns a sparse copy, and only Count, Digits, Merge, Clone and the Sum's
// own adding accept a dense receiver.
type Histogram struct {
	p *hdr.PackedHistogram // nil while empty and never merged into
	d *dense               // dense storage (a Sum's); p is then nil
}

// NewHistogram returns an empty Histogram of HistogramDigits precision.
func NewHistogram() *Histogram { return newHistogramDigits(HistogramDigits) }

// newHistogramDigits returns an empty Histogram of the given precision (1–5).
func newHistogramDigits(digits int) *Histogram {
	return &Histogram{p: hdr.NewPacked(histLowestUs, histHighestUs, digits)}
}

// durationUs converts d to whole microseconds, clamped to the histogram range.
func durationUs(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < histLowestUs {
		return histLowestUs
	}
	if us > histHighestUs {
		return histHighestUs
	}
	return us
}

// usDuration converts microseconds back to a Duration, saturating.
func usDuration(us int64) time.Duration {
	if us > math.MaxInt64/int64(time.Microsecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(us) * time.Microsecond
}

// packed returns h's storage, creating it on first use.
func (h *Histogram) packed() *hdr.PackedHistogram {
	if h.p == nil {
		h.p = hdr.NewPacked(histLowestUs, histHighestUs, HistogramDigits)
	}
	return h.p
}

// Record adds one value, clamped to [HistogramMin, HistogramMax].
func (h *Histogram) Record(d time.Duration) { h.recordUs(durationUs(d), 1) }

// recordUs adds n values of us microseconds (already in range). The only
// error RecordValues can then return is a total count past MaxInt64, which
// no run reaches; such values are not recorded.
func (h *Histogram) recordUs(us, n int64) { _ = h.packed().RecordValues(us, n) }

// Merge adds o's counts to h and returns how many values were dropped
// (out of h's range, or past a total of MaxInt64). Histograms of different
// precision merge bucket by bucket at each bucket's value: exact within the
// coarser precision. Merging into an empty zero-value Histogram adopts o's
// precision. h must not be nil.
func (h *Histogram) Merge(o *Histogram) int64 {
	if o != nil && o.d != nil {
		o = o.Clone()
	}
	if o == nil || o.p == nil || o.p.TotalCount() == 0 {
		return 0
	}
	if h.d != nil {
		return h.d.addPacked(o.p)
	}
	if h.p == nil {
		h.p = o.p.Clone()
		return 0
	}
	return h.p.Merge(o.p)
}

// newDenseHistogram returns an empty dense Histogram of the given precision.
func newDenseHistogram(digits int) *Histogram {
	return &Histogram{d: newDense(digits)}
}

// addV2 adds a checked V2 histogram to h and returns how many values were
// dropped: none, short of a total past MaxInt64. Into a dense h it adds
// bucket by bucket, building nothing.
func (h *Histogram) addV2(v v2) int64 {
	switch {
	case v.total == 0:
		return 0
	case h.d != nil:
		return h.d.addV2(v)
	default:
		return h.Merge(&Histogram{p: v.packed()})
	}
}

// mergeDense adds a dense histogram (a recorder lane's) to h.
func (h *Histogram) mergeDense(d *hdr.Histogram) int64 { return h.packed().MergeFrom(d) }

// Count is the number of recorded values.
func (h *Histogram) Count() int64 {
	switch {
	case h == nil:
		return 0
	case h.d != nil:
		return h.d.total
	case h.p == nil:
		return 0
	}
	return h.p.TotalCount()
}

// Digits is the precision in significant decimal digits.
func (h *Histogram) Digits() int {
	switch {
	case h == nil:
		return HistogramDigits
	case h.d != nil:
		return h.d.digits
	case h.p == nil:
		return HistogramDigits
	}
	return int(h.p.SignificantFigures())
}

// Quantile returns the value at q (0–100, as HdrHistogram): the highest value
// equivalent to the recorded value of rank round(q/100 × Count), at least 1.
// It is 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return usDuration(h.p.ValueAtPercentile(q))
}

// Quantiles returns Quantile for each of qs (0–100) in one pass: the data of
// a percentile plot.
func (h *Histogram) Quantiles(qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if h.Count() == 0 {
		return out
	}
	for i, us := range h.p.ValueAtPercentilesSlice(qs) {
		out[i] = usDuration(us)
	}
	return out
}

// Max is the highest value equivalent to the largest recorded one, 0 if empty.
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return usDuration(h.p.Max())
}

// Min is the lowest value equivalent to the smallest recorded one, 0 if empty.
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return usDuration(h.p.Min())
}

// Mean of the recorded values (each taken at its bucket's median), 0 if empty.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.p.Mean() * float64(time.Microsecond))
}

// StdDev is the population standard deviation of the recorded values.
func (h *Histogram) StdDev() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.p.StdDev() * float64(time.Microsecond))
}

// Buckets calls fn for every populated bucket in ascending order with the
// bucket's lowest value in microseconds and its count.
func (h *Histogram) Buckets(fn func(valueUs, count int64)) {
	if h.Count() == 0 {
		return
	}
	h.p.ForEachBucket(func(v, c int64) bool {
		fn(v, c)
		return true
	})
}

// Clone returns an independent sparse copy; nil clones to an empty
// Histogram.
func (h *Histogram) Clone() *Histogram {
	switch {
	case h == nil:
		return NewHistogram()
	case h.d != nil:
		return &Histogram{p: h.d.packed()}
	case h.p == nil:
		return NewHistogram()
	}
	return &Histogram{p: h.p.Clone()}
}

// Encode returns the standard HdrHistogram V2 compressed encoding, base64
// (the form of .hlog lines). A nil or zero Histogram encodes as an empty one.
// It never fails; the error is for the sake of encoders that can.
func (h *Histogram) Encode() ([]byte, error) {
	return encodeV2(h.packedOrEmpty()), nil
}

func (h *Histogram) packedOrEmpty() *hdr.PackedHistogram {
	switch {
	case h == nil:
		return hdr.NewPacked(histLowestUs, histHighestUs, HistogramDigits)
	case h.d != nil:
		return h.Clone().p
	case h.p == nil:
		return hdr.NewPacked(histLowestUs, histHighestUs, HistogramDigits)
	}
	return h.p
}

// DecodeHistogram parses the base64 V2 compressed encoding. It accepts only
// stampede's geometry (1µs to 1h, 1–5 digits) so that merges never drop
// values, and rejects counts whose sum does not fit an int64.
func DecodeHistogram(b []byte) (*Histogram, error) {
	v, err := decodeV2(b)
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return &Histogram{p: v.packed()}, nil
}

// MarshalJSON encodes h as a JSON string holding Encode's output.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	b, err := h.Encode()
	if err != nil {
		return nil, err
	}
	// Base64 needs no JSON escaping.
	out := make([]byte, 0, len(b)+2)
	out = append(out, '"')
	out = append(out, b...)
	return append(out, '"'), nil
}

// UnmarshalJSON decodes a JSON string written by MarshalJSON; null and ""
// give an empty Histogram.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	v, ok, err := decodeJSONV2(data)
	if err != nil {
		return err
	}
	h.p, h.d = nil, nil
	if ok {
		h.p = v.packed()
	}
	return nil
}

// decodeJSONV2 decodes a JSON string holding a base64 V2 compressed
// encoding; ok is false for null and "" (an empty histogram).
func decodeJSONV2(data []byte) (v v2, ok bool, err error) {
	var b64 []byte
	switch {
	case string(data) == "null":
		return v2{}, false, nil
	case len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' && bytes.IndexByte(data, '\\') < 0:
		b64 = data[1 : len(data)-1] // base64 needs no escaping
	default: // an escaped string, or not a string
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return v2{}, false, fmt.Errorf("decode histogram: %w", err)
		}
		b64 = []byte(s)
	}
	if len(b64) == 0 {
		return v2{}, false, nil
	}
	if v, err = decodeV2(b64); err != nil {
		return v2{}, false, fmt.Errorf("decode histogram: %w", err)
	}
	return v, true, nil
}
