package report

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Comparison metrics.
const (
	CompareP50       = "p50"
	CompareP95       = "p95"
	CompareP99       = "p99"
	CompareErrorRate = "error_rate"
	CompareRPS       = "rps"
)

// MinErrorRateRise is the smallest rise of an error rate (a ratio: 0.001 =
// 0.1 percentage point) that counts as a regression, so that 0 → 1 error
// in a million is not flagged.
const MinErrorRateRise = 0.001

// Comparison is run B against run A, endpoint by endpoint and in total.
type Comparison struct {
	A, B string // run ids
	// Tolerance is the relative change allowed (0.1 = 10%).
	Tolerance float64
	Rows      []CompareRow
	// Regressions counts metrics beyond the tolerance, over all rows.
	Regressions int
}

// CompareRow is one endpoint ("TOTAL" for the whole run). OnlyIn names the
// run that has it when the other does not ("A" or "B"; no metrics then).
type CompareRow struct {
	Endpoint string
	OnlyIn   string
	Metrics  []CompareMetric
}

// CompareMetric is one metric of both runs: latencies in milliseconds,
// error rate a ratio, rps per second. Change is (B-A)/A (NaN when A is 0).
type CompareMetric struct {
	Name      string
	A, B      float64
	Change    float64
	Regressed bool
}

// Compare compares b against a: a latency or error rate above A by more
// than tolerance (relative), or an rps below A by more than tolerance, is
// a regression.
func Compare(a, b *Report, tolerance float64) Comparison {
	c := Comparison{A: a.RunID, B: b.RunID, Tolerance: tolerance}
	bByName := map[string]Endpoint{}
	for _, e := range b.Endpoints {
		bByName[e.Name] = e
	}
	seen := map[string]bool{}
	for _, ea := range a.Endpoints {
		seen[ea.Name] = true
		eb, ok := bByName[ea.Name]
		if !ok {
			c.Rows = append(c.Rows, CompareRow{Endpoint: ea.Name, OnlyIn: "A"})
			continue
		}
		c.add(ea.Name, ea.Latency, eb.Latency, ratio(ea.Errors, ea.Requests), ratio(eb.Errors, eb.Requests), ea.RPS, eb.RPS)
	}
	for _, eb := range b.Endpoints {
		if !seen[eb.Name] {
			c.Rows = append(c.Rows, CompareRow{Endpoint: eb.Name, OnlyIn: "B"})
		}
	}
	c.add("TOTAL", a.Latency, b.Latency, a.ErrorRate, b.ErrorRate, a.RPS, b.RPS)
	return c
}

// add appends a row of both runs' metrics.
func (c *Comparison) add(name string, la, lb Latency, erA, erB, rpsA, rpsB float64) {
	row := CompareRow{Endpoint: name}
	higherWorse := func(metric string, a, b, minRise float64) {
		m := CompareMetric{Name: metric, A: a, B: b, Change: change(a, b)}
		m.Regressed = b-a > minRise && b > a*(1+c.Tolerance)
		row.Metrics = append(row.Metrics, m)
	}
	higherWorse(CompareP50, la.P50, lb.P50, 0)
	higherWorse(CompareP95, la.P95, lb.P95, 0)
	higherWorse(CompareP99, la.P99, lb.P99, 0)
	higherWorse(CompareErrorRate, erA, erB, MinErrorRateRise)
	row.Metrics = append(row.Metrics, CompareMetric{Name: CompareRPS, A: rpsA, B: rpsB, Change: change(rpsA, rpsB),
		Regressed: rpsB < rpsA*(1-c.Tolerance)})
	for _, m := range row.Metrics {
		if m.Regressed {
			c.Regressions++
		}
	}
	c.Rows = append(c.Rows, row)
}

// change is (b-a)/a, NaN when a is 0.
func change(a, b float64) float64 {
	if a == 0 {
		return math.NaN()
	}
	return round((b-a)/a, 4)
}

// WriteComparison writes c as a table: per endpoint, each metric as
// "A → B (+x%)", with "!" after a regression, and a verdict line.
func WriteComparison(w io.Writer, c Comparison) error {
	var b strings.Builder
	fmt.Fprintf(&b, "compare A %s  →  B %s (tolerance %s)\n\n", c.A, c.B, pct(c.Tolerance))
	rows := [][]string{{"ENDPOINT", "P50", "P95", "P99", "ERRORS", "RPS"}}
	for _, r := range c.Rows {
		if r.OnlyIn != "" {
			rows = append(rows, []string{r.Endpoint, "only in run " + r.OnlyIn, "", "", "", ""})
			continue
		}
		row := []string{r.Endpoint}
		for _, m := range r.Metrics {
			var cell string
			switch m.Name {
			case CompareErrorRate:
				cell = pct(m.A) + " → " + pct(m.B)
			case CompareRPS:
				cell = fmtRate(m.A) + " → " + fmtRate(m.B)
			default:
				cell = fmtMs(m.A) + " → " + fmtMs(m.B)
			}
			if !math.IsNaN(m.Change) {
				cell += fmt.Sprintf(" (%+.1f%%)", m.Change*100)
			}
			if m.Regressed {
				cell += " !"
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	tw := &textWriter{w: &b}
	tw.leftFirst(rows)
	tw.table(rows)
	if tw.err != nil {
		return fmt.Errorf("write comparison: %w", tw.err)
	}
	if c.Regressions > 0 {
		fmt.Fprintf(&b, "\n%d regression(s) beyond %s (marked !)\n", c.Regressions, pct(c.Tolerance))
	} else {
		fmt.Fprintf(&b, "\nno regression beyond %s\n", pct(c.Tolerance))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}
