package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	runcost "github.com/stampede-load/stampede/orchestrator/cost"
)

// TextOptions tune WriteText.
type TextOptions struct {
	// ASCII uses only ASCII characters (no ✓, ✗ or ·), for terminals
	// without UTF-8.
	ASCII bool
}

// WriteText writes the terminal summary of r to w: a header, a table per
// endpoint, status codes, errors by class, workflows, iterations, regions,
// shards, thresholds and a final PASSED or FAILED line.
func WriteText(w io.Writer, r *Report, opts TextOptions) error {
	var buf strings.Builder
	tw := &textWriter{w: &buf, opts: opts}
	tw.header(r)
	tw.endpoints(r)
	tw.statuses(r)
	tw.workflows(r)
	tw.iterations(r)
	tw.regions(r)
	tw.shards(r)
	tw.fleet(r)
	tw.findings(r)
	tw.thresholds(r)
	tw.costSection(r)
	tw.verdict(r)
	if tw.err != nil {
		return fmt.Errorf("write text report: %w", tw.err)
	}
	out := buf.String()
	if opts.ASCII {
		out = strings.ReplaceAll(out, "µs", "us")
	}
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

// textWriter remembers the first write error so that sections stay short.
type textWriter struct {
	w    io.Writer
	opts TextOptions
	err  error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// table writes rows as aligned columns, indented by two spaces.
func (t *textWriter) table(rows [][]string) {
	if t.err != nil || len(rows) == 0 {
		return
	}
	tab := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range rows {
		// The padding before each right-aligned cell gives the indent;
		// callers pad the first column to read left-aligned.
		fmt.Fprint(tab, strings.Join(row, "\t")+"\t\n")
	}
	t.err = tab.Flush()
}

func (t *textWriter) dot() string {
	if t.opts.ASCII {
		return "-"
	}
	return "·"
}

func (t *textWriter) header(r *Report) {
	d := t.dot()
	t.printf("stampede run %s %s plan %q", r.RunID, d, r.Plan)
	if r.Target != "" {
		t.printf(" %s target %s", d, r.Target)
	}
	t.printf("\nstarted %s %s duration %.1fs %s %d generators", orDash(r.Started), d, r.DurationS, d, r.Generators)
	if r.Dispatch != nil {
		t.printf(" %s dispatch %s", d, r.Dispatch)
	}
	t.printf("\n")
	t.printf("%d requests %s %s req/s %s %d failed (%s)\n\n",
		r.Requests, d, fmtRate(r.RPS), d, r.Errors, pct(r.ErrorRate))
}

// latencyCols are the latency columns of the endpoint and region tables.
func latencyCols(l Latency) []string {
	return []string{fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P95), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max)}
}

func (t *textWriter) endpoints(r *Report) {
	if len(r.Endpoints) == 0 {
		t.printf("no requests completed\n\n")
		return
	}
	width := len("ENDPOINT") // the header, longer than "TOTAL"
	for _, e := range r.Endpoints {
		width = max(width, len([]rune(e.Name)))
	}
	name := func(s string) string { return s + strings.Repeat(" ", width-len([]rune(s))) }
	rows := [][]string{append([]string{name("ENDPOINT"), "REQS", "RPS", "FAIL%"}, "P50", "P90", "P95", "P99", "P99.9", "MAX")}
	for _, e := range r.Endpoints {
		rows = append(rows, append([]string{name(e.Name), itoa(e.Requests), fmtRate(e.RPS), pct(ratio(e.Errors, e.Requests))}, latencyCols(e.Latency)...))
	}
	if len(r.Endpoints) > 1 {
		rows = append(rows, append([]string{name("TOTAL"), itoa(r.Requests), fmtRate(r.RPS), pct(r.ErrorRate)}, latencyCols(r.Latency)...))
	}
	t.table(rows)
	t.printf("  latency: response time from the intended send (coordinated omission corrected);\n")
	t.printf("  service time (from the actual send) p50 %s, p99 %s, max %s\n\n",
		fmtMs(r.Service.P50), fmtMs(r.Service.P99), fmtMs(r.Service.Max))
}

