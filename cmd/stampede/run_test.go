package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/infra/demotarget"
	"github.com/stampede-load/stampede/orchestrator/report"
)

func httpGet(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// startTarget serves a demo target without delays on 127.0.0.1.
func startTarget(t *testing.T) (*demotarget.Target, string) {
	t.Helper()
	tg := demotarget.New(demotarget.Options{NoDelay: true})
	srv := httptest.NewServer(tg)
	t.Cleanup(srv.Close)
	return tg, srv.URL
}

// reportDir finds the run directory that `run` printed.
func reportDir(t *testing.T, stdout string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^report: (\S+)/report\.html`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no report line in stdout:\n%s", stdout)
	}
	return m[1]
}

func TestRunEndToEnd(t *testing.T) {
	tg, url := startTarget(t)
	dir := t.TempDir()
	p := writePlan(t, dir, "e2e.yaml", goodPlan)
	code, out, errs := runCLI(context.Background(), "run", p, "--target", url, "--store", dir, "--generators", "2", "--progress-every", "500ms")
	if code != ExitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "PASSED") || !strings.Contains(out, "GET /products/:id") {
		t.Errorf("summary:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\s+\S+/2s  requests \d+  rps [\d.]+  p99 `).MatchString(errs) {
		t.Errorf("no progress lines on stderr:\n%s", errs)
	}
	rd := reportDir(t, out)
	if !strings.HasPrefix(rd, filepath.Join(dir, "runs")+string(filepath.Separator)) {
		t.Errorf("report in %s, want under the store %s", rd, dir)
	}
	rep, err := report.ReadJSON(filepath.Join(rd, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	// Every request the target saw is in the report exactly once.
	if rep.Requests == 0 || rep.Requests != tg.Requests() {
		t.Errorf("report has %d requests, the target served %d", rep.Requests, tg.Requests())
	}
	// 20 iterations/s for 2s, two requests each.
	if rep.Requests < 60 || rep.Requests > 100 {
		t.Errorf("requests = %d, want about 80", rep.Requests)
	}
	if rep.Errors != 0 || rep.Status[200] != rep.Requests || !rep.Passed {
		t.Errorf("errors %d, status %v, passed %v", rep.Errors, rep.Status, rep.Passed)
	}
	if len(rep.Endpoints) != 2 || rep.Endpoints[0].Name != "GET /health" || rep.Endpoints[0].Requests != rep.Endpoints[1].Requests {
		t.Errorf("endpoints: %+v", rep.Endpoints)
	}
	if rep.Shards.Expected != 2 || rep.Shards.Completed != 2 || rep.Generators != 2 || rep.Plan != "e2e" {
		t.Errorf("shards %+v generators %d plan %q", rep.Shards, rep.Generators, rep.Plan)
	}
	if len(rep.Thresholds) != 2 || rep.Latency.P99 <= 0 || len(rep.Timeline) == 0 {
		t.Errorf("thresholds %+v p99 %v timeline %d", rep.Thresholds, rep.Latency.P99, len(rep.Timeline))
	}
	if _, err := os.Stat(filepath.Join(rd, ReportHTML)); err != nil {
		t.Error(err)
	}

	// report rebuilds the same numbers from the store.
	if err := os.Remove(filepath.Join(rd, ReportJSON)); err != nil {
		t.Fatal(err)
	}
	code, out2, errs := runCLI(context.Background(), "report", rd)
	if code != ExitPassed {
		t.Fatalf("report: exit %d\n%s%s", code, out2, errs)
	}
	again, err := report.ReadJSON(filepath.Join(rd, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if again.Requests != rep.Requests || again.RunID != rep.RunID || again.Latency != rep.Latency {
		t.Errorf("rebuilt report differs: %d/%d requests, run %s/%s", again.Requests, rep.Requests, again.RunID, rep.RunID)
	}
	if again.Cost != nil {
		t.Errorf("a report rebuilt with no earlier report invented a cost: %+v", again.Cost)
	}

	// A rebuild over the run's own report keeps its cost section: the
	// stored results alone cannot price the run again.
	if rep.Cost == nil {
		t.Fatal("the run's report has no cost section")
	}
	if err := report.WriteJSON(mustCreate(t, filepath.Join(rd, ReportJSON)), rep); err != nil {
		t.Fatal(err)
	}
	if code, out3, errs := runCLI(context.Background(), "report", rd); code != ExitPassed {
		t.Fatalf("report: exit %d\n%s%s", code, out3, errs)
	}
	kept, err := report.ReadJSON(filepath.Join(rd, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if kept.Cost == nil || kept.Cost.EstimatedUSD != rep.Cost.EstimatedUSD || kept.Cost.ActualUSD != rep.Cost.ActualUSD {
		t.Errorf("rebuilt cost %+v, want the run's %+v", kept.Cost, rep.Cost)
	}
}

// mustCreate creates path for writing, closed at the end of the test.
func mustCreate(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestRunThresholdFailsAndSecretsStayOut(t *testing.T) {
	_, url := startTarget(t)
	dir := t.TempDir()
	t.Setenv("STAMPEDE_TEST_TOKEN", "tok-9d8e7f6a5b")
	src := strings.Replace(goodPlan, "duration: 2s", "duration: 1s", 1)
	src = strings.Replace(src, "      - name: GET /health\n        get: /prod/health\n",
		"      - name: GET /health\n        get: /prod/health\n        headers:\n          Authorization: 'Bearer {{ env \"STAMPEDE_TEST_TOKEN\" }}'\n", 1)
	src = strings.Replace(src, "  - p99 < 5s\n", "  - requests > 1000000\n", 1)
	p := writePlan(t, dir, "fail.yaml", src)
	code, out, errs := runCLI(context.Background(), "run", p, "--target", url, "--store", dir, "--quiet", "--ascii")
	if code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitThresholds, out, errs)
	}
	if !strings.Contains(out, "FAIL requests > 1000000") || !strings.Contains(out, "FAILED (thresholds failed)") {
		t.Errorf("summary:\n%s", out)
	}
	if errs != "" {
		t.Errorf("--quiet printed on stderr:\n%s", errs)
	}
	// The token went to the target but is nowhere in what stampede wrote.
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), "tok-9d8e7f6a5b") {
			t.Errorf("%s contains the secret", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunInterrupted(t *testing.T) {
	tg, url := startTarget(t)
	dir := t.TempDir()
	p := writePlan(t, dir, "long.yaml", strings.Replace(goodPlan, "duration: 2s", "duration: 30s", 1))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the load is flowing (as Ctrl-C would).
		for tg.Requests() < 10 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	code, out, errs := runCLI(ctx, "run", p, "--target", url, "--store", dir, "--quiet")
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitInterrupted, out, errs)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("interrupt took %v to stop the run", d)
	}
	rep, err := report.ReadJSON(filepath.Join(reportDir(t, out), ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped == "" || rep.Requests < 10 || rep.Requests != tg.Requests() {
		t.Errorf("stopped %q, %d requests in the report, %d served", rep.Stopped, rep.Requests, tg.Requests())
	}
}
