package engine

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testStatuses = []int{200, 200, 200, 201, 401, 429, 500, 502, 503, 504}

var testClasses = []ErrorClass{ErrTimeout, ErrConnReset, ErrExpect, ErrOther}

// randomSamples draws n samples over steps and a test of length span.
func randomSamples(r *rand.Rand, n, steps int, span time.Duration) []Sample {
	vals := randomValuesUs(r, n)
	out := make([]Sample, n)
	for i := range out {
		s := Sample{
			Step:     r.IntN(steps),
			At:       time.Duration(r.Int64N(int64(span))),
			Response: time.Duration(vals[i]) * time.Microsecond,
			Service:  time.Duration(vals[i]/2) * time.Microsecond,
			Status:   testStatuses[r.IntN(len(testStatuses))],
			BytesOut: r.Int64N(1000),
			BytesIn:  r.Int64N(10000),
		}
		if r.IntN(10) == 0 { // a transport error: no status
			s.Status, s.Err = 0, testClasses[r.IntN(len(testClasses))]
		}
		s.Failed = s.Status >= 400 || s.Err != ErrNone
		out[i] = s
	}
	return out
}

func stepNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "GET /s" + string(rune('a'+i))
	}
	return names
}

// recordAll records samples into a fresh one-lane Recorder and snapshots it.
func recordAll(steps []string, samples []Sample) *Snapshot {
	rec := NewRecorder(steps, []string{"w"}, testEpoch, time.Second, 1)
	for i := range samples {
		rec.Record(0, &samples[i])
		rec.IterationStarted(0, time.Duration(samples[i].BytesOut%3)*time.Millisecond)
		rec.IterationDone(0, !samples[i].Failed)
		rec.Workflow(0, 0, samples[i].Response, !samples[i].Failed)
	}
	return rec.Snapshot()
}

// resultJSON is the data part of a snapshot (not its wall-clock span).
func resultJSON(t *testing.T, s *Snapshot) []byte {
	t.Helper()
	b, err := json.Marshal([]any{s.Epoch, s.Interval, s.Steps, s.Workflows, s.Iterations, s.Timeline})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrip sends s through its JSON form (DecodeSnapshot is ParseSnapshot
// and Snapshot).
func roundTrip(t *testing.T, s *Snapshot) *Snapshot {
	t.Helper()
	return mustParse(t, s).Snapshot()
}

// TestSnapshotMergeMatchesPooled splits random samples over many recorders
// (shards), sends each snapshot through JSON, merges them and checks that
// the result equals recording everything at once, and that percentiles match
// the pooled raw values.
func TestSnapshotMergeMatchesPooled(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	steps := stepNames(4)
	for trial := range 3 {
		all := randomSamples(r, 200+r.IntN(800), len(steps), 20*time.Second)
		merged := NewSnapshot(time.Time{}, 0)
		var wantRequests int64
		for rest := all; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(300))
			part := roundTrip(t, recordAll(steps, rest[:n]))
			for _, st := range part.Steps {
				wantRequests += st.Requests
			}
			if d := merged.Merge(part); d != 0 {
				t.Fatalf("Merge dropped %d", d)
			}
			rest = rest[n:]
		}
		direct := recordAll(steps, all)
		if got, want := resultJSON(t, merged), resultJSON(t, direct); !bytes.Equal(got, want) {
			t.Fatalf("trial %d: merged snapshot differs from direct recording", trial)
		}
		if total := merged.Total(); total.Requests != int64(len(all)) || total.Requests != wantRequests || total.Response.Count() != int64(len(all)) {
			t.Fatalf("trial %d: Total = %d requests, %d values; want %d", trial, total.Requests, total.Response.Count(), len(all))
		}
		for _, name := range steps {
			var pooled []int64
			for _, s := range all {
				if steps[s.Step] == name {
					pooled = append(pooled, int64(s.Response/time.Microsecond))
				}
			}
			slices.Sort(pooled)
			st := merged.Steps[name]
			for _, q := range checkedQuantiles {
				got := int64(st.Response.Quantile(q) / time.Microsecond)
				if want := rawQuantileUs(pooled, q); !withinPrecision(got, want, HistogramDigits) {
					t.Errorf("trial %d %s: p%v = %dµs, pooled %dµs", trial, name, q, got, want)
				}
			}
		}
		again := roundTrip(t, merged)
		if !bytes.Equal(resultJSON(t, again), resultJSON(t, merged)) {
			t.Fatalf("trial %d: JSON round trip changed the merged snapshot", trial)
		}
	}
}

