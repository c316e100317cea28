package report

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
)

// Export file names, written next to report.json.
const (
	HlogFile        = "latency.hlog"
	TimelineCSVFile = "timeline.csv"
	JUnitFile       = "junit.xml"
)

// HlogTotalTag is the tag of the whole run's histogram in the .hlog; the
// per-interval lines carry no tag (the default stream of the tools).
const HlogTotalTag = "total"

// hlogMaxRatio divides a histogram's maximum (microseconds) to give the
// Interval_Max column in milliseconds.
const hlogMaxRatio = 1000.0

// WriteHlog writes res's response times as an HdrHistogram interval log
// (format 1.3, values in microseconds, coordinated omission corrected):
// one untagged line per timeline interval (all endpoints: the timeline is
// not split by endpoint), then one whole-run line tagged HlogTotalTag and
// one per endpoint, tagged with its name (spaces and commas made "_").
// Names and the run id are taken from rep, res's report, so that they are
// redacted as everywhere else.
func WriteHlog(w io.Writer, res *orchestrator.Result, rep *Report) error {
	snap := res.Total
	if snap == nil {
		snap = engine.NewSnapshot(res.Started, 0)
	}
	base := res.Started
	if base.IsZero() {
		base = snap.Epoch
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#[Histogram log format version 1.3]\n")
	fmt.Fprintf(&b, "#[stampede run %s: response time in microseconds from the intended send; untagged lines are intervals of all endpoints, tagged lines whole-run totals]\n", hlogSafe(rep.RunID))
	secs := float64(base.UnixMilli()) / 1000
	fmt.Fprintf(&b, "#[StartTime: %.3f (seconds since epoch), %s]\n", secs, base.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "#[BaseTime: %.3f (seconds since epoch)]\n", secs)
	b.WriteString(`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"` + "\n")
	offset := snap.Epoch.Sub(base).Seconds() // 0 unless the epoch differs from the start
	for _, iv := range snap.Timeline {
		start := offset + float64(iv.Index)*snap.Interval.Seconds()
		if err := hlogLine(&b, "", start, snap.Interval.Seconds(), iv.Response); err != nil {
			return err
		}
	}
	whole := Elapsed(res).Seconds()
	if err := hlogLine(&b, HlogTotalTag, 0, whole, snap.Total().Response); err != nil {
		return err
	}
	names := map[string]string{} // step name → reported (redacted) name
	i := 0
	for _, name := range snap.StepNames() {
		if snap.Steps[name] != nil && i < len(rep.Endpoints) {
			names[name] = rep.Endpoints[i].Name
			i++
		}
	}
	for _, name := range snap.StepNames() {
		if st := snap.Steps[name]; st != nil {
			if err := hlogLine(&b, HlogTag(names[name]), 0, whole, st.Response); err != nil {
				return err
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	return nil
}

// hlogLine appends one interval line.
func hlogLine(b *strings.Builder, tag string, start, length float64, h *engine.Histogram) error {
	enc, err := h.Encode()
	if err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	if tag != "" {
		b.WriteString("Tag=" + tag + ",")
	}
	maxUs := float64(h.Max()) / float64(time.Microsecond)
	fmt.Fprintf(b, "%.3f,%.3f,%.3f,%s\n", start, length, maxUs/hlogMaxRatio, enc)
	return nil
}

// HlogTag turns an endpoint name into an .hlog tag: no commas, spaces or
// line breaks.
func HlogTag(name string) string { return hlogSafe(name) }

func hlogSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ',', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, s)
}

// WriteTimelineCSV writes r's timeline, one row per interval, with the
// Detail's percentiles and counts (status and error classes as
// "code:count" lists separated by spaces).
func WriteTimelineCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"t_s", "requests", "errors", "rps", "offered",
		"p50_ms", "p95_ms", "p99_ms", "service_p50_ms", "service_p95_ms", "service_p99_ms", "status", "errors_by_class"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for i, p := range r.Timeline {
		var id IntervalDetail
		if r.Detail != nil && i < len(r.Detail.Intervals) {
			id = r.Detail.Intervals[i]
		}
		var status, errs []string
		for _, c := range statusKeys(id.Status) {
			status = append(status, fmt.Sprintf("%d:%d", c, id.Status[c]))
		}
		for _, c := range classKeys(id.Errors) {
			errs = append(errs, fmt.Sprintf("%s:%d", c, id.Errors[c]))
		}
		_ = cw.Write([]string{f(p.TS), itoa(p.Requests), itoa(p.Errors), f(p.RPS), f(id.Offered),
			f(p.P50), f(id.P95), f(p.P99), f(id.ServiceP50), f(id.ServiceP95), f(id.ServiceP99),
			strings.Join(status, " "), strings.Join(errs, " ")})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write timeline csv: %w", err)
	}
	return nil
}

// junitSuites is the JUnit XML document: one suite, one test case per
// threshold, plus one for the shards' completeness.
type junitSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Suite    junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes r's thresholds as JUnit XML for CI systems: a test
// case per threshold (failed when it did not hold) and one named
// "shards complete" (failed when a shard is missing or corrupt).
func WriteJUnit(w io.Writer, r *Report) error {
	suite := junitSuite{Name: "stampede " + r.Plan, Time: r.DurationS}
	class := "stampede." + hlogSafe(r.Plan)
	for _, th := range r.Thresholds {
		c := junitCase{Name: th.Expr, ClassName: class}
		if !th.OK {
			msg := "actual " + fmtActual(th)
			if th.Note != "" {
				msg += " (" + th.Note + ")"
			}
			c.Failure = &junitFailure{Message: msg, Text: th.Expr + ": " + msg}
		}
		suite.Cases = append(suite.Cases, c)
	}
	shards := junitCase{Name: "shards complete", ClassName: class}
	if !r.Shards.Complete() {
		msg := fmt.Sprintf("%d of %d shards completed", r.Shards.Completed, r.Shards.Expected)
		shards.Failure = &junitFailure{Message: msg, Text: msg + "; missing: " + strings.Join(r.Shards.Missing, ", ") +
			"; corrupt: " + strings.Join(r.Shards.Corrupt, ", ")}
	}
	suite.Cases = append(suite.Cases, shards)
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
	}
	doc := junitSuites{Tests: suite.Tests, Failures: suite.Failures, Suite: suite}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	if _, err := io.WriteString(w, xml.Header+string(out)+"\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}
