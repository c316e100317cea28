package engine

import (
	"fmt"
	"slices"
	"strconv"
)

// DecodeSnapshot parses a Snapshot's JSON form and validates it: counts are
// not negative, failures do not exceed requests, status codes are 1–999,
// interval indexes are in [0, 2×MaxIntervals) without duplicates, Interval
// is positive, and histograms have stampede's geometry. Missing histograms
// and maps are filled in, and the timeline is sorted. It never panics.
// Decoding a Snapshot from JSON (json.Unmarshal) does the same.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	w, err := ParseSnapshot(data)
	if err != nil {
		return nil, err
	}
	return w.Snapshot(), nil
}

// UnmarshalJSON decodes and validates s as DecodeSnapshot does.
func (s *Snapshot) UnmarshalJSON(data []byte) error {
	var w WireSnapshot
	if err := w.UnmarshalJSON(data); err != nil {
		return err
	}
	*s = *w.Snapshot()
	return nil
}

// WireSnapshot is a Snapshot's JSON form, decoded and validated as
// DecodeSnapshot does, with its histograms still in their V2 encoding:
// adding it to a Sum reads each histogram's buckets once and builds
// nothing. It is immutable.
type WireSnapshot struct {
	w wireSnapshot
}

// Split returns w's parts: its totals (steps, workflows and iterations)
// and its timeline, each with w's span. Adding both to a Sum adds w; a
// caller can thus keep the timeline apart (one working set per core) from
// totals it breaks down by region. They share w's memory.
func (w *WireSnapshot) Split() (totals, timeline *WireSnapshot) {
	t := &WireSnapshot{w: w.w}
	t.w.Timeline = nil
	tl := &WireSnapshot{w: wireSnapshot{snapshotFields: w.w.snapshotFields, Timeline: w.w.Timeline}}
	return t, tl
}

// ParseSnapshot decodes and validates a Snapshot's JSON form without
// building its histograms.
func ParseSnapshot(data []byte) (*WireSnapshot, error) {
	w := new(WireSnapshot)
	if err := w.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return w, nil
}

// UnmarshalJSON decodes and validates a Snapshot's JSON form.
func (w *WireSnapshot) UnmarshalJSON(data []byte) error {
	var ws wireSnapshot
	if err := parseWire(data, &ws); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	if err := ws.check(); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	w.w = ws
	return nil
}

// The wire types decode a Snapshot's JSON: each embeds its Snapshot
// counterpart for the counters and shadows the histogram fields (a field
// of the outer struct wins over the embedded one of the same JSON name).
// snapshotFields has Snapshot's fields but not its UnmarshalJSON.
type (
	snapshotFields Snapshot
	wireSnapshot   struct {
		snapshotFields
		Steps      map[string]*wireStep     `json:"steps"`
		Workflows  map[string]*wireWorkflow `json:"workflows,omitempty"`
		Iterations wireIterations           `json:"iterations"`
		Timeline   []*wireInterval          `json:"timeline,omitempty"`
	}
	wireStep struct {
		StepStats
		Response wireHistogram `json:"response"`
		Service  wireHistogram `json:"service"`
	}
	wireWorkflow struct {
		WorkflowStats
		Time wireHistogram `json:"time"`
	}
	wireIterations struct {
		Iterations
		Lateness wireHistogram `json:"lateness"`
	}
	wireInterval struct {
		Interval
		Response wireHistogram `json:"response"`
		Service  wireHistogram `json:"service"`
	}
)

// wireHistogram is a histogram's checked V2 encoding; the zero value (JSON
// null, "" or absent) is an empty histogram. Until resolve, ref may hold
// the number of its lifted string (snapshot_lift.go).
type wireHistogram struct {
	v   v2
	ok  bool
	ref int
}

func (h *wireHistogram) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] >= '0' && data[0] <= '9' {
		n, err := strconv.Atoi(string(data))
		if err != nil || n < 1 {
			return fmt.Errorf("decode histogram: %s is not a string", data)
		}
		h.ref = n
		return nil
	}
	v, ok, err := decodeJSONV2(data)
	if err != nil {
		return err
	}
	h.v, h.ok = v, ok
	return nil
}

// histogram builds h, an empty one of digits if h is.
func (h *wireHistogram) histogram(digits int) *Histogram {
	if !h.ok {
		return newHistogramDigits(digits)
	}
	return &Histogram{p: h.v.packed()}
}

