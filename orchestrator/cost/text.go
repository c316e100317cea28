package cost

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes c for a terminal: the estimate (and the actual cost when
// set) itemized per region and in total, the cost per million requests,
// the budget and the assumptions.
func (c *Cost) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cost on AWS Lambda (%s, %d MB), prices of %s", c.Arch, c.MemoryMB, c.PricesDate)
	if c.Backend != "" && c.Backend != "aws" {
		fmt.Fprintf(&b, " (what this %s run would cost on AWS)", c.Backend)
	}
	b.WriteString("\n\n")
	writeBreakdown(&b, "estimate", c.Estimate)
	if c.Actual != nil {
		writeBreakdown(&b, "actual", c.Actual)
	}
	fmt.Fprintf(&b, "estimated %s", USD(c.EstimatedUSD))
	if c.Estimate != nil {
		fmt.Fprintf(&b, " (%s per million requests)", USD(c.Estimate.PerMillionRequestsUSD))
	}
	if c.Actual != nil {
		fmt.Fprintf(&b, ", actual %s (%s per million requests)", USD(c.ActualUSD), USD(c.Actual.PerMillionRequestsUSD))
	}
	if c.BudgetUSD > 0 {
		fmt.Fprintf(&b, ", budget %s", USD(c.BudgetUSD))
	}
	b.WriteString("\n\nassumptions:\n")
	for _, a := range c.Assumptions {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write cost: %w", err)
	}
	return nil
}

// writeBreakdown writes one table: an item per row, a column per region
// (when there are several) and the total.
func writeBreakdown(w io.Writer, title string, bd *Breakdown) {
	if bd == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{strings.ToUpper(title), "QUANTITY", "UNIT"}
	multi := len(bd.Regions) > 1
	if multi {
		for _, r := range bd.Regions {
			head = append(head, r.Region)
		}
	}
	head = append(head, "USD")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, l := range bd.Lines {
		row := []string{l.Item, quantity(l.Quantity), l.Unit}
		if multi {
			for _, r := range bd.Regions {
				row = append(row, USD(r.Lines[i].USD))
			}
		}
		row = append(row, USD(l.USD))
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	total := []string{"total", "", ""}
	if multi {
		for _, r := range bd.Regions {
			total = append(total, USD(r.TotalUSD))
		}
	}
	total = append(total, USD(bd.TotalUSD))
	fmt.Fprintln(tw, strings.Join(total, "\t")+"\t")
	tw.Flush()
	u := bd.Usage
	fmt.Fprintf(w, "  %d invocations, %.1f generator-seconds, %d HTTP requests, %d bytes sent; SQS %d/%d/%d send/receive/delete, S3 %d put, %d list, %d get",
		u.Invocations, u.GeneratorSeconds, u.Requests, u.BytesOut, u.SQSSends, u.SQSReceives, u.SQSDeletes, u.S3Puts, u.S3Lists, u.S3Gets)
	if u.InvokeAttempts > 0 {
		fmt.Fprintf(w, "; Lambda Invoke %d accepted of %d attempts (%d throttled, not billed)", u.InvokesAccepted, u.InvokeAttempts, u.InvokeThrottled)
	}
	fmt.Fprint(w, "\n\n")
}

// USD formats dollars with enough digits for small runs: $4.00,
// $0.0123, $0.000045.
func USD(x float64) string {
	switch {
	case x == 0:
		return "$0"
	case x >= 1:
		return fmt.Sprintf("$%.2f", x)
	case x >= 0.01:
		return fmt.Sprintf("$%.4f", x)
	}
	return fmt.Sprintf("$%.6f", x)
}

func quantity(q float64) string {
	switch {
	case q == 0:
		return "0"
	case q == float64(int64(q)):
		return fmt.Sprintf("%d", int64(q))
	case q >= 100:
		return fmt.Sprintf("%.1f", q)
	}
	return fmt.Sprintf("%.6g", q)
}
