package plan

import (
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr string
		want Threshold
		err  string
	}{
		{expr: "p99 < 500ms", want: Threshold{Metric: MetricP99, Op: "<", Value: 500}},
		{expr: "p99<2s", want: Threshold{Metric: MetricP99, Op: "<", Value: 2000}},
		{expr: "p99.9 <= 1.5s", want: Threshold{Metric: MetricP999, Op: "<=", Value: 1500}},
		{expr: "mean < 250us", want: Threshold{Metric: MetricMean, Op: "<", Value: 0.25}},
		{expr: "max < 1m", want: Threshold{Metric: MetricMax, Op: "<", Value: 60000}},
		{expr: "error_rate < 1%", want: Threshold{Metric: MetricErrorRate, Op: "<", Value: 0.01}},
		{expr: "error_rate <= 0.5 %", want: Threshold{Metric: MetricErrorRate, Op: "<=", Value: 0.005}},
		{expr: "rps > 100", want: Threshold{Metric: MetricRPS, Op: ">", Value: 100}},
		{expr: "rps >= 100/s", want: Threshold{Metric: MetricRPS, Op: ">=", Value: 100}},
		{expr: "requests > 1000", want: Threshold{Metric: MetricRequests, Op: ">", Value: 1000}},
		{expr: "GET /products/:id: p95 < 300ms", want: Threshold{Step: "GET /products/:id", Metric: MetricP95, Op: "<", Value: 300}},
		{expr: "a: b: p50 < 1s", want: Threshold{Step: "a: b", Metric: MetricP50, Op: "<", Value: 1000}},
		{expr: "p99 = 1s", err: `unknown comparison in "p99 = 1s" (hint: use <, <=, > or >=)`},
		{expr: "p99 500ms", err: `"p99 500ms" has no comparison (hint: write METRIC OP VALUE, e.g. "p99 < 500ms", "error_rate < 1%" or "rps > 100")`},
		{expr: "p100 < 1s", err: `unknown metric "p100" (hint: did you mean "p50"?)`},
		{expr: "latency < 1s", err: `unknown metric "latency" (hint: metrics are p50, p90, p95, p99, p99.9, max, mean, error_rate, rps, requests)`},
		{expr: "p95 < 300", err: `p95 needs a time unit, got "300" (hint: write 300ms or 300s)`},
		{expr: "error_rate < 0.01", err: `error_rate needs a percentage, got "0.01" (hint: write 0.01%)`},
		{expr: "error_rate < 150%", err: `error_rate cannot exceed 100%`},
		{expr: "requests > 1.5", err: `requests is a whole count, got "1.5" (hint: write e.g. requests > 1000)`},
		{expr: "p99 < -1s", err: `the value must not be negative`},
		{expr: "p99 < ms", err: `missing or bad value "ms" (hint: write a number such as 500ms, 1% or 100)`},
		{expr: ": p99 < 1s", err: `empty step name before ":" (hint: write "STEP NAME: p95 < 300ms" or leave the step out)`},
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.expr)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseThreshold(%q) error = %v, want %q", tt.expr, err, tt.err)
			}
			continue
		}
		tt.want.Expr = tt.expr
		if err != nil || got != tt.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v; want %+v", tt.expr, got, err, tt.want)
		}
		// The canonical form reads back to the same threshold.
		back, err := ParseThreshold(formatThreshold(got))
		back.Expr = got.Expr
		if err != nil || back != got {
			t.Errorf("formatThreshold(%+v) = %q reads back as %+v, %v", got, formatThreshold(got), back, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		msg  string
	}{
		{"500ms", 500 * time.Millisecond, ""},
		{"1m30s", 90 * time.Second, ""},
		{" 2h ", 2 * time.Hour, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"0", 0, ""},
		{"-1s", -time.Second, ""},
		{"90", 0, `duration "90" has no unit`},
		{"ten seconds", 0, `"ten seconds" is not a duration`},
		{"", 0, "want a duration such as 500ms or 2m, got an empty string"},
	}
	for _, tt := range tests {
		got, msg, _ := parseDuration(tt.in)
		if got != tt.want || msg != tt.msg {
			t.Errorf("parseDuration(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                  "0s",
		2 * time.Minute:                    "2m",
		time.Hour:                          "1h",
		90 * time.Minute:                   "1h30m",
		time.Hour + time.Second:            "1h0m1s",
		1500 * time.Millisecond:            "1.5s",
		10 * time.Minute:                   "10m",
		250 * time.Microsecond:             "250µs",
		time.Duration(1<<63 - 1):           "2562047h47m16.854775807s",
		-time.Minute:                       "-1m",
		time.Minute + 500*time.Millisecond: "1m0.5s",
		14*time.Minute + 59*time.Second:    "14m59s",
	}
	for d, want := range tests {
		got := formatDuration(d)
		if got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, msg, _ := parseDuration(got); back != d || msg != "" {
			t.Errorf("parseDuration(%q) = %v, %q; want %v", got, back, msg, d)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		msg  string
	}{
		{"50", 50, ""},
		{"50/s", 50, ""},
		{"3000/m", 50, ""},
		{"3000/min", 50, ""},
		{"36000 / h", 10, ""},
		{"0.5", 0.5, ""},
		{"50/d", 0, `"50/d" has an unknown rate unit`},
		{"fast", 0, `"fast" is not a rate`},
		{"-5", 0, "a rate must not be negative"},
		{"NaN", 0, `"NaN" is not a rate`},
	}
	for _, tt := range tests {
		got, msg, _ := parseRate(tt.in)
		if got != tt.want || !strings.HasPrefix(msg, tt.msg) || (tt.msg == "") != (msg == "") {
			t.Errorf("parseRate(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
}