// check validates a decoded snapshot, fills in missing steps and workflows
// and sorts the timeline.
func (w *wireSnapshot) check() error {
	if w.Interval <= 0 {
		return fmt.Errorf("interval %v is not positive", w.Interval)
	}
	if !w.Start.IsZero() && !w.End.IsZero() && w.End.Before(w.Start) {
		return fmt.Errorf("end %v is before start %v", w.End, w.Start)
	}
	for name, st := range w.Steps {
		if st == nil {
			w.Steps[name] = &wireStep{}
			continue
		}
		if err := checkCounts(st.Requests, st.Failures, st.Status, st.Errors, st.BytesSent, st.BytesRecv); err != nil {
			return fmt.Errorf("step %q: %w", name, err)
		}
	}
	for name, wf := range w.Workflows {
		if wf == nil {
			w.Workflows[name] = &wireWorkflow{}
			continue
		}
		if wf.Completed < 0 || wf.Failed < 0 {
			return fmt.Errorf("workflow %q: negative count", name)
		}
	}
	it := &w.Iterations
	if it.Started < 0 || it.Completed < 0 || it.Failed < 0 || it.Late < 0 || it.Dropped < 0 {
		return fmt.Errorf("iterations: negative count")
	}
	return w.checkTimeline()
}

func (w *wireSnapshot) checkTimeline() error {
	for _, iv := range w.Timeline {
		if iv == nil {
			return fmt.Errorf("timeline: null interval")
		}
		if iv.Index < 0 || iv.Index >= maxIndex {
			return fmt.Errorf("timeline: index %d outside [0, %d)", iv.Index, maxIndex)
		}
		if err := checkCounts(iv.Requests, iv.Failures, iv.Status, iv.Errors, 0, 0); err != nil {
			return fmt.Errorf("timeline interval %d: %w", iv.Index, err)
		}
	}
	slices.SortFunc(w.Timeline, func(a, b *wireInterval) int { return a.Index - b.Index })
	for i := 1; i < len(w.Timeline); i++ {
		if w.Timeline[i].Index == w.Timeline[i-1].Index {
			return fmt.Errorf("timeline: index %d appears twice", w.Timeline[i].Index)
		}
	}
	return nil
}

// Snapshot builds the Snapshot w encodes.
func (w *WireSnapshot) Snapshot() *Snapshot {
	ws := &w.w
	s := NewSnapshot(ws.Epoch, ws.Interval)
	s.Start, s.End = ws.Start, ws.End
	for name, st := range ws.Steps {
		c := st.StepStats.cloneCounts()
		c.Response, c.Service = st.Response.histogram(HistogramDigits), st.Service.histogram(HistogramDigits)
		s.Steps[name] = c
	}
	for name, wf := range ws.Workflows {
		s.Workflows[name] = &WorkflowStats{Completed: wf.Completed, Failed: wf.Failed, Time: wf.Time.histogram(HistogramDigits)}
	}
	s.Iterations = ws.Iterations.Iterations
	s.Iterations.Lateness = ws.Iterations.Lateness.histogram(HistogramDigits)
	if len(ws.Timeline) > 0 {
		s.Timeline = make([]*Interval, len(ws.Timeline))
	}
	for i, iv := range ws.Timeline {
		c := iv.Interval.cloneCounts()
		c.Response, c.Service = iv.Response.histogram(IntervalDigits), iv.Service.histogram(IntervalDigits)
		s.Timeline[i] = c
	}
	return s
}

// checkCounts validates the counters shared by steps and intervals.
func checkCounts(requests, failures int64, status map[int]int64, errs map[ErrorClass]int64, sent, recv int64) error {
	if requests < 0 || failures < 0 || sent < 0 || recv < 0 {
		return fmt.Errorf("negative count")
	}
	if failures > requests {
		return fmt.Errorf("%d failures exceed %d requests", failures, requests)
	}
	for code, n := range status {
		if code < 1 || code > 999 {
			return fmt.Errorf("status code %d outside 1-999", code)
		}
		if n < 0 {
			return fmt.Errorf("status %d: negative count", code)
		}
	}
	for class, n := range errs {
		if class == ErrNone {
			return fmt.Errorf("empty error class")
		}
		if n < 0 {
			return fmt.Errorf("error %q: negative count", class)
		}
	}
	return nil
}
