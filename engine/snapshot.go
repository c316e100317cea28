package engine

import (
	"slices"
	"time"
)

// Snapshot is the mergeable result of one or more generators: per-step
// histograms and counters, iteration counts, workflow times and a bounded
// timeline. Merging is exact: counts add up, histograms merge bucket by bucket.
// A Snapshot is not safe for concurrent use.
type Snapshot struct {
	// Epoch is test time 0; Interval the timeline resolution.
	Epoch    time.Time     `json:"epoch"`
	Interval time.Duration `json:"interval"`
	// Start and End are the wall-clock span the data covers.
	Start      time.Time                 `json:"start"`
	End        time.Time                 `json:"end"`
	Steps      map[string]*StepStats     `json:"steps"`
	Workflows  map[string]*WorkflowStats `json:"workflows,omitempty"`
	Iterations Iterations                `json:"iterations"`
	// Timeline is sparse and sorted by Index (interval number since Epoch).
	Timeline []*Interval `json:"timeline,omitempty"`
}

// StepStats are the results of one step name.
type StepStats struct {
	Requests  int64                `json:"requests"`
	Failures  int64                `json:"failures"`
	Status    map[int]int64        `json:"status,omitempty"`
	Errors    map[ErrorClass]int64 `json:"errors,omitempty"`
	BytesSent int64                `json:"bytes_sent"`
	BytesRecv int64                `json:"bytes_recv"`
	// Response is measured from the intended start (coordinated omission
	// corrected); Service from the actual send.
	Response *Histogram `json:"response"`
	Service  *Histogram `json:"service"`
}

// WorkflowStats are end-to-end times of a scenario's iterations.
type WorkflowStats struct {
	Completed int64      `json:"completed"`
	Failed    int64      `json:"failed"`
	Time      *Histogram `json:"time"`
}

// Iterations counts scenario iterations.
type Iterations struct {
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	// Late arrivals started more than LateThreshold after their due time;
	// Dropped ones waited longer than DropAfter and never ran.
	Late     int64      `json:"late"`
	Dropped  int64      `json:"dropped"`
	Lateness *Histogram `json:"lateness"`
}

// LateThreshold is how far past its due time an arrival may start before it
// counts as late.
const LateThreshold = time.Millisecond

// Interval is one timeline bucket: all steps' requests that completed in
// [Epoch + Index×Interval, Epoch + (Index+1)×Interval). Its histograms
// have IntervalDigits precision.
type Interval struct {
	Index    int                  `json:"i"`
	Requests int64                `json:"requests"`
	Failures int64                `json:"failures"`
	Status   map[int]int64        `json:"status,omitempty"`
	Errors   map[ErrorClass]int64 `json:"errors,omitempty"`
	Response *Histogram           `json:"response"`
	Service  *Histogram           `json:"service"`
}

// maxIndex bounds interval indexes: [0, maxIndex). Callers size Interval for
// at most MaxIntervals; twice that leaves room for grace and clock skew.
const maxIndex = 2 * MaxIntervals

// clampIndex bounds an interval index to [0, maxIndex).
func clampIndex(i int64) int {
	if i < 0 {
		return 0
	}
	if i >= maxIndex {
		return maxIndex - 1
	}
	return int(i)
}

// NewSnapshot returns an empty Snapshot.
func NewSnapshot(epoch time.Time, interval time.Duration) *Snapshot {
	return &Snapshot{
		Epoch:      epoch,
		Interval:   interval,
		Steps:      map[string]*StepStats{},
		Workflows:  map[string]*WorkflowStats{},
		Iterations: Iterations{Lateness: NewHistogram()},
	}
}

func newStepStats() *StepStats {
	return &StepStats{Response: NewHistogram(), Service: NewHistogram()}
}

func newInterval(i int) *Interval {
	return &Interval{Index: i, Response: newHistogramDigits(IntervalDigits), Service: newHistogramDigits(IntervalDigits)}
}

