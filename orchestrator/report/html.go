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

// WriteHTML writes r as one self-contained HTML page (report.html): inline
// CSS, a few lines of inline script to sort the endpoint table, and charts
// drawn here as inline SVG. It references nothing outside itself.
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
		"cost":   cost,
		"num":    func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) },
	}).Parse(htmlSource)
	if err != nil {
		return fmt.Errorf("parse html template: %w", err)
	}
	data := struct {
		*Report
		Charts charts
	}{Report: r, Charts: buildCharts(r)}
	if err := tmpl.Execute(w, data); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// charts are the page's SVG charts; a zero field is a chart the data
// cannot draw (the template says why).
type charts struct {
	Latency, Throughput, Errors, Regions, Distribution, Workflows, Fleet template.HTML
	// OfferedNote explains the offered line (or its absence).
	OfferedNote string
}

// buildCharts draws every chart of r.
func buildCharts(r *Report) charts {
	var c charts
	xs := make([]float64, len(r.Timeline))
	for i, p := range r.Timeline {
		xs[i] = p.TS
	}
	d := r.Detail
	if d != nil && len(d.Intervals) != len(r.Timeline) {
		d = nil
	}
	c.Latency = latencyChart(r, xs, d)
	c.Throughput, c.OfferedNote = throughputChart(r, xs, d)
	c.Fleet = fleetChart(r, xs)
	if d != nil {
		c.Errors = errorsChart(r, xs, d)
		c.Distribution = distributionChart(d)
	}
	if len(r.Regions) > 0 {
		var groups []bar
		for _, g := range r.Regions {
			groups = append(groups, bar{Label: g.Name, Values: []float64{g.Latency.P50, g.Latency.P99}})
		}
		c.Regions = barChart("Latency by region", []string{"p50", "p99"}, groups, fmtMs)
	}
	if len(r.Workflows) > 0 {
		var groups []bar
		for _, wf := range r.Workflows {
			groups = append(groups, bar{Label: wf.Name, Values: []float64{wf.Time.P50, wf.Time.P95, wf.Time.P99}})
		}
		c.Workflows = barChart("Workflow times", []string{"p50", "p95", "p99"}, groups, fmtMs)
	}
	return c
}

// col returns f of each interval, NaN where the interval has no requests
// (so that a line skips it rather than dropping to zero).
func col(r *Report, d *Detail, f func(Point, IntervalDetail) float64) []float64 {
	out := make([]float64, len(r.Timeline))
	for i, p := range r.Timeline {
		var id IntervalDetail
		if d != nil {
			id = d.Intervals[i]
		}
		out[i] = math.NaN()
		if p.Requests > 0 {
			out[i] = f(p, id)
		}
	}
	return out
}

func latencyChart(r *Report, xs []float64, d *Detail) template.HTML {
	lines := []line{
		{Name: "p50", Color: color(0), Values: col(r, d, func(p Point, _ IntervalDetail) float64 { return p.P50 })},
		{Name: "p99", Color: color(2), Values: col(r, d, func(p Point, _ IntervalDetail) float64 { return p.P99 })},
	}
	if d != nil {
		lines = []line{
			lines[0],
			{Name: "p95", Color: color(1), Values: col(r, d, func(_ Point, id IntervalDetail) float64 { return id.P95 })},
			lines[1],
			{Name: "service p50", Color: color(0), Dashed: true, Values: col(r, d, func(_ Point, id IntervalDetail) float64 { return id.ServiceP50 })},
			{Name: "service p95", Color: color(1), Dashed: true, Values: col(r, d, func(_ Point, id IntervalDetail) float64 { return id.ServiceP95 })},
			{Name: "service p99", Color: color(2), Dashed: true, Values: col(r, d, func(_ Point, id IntervalDetail) float64 { return id.ServiceP99 })},
		}
	}
	return lineChart("Latency over time (ms)", "", xs, lines, nil, "s")
}

