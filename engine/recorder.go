package engine

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Sample is one finished request, as recorded.
type Sample struct {
	Step     int           // index into the Recorder's step names
	At       time.Duration // completion time as an offset from the epoch
	Response time.Duration // from the intended start to completion
	Service  time.Duration // from the actual send to completion
	Status   int
	Err      ErrorClass
	Failed   bool
	BytesOut int64
	BytesIn  int64
}

// Recorder accumulates samples from many workers. All methods are safe for
// concurrent use; workers pass their own lane (0..lanes-1) so that the hot
// path does not contend: each lane has its own mutex and its own counters and
// histograms, and Snapshot merges the lanes. A lane out of range wraps
// around; samples of an unknown step or workflow index are ignored.
//
// Memory: a lane holds two dense 3-digit histograms per step that has seen a
// sample (about 188 KB each), one per workflow that has seen an iteration
// and one of lateness, two dense 2-digit histograms for the timeline
// interval samples are arriving in (about 26 KB each), and per timeline
// interval it has seen two sparse 2-digit histograms (a few KB at most).
// Every histogram a sample lands in on the hot path is dense (recording is
// an array increment); the sparse ones are filled from the dense ones when
// samples move on to the next interval and when a Snapshot is taken, which
// does not change what the Snapshot holds.
type Recorder struct {
	steps     []string
	workflows []string
	epoch     time.Time
	interval  time.Duration
	start     time.Time
	lanes     []*lane

	// snapMu serialises Snapshot calls, which share the scratch histogram.
	snapMu  sync.Mutex
	scratch *Histogram
}

// lane is one share of a Recorder's state, guarded by mu.
type lane struct {
	mu        sync.Mutex
	steps     []laneStep
	workflows []laneWorkflow
	iter      Iterations      // its Lateness stays nil: see lateness
	lateness  *hdr.Histogram  // dense, 3 digits, allocated on first use
	onTime    int64           // latenesses under 1µs not yet in lateness
	timeline  []*laneInterval // len maxIndex, filled on first use
	cur       currentInterval
	_         [64]byte // keeps the next lane's hot fields off this cache line
}

// currentInterval holds, densely, the response and service times of the
// latest timeline interval the lane has seen (index idx) that are not yet
// in that interval's sparse histograms.
type currentInterval struct {
	idx               int            // -1: none yet
	response, service *hdr.Histogram // 2 digits, nil until idx is set
}

// laneStep is one step's results in one lane. The histograms are dense
// (recording is an array increment) and allocated on the step's first sample.
type laneStep struct {
	requests, failures   int64
	bytesSent, bytesRecv int64
	status               counts[int]
	errors               counts[ErrorClass]
	response, service    *hdr.Histogram
}

type laneWorkflow struct {
	completed, failed int64
	time              *hdr.Histogram // dense, 3 digits, allocated on first use
}

// laneInterval is one timeline interval in one lane; its histograms are
// sparse, of IntervalDigits precision.
type laneInterval struct {
	requests, failures int64
	status             counts[int]
	errors             counts[ErrorClass]
	response, service  *Histogram
}

// counts is a small counter set searched linearly: a step or an interval sees
// few distinct status codes and error classes, and a hit does not allocate.
type counts[K comparable] []counter[K]

type counter[K comparable] struct {
	key K
	n   int64
}

func (c *counts[K]) add(k K) {
	for i := range *c {
		if (*c)[i].key == k {
			(*c)[i].n++
			return
		}
	}
	*c = append(*c, counter[K]{key: k, n: 1})
}

// addTo adds the counters into m, allocating m if needed.
func (c counts[K]) addTo(m map[K]int64) map[K]int64 {
	if len(c) == 0 {
		return m
	}
	if m == nil {
		m = make(map[K]int64, len(c))
	}
	for _, e := range c {
		m[e.key] += e.n
	}
	return m
}

// NewRecorder returns a Recorder for the given step and workflow names.
// Interval is the timeline resolution (one second if not positive); lanes
// is the number of independent shares (at least 1; ~2×GOMAXPROCS).
func NewRecorder(steps, workflows []string, epoch time.Time, interval time.Duration, lanes int) *Recorder {
	if interval <= 0 {
		interval = time.Second
	}
	lanes = max(lanes, 1)
	r := &Recorder{
		steps:     append([]string(nil), steps...),
		workflows: append([]string(nil), workflows...),
		epoch:     epoch,
		interval:  interval,
		start:     time.Now(),
		lanes:     make([]*lane, lanes),
	}
	for i := range r.lanes {
		r.lanes[i] = &lane{
			steps:     make([]laneStep, len(steps)),
			workflows: make([]laneWorkflow, len(workflows)),
			timeline:  make([]*laneInterval, maxIndex),
			cur:       currentInterval{idx: -1},
		}
	}
	return r
}

