package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH                       = 760.0, 240.0
	padLeft, padRight, padTop, padBottom = 60.0, 14.0, 14.0, 30.0
)

// color returns the i-th series colour of a fixed palette.
func color(i int) string {
	palette := [...]string{"#2f6fdf", "#e0762b", "#c0392b", "#1f8a4c", "#8e44ad", "#16a085", "#7f8c8d", "#d4ac0d"}
	return palette[i%len(palette)]
}

// line is one series of a line chart: a value per x (NaN: no point).
type line struct {
	Name   string
	Color  string
	Dashed bool
	Values []float64
}

// axisTick is an axis label at a value.
type axisTick struct {
	At    float64
	Label string
}

// lineChart draws lines over xs as an inline SVG with a legend. xTicks
// label the x axis (nil: five evenly spaced values with unit xUnit); the
// y axis runs from 0 to a round number above the highest value.
func lineChart(title, yUnit string, xs []float64, lines []line, xTicks []axisTick, xUnit string) template.HTML {
	if len(xs) == 0 || len(lines) == 0 {
		return template.HTML(`<p class="note">` + html.EscapeString(title) + `: no data</p>`)
	}
	xmin, xmax := xs[0], xs[len(xs)-1]
	if xmax <= xmin {
		xmax = xmin + 1
	}
	ymax := 0.0
	for _, l := range lines {
		for _, v := range l.Values {
			if !math.IsNaN(v) {
				ymax = max(ymax, v)
			}
		}
	}
	ymax = niceCeil(ymax)
	left, right, top, bottom := padLeft, chartW-padRight, padTop, chartH-padBottom
	x := func(v float64) float64 { return left + (right-left)*(v-xmin)/(xmax-xmin) }
	y := func(v float64) float64 { return bottom - (bottom-top)*v/ymax }
	var b strings.Builder
	legend(&b, lines)
	fmt.Fprintf(&b, `<svg viewBox="0 0 %g %g" role="img" aria-label="%s">`, chartW, chartH, html.EscapeString(title))
	for i := range 5 {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text x="%g" y="%.1f" dx="-4" dy="4" text-anchor="end">%s</text>`,
			left, right, y(v), y(v), left, y(v), strconv.FormatFloat(v, 'g', 4, 64)+yUnit)
	}
	if xTicks == nil {
		step := niceStep((xmax - xmin) / 5)
		for v := math.Ceil(xmin/step) * step; v <= xmax+step/1e6; v += step {
			xTicks = append(xTicks, axisTick{At: v, Label: strconv.FormatFloat(v, 'g', 6, 64) + xUnit})
		}
	}
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%g" y2="%g"/><text x="%.1f" y="%g" dy="16" text-anchor="middle">%s</text>`,
			x(t.At), x(t.At), top, bottom, x(t.At), bottom, html.EscapeString(t.Label))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%g" x2="%g" y1="%g" y2="%g"/><line class="axis" x1="%g" x2="%g" y1="%g" y2="%g"/>`,
		left, right, bottom, bottom, left, left, top, bottom)
	for _, l := range lines {
		var pts []string
		for i, v := range l.Values {
			if i < len(xs) && !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(xs[i]), y(v)))
			}
		}
		dash := ""
		if l.Dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<polyline stroke="%s"%s points="%s"><title>%s</title></polyline>`, l.Color, dash, strings.Join(pts, " "), html.EscapeString(l.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// legend writes the colour key of lines.
func legend(b *strings.Builder, lines []line) {
	b.WriteString(`<p class="legend">`)
	for _, l := range lines {
		style := "background:" + l.Color
		if l.Dashed {
			style = "border-top:3px dashed " + l.Color + ";height:0"
		}
		fmt.Fprintf(b, `<span><i style="%s"></i>%s</span>`, style, html.EscapeString(l.Name))
	}
	b.WriteString(`</p>`)
}

// bar is one group of a bar chart: a label and a value per series.
type bar struct {
	Label  string
	Values []float64
}

// barChart draws groups of horizontal bars, one bar per series name,
// with the value printed after each bar.
func barChart(title string, names []string, groups []bar, format func(float64) string) template.HTML {
	if len(groups) == 0 {
		return template.HTML(`<p class="note">` + html.EscapeString(title) + `: no data</p>`)
	}
	const barH, gap, labelW, valueW = 14.0, 10.0, 170.0, 70.0
	vmax := 0.0
	for _, g := range groups {
		for _, v := range g.Values {
			vmax = max(vmax, v)
		}
	}
	if vmax <= 0 {
		vmax = 1
	}
	h := float64(len(groups))*(float64(len(names))*barH+gap) + gap
	var b strings.Builder
	ls := make([]line, len(names))
	for i, n := range names {
		ls[i] = line{Name: n, Color: color(i)}
	}
	legend(&b, ls)
	fmt.Fprintf(&b, `<svg viewBox="0 0 %g %g" role="img" aria-label="%s">`, chartW, h, html.EscapeString(title))
	yy := gap
	for _, g := range groups {
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, labelW-8, yy+float64(len(names))*barH/2+4, html.EscapeString(g.Label))
		for i, v := range g.Values {
			w := (chartW - labelW - valueW) * v / vmax
			fmt.Fprintf(&b, `<rect x="%g" y="%.1f" width="%.1f" height="%g" fill="%s"/><text x="%.1f" y="%.1f" dx="4">%s</text>`,
				labelW, yy, w, barH-2, color(i), labelW+w, yy+barH-4, html.EscapeString(format(v)))
			yy += barH
		}
		yy += gap
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
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

// niceStep rounds v to 1, 2 or 5 times a power of ten (at least 1e-3).
func niceStep(v float64) float64 {
	if v <= 1e-3 {
		return 1e-3
	}
	p := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{1, 2, 5} {
		if v <= m*p*1.5 {
			return m * p
		}
	}
	return 10 * p
}
