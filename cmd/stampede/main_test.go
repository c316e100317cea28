package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/syncbuf"
	"github.com/stampede-load/stampede/orchestrator/report"
)

// runCLI runs the command line in-process and returns its exit code and output.
func runCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb syncbuf.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// writePlan writes a plan file into dir.
func writePlan(t *testing.T, dir, name, src string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodPlan = `name: e2e
target: http://127.0.0.1:9
duration: 2s
load:
  rate: 20/s
generators: 2
scenarios:
  - name: browse
    steps:
      - name: GET /health
        get: /prod/health
      - name: GET /products/:id
        get: /prod/products/sku_100{{ pick "1" "2" "3" }}
        expect: {status: 200}
thresholds:
  - error_rate < 1%
  - p99 < 5s
`

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := writePlan(t, dir, "good.yaml", goodPlan)
	code, out, errs := runCLI(context.Background(), "validate", good)
	if code != ExitPassed || !strings.Contains(out, "good.yaml: OK") || !strings.Contains(out, `plan "e2e"`) {
		t.Errorf("valid plan: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}

	bad := writePlan(t, dir, "bad.yaml", `name: bad
target: not a url
duration: 2s
scenarios:
  - name: s
    steps:
      - get: /x
        methd: GET
`)
	code, out, errs = runCLI(context.Background(), "validate", bad)
	if code != ExitUsage {
		t.Errorf("invalid plan: exit %d, want %d", code, ExitUsage)
	}
	if strings.Contains(out, "OK") {
		t.Errorf("invalid plan printed OK: %s", out)
	}
	// One "file:line:col: path: message" line per problem: the target on
	// line 2 and the unknown key on line 8.
	for _, want := range []string{bad + ":2:", bad + ":8:"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks a %q line:\n%s", want, errs)
		}
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(bad) + `:2:\d+: target: `).MatchString(errs) {
		t.Errorf("target error is not file:line:col: path: message:\n%s", errs)
	}

	if code, _, errs = runCLI(context.Background(), "validate", filepath.Join(dir, "missing.yaml")); code != ExitUsage || errs == "" {
		t.Errorf("missing plan: exit %d, stderr %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // expected in stdout or stderr
	}{
		{[]string{"--help"}, ExitPassed, "Exit codes"},
		{[]string{"run", "--help"}, ExitPassed, "--generators"},
		{[]string{"validate", "--help"}, ExitPassed, "validate PLAN"},
		{[]string{"report", "--help"}, ExitPassed, "RUN_DIR_OR_ID"},
		{[]string{"target", "--help"}, ExitPassed, "--addr"},
		{[]string{"bogus"}, ExitUsage, "unknown command"},
		{[]string{"run"}, ExitUsage, "accepts 1 arg"},
		{[]string{"run", "x.yaml", "--frobnicate"}, ExitUsage, "unknown flag"},
		{[]string{"report", "no-such-run", "--store", t.TempDir()}, ExitUsage, "no run"},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(context.Background(), tt.args...)
		if code != tt.code || !strings.Contains(out+errs, tt.out) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tt.args, code, tt.code, tt.out, out, errs)
		}
	}
}

func TestRunOverrides(t *testing.T) {
	dir := t.TempDir()
	p := writePlan(t, dir, "p.yaml", goodPlan)
	for _, args := range [][]string{
		{"run", p, "--target", "ftp://x"},
		{"run", p, "--target", "http://127.0.0.1:1/?q=1"},
		{"run", p, "--generators", "-1"},
	} {
		if code, _, errs := runCLI(context.Background(), args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, errs)
		}
	}
}

func TestLocateRun(t *testing.T) {
	store := t.TempDir()
	dir := filepath.Join(store, "runs", "r1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg, root, id string
		ok            bool
	}{
		{dir, store, "r1", true},
		{dir + "/", store, "r1", true},
		{"r1", store, "r1", true},
		{"r2", "", "", false},
		{filepath.Join(store, "runs"), "", "", false},
		{filepath.Join(store, "nope", "r1"), "", "", false},
	}
	for _, tt := range tests {
		root, id, err := locateRun(tt.arg, store)
		if (err == nil) != tt.ok || root != tt.root || id != tt.id {
			t.Errorf("locateRun(%q) = %q, %q, %v", tt.arg, root, id, err)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		rep  report.Report
		want int
	}{
		{report.Report{}, ExitPassed},
		{report.Report{Thresholds: []report.ThresholdResult{{OK: true}, {OK: false}}}, ExitThresholds},
		{report.Report{Shards: report.Shards{Missing: []string{"local/g0000-s00"}}}, ExitIncomplete},
		{report.Report{Shards: report.Shards{Corrupt: []string{"k"}}, Thresholds: []report.ThresholdResult{{OK: false}}}, ExitIncomplete},
	}
	for i, tt := range tests {
		if got := exitCode(&tt.rep); got != tt.want {
			t.Errorf("case %d: %d, want %d", i, got, tt.want)
		}
	}
}

func TestTarget(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncbuf.Buffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"target", "--addr", "127.0.0.1:0", "--no-delay"}, &out, &errs) }()
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); {
		base = re.FindString(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("target did not say where it listens: %q %q", out.String(), errs.String())
	}
	resp, err := httpGet(base + "/prod/products/sku_1001")
	if err != nil || resp != 200 {
		t.Errorf("GET product: %d %v", resp, err)
	}
	cancel()
	if code := <-done; code != ExitPassed {
		t.Errorf("target exit %d, stderr %s", code, errs.String())
	}
	if !strings.Contains(errs.String(), "after 1 requests") {
		t.Errorf("stop line: %q", errs.String())
	}
	if code, _, errs := runCLI(context.Background(), "target", "--addr", "256.0.0.1:99999"); code != ExitInfra {
		t.Errorf("bad address: exit %d (%s)", code, errs)
	}
}
