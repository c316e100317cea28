package engine

import "time"

// Sum adds up many snapshots in their wire form: the orchestrator's merge
// of its generators' results. Its histograms are dense (an array of counts:
// about 190 KB for a step's, 27 KB for an interval's), so adding a snapshot
// reads each of its encoded histograms once and builds nothing, whatever
// the Sum already holds; Snapshot packs the total at the end. Memory grows
// with the steps, workflows and intervals that have data, not with the
// snapshots added or their requests. Adding is exact: counts add up and
// histograms add bucket by bucket, at HistogramDigits for steps, workflows
// and lateness and IntervalDigits for the timeline (finer inputs are added
// at that precision). A Sum is not safe for concurrent use.
type Sum struct {
	s     *Snapshot   // counters and dense histograms; its Timeline is unused
	slots []*Interval // the timeline by index, len maxIndex, nil until used
}

// NewSum returns an empty Sum on the timeline (epoch, interval); a zero
// epoch or interval is taken from the first snapshot added.
func NewSum(epoch time.Time, interval time.Duration) *Sum {
	s := &Sum{s: NewSnapshot(epoch, interval), slots: make([]*Interval, maxIndex)}
	s.s.Iterations.Lateness = newDenseHistogram(HistogramDigits)
	return s
}

// Add adds w and returns the number of histogram values dropped: none, short
// of totals past MaxInt64. Intervals move onto the Sum's timeline as in
// Snapshot.Merge.
func (s *Sum) Add(w *WireSnapshot) int64 {
	ws := &w.w
	o := (*Snapshot)(&ws.snapshotFields) // for its span; its maps are unset
	s.s.mergeSpan(o)
	var dropped int64
	for name, ost := range ws.Steps {
		st := s.s.Steps[name]
		if st == nil {
			st = &StepStats{Response: newDenseHistogram(HistogramDigits), Service: newDenseHistogram(HistogramDigits)}
			s.s.Steps[name] = st
		}
		st.addCounts(&ost.StepStats)
		dropped += st.Response.addV2(ost.Response.v) + st.Service.addV2(ost.Service.v)
	}
	for name, ow := range ws.Workflows {
		wf := s.s.Workflows[name]
		if wf == nil {
			wf = &WorkflowStats{Time: newDenseHistogram(HistogramDigits)}
			s.s.Workflows[name] = wf
		}
		wf.addCounts(&ow.WorkflowStats)
		dropped += wf.Time.addV2(ow.Time.v)
	}
	it := &s.s.Iterations
	it.addCounts(&ws.Iterations.Iterations)
	dropped += it.Lateness.addV2(ws.Iterations.Lateness.v)
	for _, oi := range ws.Timeline {
		i := s.s.slotOf(o, oi.Index)
		iv := s.slots[i]
		if iv == nil {
			iv = &Interval{Index: i, Response: newDenseHistogram(IntervalDigits), Service: newDenseHistogram(IntervalDigits)}
			s.slots[i] = iv
		}
		iv.addCounts(&oi.Interval)
		dropped += iv.Response.addV2(oi.Response.v) + iv.Service.addV2(oi.Service.v)
	}
	return dropped
}

// Snapshot returns the total so far, a Snapshot sharing nothing with s.
func (s *Sum) Snapshot() *Snapshot {
	out := s.s.Clone() // packs the dense histograms
	for _, iv := range s.slots {
		if iv != nil {
			out.Timeline = append(out.Timeline, iv.Clone())
		}
	}
	return out
}
