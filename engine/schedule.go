package engine

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"time"
)

// Schedule is a plan-wide load profile: a piecewise-linear function of test
// time. For the open model its value is the arrival rate (iterations per
// second) and arrival i is due when the rate's integral from 0 first reaches
// i, so a constant 10/s gives arrivals at 0, 100ms, 200ms... For the closed
// model its value is the number of users: user u is active while the value
// exceeds u, so users start in order and the highest-numbered stop first.
//
// Every shard computes the same Schedule from the same Load, which is what
// makes any split add up exactly. A Schedule is immutable and safe for
// concurrent use.
type Schedule struct {
	segs []schedSeg // contiguous, non-empty, covering [0, dur)
	dur  time.Duration
}

// schedSeg is one linear piece of a Schedule over [t0, t1).
type schedSeg struct {
	t0, t1 time.Duration
	v0, v1 float64 // value at t0 and its limit at t1
	c0, c1 float64 // integral of the value over [0, t0) and [0, t1), in value·s
}

// NewSchedule returns the profile of load over a test of duration d:
// arrivals per second for the open model, users for the closed one.
func NewSchedule(load Load, d time.Duration) (*Schedule, error) {
	if d <= 0 {
		return nil, fmt.Errorf("duration: %v is not positive", d)
	}
	switch load.Model {
	case ModelOpen, "":
		if !(load.Rate >= 0) || math.IsInf(load.Rate, 0) {
			return nil, fmt.Errorf("load.rate: %v is not a rate", load.Rate)
		}
		return newProfile(load.Rate, load.Stages, d)
	case ModelClosed:
		if load.Users < 0 {
			return nil, fmt.Errorf("load.users: %d is negative", load.Users)
		}
		if len(load.Stages) == 0 && load.RampUp > 0 {
			return newProfile(0, []Stage{{Duration: load.RampUp, Target: float64(load.Users)}}, d)
		}
		return newProfile(float64(load.Users), load.Stages, d)
	default:
		return nil, fmt.Errorf("load.model: unknown model %q", load.Model)
	}
}

// newProfile ramps linearly from start through stages; a zero-length stage
// jumps, and the last value holds until d.
func newProfile(start float64, stages []Stage, d time.Duration) (*Schedule, error) {
	s := &Schedule{dur: d}
	t, v := time.Duration(0), start
	for k, st := range stages {
		if st.Duration < 0 {
			return nil, fmt.Errorf("load.stages[%d].duration: %v is negative", k, st.Duration)
		}
		if !(st.Target >= 0) || math.IsInf(st.Target, 0) {
			return nil, fmt.Errorf("load.stages[%d].target: %v is not a valid target", k, st.Target)
		}
		if st.Duration == 0 {
			v = st.Target
			continue
		}
		if t >= d {
			break
		}
		t1, v1 := t+st.Duration, st.Target
		if t1 > d {
			v1 = v + (st.Target-v)*float64(d-t)/float64(st.Duration)
			t1 = d
		}
		s.add(t, t1, v, v1)
		t, v = t1, st.Target
	}
	if t < d {
		s.add(t, d, v, v)
	}
	return s, nil
}

func (s *Schedule) add(t0, t1 time.Duration, v0, v1 float64) {
	c0 := 0.0
	if n := len(s.segs); n > 0 {
		c0 = s.segs[n-1].c1
	}
	c1 := c0 + (v0+v1)/2*(t1-t0).Seconds()
	s.segs = append(s.segs, schedSeg{t0: t0, t1: t1, v0: v0, v1: v1, c0: c0, c1: c1})
}

// Duration is the test length the Schedule covers.
func (s *Schedule) Duration() time.Duration { return s.dur }

// seg returns the index of the segment holding t (clamped to the last one).
func (s *Schedule) seg(t time.Duration) int {
	k := sort.Search(len(s.segs), func(k int) bool { return s.segs[k].t1 > t })
	if k == len(s.segs) {
		k--
	}
	return k
}

// Value is the profile at offset t: a rate per second or a user count.
func (s *Schedule) Value(t time.Duration) float64 {
	if t < 0 {
		t = 0
	}
	g := s.segs[s.seg(t)]
	if t >= g.t1 {
		return g.v1
	}
	return g.v0 + (g.v1-g.v0)*float64(t-g.t0)/float64(g.t1-g.t0)
}

// Cumulative is the integral of the value over [0, t): the expected number
// of arrivals before t in the open model.
func (s *Schedule) Cumulative(t time.Duration) float64 {
	if t <= 0 {
		return 0
	}
	g := s.segs[s.seg(t)]
	if t >= g.t1 {
		return g.c1
	}
	dt := (t - g.t0).Seconds()
	return g.c0 + (g.v0+s.Value(t))/2*dt
}

// At returns when arrival i (0-based, plan-wide) is due, as an offset from
// test time 0: the first time the integral of the rate exceeds i. It
// reports false when arrival i falls at or after the Duration. Cost is
// O(log stages).
func (s *Schedule) At(i int64) (time.Duration, bool) {
	if i < 0 {
		return 0, false
	}
	x := float64(i)
	k := sort.Search(len(s.segs), func(k int) bool { return s.segs[k].c1 > x })
	if k == len(s.segs) {
		return 0, false
	}
	g := s.segs[k]
	n := x - g.c0
	if n < 0 {
		n = 0
	}
	length := (g.t1 - g.t0).Seconds()
	slope := (g.v1 - g.v0) / length
	var dt float64 // seconds into the segment
	if slope == 0 {
		dt = n / g.v0
	} else {
		// Solve v0·dt + slope/2·dt² = n in its cancellation-free form.
		disc := g.v0*g.v0 + 2*slope*n
		if disc < 0 {
			disc = 0
		}
		if den := g.v0 + math.Sqrt(disc); den > 0 {
			dt = 2 * n / den
		}
	}
	dt = min(max(dt, 0), length)
	t := g.t0 + time.Duration(math.Round(dt*1e9))
	if t >= s.dur {
		return 0, false
	}
	return t, true
}