// lane returns lane i, wrapping out-of-range values.
func (r *Recorder) lane(i int) *lane {
	if uint(i) >= uint(len(r.lanes)) {
		i = int(uint(i) % uint(len(r.lanes)))
	}
	return r.lanes[i]
}

// Record adds one finished request. It locks the lane only and does not
// allocate once the lane has seen the step, the interval and the status.
func (r *Recorder) Record(lane int, s *Sample) {
	if s == nil || s.Step < 0 || s.Step >= len(r.steps) {
		return
	}
	resp, svc := durationUs(s.Response), durationUs(s.Service)
	idx := clampIndex(int64(s.At / r.interval))
	l := r.lane(lane)
	l.mu.Lock()
	st := &l.steps[s.Step]
	st.requests++
	st.bytesSent += s.BytesOut
	st.bytesRecv += s.BytesIn
	if s.Failed {
		st.failures++
	}
	if s.Err != ErrNone {
		st.errors.add(s.Err)
	}
	if s.Status != 0 {
		st.status.add(s.Status)
	}
	if st.response == nil {
		st.response = hdr.New(histLowestUs, histHighestUs, HistogramDigits)
		st.service = hdr.New(histLowestUs, histHighestUs, HistogramDigits)
	}
	// In range by construction: RecordValue cannot fail.
	_ = st.response.RecordValue(resp)
	_ = st.service.RecordValue(svc)

	iv := l.timeline[idx]
	if iv == nil {
		iv = &laneInterval{response: newHistogramDigits(IntervalDigits), service: newHistogramDigits(IntervalDigits)}
		l.timeline[idx] = iv
	}
	iv.requests++
	if s.Failed {
		iv.failures++
	}
	if s.Err != ErrNone {
		iv.errors.add(s.Err)
	}
	if s.Status != 0 {
		iv.status.add(s.Status)
	}
	l.recordInterval(idx, iv, resp, svc)
	l.mu.Unlock()
}

// recordInterval adds a sample's times to interval idx: into the dense
// current-interval histograms when idx is the current interval or a later
// one (which becomes current), straight into iv's sparse ones for a
// straggler from an earlier interval; l.mu held.
func (l *lane) recordInterval(idx int, iv *laneInterval, resp, svc int64) {
	c := &l.cur
	if idx != c.idx {
		if idx < c.idx {
			iv.response.recordUs(resp, 1)
			iv.service.recordUs(svc, 1)
			return
		}
		l.flushInterval()
		c.idx = idx
		if c.response == nil {
			c.response = hdr.New(histLowestUs, histHighestUs, IntervalDigits)
			c.service = hdr.New(histLowestUs, histHighestUs, IntervalDigits)
		}
	}
	// In range by construction: RecordValue cannot fail.
	_ = c.response.RecordValue(resp)
	_ = c.service.RecordValue(svc)
}

// flushInterval moves the current interval's dense counts into its sparse
// histograms; l.mu held.
func (l *lane) flushInterval() {
	c := &l.cur
	if c.response == nil || c.response.TotalCount() == 0 {
		return
	}
	iv := l.timeline[c.idx]
	iv.response.mergeDense(c.response)
	iv.service.mergeDense(c.service)
	c.response.Reset()
	c.service.Reset()
}

// Workflow adds one end-to-end iteration time of workflow (an index into the
// Recorder's workflow names), completed if ok, failed otherwise.
func (r *Recorder) Workflow(lane, workflow int, d time.Duration, ok bool) {
	if workflow < 0 || workflow >= len(r.workflows) {
		return
	}
	l := r.lane(lane)
	l.mu.Lock()
	w := &l.workflows[workflow]
	if ok {
		w.completed++
	} else {
		w.failed++
	}
	if w.time == nil {
		w.time = hdr.New(histLowestUs, histHighestUs, HistogramDigits)
	}
	_ = w.time.RecordValue(durationUs(d))
	l.mu.Unlock()
}

// IterationStarted counts an iteration that started lateness after its due
// time (late if more than LateThreshold).
func (r *Recorder) IterationStarted(lane int, lateness time.Duration) {
	l := r.lane(lane)
	l.mu.Lock()
	l.iter.Started++
	if lateness > LateThreshold {
		l.iter.Late++
	}
	l.recordLateness(lateness)
	l.mu.Unlock()
}

// IterationDone counts a finished iteration, completed if ok.
func (r *Recorder) IterationDone(lane int, ok bool) {
	l := r.lane(lane)
	l.mu.Lock()
	if ok {
		l.iter.Completed++
	} else {
		l.iter.Failed++
	}
	l.mu.Unlock()
}

