package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// costPlanYAML is examples/quickstart.yaml shortened to 8 s and 2 generators.
const costPlanYAML = `name: quickstart-cost
target: http://127.0.0.1:8080
duration: 8s
load: {rate: 50/s, max_inflight: 64, drop_after: 1s}
generators: 2
seed: 42
defaults:
  headers:
    Accept: application/json
    User-Agent: stampede-quickstart/1.0
  timeout: 5s
vars:
  term: '{{ pick "wireless headphones" "mechanical keyboard" "usb-c hub" "4k monitor" "gaming mouse" }}'
scenarios:
  - name: browse
    weight: 3
    steps:
      - name: GET /health
        get: /prod/health
      - name: GET /products
        get: /prod/products
        query: {category: electronics, limit: 20}
        expect: {status: 200}
      - name: GET /products/:id
        get: /prod/products/{{ pick "sku_1001" "sku_1002" "sku_1003" "sku_1004" "sku_1005" }}
        expect: {status: 200}
  - name: search
    weight: 1
    steps:
      - name: POST /search
        post: /prod/search
        json:
          query: '{{ term }}'
          filters: {inStock: true, priceMin: 25, priceMax: 500}
          sort: relevance
          limit: 10
        expect: {status: 200}
thresholds:
  - error_rate < 1%
`

func within(a, b, frac float64) bool {
	return b != 0 && math.Abs(a-b)/math.Abs(b) <= frac
}

// TestRunCostEstimateMatchesActual runs the plan through `run` on the
// local backend and compares report.json's estimated and actual cost.
func TestRunCostEstimateMatchesActual(t *testing.T) {
	_, url := startTarget(t)
	dir := t.TempDir()
	p := writePlan(t, dir, "cost.yaml", costPlanYAML)
	code, out, errs := runCLI(context.Background(), "run", p, "--target", url, "--store", dir, "--progress-every", "1s", "--max-cost", "1")
	if code != ExitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "cost            as AWS Lambda arm64, 1769 MB") || !strings.Contains(out, "budget $1.00") {
		t.Errorf("no cost section in the summary:\n%s", out)
	}
	rep, err := report.ReadJSON(filepath.Join(reportDir(t, out), ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Cost
	if c == nil || c.Estimate == nil || c.Actual == nil {
		t.Fatalf("report cost %+v", c)
	}
	est, act := c.Estimate, c.Actual
	t.Logf("estimated $%.6f actual $%.6f; compute %.3f vs %.3f GB-s; bytes %d vs %d; requests %d vs %d; S3 put %d/%d list %d/%d get %d/%d",
		c.EstimatedUSD, c.ActualUSD, est.Usage.GBSeconds, act.Usage.GBSeconds, est.Usage.BytesOut, act.Usage.BytesOut,
		est.Usage.Requests, act.Usage.Requests, est.Usage.S3Puts, act.Usage.S3Puts, est.Usage.S3Lists, act.Usage.S3Lists,
		est.Usage.S3Gets, act.Usage.S3Gets)
	if !within(c.EstimatedUSD, c.ActualUSD, 0.10) {
		t.Errorf("estimated $%.6f, actual $%.6f: more than 10%% apart", c.EstimatedUSD, c.ActualUSD)
		logResults(t, reportDir(t, out))
	}
	for _, item := range []string{cost.ItemCompute, cost.ItemInvoke, cost.ItemTransfer} {
		if e, a := est.Line(item).USD, act.Line(item).USD; !within(e, a, 0.10) {
			t.Errorf("%s: estimated $%.8f, actual $%.8f", item, e, a)
		}
	}
	if act.Usage.Requests != rep.Requests || act.Usage.BytesOut != rep.BytesSent || act.Usage.Invocations != 2 {
		t.Errorf("actual usage %+v, report %d requests %d bytes", act.Usage, rep.Requests, rep.BytesSent)
	}
	if c.ActualUSD > c.BudgetUSD || rep.Stopped != "" {
		t.Errorf("actual $%v over budget $%v or stopped %q", c.ActualUSD, c.BudgetUSD, rep.Stopped)
	}
}

// TestRunRefusesOverBudget: nothing is sent, the breakdown and the advice
// are printed, exit 5.
func TestRunRefusesOverBudget(t *testing.T) {
	dir := t.TempDir()
	p := writePlan(t, dir, "cost.yaml", costPlanYAML)
	code, out, errs := runCLI(context.Background(), "run", p, "--store", dir, "--max-cost", "0.0003")
	if code != ExitBudget {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitBudget, out, errs)
	}
	for _, want := range []string{"exceeds the budget $0.000300", "lambda compute", "use fewer generators", "shorten the test", "over budget: nothing was sent"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
		t.Errorf("a run was started: %v", err)
	}
}

