package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// Finding kinds.
const (
	FindingColdStart   = "cold_start"
	FindingSaturation  = "saturation"
	FindingThrottling  = "throttling"   // 429 responses
	FindingServerError = "server_error" // 5xx responses
	FindingTimeouts    = "timeouts"
	FindingSlowest     = "slowest_endpoints"
	FindingWorstRegion = "worst_region"
	FindingGenerators  = "generator_bottleneck" // late or dropped arrivals
)

// Finding thresholds.
const (
	// ColdStartFactor: an interval's p99 this many times the median
	// interval p99 is a cold-start signature.
	ColdStartFactor = 3.0
	// SaturationEfficiency: achieved below this fraction of the offered
	// request rate while the offered rate still rises is saturation.
	SaturationEfficiency = 0.85
	// LatencyKneeFactor: an interval p99 this many times the baseline (the
	// median p99 of the first quarter) while load rises is a latency knee.
	LatencyKneeFactor = 4.0
	// OnsetShare: a class of failures begins in the first interval where
	// it is at least this share of the interval's requests.
	OnsetShare = 0.01
	// minIntervals is how many intervals with requests an analysis of the
	// timeline needs.
	minIntervals = 4
)

// Finding is one automatic observation about a run, with the numbers
// behind it (Values: milliseconds, requests per second, seconds of test
// time or ratios, as each key's suffix says).
type Finding struct {
	Kind    string             `json:"kind"`
	Title   string             `json:"title"`
	Detail  string             `json:"detail"`
	Values  map[string]float64 `json:"values"`
	Warning bool               `json:"warning"`
}

// Analyze derives the findings of r from its timeline, Detail, endpoints,
// regions and iterations. It needs r.Detail aligned with r.Timeline; with
// no Detail it finds only what the totals show.
func Analyze(r *Report) []Finding {
	out := []Finding{}
	var ivs []IntervalDetail
	if r.Detail != nil && len(r.Detail.Intervals) == len(r.Timeline) {
		ivs = r.Detail.Intervals
	}
	if ivs != nil {
		out = append(out, coldStart(r.Timeline, ivs)...)
		if f, ok := saturation(r.Timeline, ivs, r.Detail.LoadModel); ok {
			out = append(out, f)
		}
		out = append(out, failureOnsets(r, ivs)...)
	}
	if f, ok := slowest(r.Endpoints); ok {
		out = append(out, f)
	}
	if f, ok := worstRegion(r.Regions); ok {
		out = append(out, f)
	}
	if f, ok := generatorBottleneck(r.Iterations); ok {
		out = append(out, f)
	}
	if f, ok := lateJoiners(r.Fleet); ok {
		out = append(out, f)
	}
	return out
}

// active returns the indexes of intervals with requests, leaving out a
// trailing partial interval (fewer than half the previous one's requests).
func active(tl []Point) []int {
	var idx []int
	for i, p := range tl {
		if p.Requests > 0 {
			idx = append(idx, i)
		}
	}
	if k := len(idx); k >= 2 && tl[idx[k-1]].Requests*2 < tl[idx[k-2]].Requests {
		idx = idx[:k-1]
	}
	return idx
}

// median returns the median of xs (0 when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// coldStart flags the first interval, and the first interval after each
// step up of the offered load, whose p99 is ColdStartFactor times the
// median interval p99.
func coldStart(tl []Point, ivs []IntervalDetail) []Finding {
	idx := active(tl)
	if len(idx) < minIntervals {
		return nil
	}
	p99s := make([]float64, len(idx))
	for k, i := range idx {
		p99s[k] = tl[i].P99
	}
	med := median(p99s)
	if med <= 0 {
		return nil
	}
	var out []Finding
	for k, i := range idx {
		step := k > 0 && ivs[i].Offered > 1.5*ivs[idx[k-1]].Offered && ivs[idx[k-1]].Offered > 0
		if (k != 0 && !step) || tl[i].P99 < ColdStartFactor*med {
			continue
		}
		when := "in the first interval"
		if k > 0 {
			when = fmt.Sprintf("right after the load stepped up at %ss", num(tl[i].TS))
		}
		out = append(out, Finding{
			Kind: FindingColdStart, Warning: true,
			Title: "Cold-start signature",
			Detail: fmt.Sprintf("p99 was %s %s, %.1fx the median interval p99 of %s: new instances or connections warming up.",
				fmtMs(tl[i].P99), when, tl[i].P99/med, fmtMs(med)),
			Values: map[string]float64{"t_s": tl[i].TS, "p99_ms": tl[i].P99, "median_p99_ms": med, "factor": round(tl[i].P99/med, 2)},
		})
	}
	return out
}