// Merge adds o into s and returns the number of histogram values dropped
// (0 for snapshots of stampede's geometry). s takes o's Epoch and Interval
// if it has none; o's intervals are moved onto s's timeline when the two
// differ. o is not modified and shares nothing with s afterwards.
func (s *Snapshot) Merge(o *Snapshot) int64 {
	if o == nil {
		return 0
	}
	s.mergeSpan(o)
	var dropped int64
	if s.Steps == nil {
		s.Steps = make(map[string]*StepStats, len(o.Steps))
	}
	for name, os := range o.Steps {
		if os == nil {
			continue
		}
		if st := s.Steps[name]; st != nil {
			dropped += st.merge(os)
		} else {
			s.Steps[name] = os.Clone()
		}
	}
	if s.Workflows == nil && len(o.Workflows) > 0 {
		s.Workflows = make(map[string]*WorkflowStats, len(o.Workflows))
	}
	for name, ow := range o.Workflows {
		if ow == nil {
			continue
		}
		if w := s.Workflows[name]; w != nil {
			dropped += w.merge(ow)
		} else {
			s.Workflows[name] = ow.Clone()
		}
	}
	dropped += s.Iterations.merge(&o.Iterations)
	return dropped + s.mergeTimeline(o)
}

// mergeTimeline merges o's intervals into s's, remapping indexes when the
// epochs or intervals differ (an interval lands where its start falls).
func (s *Snapshot) mergeTimeline(o *Snapshot) int64 {
	if len(o.Timeline) == 0 {
		return 0
	}
	slots := make([]*Interval, maxIndex)
	for _, iv := range s.Timeline {
		if iv != nil {
			slots[clampIndex(int64(iv.Index))] = iv
		}
	}
	var dropped int64
	for _, oi := range o.Timeline {
		if oi == nil {
			continue
		}
		i := s.slotOf(o, oi.Index)
		if iv := slots[i]; iv != nil {
			dropped += iv.merge(oi)
			continue
		}
		c := oi.Clone()
		c.Index = i
		slots[i] = c
	}
	s.Timeline = compactTimeline(s.Timeline[:0], slots)
	return dropped
}

// slotOf returns the index on s's timeline of o's interval i: the same
// index when the two share their epoch and interval, else where its start
// falls.
func (s *Snapshot) slotOf(o *Snapshot, i int) int {
	if s.Interval <= 0 || (o.Interval == s.Interval && o.Epoch.Equal(s.Epoch)) {
		return clampIndex(int64(i))
	}
	at := o.Epoch.Sub(s.Epoch) + time.Duration(i)*o.Interval
	return clampIndex(int64(at / s.Interval))
}

// mergeSpan adopts o's Epoch and Interval if s has none and widens s's
// Start and End to cover o's.
func (s *Snapshot) mergeSpan(o *Snapshot) {
	if s.Epoch.IsZero() {
		s.Epoch = o.Epoch
	}
	if s.Interval <= 0 {
		s.Interval = o.Interval
	}
	if s.Start.IsZero() || (!o.Start.IsZero() && o.Start.Before(s.Start)) {
		s.Start = o.Start
	}
	if o.End.After(s.End) {
		s.End = o.End
	}
}

// compactTimeline appends the non-nil slots to dst, in index order.
func compactTimeline(dst []*Interval, slots []*Interval) []*Interval {
	for i, iv := range slots {
		if iv != nil {
			iv.Index = i
			dst = append(dst, iv)
		}
	}
	return dst
}

func (st *StepStats) merge(o *StepStats) int64 {
	st.addCounts(o)
	return mergeHistogram(&st.Response, o.Response) + mergeHistogram(&st.Service, o.Service)
}

// addCounts adds o's counters, not its histograms; so do the other addCounts.
func (st *StepStats) addCounts(o *StepStats) {
	st.Requests += o.Requests
	st.Failures += o.Failures
	st.BytesSent += o.BytesSent
	st.BytesRecv += o.BytesRecv
	st.Status = mergeCounts(st.Status, o.Status)
	st.Errors = mergeCounts(st.Errors, o.Errors)
}

func (w *WorkflowStats) merge(o *WorkflowStats) int64 {
	w.addCounts(o)
	return mergeHistogram(&w.Time, o.Time)
}

func (w *WorkflowStats) addCounts(o *WorkflowStats) {
	w.Completed += o.Completed
	w.Failed += o.Failed
}