func TestSnapshotMergeCounts(t *testing.T) {
	a := recordAll([]string{"x"}, []Sample{
		{Step: 0, At: 500 * time.Millisecond, Response: time.Millisecond, Status: 200},
		{Step: 0, At: 2500 * time.Millisecond, Response: time.Millisecond, Status: 503, Failed: true},
	})
	b := recordAll([]string{"x", "y"}, []Sample{
		{Step: 0, At: 2100 * time.Millisecond, Response: time.Second, Err: ErrTimeout, Failed: true},
		{Step: 1, At: 9 * time.Second, Response: time.Second, Status: 200},
	})
	s := NewSnapshot(testEpoch, time.Second)
	s.Merge(a)
	s.Merge(b)
	x := s.Steps["x"]
	if x.Requests != 3 || x.Failures != 2 || x.Status[200] != 1 || x.Status[503] != 1 || len(x.Status) != 2 || x.Errors[ErrTimeout] != 1 || len(x.Errors) != 1 {
		t.Errorf("step x = %+v", x)
	}
	if s.Steps["y"].Requests != 1 || s.Iterations.Started != 4 || s.Workflows["w"].Failed != 2 {
		t.Errorf("y, iterations, workflow = %+v, %+v, %+v", s.Steps["y"], s.Iterations, s.Workflows["w"])
	}
	var idx []int
	var reqs []int64
	for _, iv := range s.Timeline {
		idx, reqs = append(idx, iv.Index), append(reqs, iv.Requests)
	}
	if !slices.Equal(idx, []int{0, 2, 9}) || !slices.Equal(reqs, []int64{1, 2, 1}) {
		t.Errorf("timeline = %v %v, want [0 2 9] [1 2 1]", idx, reqs)
	}
	if iv := s.Timeline[1]; iv.Failures != 2 || iv.Status[503] != 1 || iv.Errors[ErrTimeout] != 1 || iv.Response.Count() != 2 || iv.Response.Digits() != IntervalDigits {
		t.Errorf("interval 2 = %+v", iv)
	}
	// a and b are unchanged and not aliased.
	s.Steps["x"].Response.Record(time.Minute)
	if a.Steps["x"].Requests != 2 || a.Steps["x"].Response.Count() != 2 || b.Steps["x"].Response.Count() != 1 {
		t.Errorf("merge modified its source")
	}
}

func TestSnapshotMergeRemapsTimeline(t *testing.T) {
	o := NewSnapshot(testEpoch.Add(10*time.Second), 5*time.Second)
	for _, i := range []int{0, 1, 3} {
		iv := newInterval(i)
		iv.Requests = int64(i + 1)
		o.Timeline = append(o.Timeline, iv)
	}
	s := NewSnapshot(testEpoch, 2*time.Second)
	s.Merge(o)
	// Starts 10s, 15s, 25s after s's epoch: indexes 5, 7, 12.
	var idx []int
	for _, iv := range s.Timeline {
		idx = append(idx, iv.Index)
	}
	if !slices.Equal(idx, []int{5, 7, 12}) || s.Timeline[2].Requests != 4 {
		t.Errorf("remapped indexes = %v", idx)
	}
}

func TestSnapshotMergeIntoZero(t *testing.T) {
	var s Snapshot
	o := recordAll([]string{"x"}, []Sample{{Step: 0, Response: time.Millisecond, Status: 200}})
	s.Merge(o)
	s.Merge(o)
	if s.Interval != time.Second || !s.Epoch.Equal(testEpoch) || s.Steps["x"].Requests != 2 || s.Iterations.Lateness.Count() != 2 {
		t.Errorf("merged zero snapshot = %+v", s)
	}
}

func TestSnapshotCloneIsDeep(t *testing.T) {
	s := recordAll(stepNames(2), randomSamples(rand.New(rand.NewPCG(1, 1)), 300, 2, 10*time.Second))
	before := resultJSON(t, s)
	c := s.Clone()
	c.Merge(s)
	c.Steps["GET /sa"].Status[999]++
	c.Timeline[0].Response.Record(time.Second)
	c.Iterations.Lateness.Record(time.Second)
	if !bytes.Equal(resultJSON(t, s), before) {
		t.Fatal("changing a clone changed the original")
	}
}