// saturation finds the knee: the first of two consecutive intervals where
// the achieved rate falls below SaturationEfficiency of the offered request
// rate, or p99 exceeds LatencyKneeFactor times the baseline, while the
// offered load is still rising.
func saturation(tl []Point, ivs []IntervalDetail, model string) (Finding, bool) {
	idx := active(tl)
	if len(idx) < minIntervals {
		return Finding{}, false
	}
	base := make([]float64, 0, len(idx)/4+1)
	for _, i := range idx[:max(1, len(idx)/4)] {
		base = append(base, tl[i].P99)
	}
	baseP99 := median(base)
	maxOffered := make([]float64, len(idx)) // highest offered load from k on
	for k := len(idx) - 1; k >= 0; k-- {
		maxOffered[k] = ivs[idx[k]].Offered
		if k+1 < len(idx) {
			maxOffered[k] = max(maxOffered[k], maxOffered[k+1])
		}
	}
	// over reports whether interval i is past the knee: throughput below
	// the offered rate, or latency far above the baseline.
	over := func(i int) (flat, slow bool) {
		flat = model == "open" && ivs[i].Offered > 0 && tl[i].RPS < SaturationEfficiency*ivs[i].Offered
		slow = baseP99 > 0 && tl[i].P99 > LatencyKneeFactor*baseP99
		return flat, slow
	}
	for k, i := range idx {
		if k == 0 || k+1 >= len(idx) {
			continue
		}
		rising := ivs[i].Offered > ivs[idx[0]].Offered && maxOffered[k] > ivs[i].Offered*1.05 ||
			ivs[i].Offered > ivs[idx[k-1]].Offered
		if !rising {
			continue
		}
		flat, slow := over(i)
		// One bad interval is noise: the next one must be past the knee too.
		nflat, nslow := over(idx[k+1])
		if !flat && !slow || !nflat && !nslow {
			continue
		}
		peak := 0.0
		for _, j := range idx[k:] {
			peak = max(peak, tl[j].RPS)
		}
		what := "achieved throughput flattened"
		if !flat {
			what = "latency rose sharply"
		}
		load := fmt.Sprintf("%s req/s offered", fmtRate(ivs[i].Offered))
		if model == "closed" {
			load = fmt.Sprintf("%s users", fmtRate(ivs[i].Offered))
		}
		return Finding{
			Kind: FindingSaturation, Warning: true,
			Title: "Saturation",
			Detail: fmt.Sprintf("At %ss (%s, %s req/s achieved) %s while the load still rose to %s: p99 %s against a baseline of %s; throughput peaked at %s req/s after the knee.",
				num(tl[i].TS), load, fmtRate(tl[i].RPS), what, fmtRate(maxOffered[k]), fmtMs(tl[i].P99), fmtMs(baseP99), fmtRate(peak)),
			Values: map[string]float64{"t_s": tl[i].TS, "knee_rps": tl[i].RPS, "offered": ivs[i].Offered,
				"max_offered": maxOffered[k], "p99_ms": tl[i].P99, "baseline_p99_ms": baseP99, "peak_rps_after": peak},
		}, true
	}
	return Finding{}, false
}

// failureOnsets reports when 429s, 5xx responses and timeouts began, at
// what rate, and which endpoints had them (from the endpoints' totals: the
// timeline is not split by endpoint).
func failureOnsets(r *Report, ivs []IntervalDetail) []Finding {
	kinds := []struct {
		kind, title string
		count       func(IntervalDetail) int64
		endpoint    func(Endpoint) int64
	}{
		{FindingThrottling, "Throttling (429)", func(iv IntervalDetail) int64 { return iv.Status[429] },
			func(e Endpoint) int64 { return e.Status[429] }},
		{FindingServerError, "Server errors (5xx)", func(iv IntervalDetail) int64 { return sum5xx(iv.Status) },
			func(e Endpoint) int64 { return sum5xx(e.Status) }},
		{FindingTimeouts, "Timeouts", func(iv IntervalDetail) int64 { return iv.Errors["timeout"] },
			func(e Endpoint) int64 { return e.ErrorsByClass["timeout"] }},
	}
	var out []Finding
	for _, k := range kinds {
		var total, after, reqsAfter int64
		onset := -1
		for i, iv := range ivs {
			c := k.count(iv)
			total += c
			if onset < 0 && c > 0 && float64(c) >= OnsetShare*float64(r.Timeline[i].Requests) {
				onset = i
			}
			if onset >= 0 {
				after += c
				reqsAfter += r.Timeline[i].Requests
			}
		}
		if onset < 0 {
			continue
		}
		p := r.Timeline[onset]
		var eps []string
		for _, e := range r.Endpoints {
			if n := k.endpoint(e); n > 0 {
				eps = append(eps, fmt.Sprintf("%s %d (%s)", e.Name, n, pct(ratio(n, e.Requests))))
			}
		}
		detail := fmt.Sprintf("Began at %ss, when the achieved rate was %s req/s", num(p.TS), fmtRate(p.RPS))
		if ivs[onset].Offered > 0 && r.Detail.LoadModel == "open" {
			detail += fmt.Sprintf(" (%s req/s offered)", fmtRate(ivs[onset].Offered))
		}
		detail += fmt.Sprintf("; %d in all, %s of the requests from then on.", total, pct(ratio(after, reqsAfter)))
		if len(eps) > 0 {
			detail += " By endpoint: " + joinComma(eps) + "."
		}
		out = append(out, Finding{
			Kind: k.kind, Warning: true, Title: k.title, Detail: detail,
			Values: map[string]float64{"t_s": p.TS, "rps_at_onset": p.RPS, "offered_at_onset": ivs[onset].Offered,
				"count": float64(total), "share_after": ratio(after, reqsAfter)},
		})
	}
	return out
}

