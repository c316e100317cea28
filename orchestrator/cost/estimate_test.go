package cost

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

func parsePlan(t *testing.T, src string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("test.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const smallPlan = `name: small
target: http://127.0.0.1:8080
duration: 20s
load: {rate: 10/s}
generators: 2
defaults: {timeout: 5s}
scenarios:
  - name: one
    steps:
      - get: /a
`

// checkUsage compares usage with want: the seconds within 1e-9, the rest
// exactly.
func checkUsage(t *testing.T, u, want Usage) {
	t.Helper()
	if !near(u.GeneratorSeconds, want.GeneratorSeconds, 1e-9) || !near(u.GBSeconds, want.GBSeconds, 1e-9) {
		t.Errorf("generator-seconds %v GB-s %v, want %v %v", u.GeneratorSeconds, u.GBSeconds, want.GeneratorSeconds, want.GBSeconds)
	}
	u.GeneratorSeconds, u.GBSeconds = want.GeneratorSeconds, want.GBSeconds
	if u != want {
		t.Errorf("usage\n got %+v\nwant %+v", u, want)
	}
}

// TestEstimateCounts checks every count of a small plan by hand: 2 tasks
// of 20 s, lead 1 s, drain 100 ms, result write 100 ms, polls every 1 s.
func TestEstimateCounts(t *testing.T) {
	p := parsePlan(t, smallPlan)
	c, err := Estimate(p, testPrices(t), Options{Backend: orchestrator.BackendLocal, PollEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	u := c.Estimate.Usage
	req := len("GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: stampede\r\n\r\n")
	want := Usage{
		Invocations: 2,
		// 1 + 20 + 0.1 + 0.1 s each
		GeneratorSeconds: 42.4,
		GBSeconds:        42.4 * 1769 / 1024,
		Ops: Ops{
			SQSSends: 1,
			// one receive batch + ceil(21.2 s × 15/min) = 6 long polls
			SQSReceives: 7,
			SQSDeletes:  1,
			// 2 × (lease + 4 checkpoints + result) + the manifest
			S3Puts: 13,
			// (ceil(21.2 s / 1 s) + 1) polls × 3 prefixes + the collect's list
			S3Lists: 70,
			// 2 × (1 + 21) stop-marker reads + 2 × 2 result reads + 40.2 s / 5 s
			// checkpoint reads + the manifest + the orchestrator's stop-marker
			// read every poll (23) and when collecting (1)
			S3Gets: 81,
		},
		BytesOut: int64(200 * req),
		LogBytes: 2 * DefaultLogBytes,
		Requests: 200,
	}
	checkUsage(t, u, want)
	wantUSD := want.GBSeconds*0.0000133334 + 2*0.2e-6 + 9*0.4e-6 + 83*0.005e-3 + 81*0.0004e-3 +
		float64(want.BytesOut)/GB*0.09 + float64(want.LogBytes)/GB*0.5
	if !near(c.Estimate.TotalUSD, wantUSD, 1e-12) {
		t.Errorf("total $%.9f, want $%.9f", c.Estimate.TotalUSD, wantUSD)
	}
	if c.EstimatedUSD != round(wantUSD, 6) || len(c.Assumptions) < 5 {
		t.Errorf("estimated_usd %v, assumptions %q", c.EstimatedUSD, c.Assumptions)
	}

	aws, err := Estimate(p, testPrices(t), Options{Backend: orchestrator.BackendAWS, PollEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// the 30 s lead: 2 × (30 + 20.2) s
	if got := aws.Estimate.Usage.GeneratorSeconds; !near(got, 100.4, 1e-9) {
		t.Errorf("aws generator-seconds %v, want 100.4", got)
	}
}

// TestEstimateClosedModel: 10 users for 60 s, one request (100 ms
// assumed) and a 900 ms think per iteration = 600 iterations.
func TestEstimateClosedModel(t *testing.T) {
	p := parsePlan(t, `name: closed
target: http://127.0.0.1:8080
duration: 60s
load: {model: closed, users: 10}
scenarios:
  - name: one
    think: 900ms
    steps:
      - get: /a
`)
	tr, err := planTraffic(p.Engine, DefaultResponse, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !near(tr.iterations, 600, 1e-9) || !near(tr.requests, 600, 1e-9) || tr.iterTime != time.Second {
		t.Errorf("traffic %+v, want 600 iterations of 1s", tr)
	}
}

// TestRequestSizeMatchesEngine runs the engine on a quickstart-like plan
// against a local server and compares the bytes and requests it sent with
// the model's.
func TestRequestSizeMatchesEngine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	p := parsePlan(t, strings.ReplaceAll(quickPlan, "TARGET", srv.URL))
	tr, err := planTraffic(p.Engine, DefaultResponse, p.Seed)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Engine
	cfg.Shard = engine.Shard{Index: 0, Count: 1, Seed: p.Seed}
	cfg.Epoch = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := engine.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := snap.Total()
	if got.Failures != 0 {
		t.Fatalf("%d failed requests", got.Failures)
	}
	t.Logf("model %.0f requests %.0f bytes; engine %d requests %d bytes", tr.requests, tr.bytes, got.Requests, got.BytesSent)
	if r := float64(got.Requests) / tr.requests; r < 0.95 || r > 1.05 {
		t.Errorf("requests: engine %d, model %.0f", got.Requests, tr.requests)
	}
	if r := float64(got.BytesSent) / tr.bytes; r < 0.95 || r > 1.05 {
		t.Errorf("bytes: engine %d, model %.0f", got.BytesSent, tr.bytes)
	}
}

// quickPlan is examples/quickstart.yaml, shortened.
const quickPlan = `name: quickstart
target: TARGET
duration: 3s
load: {rate: 100/s, max_inflight: 64}
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
      - name: GET /products/:id
        get: /prod/products/{{ pick "sku_1001" "sku_1002" "sku_1003" "sku_1004" "sku_1005" }}
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
`

// TestEstimateExamples prices every example plan (environment variables
// set to placeholders): each has requests, bytes and a positive total
// whose items add up.
func TestEstimateExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Parse(f, src, func(string) (string, bool) { return "placeholder", true })
			if err != nil {
				t.Fatal(err)
			}
			c, err := Estimate(p, testPrices(t), Options{Backend: orchestrator.BackendAWS})
			if err != nil {
				t.Fatal(err)
			}
			u := c.Estimate.Usage
			var sum float64
			for _, l := range c.Estimate.Lines {
				sum += l.USD
			}
			if u.Requests <= 0 || u.BytesOut <= 0 || u.Invocations <= 0 || c.EstimatedUSD <= 0 || !near(sum, c.Estimate.TotalUSD, 1e-12) {
				t.Errorf("usage %+v, estimated $%v, items add to $%v", u, c.EstimatedUSD, sum)
			}
			t.Logf("%s: $%.6f, %d requests, $%.4f per million", p.Name, c.EstimatedUSD, u.Requests, c.Estimate.PerMillionRequestsUSD)
		})
	}
}

// TestEstimateUnwatched: without progress or a guard the orchestrator
// lists two prefixes per poll and reads each result once: 23 polls × 2 +
// 1 LIST; 44 stop-marker reads by the generators + 2 results + the
// manifest + 24 stop-marker reads by the orchestrator (23 polls, collect).
func TestEstimateUnwatched(t *testing.T) {
	c, err := Estimate(parsePlan(t, smallPlan), testPrices(t), Options{PollEvery: time.Second, Unwatched: true})
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Estimate.Usage; u.S3Lists != 47 || u.S3Gets != 71 || u.S3Puts != 13 {
		t.Errorf("lists %d gets %d puts %d, want 47 71 13", u.S3Lists, u.S3Gets, u.S3Puts)
	}
}

// TestSpent: spend so far grows with the run's elapsed time, from the lead's
// waiting at test time 0 to at most the estimate at the end.
func TestSpent(t *testing.T) {
	p := parsePlan(t, smallPlan)
	c, err := Estimate(p, testPrices(t), Options{Backend: orchestrator.BackendLocal, PollEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) float64 {
		return c.Spent(orchestrator.Progress{Elapsed: d, Duration: p.Engine.Duration}, nil)
	}
	start, mid, end := at(0), at(10*time.Second), at(p.Engine.Duration+time.Second)
	if !(0 < start && start < mid && mid < end) {
		t.Errorf("spent at 0s %v, 10s %v, end %v: want 0 < start < mid < end", start, mid, end)
	}
	if end > c.EstimatedUSD*1.001 {
		t.Errorf("spent at the end %v exceeds the estimate %v", end, c.EstimatedUSD)
	}
	// Compute dominates: half the run costs about half the compute.
	if r := mid / end; r < 0.4 || r > 0.6 {
		t.Errorf("spent at 10s of 20s is %.2f of the end's", r)
	}
}
