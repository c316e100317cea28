package report

import (
	"bytes"
	"strings"
	"testing"
)

func cmpReport(id string, p99, errRate, rps float64) *Report {
	l := Latency{P50: 10, P95: 40, P99: p99}
	return &Report{RunID: id, Latency: l, ErrorRate: errRate, RPS: rps,
		Endpoints: []Endpoint{{Name: "GET /a", Requests: 1000, Errors: int64(errRate * 1000), RPS: rps, Latency: l}}}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name      string
		b         *Report
		wantRegs  int
		regressed []string // metrics of GET /a that regressed
	}{
		{"same", cmpReport("b", 100, 0.01, 50), 0, nil},
		{"within tolerance", cmpReport("b", 109, 0.0105, 46), 0, nil},
		{"p99 up 20%", cmpReport("b", 120, 0.01, 50), 2, []string{CompareP99}},
		{"errors up", cmpReport("b", 100, 0.05, 50), 2, []string{CompareErrorRate}},
		{"rps down", cmpReport("b", 100, 0.01, 40), 2, []string{CompareRPS}},
		{"faster is fine", cmpReport("b", 50, 0, 80), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(cmpReport("a", 100, 0.01, 50), tc.b, 0.10)
			if c.Regressions != tc.wantRegs {
				t.Errorf("regressions = %d, want %d: %+v", c.Regressions, tc.wantRegs, c.Rows)
			}
			var got []string
			for _, m := range c.Rows[0].Metrics {
				if m.Regressed {
					got = append(got, m.Name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.regressed, ",") {
				t.Errorf("regressed = %v, want %v", got, tc.regressed)
			}
		})
	}
}

func TestCompareEndpointsAndText(t *testing.T) {
	a := cmpReport("run-a", 100, 0, 50)
	b := cmpReport("run-b", 150, 0, 50)
	a.Endpoints = append(a.Endpoints, Endpoint{Name: "GET /old", Requests: 5})
	b.Endpoints = append(b.Endpoints, Endpoint{Name: "GET /new", Requests: 5})
	c := Compare(a, b, 0.10)
	if len(c.Rows) != 4 || c.Rows[1].OnlyIn != "A" || c.Rows[2].OnlyIn != "B" || c.Rows[3].Endpoint != "TOTAL" {
		t.Fatalf("rows = %+v", c.Rows)
	}
	var buf bytes.Buffer
	if err := WriteComparison(&buf, c); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"100ms → 150ms (+50.0%) !", "only in run A", "only in run B", "2 regression(s) beyond 10.00%"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