func (t *textWriter) statuses(r *Report) {
	if len(r.Status) > 0 {
		t.printf("status codes   ")
		for _, code := range statusKeys(r.Status) {
			t.printf(" %d: %d", code, r.Status[code])
		}
		t.printf("\n")
	}
	if len(r.ErrorsByClass) > 0 {
		t.printf("errors         ")
		for _, c := range classKeys(r.ErrorsByClass) {
			t.printf(" %s: %d", c, r.ErrorsByClass[c])
		}
		t.printf("\n")
		for _, e := range r.Endpoints {
			if len(e.ErrorsByClass) == 0 {
				continue
			}
			t.printf("  %s:", e.Name)
			for _, c := range classKeys(e.ErrorsByClass) {
				t.printf(" %s %d", c, e.ErrorsByClass[c])
			}
			t.printf("\n")
		}
	}
	if len(r.Status) > 0 || len(r.ErrorsByClass) > 0 {
		t.printf("\n")
	}
}

func (t *textWriter) workflows(r *Report) {
	if len(r.Workflows) == 0 {
		return
	}
	t.printf("workflows (end-to-end iteration time)\n")
	rows := [][]string{{"NAME", "COMPLETED", "FAILED", "P50", "P95", "P99", "MAX"}}
	for _, w := range r.Workflows {
		rows = append(rows, []string{w.Name, itoa(w.Completed), itoa(w.Failed),
			fmtMs(w.Time.P50), fmtMs(w.Time.P95), fmtMs(w.Time.P99), fmtMs(w.Time.Max)})
	}
	t.leftFirst(rows)
	t.table(rows)
	t.printf("\n")
}

func (t *textWriter) iterations(r *Report) {
	it := r.Iterations
	d := t.dot()
	t.printf("iterations      %d started %s %d completed %s %d failed %s %d late",
		it.Started, d, it.Completed, d, it.Failed, d, it.Late)
	if it.Late > 0 {
		t.printf(" (p99 %s, max %s)", fmtMs(it.Lateness.P99), fmtMs(it.Lateness.Max))
	}
	t.printf(" %s %d dropped\n", d, it.Dropped)
	if it.Dropped > 0 {
		t.printf("  dropped iterations never ran: the generators could not keep up with the arrival rate\n")
	}
	t.printf("\n")
}

func (t *textWriter) regions(r *Report) {
	if len(r.Regions) == 0 {
		return
	}
	t.printf("regions\n")
	rows := [][]string{{"NAME", "GENERATORS", "REQS", "RPS", "FAIL%", "P50", "P99", "MAX"}}
	for _, g := range r.Regions {
		rows = append(rows, []string{g.Name, strconv.Itoa(g.Generators), itoa(g.Requests), fmtRate(g.RPS),
			pct(ratio(g.Errors, g.Requests)), fmtMs(g.Latency.P50), fmtMs(g.Latency.P99), fmtMs(g.Latency.Max)})
	}
	t.leftFirst(rows)
	t.table(rows)
	t.printf("\n")
}

// leftFirst pads the first column so that it reads left-aligned in a
// right-aligned table.
func (t *textWriter) leftFirst(rows [][]string) {
	width := 0
	for _, row := range rows {
		width = max(width, len([]rune(row[0])))
	}
	for _, row := range rows {
		row[0] += strings.Repeat(" ", width-len([]rune(row[0])))
	}
}

func (t *textWriter) shards(r *Report) {
	s := r.Shards
	t.printf("shards          %d/%d completed", s.Completed, s.Expected)
	if len(s.Missing) > 0 {
		t.printf(", %d missing", len(s.Missing))
	}
	if len(s.Corrupt) > 0 {
		t.printf(", %d corrupt", len(s.Corrupt))
	}
	if len(s.Claimed) > 0 {
		t.printf(", %d claimed after the stop (never ran)", len(s.Claimed))
	}
	t.printf("\n")
	for _, l := range []struct {
		name string
		ids  []string
	}{{"missing", s.Missing}, {"corrupt", s.Corrupt}, {"claimed", s.Claimed}} {
		if len(l.ids) > 0 {
			t.printf("  %s: %s\n", l.name, strings.Join(l.ids, ", "))
		}
	}
	t.printf("\n")
}