func sum5xx(m map[int]int64) int64 {
	var n int64
	for code, c := range m {
		if code >= 500 && code <= 599 {
			n += c
		}
	}
	return n
}

// slowest names up to three endpoints by p99 when there are several.
func slowest(eps []Endpoint) (Finding, bool) {
	var withReqs []Endpoint
	for _, e := range eps {
		if e.Requests > 0 {
			withReqs = append(withReqs, e)
		}
	}
	if len(withReqs) < 2 {
		return Finding{}, false
	}
	slices.SortStableFunc(withReqs, func(a, b Endpoint) int { return cmp.Compare(b.Latency.P99, a.Latency.P99) })
	withReqs = withReqs[:min(3, len(withReqs))]
	vals := map[string]float64{}
	var parts []string
	for i, e := range withReqs {
		parts = append(parts, fmt.Sprintf("%s (p99 %s, p50 %s)", e.Name, fmtMs(e.Latency.P99), fmtMs(e.Latency.P50)))
		vals["p99_ms_"+strconv.Itoa(i+1)] = e.Latency.P99
	}
	return Finding{Kind: FindingSlowest, Title: "Slowest endpoints", Detail: joinComma(parts) + ".", Values: vals}, true
}

// worstRegion names the region with the highest p99 when there are several
// and it is at least 1.5 times the best one's.
func worstRegion(rs []Region) (Finding, bool) {
	var best, worst *Region
	for i := range rs {
		r := &rs[i]
		if r.Requests == 0 {
			continue
		}
		if best == nil || r.Latency.P99 < best.Latency.P99 {
			best = r
		}
		if worst == nil || r.Latency.P99 > worst.Latency.P99 {
			worst = r
		}
	}
	if best == nil || best == worst || best.Latency.P99 <= 0 || worst.Latency.P99 < 1.5*best.Latency.P99 {
		return Finding{}, false
	}
	return Finding{
		Kind: FindingWorstRegion, Warning: true, Title: "Worst region",
		Detail: fmt.Sprintf("%s: p99 %s, %.1fx %s's %s (error rate %s against %s).", worst.Name, fmtMs(worst.Latency.P99),
			worst.Latency.P99/best.Latency.P99, best.Name, fmtMs(best.Latency.P99),
			pct(ratio(worst.Errors, worst.Requests)), pct(ratio(best.Errors, best.Requests))),
		Values: map[string]float64{"p99_ms": worst.Latency.P99, "best_p99_ms": best.Latency.P99},
	}, true
}

// BottleneckLatenessMs is how late (p99, in ms) arrivals must start before
// lateness says the generators limited the load: below it, a few ms late is
// scheduling jitter on a busy machine, already corrected for in the
// response times.
const BottleneckLatenessMs = 10

// generatorBottleneck reports dropped arrivals, or late ones above 1% of
// the iterations started with a p99 lateness of at least
// BottleneckLatenessMs: the generators, not the target, limited the load.
func generatorBottleneck(it Iterations) (Finding, bool) {
	share := ratio(it.Late, it.Started+it.Dropped)
	if it.Dropped == 0 && (share < 0.01 || it.Lateness.P99 < BottleneckLatenessMs) {
		return Finding{}, false
	}
	return Finding{
		Kind: FindingGenerators, Warning: true, Title: "Generators were the bottleneck",
		Detail: fmt.Sprintf("%d arrivals started late (%s of those due; p99 %s late, max %s) and %d were dropped: the generators could not keep up with the arrival rate, so the offered load was not fully applied. Add generators or lower the per-generator rate.",
			it.Late, pct(share), fmtMs(it.Lateness.P99), fmtMs(it.Lateness.Max), it.Dropped),
		Values: map[string]float64{"late": float64(it.Late), "dropped": float64(it.Dropped), "late_share": share,
			"lateness_p99_ms": it.Lateness.P99},
	}, true
}

// num formats x with no trailing zeros.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
