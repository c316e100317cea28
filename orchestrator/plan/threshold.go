package plan

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Threshold operators.
const (
	OpLess         = "<"
	OpLessEqual    = "<="
	OpGreater      = ">"
	OpGreaterEqual = ">="
)

// metrics lists the threshold metrics in the order the docs give them.
var metrics = []string{
	MetricP50, MetricP90, MetricP95, MetricP99, MetricP999, MetricMax, MetricMean,
	MetricErrorRate, MetricRPS, MetricRequests,
}

// isLatency reports whether metric is measured in milliseconds.
func isLatency(metric string) bool {
	switch metric {
	case MetricP50, MetricP90, MetricP95, MetricP99, MetricP999, MetricMax, MetricMean:
		return true
	}
	return false
}

// latencyUnits converts a latency unit to milliseconds.
var latencyUnits = map[string]float64{"us": 0.001, "µs": 0.001, "ms": 1, "s": 1000, "m": 60000}

// ParseThreshold parses one threshold expression:
//
//	[STEP ": "] METRIC OP VALUE
//
// METRIC is p50, p90, p95, p99, p99.9, max, mean (VALUE with a unit: us,
// ms, s or m), error_rate (VALUE in percent: "1%"), rps (per second,
// optionally "/s") or requests (a count). OP is <, <=, > or >=. STEP, when
// given, names a step; the text before the last ": " is taken as its name.
// ParseThreshold does not check that the step exists (Parse does).
func ParseThreshold(expr string) (Threshold, error) {
	t, msg, hint := parseThreshold(expr)
	if msg != "" {
		if hint != "" {
			msg += " (hint: " + hint + ")"
		}
		return Threshold{}, errors.New(msg)
	}
	return t, nil
}

func parseThreshold(expr string) (t Threshold, msg, hint string) {
	t.Expr = expr
	rest := strings.TrimSpace(expr)
	if i := strings.LastIndex(rest, ": "); i >= 0 {
		t.Step = strings.TrimSpace(rest[:i])
		rest = strings.TrimSpace(rest[i+2:])
		if t.Step == "" {
			return t, "empty step name before \":\"", "write \"STEP NAME: p95 < 300ms\" or leave the step out"
		}
	}
	grammar := "write METRIC OP VALUE, e.g. \"p99 < 500ms\", \"error_rate < 1%\" or \"rps > 100\""
	opAt := strings.IndexAny(rest, "<>=!")
	if opAt < 0 {
		return t, strconv.Quote(clip(expr)) + " has no comparison", grammar
	}
	t.Metric = strings.TrimSpace(rest[:opAt])
	op := rest[opAt:]
	switch {
	case strings.HasPrefix(op, "<="), strings.HasPrefix(op, ">="):
		t.Op, op = op[:2], op[2:]
	case strings.HasPrefix(op, "<"), strings.HasPrefix(op, ">"):
		t.Op, op = op[:1], op[1:]
	default:
		return t, "unknown comparison in " + strconv.Quote(clip(expr)), "use <, <=, > or >="
	}
	if !contains(metrics, t.Metric) {
		h := suggest(t.Metric, metrics)
		if h == "" {
			h = "metrics are " + strings.Join(metrics, ", ")
		}
		if t.Metric == "" {
			return t, "missing metric in " + strconv.Quote(clip(expr)), grammar
		}
		return t, "unknown metric " + strconv.Quote(clip(t.Metric)), h
	}
	v, msg, hint := thresholdValue(t.Metric, strings.TrimSpace(op))
	if msg != "" {
		return t, msg, hint
	}
	t.Value = v
	return t, "", ""
}

// thresholdValue reads VALUE in metric's unit.
func thresholdValue(metric, s string) (float64, string, string) {
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzµ%/")
	unit := strings.TrimSpace(s[len(num):])
	num = strings.TrimSpace(num)
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || num == "" {
		return 0, "missing or bad value " + strconv.Quote(clip(s)), "write a number such as 500ms, 1% or 100"
	}
	if v < 0 {
		return 0, "the value must not be negative", ""
	}
	switch {
	case isLatency(metric):
		f, ok := latencyUnits[unit]
		if !ok {
			return 0, metric + " needs a time unit, got " + strconv.Quote(clip(s)), "write " + num + "ms or " + num + "s"
		}
		return v * f, "", ""
	case metric == MetricErrorRate:
		if unit != "%" {
			return 0, "error_rate needs a percentage, got " + strconv.Quote(clip(s)), "write " + num + "%"
		}
		if v > 100 {
			return 0, "error_rate cannot exceed 100%", ""
		}
		return v / 100, "", ""
	case metric == MetricRPS:
		if unit != "" && unit != "/s" {
			return 0, "rps is per second, got " + strconv.Quote(clip(s)), "write a number, e.g. rps > 100"
		}
		return v, "", ""
	default: // requests
		if unit != "" || v != math.Trunc(v) {
			return 0, "requests is a whole count, got " + strconv.Quote(clip(s)), "write e.g. requests > 1000"
		}
		return v, "", ""
	}
}

// formatThreshold writes t in the grammar ParseThreshold reads (used when
// a Threshold was built without Expr).
func formatThreshold(t Threshold) string {
	var v string
	switch {
	case isLatency(t.Metric):
		v = formatNumber(t.Value) + "ms"
	case t.Metric == MetricErrorRate:
		v = formatNumber(t.Value*100) + "%"
	default:
		v = formatNumber(t.Value)
	}
	s := t.Metric + " " + t.Op + " " + v
	if t.Step != "" {
		s = t.Step + ": " + s
	}
	return s
}