func (it *Iterations) merge(o *Iterations) int64 {
	it.addCounts(o)
	return mergeHistogram(&it.Lateness, o.Lateness)
}

func (it *Iterations) addCounts(o *Iterations) {
	it.Started += o.Started
	it.Completed += o.Completed
	it.Failed += o.Failed
	it.Late += o.Late
	it.Dropped += o.Dropped
}

func (iv *Interval) addCounts(o *Interval) {
	iv.Requests += o.Requests
	iv.Failures += o.Failures
	iv.Status = mergeCounts(iv.Status, o.Status)
	iv.Errors = mergeCounts(iv.Errors, o.Errors)
}

func (iv *Interval) merge(o *Interval) int64 {
	iv.addCounts(o)
	if iv.Response == nil {
		iv.Response = newHistogramDigits(IntervalDigits)
	}
	if iv.Service == nil {
		iv.Service = newHistogramDigits(IntervalDigits)
	}
	return iv.Response.Merge(o.Response) + iv.Service.Merge(o.Service)
}

// mergeHistogram merges src into *dst, creating *dst if it is nil.
func mergeHistogram(dst **Histogram, src *Histogram) int64 {
	if *dst == nil {
		*dst = src.Clone()
		return 0
	}
	return (*dst).Merge(src)
}

// mergeCounts adds src into dst (allocated if nil and src is not empty).
func mergeCounts[K comparable](dst, src map[K]int64) map[K]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[K]int64, len(src))
	}
	for k, n := range src {
		dst[k] += n
	}
	return dst
}

// Clone returns a deep copy of s.
func (s *Snapshot) Clone() *Snapshot {
	c := *s
	c.Steps = make(map[string]*StepStats, len(s.Steps))
	for name, st := range s.Steps {
		if st != nil {
			c.Steps[name] = st.Clone()
		}
	}
	c.Workflows = make(map[string]*WorkflowStats, len(s.Workflows))
	for name, w := range s.Workflows {
		if w != nil {
			c.Workflows[name] = w.Clone()
		}
	}
	c.Iterations.Lateness = s.Iterations.Lateness.Clone()
	c.Timeline = make([]*Interval, 0, len(s.Timeline))
	for _, iv := range s.Timeline {
		if iv != nil {
			c.Timeline = append(c.Timeline, iv.Clone())
		}
	}
	return &c
}

// Clone returns a deep copy of st.
func (st *StepStats) Clone() *StepStats {
	c := st.cloneCounts()
	c.Response = st.Response.Clone()
	c.Service = st.Service.Clone()
	return c
}

// cloneCounts returns a copy of st's counters that shares no map with st,
// without histograms; so does Interval's.
func (st *StepStats) cloneCounts() *StepStats {
	c := *st
	c.Status = mergeCounts(nil, st.Status)
	c.Errors = mergeCounts(nil, st.Errors)
	c.Response, c.Service = nil, nil
	return &c
}

// Clone returns a deep copy of w.
func (w *WorkflowStats) Clone() *WorkflowStats {
	c := *w
	c.Time = w.Time.Clone()
	return &c
}

// Clone returns a deep copy of iv; nil histograms become empty ones of
// IntervalDigits.
func (iv *Interval) Clone() *Interval {
	c := iv.cloneCounts()
	c.Response, c.Service = cloneInterval(iv.Response), cloneInterval(iv.Service)
	return c
}

func (iv *Interval) cloneCounts() *Interval {
	c := *iv
	c.Status = mergeCounts(nil, iv.Status)
	c.Errors = mergeCounts(nil, iv.Errors)
	c.Response, c.Service = nil, nil
	return &c
}

func cloneInterval(h *Histogram) *Histogram {
	if h == nil || (h.p == nil && h.d == nil) {
		return newHistogramDigits(IntervalDigits)
	}
	return h.Clone()
}

// Total returns all steps merged: the overall line of a report.
func (s *Snapshot) Total() *StepStats {
	t := newStepStats()
	for _, st := range s.Steps {
		if st != nil {
			t.merge(st)
		}
	}
	return t
}

// StepNames returns the names of s's steps, sorted.
func (s *Snapshot) StepNames() []string {
	names := make([]string, 0, len(s.Steps))
	for name := range s.Steps {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