// Dropped counts an arrival that never ran, having waited lateness.
func (r *Recorder) Dropped(lane int, lateness time.Duration) {
	l := r.lane(lane)
	l.mu.Lock()
	l.iter.Dropped++
	l.recordLateness(lateness)
	l.mu.Unlock()
}

// recordLateness adds one lateness to the lane's histogram; l.mu held.
// Latenesses under 1µs (every closed-model iteration without pacing) are
// only counted, and added to the histogram's lowest bucket, where they
// belong, by flushLateness.
func (l *lane) recordLateness(d time.Duration) {
	if d < HistogramMin {
		l.onTime++
		return
	}
	if l.lateness == nil {
		l.lateness = hdr.New(histLowestUs, histHighestUs, HistogramDigits)
	}
	_ = l.lateness.RecordValue(durationUs(d))
}

// flushLateness moves the on-time count into the histogram; l.mu held.
func (l *lane) flushLateness() {
	if l.onTime == 0 {
		return
	}
	if l.lateness == nil {
		l.lateness = hdr.New(histLowestUs, histHighestUs, HistogramDigits)
	}
	_ = l.lateness.RecordValues(histLowestUs, l.onTime)
	l.onTime = 0
}

// Snapshot returns everything recorded since the Recorder was made, merged
// over all lanes into a fresh Snapshot that shares nothing with r. Every
// step and workflow name is present, with zero counts if nothing ran. It
// holds each lane's lock only while copying that lane's share; Start is the
// Recorder's creation time and End the time of the call.
func (r *Recorder) Snapshot() *Snapshot {
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	out := NewSnapshot(r.epoch, r.interval)
	out.Start, out.End = r.start, time.Now()
	for i, name := range r.steps {
		st := r.stepSnapshot(i)
		if prev := out.Steps[name]; prev != nil {
			prev.merge(st)
		} else {
			out.Steps[name] = st
		}
	}
	for _, name := range r.workflows {
		if out.Workflows[name] == nil {
			out.Workflows[name] = &WorkflowStats{Time: NewHistogram()}
		}
	}
	slots := make([]*Interval, maxIndex)
	for _, l := range r.lanes {
		l.mu.Lock()
		l.flushInterval()
		l.flushLateness()
		r.addLane(l, out, slots)
		l.mu.Unlock()
	}
	out.Timeline = compactTimeline(nil, slots)
	return out
}

// stepSnapshot merges step i over all lanes. Each lane's dense histogram
// is packed into the scratch histogram (a scan of its counts and a sorted
// append), which then merges into the result in one linear pass.
func (r *Recorder) stepSnapshot(i int) *StepStats {
	if r.scratch == nil {
		r.scratch = NewHistogram()
	}
	st := newStepStats()
	for _, l := range r.lanes {
		l.mu.Lock()
		ls := &l.steps[i]
		if ls.requests > 0 {
			st.Requests += ls.requests
			st.Failures += ls.failures
			st.BytesSent += ls.bytesSent
			st.BytesRecv += ls.bytesRecv
			st.Status = ls.status.addTo(st.Status)
			st.Errors = ls.errors.addTo(st.Errors)
			r.mergeDense(st.Response, ls.response)
			r.mergeDense(st.Service, ls.service)
		}
		l.mu.Unlock()
	}
	return st
}

// mergeDense adds a lane's dense histogram to h through r.scratch.
func (r *Recorder) mergeDense(h *Histogram, d *hdr.Histogram) {
	r.scratch.p.Reset()
	r.scratch.mergeDense(d)
	h.Merge(r.scratch)
}

// addLane merges lane l's workflows, iterations and timeline into out and
// slots (indexed by interval); l.mu and r.snapMu must be held.
func (r *Recorder) addLane(l *lane, out *Snapshot, slots []*Interval) {
	for i := range l.workflows {
		w := &l.workflows[i]
		if w.completed == 0 && w.failed == 0 {
			continue
		}
		ow := out.Workflows[r.workflows[i]]
		ow.Completed += w.completed
		ow.Failed += w.failed
		r.mergeDense(ow.Time, w.time)
	}
	out.Iterations.merge(&l.iter)
	if l.lateness != nil {
		if out.Iterations.Lateness == nil {
			out.Iterations.Lateness = NewHistogram()
		}
		r.mergeDense(out.Iterations.Lateness, l.lateness)
	}
	for idx, li := range l.timeline {
		if li == nil {
			continue
		}
		iv := slots[idx]
		if iv == nil {
			iv = newInterval(idx)
			slots[idx] = iv
		}
		iv.Requests += li.requests
		iv.Failures += li.failures
		iv.Status = li.status.addTo(iv.Status)
		iv.Errors = li.errors.addTo(iv.Errors)
		iv.Response.Merge(li.response)
		iv.Service.Merge(li.service)
	}
}