func (t *textWriter) findings(r *Report) {
	if len(r.Findings) == 0 {
		return
	}
	t.printf("findings\n")
	for _, f := range r.Findings {
		mark := t.dot()
		if f.Warning {
			mark = "!"
		}
		t.printf("  %s %s: %s\n", mark, f.Title, f.Detail)
	}
	t.printf("\n")
}

func (t *textWriter) thresholds(r *Report) {
	if len(r.Thresholds) == 0 {
		return
	}
	ok, fail := "✓", "✗"
	if t.opts.ASCII {
		ok, fail = "ok  ", "FAIL"
	}
	t.printf("thresholds\n")
	width := 0
	for _, th := range r.Thresholds {
		width = max(width, len([]rune(th.Expr)))
	}
	for _, th := range r.Thresholds {
		mark := ok
		if !th.OK {
			mark = fail
		}
		pad := strings.Repeat(" ", width-len([]rune(th.Expr)))
		t.printf("  %s %s%s  actual %s", mark, th.Expr, pad, fmtActual(th))
		if th.Note != "" {
			t.printf(" (%s)", th.Note)
		}
		t.printf("\n")
	}
	t.printf("\n")
}

// costSection prints the estimated and actual cost when the report has them.
func (t *textWriter) costSection(r *Report) {
	c := r.Cost
	if c == nil {
		return
	}
	d := t.dot()
	t.printf("cost            as AWS Lambda %s, %d MB %s prices of %s\n", c.Arch, c.MemoryMB, d, c.PricesDate)
	t.printf("  estimated %s", runcost.USD(c.EstimatedUSD))
	if c.Actual != nil {
		t.printf(" %s actual %s (%s per million requests)", d, runcost.USD(c.ActualUSD), runcost.USD(c.Actual.PerMillionRequestsUSD))
	}
	if c.BudgetUSD > 0 {
		t.printf(" %s budget %s", d, runcost.USD(c.BudgetUSD))
	}
	t.printf("\n")
	if b := c.Actual; b != nil {
		compute := b.Line(runcost.ItemCompute)
		lambda := compute.USD + b.Line(runcost.ItemInvoke).USD
		out := b.Line(runcost.ItemTransfer).USD
		t.printf("  lambda %s (%.1f GB-s, %d invocations) %s data out %s %s SQS, S3, logs %s\n",
			runcost.USD(lambda), compute.Quantity, b.Usage.Invocations, d, runcost.USD(out), d, runcost.USD(b.TotalUSD-lambda-out))
	}
	t.printf("\n")
}

func (t *textWriter) verdict(r *Report) {
	if r.Stopped != "" {
		t.printf("stopped early: %s\n", r.Stopped)
	}
	if r.Passed {
		t.printf("PASSED\n")
		return
	}
	var why []string
	if !r.ThresholdsOK() {
		why = append(why, "thresholds failed")
	}
	if !r.Shards.Complete() {
		why = append(why, "incomplete results")
	}
	t.printf("FAILED (%s)\n", strings.Join(why, ", "))
}

// fmtActual formats a threshold's measured value in its unit.
func fmtActual(th ThresholdResult) string {
	switch th.Unit {
	case UnitRatio:
		return pct(th.Actual)
	case UnitPerSec:
		return fmtRate(th.Actual) + "/s"
	case UnitRequests:
		return strconv.FormatFloat(th.Actual, 'f', -1, 64)
	}
	return fmtMs(th.Actual)
}

// fmtMs formats milliseconds with three significant digits or so:
// 850µs, 4.25ms, 12.3ms, 250ms, 1.25s, 75.0s.
func fmtMs(ms float64) string {
	switch {
	case ms == 0:
		return "0"
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0fms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.2fs", ms/1000)
	}
	return fmt.Sprintf("%.1fs", ms/1000)
}

// fmtRate formats a per-second rate.
func fmtRate(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
