package engine

import "time"

// Histogram is an HdrHistogram of durations recorded in microseconds, from
// 1µs to 1h, 3 significant digits; larger values are clamped to the maximum.
// It is not safe for concurrent use. Its JSON form is the standard
// HdrHistogram V2 compressed encoding, base64.
type Histogram struct{}

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram { panic("engine: NewHistogram not implemented") }

// Record adds one value.
func (h *Histogram) Record(d time.Duration) { panic("not implemented") }

// Merge adds o's counts to h and returns how many values were dropped.
func (h *Histogram) Merge(o *Histogram) int64 { panic("not implemented") }

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { panic("not implemented") }

// Quantile returns the value at q (0–100, as HdrHistogram).
func (h *Histogram) Quantile(q float64) time.Duration { panic("not implemented") }

// Max and Mean of the recorded values.
func (h *Histogram) Max() time.Duration  { panic("not implemented") }
func (h *Histogram) Mean() time.Duration { panic("not implemented") }

// Snapshot is the mergeable result of one or more generators: per-step
// histograms and counters, iteration counts, workflow times and a bounded
// timeline. Merging is exact: counts add up, histograms merge bucket by bucket.
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

// Interval is one timeline bucket.
type Interval struct {
	Index    int                  `json:"i"`
	Requests int64                `json:"requests"`
	Failures int64                `json:"failures"`
	Status   map[int]int64        `json:"status,omitempty"`
	Errors   map[ErrorClass]int64 `json:"errors,omitempty"`
	Response *Histogram           `json:"response"`
	Service  *Histogram           `json:"service"`
}

// NewSnapshot returns an empty Snapshot.
func NewSnapshot(epoch time.Time, interval time.Duration) *Snapshot {
	panic("not implemented")
}

// Merge adds o into s and returns the number of histogram values dropped.
func (s *Snapshot) Merge(o *Snapshot) int64 { panic("not implemented") }

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

// Recorder accumulates samples from many workers. Record is safe for
// concurrent use; workers pass their own lane (0..lanes-1) so that the hot
// path does not contend.
type Recorder struct{}

// NewRecorder returns a Recorder for the given step and workflow names.
func NewRecorder(steps, workflows []string, epoch time.Time, interval time.Duration, lanes int) *Recorder {
	panic("not implemented")
}

func (r *Recorder) Record(lane int, s *Sample)                            { panic("not implemented") }
func (r *Recorder) Workflow(lane, workflow int, d time.Duration, ok bool) { panic("not implemented") }
func (r *Recorder) IterationStarted(lane int, lateness time.Duration)     { panic("not implemented") }
func (r *Recorder) IterationDone(lane int, ok bool)                       { panic("not implemented") }
func (r *Recorder) Dropped(lane int, lateness time.Duration)              { panic("not implemented") }
func (r *Recorder) Snapshot() *Snapshot                                   { panic("not implemented") }
