package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

// WriteHTML writes r as a self-contained HTML page (report.html): inline
// CSS, the summary tables and SVG line charts of latency and throughput
// over the timeline. It loads nothing from elsewhere.
func WriteHTML(w io.Writer, r *Report) error {
	tmpl, err := template.New("report").Funcs(template.FuncMap{
		"ms":    fmtMs,
		"pct":   pct,
		"rate":  fmtRate,
		"ratio": ratio,
		"codes": statusKeys,
		"classes": func(m map[string]int64) string {
			var parts []string
			for _, k := range classKeys(m) {
				parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
			}
			return strings.Join(parts, ", ")
		},
		"actual": fmtActual,
	}).Parse(htmlSource)
	if err != nil {
		return fmt.Errorf("parse html template: %w", err)
	}
	data := struct {
		*Report
		LatencyChart    chart
		ThroughputChart chart
	}{
		Report:          r,
		LatencyChart:    newChart("Response time (ms)", r.Timeline, []series{{Name: "p50", Class: "s1", value: func(p Point) float64 { return p.P50 }}, {Name: "p99", Class: "s2", value: func(p Point) float64 { return p.P99 }}}),
		ThroughputChart: newChart("Throughput (requests/s)", r.Timeline, []series{{Name: "rps", Class: "s3", value: func(p Point) float64 { return p.RPS }}, {Name: "errors/s", Class: "s4", value: func(p Point) float64 { return errorRate(p) }}}),
	}
	if err := tmpl.Execute(w, data); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// errorRate is p's failed requests per second.
func errorRate(p Point) float64 {
	if p.Requests == 0 || p.RPS == 0 {
		return 0
	}
	return p.RPS * float64(p.Errors) / float64(p.Requests)
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH                       = 760.0, 220.0
	padLeft, padRight, padTop, padBottom = 56.0, 12.0, 12.0, 28.0
)

// chart is an SVG line chart of timeline series.
type chart struct {
	Title  string
	W, H   float64
	Left   float64
	Bottom float64
	Right  float64
	Top    float64
	Series []series
	XTicks []tick
	YTicks []tick
	Empty  bool
}

// series is one line: its points as an SVG "x,y x,y" list.
type series struct {
	Name   string
	Class  string
	Points string
	value  func(Point) float64
}

// tick is an axis label at a position.
type tick struct {
	Pos   float64
	Label string
}

// newChart lays out ss over the timeline tl.
func newChart(title string, tl []Point, ss []series) chart {
	c := chart{Title: title, W: chartW, H: chartH, Left: padLeft, Right: chartW - padRight, Top: padTop, Bottom: chartH - padBottom}
	if len(tl) == 0 {
		c.Empty = true
		return c
	}
	ymax := 0.0
	for _, s := range ss {
		for _, p := range tl {
			ymax = max(ymax, s.value(p))
		}
	}
	ymax = niceCeil(ymax)
	tmax := tl[len(tl)-1].TS
	if len(tl) > 1 {
		tmax += tl[1].TS - tl[0].TS
	}
	if tmax <= 0 {
		tmax = 1
	}
	x := func(t float64) float64 { return c.Left + (c.Right-c.Left)*t/tmax }
	y := func(v float64) float64 { return c.Bottom - (c.Bottom-c.Top)*v/ymax }
	for _, s := range ss {
		var b strings.Builder
		for i, p := range tl {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.TS), y(s.value(p)))
		}
		s.Points = b.String()
		c.Series = append(c.Series, s)
	}
	for i := range 5 {
		v := ymax * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: strconv.FormatFloat(v, 'g', 4, 64)})
		t := tmax * float64(i) / 4
		c.XTicks = append(c.XTicks, tick{Pos: x(t), Label: strconv.FormatFloat(math.Round(t*10)/10, 'f', -1, 64) + "s"})
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
