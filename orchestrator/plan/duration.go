package plan

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a duration written the Go way ("500ms", "1m30s",
// "1.5s", "2h"); "0" is zero. A bare number is refused: its unit would be
// a guess. On failure msg says why and hint how to fix it.
func parseDuration(s string) (d time.Duration, msg, hint string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "want a duration such as 500ms or 2m, got an empty string", ""
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil && t != "0" {
		return 0, "duration " + strconv.Quote(clip(s)) + " has no unit", "write " + t + "s or " + t + "ms"
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, strconv.Quote(clip(s)) + " is not a duration", "use a number with a unit: ms, s, m or h, e.g. 500ms, 1m30s"
	}
	return d, "", ""
}

// formatDuration writes d so that parseDuration reads it back exactly,
// without the trailing zero units of time.Duration.String ("2m", not
// "2m0s").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// rateUnits maps a rate's unit to its length.
var rateUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second,
	"m": time.Minute, "min": time.Minute,
	"h": time.Hour,
}

// parseRate reads "50", "50/s", "3000/m" or "10/h" as iterations per
// second. On failure msg says why and hint how to fix it.
func parseRate(s string) (perSec float64, msg, hint string) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	per := time.Second
	if hasUnit {
		u, ok := rateUnits[strings.TrimSpace(unit)]
		if !ok {
			return 0, strconv.Quote(clip(s)) + " has an unknown rate unit", "write N/s, N/m or N/h"
		}
		per = u
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, strconv.Quote(clip(s)) + " is not a rate", "write a number of iterations per second (50), or 50/s, 3000/m, 10/h"
	}
	if v < 0 {
		return 0, "a rate must not be negative", ""
	}
	return v * float64(time.Second) / float64(per), "", ""
}

// formatNumber writes f so that strconv.ParseFloat reads it back exactly.
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