func TestCostCommand(t *testing.T) {
	dir := t.TempDir()
	p := writePlan(t, dir, "cost.yaml", costPlanYAML)
	code, out, errs := runCLI(context.Background(), "cost", p, "--json", "--backend", "local")
	if code != ExitPassed {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var c cost.Cost
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// 2 tasks × (1 s lead + 8 s + 0.1 s drain + 0.1 s write) at 1769 MB
	if c.Estimate == nil || c.Estimate.Usage.Invocations != 2 || !within(c.Estimate.Usage.GBSeconds, 18.4*1769/1024, 1e-9) {
		t.Fatalf("estimate %+v", c.Estimate)
	}
	// 400 iterations × 2.5 requests
	if c.Estimate.Usage.Requests != 1000 || c.EstimatedUSD <= 0 || len(c.Assumptions) == 0 {
		t.Errorf("requests %d, estimated $%v, assumptions %d", c.Estimate.Usage.Requests, c.EstimatedUSD, len(c.Assumptions))
	}
	code, out, _ = runCLI(context.Background(), "cost", p)
	if code != ExitPassed || !strings.Contains(out, "per million requests") || !strings.Contains(out, "assumptions:") ||
		!strings.Contains(out, "30s lead") {
		t.Errorf("exit %d, text:\n%s", code, out)
	}
	// burst: the 15 s lead, one Invoke per task, the burst queue's
	// receive and delete per task
	code, out, _ = runCLI(context.Background(), "cost", p, "--dispatch", "burst")
	if code != ExitPassed || !strings.Contains(out, "15s lead") || !strings.Contains(out, "dispatch: burst") ||
		!strings.Contains(out, "SQS 1/2/2 send/receive/delete") || !strings.Contains(out, "Lambda Invoke 2 accepted of 2 attempts") {
		t.Errorf("--dispatch burst: exit %d, text:\n%s", code, out)
	}
	if code, _, _ := runCLI(context.Background(), "cost", p, "--dispatch", "burst", "--backend", "local"); code != ExitUsage {
		t.Errorf("--dispatch burst --backend local: exit %d", code)
	}
	if code, _, _ := runCLI(context.Background(), "cost", p, "--backend", "gcp"); code != ExitUsage {
		t.Errorf("--backend gcp: exit %d", code)
	}
	if code, _, _ := runCLI(context.Background(), "cost", p, "--prices", filepath.Join(dir, "none.json")); code != ExitUsage {
		t.Errorf("missing --prices file: exit %d", code)
	}
}

// logResults logs when each task was leased, started and ended, relative
// to the run's start (to tell a slow machine from a wrong model).
func logResults(t *testing.T, runDir string) {
	m, err := os.ReadFile(filepath.Join(runDir, shard.ManifestName))
	if err != nil {
		return
	}
	man, err := shard.DecodeManifest(m)
	if err != nil {
		return
	}
	files, _ := filepath.Glob(filepath.Join(runDir, shard.ResultsDir, "*", "*", "*.json"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			if r, err := shard.DecodeResult(b); err == nil {
				t.Logf("%s: leased %v, started %v, ended %v, late iterations %d", r.TaskID, r.Leased.Sub(man.Epoch),
					r.Started.Sub(man.Epoch), r.Ended.Sub(man.Epoch), r.Snapshot.Iterations.Late)
			}
		}
	}
}

// TestConfirmCost: on a terminal only "y" or "yes" goes on; anything else,
// an empty line included, refuses with ExitBudget; off a terminal nothing is
// asked.
func TestConfirmCost(t *testing.T) {
	c := &cost.Cost{EstimatedUSD: 0.25}
	tests := []struct {
		answer      string
		interactive bool
		ok          bool
	}{
		{"y\n", true, true},
		{"YES\n", true, true},
		{"n\n", true, false},
		{"\n", true, false},
		{"", true, false}, // end of input
		{"", false, true}, // not a terminal: not asked
	}
	for _, tt := range tests {
		var errs strings.Builder
		err := confirmCost(strings.NewReader(tt.answer), &errs, c, tt.interactive)
		if (err == nil) != tt.ok {
			t.Errorf("answer %q interactive %v: err %v, want ok=%v", tt.answer, tt.interactive, err, tt.ok)
		}
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != ExitBudget) {
			t.Errorf("answer %q: %v is not an ExitBudget exit", tt.answer, err)
		}
		if tt.interactive && !strings.Contains(errs.String(), "run it for about "+cost.USD(0.25)+"? [y/N]") {
			t.Errorf("answer %q: no question asked:\n%s", tt.answer, errs.String())
		}
		if !tt.interactive && !strings.Contains(errs.String(), "not a terminal: not asking") {
			t.Errorf("off a terminal: %q", errs.String())
		}
	}
}