func TestSnapshotTotal(t *testing.T) {
	s := recordAll([]string{"a", "b"}, []Sample{
		{Step: 0, Response: time.Millisecond, Status: 200, BytesIn: 10},
		{Step: 1, Response: 3 * time.Millisecond, Status: 500, Failed: true, BytesIn: 5},
		{Step: 1, Response: 2 * time.Millisecond, Err: ErrDNS, Failed: true},
	})
	tot := s.Total()
	if tot.Requests != 3 || tot.Failures != 2 || tot.BytesRecv != 15 || tot.Status[200] != 1 || tot.Status[500] != 1 || tot.Errors[ErrDNS] != 1 {
		t.Errorf("Total = %+v", tot)
	}
	if tot.Response.Count() != 3 || tot.Response.Max() != 3001*time.Microsecond {
		t.Errorf("Total response = %d values, max %v", tot.Response.Count(), tot.Response.Max())
	}
	if names := s.StepNames(); !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("StepNames = %v", names)
	}
}

func TestDecodeSnapshotFillsMissing(t *testing.T) {
	in := `{"interval":1000000000,"steps":{"a":{"requests":2,"response":null},"b":null},
		"workflows":{"w":{"completed":1}},"iterations":{"started":1},
		"timeline":[{"i":4,"requests":1},{"i":2,"requests":3,"service":""}]}`
	s, err := DecodeSnapshot([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps["a"].Response == nil || s.Steps["a"].Service == nil || s.Steps["b"] == nil || s.Workflows["w"].Time == nil || s.Iterations.Lateness == nil {
		t.Fatalf("nil histograms left: %+v", s)
	}
	if s.Timeline[0].Index != 2 || s.Timeline[1].Index != 4 || s.Timeline[1].Response.Digits() != IntervalDigits {
		t.Errorf("timeline not sorted and filled: %+v %+v", s.Timeline[0], s.Timeline[1])
	}
	s.Steps["a"].Response.Record(time.Millisecond) // usable
	if s.Steps["a"].Response.Count() != 1 {
		t.Error("filled histogram not usable")
	}
}

func TestDecodeSnapshotRejects(t *testing.T) {
	const ok = `"interval":1000000000`
	tests := []struct {
		name, in, errPart string
	}{
		{"not json", `{`, "unexpected end"},
		{"null", `null`, "interval"},
		{"zero interval", `{"interval":0}`, "interval"},
		{"negative interval", `{"interval":-5}`, "interval"},
		{"end before start", `{` + ok + `,"start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}`, "before start"},
		{"negative requests", `{` + ok + `,"steps":{"a":{"requests":-1}}}`, "negative"},
		{"failures exceed requests", `{` + ok + `,"steps":{"a":{"requests":1,"failures":2}}}`, "exceed"},
		{"negative bytes", `{` + ok + `,"steps":{"a":{"bytes_recv":-3}}}`, "negative"},
		{"status zero", `{` + ok + `,"steps":{"a":{"requests":1,"status":{"0":1}}}}`, "status code"},
		{"status 1000", `{` + ok + `,"steps":{"a":{"requests":1,"status":{"1000":1}}}}`, "status code"},
		{"negative status count", `{` + ok + `,"steps":{"a":{"status":{"200":-1}}}}`, "negative"},
		{"empty error class", `{` + ok + `,"steps":{"a":{"errors":{"":1}}}}`, "error class"},
		{"bad histogram", `{` + ok + `,"steps":{"a":{"response":"AAAA"}}}`, "histogram"},
		{"histogram not string", `{` + ok + `,"steps":{"a":{"response":5}}}`, "histogram"},
		{"negative workflow", `{` + ok + `,"workflows":{"w":{"failed":-1}}}`, "negative"},
		{"negative iterations", `{` + ok + `,"iterations":{"dropped":-1}}`, "negative"},
		{"index below 0", `{` + ok + `,"timeline":[{"i":-1}]}`, "index"},
		{"index too large", `{` + ok + `,"timeline":[{"i":600}]}`, "index"},
		{"duplicate index", `{` + ok + `,"timeline":[{"i":3},{"i":3}]}`, "twice"},
		{"null interval", `{` + ok + `,"timeline":[null]}`, "null interval"},
		{"interval failures", `{` + ok + `,"timeline":[{"i":1,"failures":1}]}`, "exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeSnapshot([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("DecodeSnapshot(%s) error = %v, want one containing %q", tt.in, err, tt.errPart)
			}
		})
	}
}
