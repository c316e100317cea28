package report

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
)

// LateJoinAfter is how long after its window's start a generator's engine
// may start before the report names it a late joiner.
const LateJoinAfter = time.Second

// FindingLateJoiners: some generators started their engine late.
const FindingLateJoiners = "late_joiners"

// Fleet is when the run's generators ran (report.json "fleet"): how many
// ran at each timeline interval, how unevenly their engines started and
// which started late.
type Fleet struct {
	// Ran counts the tasks a generator ran (a span of a final result);
	// Claimed those the orchestrator claimed after a stop (never ran: not
	// in Running, StartSkewMs or LateJoiners; listed in Shards.Claimed).
	Ran     int `json:"ran"`
	Claimed int `json:"claimed"`
	// Running has one point per timeline interval (none when no task
	// reported when it ran).
	Running []Running `json:"running"`
	// StartSkewMs is max − min over tasks of (engine start − window
	// start), in milliseconds.
	StartSkewMs float64 `json:"start_skew_ms"`
	// LateJoiners are the tasks whose engine started more than
	// LateJoinAfter after their window's start, latest first.
	LateJoiners []LateJoiner `json:"late_joiners"`
}

// Running is how many generators ran during the interval starting TS
// seconds after test time 0: those whose span [Leased, Ended) overlaps it
// (Started stands in for a missing lease time).
type Running struct {
	TS      float64 `json:"t_s"`
	Running int     `json:"running"`
}

// LateJoiner is a task whose engine started LateMs milliseconds after its
// window's start.
type LateJoiner struct {
	Task   string  `json:"task"`
	LateMs float64 `json:"late_ms"`
}

// fleet computes the Fleet of r's generator spans over n timeline
// intervals of length interval from r.Started.
// Spans of claimed tasks are counted apart and left out of the rest.
func fleet(r *orchestrator.Result, n int, interval time.Duration) Fleet {
	f := Fleet{Running: []Running{}, LateJoiners: []LateJoiner{}}
	spans := make([]orchestrator.GeneratorSpan, 0, len(r.Generators))
	for _, s := range r.Generators {
		if s.Claimed {
			f.Claimed++
			continue
		}
		spans = append(spans, s)
	}
	f.Ran = len(spans)
	if interval > 0 && len(spans) > 0 {
		for i := range n {
			from := r.Started.Add(time.Duration(i) * interval)
			to := from.Add(interval)
			pt := Running{TS: round(float64(i)*interval.Seconds(), 3)}
			for _, s := range spans {
				begin := s.Leased
				if begin.IsZero() {
					begin = s.Started
				}
				if begin.Before(to) && s.Ended.After(from) {
					pt.Running++
				}
			}
			f.Running = append(f.Running, pt)
		}
	}
	var lo, hi time.Duration
	some := false
	for _, s := range spans {
		if s.Started.IsZero() || s.WindowStart.IsZero() {
			continue
		}
		late := s.Started.Sub(s.WindowStart)
		if !some || late < lo {
			lo = late
		}
		if !some || late > hi {
			hi = late
		}
		some = true
		if late > LateJoinAfter {
			f.LateJoiners = append(f.LateJoiners, LateJoiner{Task: s.Task, LateMs: ms(late)})
		}
	}
	if some {
		f.StartSkewMs = ms(hi - lo)
	}
	slices.SortStableFunc(f.LateJoiners, func(a, b LateJoiner) int {
		switch {
		case a.LateMs > b.LateMs:
			return -1
		case a.LateMs < b.LateMs:
			return 1
		}
		return strings.Compare(a.Task, b.Task)
	})
	return f
}

// lateJoiners is the finding for generators that started late: the load
// they were to apply at the start of their window did not happen.
func lateJoiners(f Fleet) (Finding, bool) {
	if len(f.LateJoiners) == 0 {
		return Finding{}, false
	}
	worst := f.LateJoiners[0]
	return Finding{
		Kind: FindingLateJoiners, Warning: true, Title: "Late generators",
		Detail: fmt.Sprintf("%d of %d generators started their engine more than %v after their window's start (latest: %s, %s late): their share of the load at the start of the window was not applied. Start skew %s.",
			len(f.LateJoiners), f.Ran, LateJoinAfter, worst.Task, fmtMs(worst.LateMs), fmtMs(f.StartSkewMs)),
		Values: map[string]float64{"late": float64(len(f.LateJoiners)), "max_late_ms": worst.LateMs, "start_skew_ms": f.StartSkewMs},
	}, true
}

// fleetChart draws how many generators ran per interval ("" when no
// generator reported when it ran).
func fleetChart(r *Report, xs []float64) template.HTML {
	if len(r.Fleet.Running) != len(xs) || r.Fleet.Ran == 0 {
		return ""
	}
	v := make([]float64, len(xs))
	for i, p := range r.Fleet.Running {
		v[i] = float64(p.Running)
	}
	return lineChart("Generators running over time", "", xs, []line{{Name: "generators running", Color: color(4), Values: v}}, nil, "s")
}

// fleet writes the text report's generators line and its late joiners
// (nothing when no generator reported when it ran).
func (t *textWriter) fleet(r *Report) {
	f := r.Fleet
	if f.Ran == 0 {
		return
	}
	d := t.dot()
	t.printf("generators      %d ran %s start skew %s %s %d late", f.Ran, d, fmtMs(f.StartSkewMs), d, len(f.LateJoiners))
	if f.Claimed > 0 {
		t.printf(" (%d claimed tasks never ran: not counted)", f.Claimed)
	}
	t.printf("\n")
	if len(f.LateJoiners) > 0 {
		parts := make([]string, len(f.LateJoiners))
		for i, l := range f.LateJoiners {
			parts[i] = fmt.Sprintf("%s (+%s)", l.Task, fmtMs(l.LateMs))
		}
		t.printf("  late: %s\n", strings.Join(parts, ", "))
	}
	t.printf("\n")
}
