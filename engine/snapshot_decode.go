package engine

import (
	"encoding/json"
	"fmt"
	"slices"
)

// DecodeSnapshot parses a Snapshot's JSON form and validates it: counts are
// not negative, failures do not exceed requests, status codes are 1–999,
// interval indexes are in [0, 2×MaxIntervals) without duplicates, Interval
// is positive, and histograms have stampede's geometry. Missing histograms
// and maps are filled in, and the timeline is sorted. It never panics.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if err := s.normalize(); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	return &s, nil
}

// normalize validates a decoded snapshot and fills in what is missing.
func (s *Snapshot) normalize() error {
	if s.Interval <= 0 {
		return fmt.Errorf("interval %v is not positive", s.Interval)
	}
	if !s.Start.IsZero() && !s.End.IsZero() && s.End.Before(s.Start) {
		return fmt.Errorf("end %v is before start %v", s.End, s.Start)
	}
	if s.Steps == nil {
		s.Steps = map[string]*StepStats{}
	}
	for name, st := range s.Steps {
		if st == nil {
			st = newStepStats()
			s.Steps[name] = st
		}
		if err := checkCounts(st.Requests, st.Failures, st.Status, st.Errors, st.BytesSent, st.BytesRecv); err != nil {
			return fmt.Errorf("step %q: %w", name, err)
		}
		fillHistogram(&st.Response, HistogramDigits)
		fillHistogram(&st.Service, HistogramDigits)
	}
	if s.Workflows == nil {
		s.Workflows = map[string]*WorkflowStats{}
	}
	for name, w := range s.Workflows {
		if w == nil {
			w = &WorkflowStats{}
			s.Workflows[name] = w
		}
		if w.Completed < 0 || w.Failed < 0 {
			return fmt.Errorf("workflow %q: negative count", name)
		}
		fillHistogram(&w.Time, HistogramDigits)
	}
	it := &s.Iterations
	if it.Started < 0 || it.Completed < 0 || it.Failed < 0 || it.Late < 0 || it.Dropped < 0 {
		return fmt.Errorf("iterations: negative count")
	}
	fillHistogram(&it.Lateness, HistogramDigits)
	return s.normalizeTimeline()
}

func (s *Snapshot) normalizeTimeline() error {
	for _, iv := range s.Timeline {
		if iv == nil {
			return fmt.Errorf("timeline: null interval")
		}
		if iv.Index < 0 || iv.Index >= maxIndex {
			return fmt.Errorf("timeline: index %d outside [0, %d)", iv.Index, maxIndex)
		}
		if err := checkCounts(iv.Requests, iv.Failures, iv.Status, iv.Errors, 0, 0); err != nil {
			return fmt.Errorf("timeline interval %d: %w", iv.Index, err)
		}
		fillHistogram(&iv.Response, IntervalDigits)
		fillHistogram(&iv.Service, IntervalDigits)
	}
	slices.SortFunc(s.Timeline, func(a, b *Interval) int { return a.Index - b.Index })
	for i := 1; i < len(s.Timeline); i++ {
		if s.Timeline[i].Index == s.Timeline[i-1].Index {
			return fmt.Errorf("timeline: index %d appears twice", s.Timeline[i].Index)
		}
	}
	return nil
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

// fillHistogram replaces a nil histogram (JSON null) by an empty one.
func fillHistogram(h **Histogram, digits int) {
	if *h == nil {
		*h = newHistogramDigits(digits)
	}
}
