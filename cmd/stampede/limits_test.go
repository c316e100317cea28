package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAllowLarge checks the default caps from the command line: a plan
// above them is refused by run and validate with a located problem, a hint
// and exit 2, and nothing is sent; --allow-large lets it through.
func TestAllowLarge(t *testing.T) {
	tg, url := startTarget(t)
	dir := t.TempDir()
	big := writePlan(t, dir, "big.yaml", strings.Replace(goodPlan, "rate: 20/s", "rate: 50000/s", 1))
	hint := "(hint: lower the rate, or pass --allow-large to run a plan this large)"
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(big) + `:5:3: load\.rate: a rate of 50000 iterations/s is above the 10000/s a plan may ask for ` + regexp.QuoteMeta(hint) + `$`)

	code, out, errs := runCLI(context.Background(), "run", big, "--target", url, "--store", dir, "--quiet")
	if code != ExitUsage || !line.MatchString(errs) {
		t.Errorf("run of a large plan: exit %d, want %d and the located problem\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, out, errs)
	}
	if n := tg.Requests(); n != 0 {
		t.Errorf("a refused plan sent %d requests", n)
	}
	if entries, _ := os.ReadDir(runDir(dir, "")); len(entries) != 0 {
		t.Errorf("a refused plan left %d runs", len(entries))
	}

	code, _, errs = runCLI(context.Background(), "validate", big)
	if code != ExitUsage || !line.MatchString(errs) {
		t.Errorf("validate of a large plan: exit %d, stderr:\n%s", code, errs)
	}
	code, out, errs = runCLI(context.Background(), "validate", big, "--allow-large")
	if code != ExitPassed || !strings.Contains(out, "OK") {
		t.Errorf("validate --allow-large: exit %d\n%s%s", code, out, errs)
	}

	// The override counts: 2 generators in the plan, 101 on the command line.
	small := writePlan(t, dir, "small.yaml", goodPlan)
	code, _, errs = runCLI(context.Background(), "run", small, "--target", url, "--store", dir, "--generators", "101", "--quiet")
	if code != ExitUsage || !strings.Contains(errs, "101 generators in all regions are more than the 100") {
		t.Errorf("run --generators 101: exit %d, stderr:\n%s", code, errs)
	}
}