func throughputChart(r *Report, xs []float64, d *Detail) (template.HTML, string) {
	achieved := make([]float64, len(r.Timeline))
	errs := make([]float64, len(r.Timeline))
	for i, p := range r.Timeline {
		achieved[i], errs[i] = p.RPS, errorRate(p)
		if p.Requests == 0 && d != nil && d.Intervals[i].Offered == 0 {
			// Past the plan's end (the grace): no point rather than a drop to 0.
			achieved[i], errs[i] = math.NaN(), math.NaN()
		}
	}
	lines := []line{{Name: "achieved req/s", Color: color(3), Values: achieved}, {Name: "failed req/s", Color: color(2), Values: errs}}
	note := "The offered load is not known for this run (no plan)."
	if d != nil && d.LoadModel == "open" && d.RequestsPerIteration > 0 {
		off := make([]float64, len(d.Intervals))
		some := false
		for i, id := range d.Intervals {
			off[i] = id.Offered
			some = some || id.Offered > 0
		}
		if some {
			lines = append(lines, line{Name: "offered req/s", Color: color(6), Dashed: true, Values: off})
		}
		note = fmt.Sprintf("Offered = the plan's arrival rate × %s requests per iteration (measured over the run).", strconv.FormatFloat(d.RequestsPerIteration, 'f', -1, 64))
	} else if d != nil && d.LoadModel == "closed" {
		note = "Closed model: the plan offers users, not a rate, so there is no offered-rate line."
	}
	return lineChart("Throughput (requests/s)", "", xs, lines, nil, "s"), note
}

// errorsChart draws failures per second by status code (400 and above)
// and by error class.
func errorsChart(r *Report, xs []float64, d *Detail) template.HTML {
	codes := map[int]bool{}
	cls := map[string]bool{}
	for _, id := range d.Intervals {
		for c := range id.Status {
			if c >= 400 {
				codes[c] = true
			}
		}
		for c := range id.Errors {
			cls[c] = true
		}
	}
	secs := 1.0
	if len(xs) > 1 {
		secs = xs[1] - xs[0]
	}
	var lines []line
	for _, code := range statusKeys(boolKeys(codes)) {
		v := make([]float64, len(d.Intervals))
		for i, id := range d.Intervals {
			v[i] = float64(id.Status[code]) / secs
		}
		lines = append(lines, line{Name: "HTTP " + strconv.Itoa(code), Color: color(len(lines)), Values: v})
	}
	for _, c := range classKeys(boolKeys(cls)) {
		v := make([]float64, len(d.Intervals))
		for i, id := range d.Intervals {
			v[i] = float64(id.Errors[c]) / secs
		}
		lines = append(lines, line{Name: c, Color: color(len(lines)), Dashed: true, Values: v})
	}
	if len(lines) == 0 {
		return ""
	}
	return lineChart("Errors over time (per second)", "", xs, lines, nil, "s")
}

// boolKeys turns a set into the count map the key sorters take.
func boolKeys[K comparable](m map[K]bool) map[K]int64 {
	out := make(map[K]int64, len(m))
	for k := range m {
		out[k] = 1
	}
	return out
}

// distributionChart is the HdrHistogram percentile plot: x is the number
// of nines, log10(1/(1-p)), so 90%, 99% and 99.9% are evenly spaced.
func distributionChart(d *Detail) template.HTML {
	nines := func(p float64) float64 { return math.Log10(1 / (1 - p/100)) }
	var xs []float64
	var resp, svc []float64
	for i, pt := range d.Distribution {
		if pt.Percentile >= 100 {
			break
		}
		xs = append(xs, nines(pt.Percentile))
		resp = append(resp, pt.Ms)
		svc = append(svc, math.NaN())
		if i < len(d.ServiceDistribution) && d.ServiceDistribution[i].Percentile == pt.Percentile {
			svc[len(svc)-1] = d.ServiceDistribution[i].Ms
		}
	}
	if len(xs) < 2 {
		return ""
	}
	var ticks []axisTick
	for k, label := range []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"} {
		if float64(k) <= xs[len(xs)-1] {
			ticks = append(ticks, axisTick{At: float64(k), Label: label})
		}
	}
	return lineChart("Latency by percentile (ms)", "", xs, []line{
		{Name: "response time", Color: color(0), Values: resp},
		{Name: "service time", Color: color(1), Dashed: true, Values: svc},
	}, ticks, "")
}

// errorRate is p's failed requests per second.
func errorRate(p Point) float64 {
	if p.Requests == 0 || p.RPS == 0 {
		return 0
	}
	return p.RPS * float64(p.Errors) / float64(p.Requests)
}

// cost formats the report's cost for the summary: the actual cost, else
// the estimate ("" when the report has neither).
func cost(r *Report) string {
	switch c := r.Cost; {
	case c == nil:
		return ""
	case c.ActualUSD > 0:
		return fmt.Sprintf("$%.4f", c.ActualUSD)
	case c.EstimatedUSD > 0:
		return fmt.Sprintf("$%.4f (estimate)", c.EstimatedUSD)
	}
	return ""
}
