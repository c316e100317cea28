package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// progressView renders the orchestrator's Progress while a run goes: on a
// terminal a block redrawn in place (ANSI), elsewhere one plain line per
// update (CI logs). It is not safe for concurrent use; the orchestrator
// calls Update from one goroutine.
type progressView struct {
	w     io.Writer
	plan  *plan.Plan
	sched *engine.Schedule // nil: the offered load is unknown
	// redraw moves the cursor up over the last block instead of printing
	// new lines; color uses ANSI colours (never when NO_COLOR is set).
	redraw, color bool
	// Spend, when set, returns the spend so far at pr, e.g. "$0.0123"; it
	// is shown as is.
	Spend func(pr orchestrator.Progress) string

	started  bool
	drawn    int // lines of the last block
	lastReqs int64
	lastEnd  time.Time
	rps      float64
}

// newProgress returns a view of p's progress written to w; terminal
// selects the redrawn block.
func newProgress(w io.Writer, p *plan.Plan, terminal bool) *progressView {
	v := &progressView{w: w, plan: p, redraw: terminal, color: terminal && os.Getenv("NO_COLOR") == ""}
	if s, err := engine.NewSchedule(p.Engine.Load, p.Engine.Duration); err == nil {
		v.sched = s
	}
	return v
}

// isTerminal reports whether stream (standard input, output or error) is
// a character device: a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressStats are the numbers of one update.
type progressStats struct {
	reqs, fails   int64
	rps, offered  float64
	p50, p99      string // over the latest complete interval ("-": none)
	errs          string // failures by class and status, "" when none
	ready, run    int
	done, total   int
	elapsed, left time.Duration
	duration      time.Duration // the plan's
	spend         string
	regions       string // tasks per region (regionCounts), "" with one region
}

// Update draws pr; it is an orchestrator.Options.Progress callback.
func (v *progressView) Update(pr orchestrator.Progress) {
	if !v.started {
		v.started = true
		gens := 0
		var regions []string
		for _, r := range v.plan.Regions {
			gens += r.Generators
			regions = append(regions, fmt.Sprintf("%s ×%d", r.Name, r.Generators))
		}
		fmt.Fprintf(v.w, "run %s: plan %q, %s, %d generators (%s), target %s\n",
			pr.RunID, v.plan.Name, v.plan.Engine.Duration, gens, strings.Join(regions, ", "), v.plan.Engine.Target)
	}
	st := v.stats(pr)
	if !v.redraw {
		fmt.Fprintln(v.w, plainLine(st))
		return
	}
	lines := v.block(pr, st)
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn) // back to the block's first line
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K" + l + "\n")
	}
	v.drawn = len(lines)
	io.WriteString(v.w, b.String())
}

// stats computes an update's numbers. The achieved rate is measured
// between the data end times of two successive updates, so that it does
// not depend on when the orchestrator polls.
func (v *progressView) stats(pr orchestrator.Progress) progressStats {
	st := progressStats{p50: "-", p99: "-", elapsed: pr.Elapsed, left: max(0, pr.Duration-pr.Elapsed), duration: pr.Duration,
		ready: pr.Expected - pr.Leased, run: pr.Leased - pr.Finished, done: pr.Finished, total: pr.Expected}
	if v.Spend != nil {
		st.spend = v.Spend(pr)
	}
	if len(pr.Regions) > 1 {
		st.regions = regionCounts(pr.Regions)
	}
	s := pr.Snapshot
	if s == nil {
		return st
	}
	t := s.Total()
	st.reqs, st.fails = t.Requests, t.Failures
	from := v.lastEnd
	if from.IsZero() {
		from = s.Epoch
	}
	if dt := s.End.Sub(from); dt > 0 && st.reqs >= v.lastReqs && !from.IsZero() {
		v.rps = float64(st.reqs-v.lastReqs) / dt.Seconds()
		v.lastReqs, v.lastEnd = st.reqs, s.End
	}
	st.rps = v.rps
	if v.sched != nil && pr.Elapsed < v.sched.Duration() {
		st.offered = v.sched.Value(pr.Elapsed)
		if v.plan.Engine.Load.Model != engine.ModelClosed && s.Iterations.Started > 0 {
			st.offered *= float64(t.Requests) / float64(s.Iterations.Started)
		}
	}
	if iv := latestInterval(s); iv != nil && iv.Requests > 0 {
		q := iv.Response.Quantiles(50, 99)
		st.p50, st.p99 = fmtDur(q[0]), fmtDur(q[1])
	}
	st.errs = errorSummary(t)
	return st
}