// First returns the index of the first arrival due at or after t (the
// number of arrivals due before t).
func (s *Schedule) First(t time.Duration) int64 {
	if t <= 0 {
		return 0
	}
	i := max(int64(math.Ceil(s.Cumulative(t)-1e-6)), 0)
	// The estimate is off by at most one; At decides, so that windows cut
	// arrivals exactly where At puts them.
	for i > 0 && !s.before(i-1, t) {
		i--
	}
	for s.before(i, t) {
		i++
	}
	return i
}

// before reports whether arrival i exists and is due before t.
func (s *Schedule) before(i int64, t time.Duration) bool {
	at, ok := s.At(i)
	return ok && at < t
}

// Count returns the number of arrivals due in w (a zero End means the
// Duration).
func (s *Schedule) Count(w Window) int64 {
	start, end := s.clamp(w)
	if end <= start {
		return 0
	}
	return s.First(end) - s.First(start)
}

// clamp returns w's bounds within [0, Duration].
func (s *Schedule) clamp(w Window) (start, end time.Duration) {
	end = w.End
	if end == 0 || end > s.dur {
		end = s.dur
	}
	return max(w.Start, 0), end
}

// Active reports whether closed-model user u is active at t.
func (s *Schedule) Active(u int, t time.Duration) bool { return s.Value(t) > float64(u) }

// Users is the number of closed-model users active at t.
func (s *Schedule) Users(t time.Duration) int {
	v := s.Value(t)
	if v <= 0 {
		return 0
	}
	return int(math.Ceil(v))
}

// MaxUsers is the largest number of users active at any time.
func (s *Schedule) MaxUsers() int {
	m := 0.0
	for _, g := range s.segs {
		m = max(m, g.v0, g.v1)
	}
	return int(math.Ceil(m))
}

// UserStart returns the first time at or after from when closed-model user
// u is active (when the user count first exceeds u), or false when that
// does not happen before the Duration.
func (s *Schedule) UserStart(u int, from time.Duration) (time.Duration, bool) {
	x := float64(u)
	from = max(from, 0)
	for k := s.seg(from); k < len(s.segs); k++ {
		g := s.segs[k]
		t0 := max(g.t0, from)
		if t0 >= g.t1 {
			continue
		}
		if s.Value(t0) > x {
			return t0, true
		}
		if g.v1 > x && g.v1 > g.v0 {
			f := (x - g.v0) / (g.v1 - g.v0)
			t := g.t0 + time.Duration(math.Ceil(f*float64(g.t1-g.t0)))
			return min(max(t, t0), g.t1-1), true
		}
	}
	return 0, false
}

// arrivalSeq yields one shard's arrivals within a window, in order. It is
// owned by the dispatcher.
type arrivalSeq struct {
	s    *Schedule
	next int64 // next candidate index, ≡ shard index mod count
	step int64
	end  time.Duration
}

// newArrivalSeq returns the arrivals i with i mod sh.Count == sh.Index and
// w.Start <= At(i) < w.End (zero End: the Duration).
func newArrivalSeq(s *Schedule, sh Shard, w Window) *arrivalSeq {
	n := int64(max(sh.Count, 1))
	start, end := s.clamp(w)
	first := s.First(start)
	first += ((int64(sh.Index)-first)%n + n) % n
	return &arrivalSeq{s: s, next: first, step: n, end: end}
}

// Next returns the next arrival's plan-wide index and due time.
func (q *arrivalSeq) Next() (int64, time.Duration, bool) {
	at, ok := q.s.At(q.next)
	if !ok || at >= q.end {
		return 0, 0, false
	}
	i := q.next
	q.next += q.step
	return i, at, true
}

// mix64 is the splitmix64 finaliser: a bijective 64-bit hash.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Hash domains, so that the streams derived from one seed differ.
const (
	hashArrival uint64 = 0x6172726976616c00 // "arrival"
	hashUser    uint64 = 0x7573657200000000 // "user"
	hashIter    uint64 = 0x6974657200000000 // "iter"
)

// seedHash derives a value from (seed, domain, a, b).
func seedHash(seed, domain, a, b uint64) uint64 {
	return mix64(mix64(mix64(seed^domain)+a) + b)
}

// scenarioPicker chooses scenarios by weight from a uniform 64-bit hash.
type scenarioPicker struct {
	cum   []uint64 // cumulative weights
	total uint64
}

// newScenarioPicker returns a picker; when every weight is zero all
// scenarios weigh the same.
func newScenarioPicker(scs []Scenario) (scenarioPicker, error) {
	p := scenarioPicker{cum: make([]uint64, len(scs))}
	allZero := true
	for _, sc := range scs {
		allZero = allZero && sc.Weight == 0
	}
	for k, sc := range scs {
		if sc.Weight < 0 {
			return p, fmt.Errorf("scenarios[%d].weight: %d is negative", k, sc.Weight)
		}
		w := uint64(sc.Weight)
		if allZero {
			w = 1
		}
		p.total += w
		p.cum[k] = p.total
	}
	return p, nil
}

// pick maps h to a scenario index with probability weight/total.
func (p scenarioPicker) pick(h uint64) int {
	if len(p.cum) == 1 {
		return 0
	}
	r, _ := bits.Mul64(h, p.total) // uniform in [0, total)
	return sort.Search(len(p.cum), func(k int) bool { return p.cum[k] > r })
}
