package report

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/engine"
)

// latency summarizes h (nil or empty: zeros).
func latency(h *engine.Histogram) Latency {
	return Latency{
		P50:  ms(h.Quantile(50)),
		P90:  ms(h.Quantile(90)),
		P95:  ms(h.Quantile(95)),
		P99:  ms(h.Quantile(99)),
		P999: ms(h.Quantile(99.9)),
		Max:  ms(h.Max()),
		Mean: ms(h.Mean()),
	}
}

// ms converts d to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

// rate is n per second of elapsed (0 when elapsed is 0).
func rate(n int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return round(float64(n)/elapsed.Seconds(), 3)
}

// ratio is a/b (0 when b is 0).
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a)/float64(b), 6)
}

// round rounds x to digits decimals.
func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

func counts(m map[int]int64) map[int]int64 {
	out := make(map[int]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func classes(m map[engine.ErrorClass]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if k != engine.ErrNone && v != 0 {
			out[string(k)] = v
		}
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return orEmpty(out)
}

// orEmpty makes a nil slice empty, so that the JSON holds [] and not null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// stripUserinfo removes credentials from a URL ("https://u:p@host" →
// "https://host"); anything that does not parse is returned as is.
func stripUserinfo(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// statusKeys returns m's codes sorted.
func statusKeys(m map[int]int64) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// classKeys returns m's keys sorted.
func classKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// itoa formats n.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