// latestInterval is the snapshot's latest complete timeline interval (the
// latest one when none has ended yet).
func latestInterval(s *engine.Snapshot) *engine.Interval {
	n := len(s.Timeline)
	if n == 0 {
		return nil
	}
	if s.Interval > 0 && n > 1 {
		end := s.Epoch.Add(time.Duration(s.Timeline[n-1].Index+1) * s.Interval)
		if end.After(s.End) {
			return s.Timeline[n-2]
		}
	}
	return s.Timeline[n-1]
}

// errorSummary lists failures by class and error status code:
// "timeout 3, 503 2".
func errorSummary(t *engine.StepStats) string {
	var parts []string
	var classes []string
	for c, n := range t.Errors {
		if c != engine.ErrNone && n > 0 {
			classes = append(classes, fmt.Sprintf("%s %d", c, n))
		}
	}
	sort.Strings(classes)
	parts = append(parts, classes...)
	var codes []int
	for c, n := range t.Status {
		if c >= 400 && n > 0 {
			codes = append(codes, c)
		}
	}
	sort.Ints(codes)
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d %d", c, t.Status[c]))
	}
	return strings.Join(parts, ", ")
}

// plainLine is one update as a log line.
func plainLine(st progressStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%7s/%s  requests %d  rps %.1f  p99 %s  p50 %s", st.elapsed.Round(100*time.Millisecond),
		st.duration, st.reqs, st.rps, st.p99, st.p50)
	if st.offered > 0 {
		fmt.Fprintf(&b, "  offered %.1f", st.offered)
	}
	fmt.Fprintf(&b, "  errors %d (%.2f%%)", st.fails, failPct(st))
	if st.errs != "" {
		fmt.Fprintf(&b, " [%s]", st.errs)
	}
	fmt.Fprintf(&b, "  tasks %d ready, %d running, %d done of %d", st.ready, st.run, st.done, st.total)
	if st.regions != "" {
		fmt.Fprintf(&b, " [%s]", st.regions)
	}
	fmt.Fprintf(&b, "  left %s", st.left.Round(100*time.Millisecond))
	if st.spend != "" {
		fmt.Fprintf(&b, "  spend %s", st.spend)
	}
	return b.String()
}

// block is one update as the lines of the redrawn block.
func (v *progressView) block(pr orchestrator.Progress, st progressStats) []string {
	bold := func(s string) string { return v.paint("1", s) }
	errs := fmt.Sprintf("%d (%.2f%%)", st.fails, failPct(st))
	if st.fails > 0 {
		errs = v.paint("31", errs)
	}
	if st.errs != "" {
		errs += "  " + st.errs
	}
	offered := "-"
	if st.offered > 0 {
		offered = strconv.FormatFloat(st.offered, 'f', 1, 64)
		if v.plan.Engine.Load.Model == engine.ModelClosed {
			offered += " users"
		} else {
			offered += " req/s"
		}
	}
	fleet := fmt.Sprintf("tasks %d ready, %s running, %d finished of %d",
		st.ready, v.paint("32", strconv.Itoa(st.run)), st.done, st.total)
	if st.regions != "" {
		fleet += "  ·  " + st.regions
	}
	lines := []string{
		fmt.Sprintf("%s  %s of %s  (%s left)", bold("elapsed"), st.elapsed.Round(100*time.Millisecond),
			st.duration, st.left.Round(100*time.Millisecond)),
		fmt.Sprintf("%s  %s", bold("fleet  "), fleet),
		fmt.Sprintf("%s  %.1f req/s achieved  ·  %s offered  ·  %d requests", bold("rate   "), st.rps, offered, st.reqs),
		fmt.Sprintf("%s  p50 %s  ·  p99 %s  (last interval)", bold("latency"), st.p50, st.p99),
		fmt.Sprintf("%s  %s", bold("errors "), errs),
	}
	if st.spend != "" {
		lines = append(lines, fmt.Sprintf("%s  %s", bold("spend  "), st.spend))
	}
	return lines
}

// regionCounts is each region's tasks as "NAME ready/running/finished":
// "us-east-1 0/3/1, eu-west-1 1/2/1".
func regionCounts(rs []orchestrator.RegionProgress) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s %d/%d/%d", r.Name, r.Expected-r.Leased, r.Leased-r.Finished, r.Finished)
	}
	return strings.Join(parts, ", ")
}

// paint wraps s in an ANSI SGR code when colour is on.
func (v *progressView) paint(code, s string) string {
	if !v.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func failPct(st progressStats) float64 {
	if st.reqs == 0 {
		return 0
	}
	return 100 * float64(st.fails) / float64(st.reqs)
}

// fmtDur rounds d for display: 850µs, 4.2ms, 12ms.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}
