package cost

import (
	"fmt"
	"math"
	"time"
)

// OverBudget reports whether the estimate exceeds budgetUSD (0: no budget).
func (c *Cost) OverBudget(budgetUSD float64) bool {
	return budgetUSD > 0 && c.Estimate != nil && c.Estimate.TotalUSD > budgetUSD
}

// Advice says what to change so that the estimate fits budgetUSD: the
// biggest item, and the generators, duration or memory that would fit
// (each scaled alone, as compute and traffic scale about linearly with
// them), or the budget to ask for.
func (c *Cost) Advice(budgetUSD float64) []string {
	est := c.Estimate
	if est == nil || est.TotalUSD <= 0 {
		return nil
	}
	top := est.Lines[0]
	for _, l := range est.Lines {
		if l.USD > top.USD {
			top = l
		}
	}
	out := []string{fmt.Sprintf("%s is %.0f%% of the estimate (%s)", top.Item, 100*top.USD/est.TotalUSD, USD(top.USD))}
	ratio := budgetUSD / est.TotalUSD
	gens := map[int]bool{}
	var dur time.Duration
	for i := range c.tasks {
		gens[c.tasks[i].Generator] = true
		dur = max(dur, c.tasks[i].Config.Window.End)
	}
	compute := est.Line(ItemCompute).USD + est.Line(ItemInvoke).USD
	if n := len(gens); n > 1 && top.Item == ItemCompute {
		if fit := int(math.Floor(float64(n) * ratio)); fit >= 1 {
			out = append(out, fmt.Sprintf("use fewer generators: about %d of %d fit (each runs a bigger share of the load)", fit, n))
		}
	}
	if dur > 0 {
		fit := time.Duration(float64(dur) * ratio).Truncate(time.Second)
		if fit >= time.Second {
			out = append(out, fmt.Sprintf("shorten the test: about %s of %s fits", fit, dur))
		}
	}
	if c.MemoryMB > 128 && compute > 0 {
		// compute scales with memory; the rest does not
		rest := est.TotalUSD - est.Line(ItemCompute).USD
		if room := budgetUSD - rest; room > 0 {
			mem := int(float64(c.MemoryMB) * room / est.Line(ItemCompute).USD)
			if mem >= 128 && mem < c.MemoryMB {
				out = append(out, fmt.Sprintf("lower memory_mb from %d to %d (less CPU per generator)", c.MemoryMB, mem))
			}
		}
	}
	if c.Arch == ArchX86 {
		out = append(out, "deploy the generators on arm64 (20% cheaper per GB-second)")
	}
	out = append(out, fmt.Sprintf("or raise the budget (budget.max_usd or --max-cost) to at least %s", USD(math.Ceil(est.TotalUSD*1e6)/1e6)))
	return out
}
