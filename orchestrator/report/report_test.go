package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// near reports whether got is within HDR precision (0.1%) of want.
func near(got, want float64) bool { return math.Abs(got-want) <= want*0.001+0.001 }

func TestBuild(t *testing.T) {
	r := Build(fixture())
	if r.RunID != "20260406-120000-ab12" || r.Plan != "checkout" || r.Started != "2026-04-06T12:00:00Z" {
		t.Errorf("header: %q %q %q", r.RunID, r.Plan, r.Started)
	}
	if r.Target != "https://shop.example.com" {
		t.Errorf("target = %q, want the credentials stripped", r.Target)
	}
	// Two regions: 400+100 and 200+100 requests, 10+4 failures, over 5s.
	if r.Requests != 800 || r.Errors != 14 || r.DurationS != 5 || r.RPS != 160 || r.Generators != 3 {
		t.Errorf("totals: requests %d errors %d duration %v rps %v generators %d", r.Requests, r.Errors, r.DurationS, r.RPS, r.Generators)
	}
	if r.ErrorRate != 0.0175 {
		t.Errorf("error rate = %v, want 0.0175", r.ErrorRate)
	}
	if r.Status[200] != 786 || r.Status[503] != 7 || r.ErrorsByClass["timeout"] != 7 {
		t.Errorf("status %v errors %v", r.Status, r.ErrorsByClass)
	}
	if len(r.Endpoints) != 2 || r.Endpoints[0].Name != "GET /products" || r.Endpoints[1].Name != "POST /search" {
		t.Fatalf("endpoints not sorted by name: %+v", r.Endpoints)
	}
	prod := r.Endpoints[0]
	// 1..400ms and 1..200ms pooled: 600 values; p50 is the 300th = 150ms.
	if prod.Requests != 600 || prod.RPS != 120 || !near(prod.Latency.P50, 150) || !near(prod.Latency.Max, 400) {
		t.Errorf("products: %+v", prod)
	}
	if prod.BytesSent != 600*120 || prod.BytesRecv != 600*2048 {
		t.Errorf("products bytes %d %d", prod.BytesSent, prod.BytesRecv)
	}
	if !near(prod.Service.P50, 149.5) {
		t.Errorf("products service p50 = %v, want 149.5", prod.Service.P50)
	}
	if len(r.Workflows) != 1 || r.Workflows[0].Completed != 190 || r.Workflows[0].Failed != 10 || !near(r.Workflows[0].Time.Max, 149) {
		t.Errorf("workflows: %+v", r.Workflows)
	}
	it := r.Iterations
	if it.Started != 400 || it.Late != 6 || it.Dropped != 2 || !near(it.Lateness.Max, 30) || !near(it.Lateness.P50, 4) {
		t.Errorf("iterations: %+v", it)
	}
	if len(r.Regions) != 2 || r.Regions[0].Name != "us-east-1" || r.Regions[0].Requests != 500 || r.Regions[1].RPS != 60 || r.Regions[0].Generators != 2 {
		t.Errorf("regions: %+v", r.Regions)
	}
	// Intervals 0, 1 and 3 hold data; 2 and 4 are zero-filled.
	if len(r.Timeline) != 5 {
		t.Fatalf("timeline has %d rows, want 5", len(r.Timeline))
	}
	wantReqs := []int64{20, 40, 0, 80, 0}
	for i, p := range r.Timeline {
		if p.TS != float64(i) || p.Requests != wantReqs[i] || p.RPS != float64(wantReqs[i]) {
			t.Errorf("timeline[%d] = %+v, want %d requests", i, p, wantReqs[i])
		}
	}
	if p := r.Timeline[3]; p.Errors != 6 || !near(p.P99, 40) {
		t.Errorf("timeline[3] = %+v", p)
	}
	if r.Shards.Complete() || r.Passed {
		t.Errorf("a missing shard must fail the run: %+v passed=%v", r.Shards, r.Passed)
	}
}

func TestBuildCompleteRunPasses(t *testing.T) {
	res := fixture()
	res.Shards = orchestrator.ShardStatus{Expected: 3, Completed: 3}
	res.Plan.Thresholds = res.Plan.Thresholds[:1]
	if r := Build(res); !r.Passed {
		t.Errorf("run with all shards and thresholds held did not pass: %+v", r.Thresholds)
	}
	res.Shards.Corrupt = []string{"us-east-1/g0001-s00"}
	if r := Build(res); r.Passed {
		t.Error("run with a corrupt shard passed")
	}
}

func TestBuildEmpty(t *testing.T) {
	r := Build(&orchestrator.Result{RunID: "empty"})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("null")) {
		t.Errorf("empty report has null values:\n%s", buf.String())
	}
	if !r.Passed || r.Requests != 0 {
		t.Errorf("empty report: passed=%v requests=%d", r.Passed, r.Requests)
	}
	if err := WriteText(&buf, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
}

func TestNoSecretsInReports(t *testing.T) {
	res := fixture()
	// Put the secret where a careless plan or error might: a step name,
	// an error reason, a shard id.
	res.Total.Steps["GET /keys/"+secretValue] = res.Total.Steps["GET /products"].Clone()
	res.Stopped = "abort: target answered " + secretValue
	res.Shards.Missing = append(res.Shards.Missing, secretValue)
	r := Build(res)
	var js, txt, html bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&txt, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"json": js.Bytes(), "text": txt.Bytes(), "html": html.Bytes()} {
		if bytes.Contains(b, []byte(secretValue)) {
			t.Errorf("%s report contains the secret value", name)
		}
		if !bytes.Contains(b, []byte(Redacted)) {
			t.Errorf("%s report does not show %s where the secret was", name, Redacted)
		}
	}
}

func TestGoldenJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Build(fixture())); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json.golden", buf.Bytes())

	// The file reads back into the same report.
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Requests != 800 || len(back.Endpoints) != 2 || back.Endpoints[1].Status[503] != 7 {
		t.Errorf("round trip: %+v", back)
	}
}

func TestGoldenText(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts TextOptions
	}{{"report.txt.golden", TextOptions{}}, {"report-ascii.txt.golden", TextOptions{ASCII: true}}} {
		var buf bytes.Buffer
		if err := WriteText(&buf, Build(fixture()), tc.opts); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.file, buf.Bytes())
		if tc.opts.ASCII {
			for i, c := range buf.String() {
				if c > 127 {
					t.Fatalf("ASCII text has %q at byte %d", c, i)
				}
			}
		}
	}
}

func TestHTML(t *testing.T) {
	res := fixture()
	res.Total.Steps["<script>alert(1)</script>"] = res.Total.Steps["GET /products"].Clone()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, Build(res)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<!DOCTYPE html>", "<style>", "GET /products", "POST /search", "<polyline", "us-east-1", "eu-west-1/g0002-s00", "p99 &lt; 500ms", "FAILED",
		`<span id="dispatch">dispatch <b>burst</b> on aws, lead 15.0s</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("a step name was not escaped")
	}
	for _, external := range []string{"<script src", "<link", "@import", "url(", "<img"} {
		if strings.Contains(page, external) {
			t.Errorf("page loads something external: %q", external)
		}
	}
	// 10 series: latency p50/p95/p99 and their service times, rps and
	// errors/s (no offered load: the fixture has no schedule), and the
	// response and service time percentile plots.
	if n := strings.Count(page, "<polyline"); n != 10 {
		t.Errorf("%d polylines, want 10", n)
	}
}

// TestDispatchField: report.json names the dispatch under FieldDispatch,
// a local run says so, and a run recorded before manifests carried it has
// none (nothing is made up).
func TestDispatchField(t *testing.T) {
	for _, tt := range []struct {
		backend, mode string
		lead          time.Duration
		want          string // Dispatch.String(); "" for none
	}{
		{orchestrator.BackendAWS, orchestrator.DispatchBurst, 25 * time.Second, "burst on aws, lead 25.0s"},
		{orchestrator.BackendAWS, orchestrator.DispatchSQS, 229 * time.Second, "sqs on aws, lead 229.0s"},
		{orchestrator.BackendLocal, orchestrator.DispatchLocal, time.Second, "local, lead 1.00s"},
		{"", "", 0, ""},
	} {
		res := fixture()
		res.Backend, res.Dispatch, res.Lead = tt.backend, tt.mode, tt.lead
		data, err := json.Marshal(Build(res))
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		field, ok := raw[FieldDispatch]
		if tt.want == "" {
			if ok {
				t.Errorf("a run without a recorded dispatch has %s %s", FieldDispatch, field)
			}
			continue
		}
		var d Dispatch
		if err := json.Unmarshal(field, &d); err != nil || d != (Dispatch{Backend: tt.backend, Mode: tt.mode, LeadMs: float64(tt.lead.Milliseconds())}) {
			t.Errorf("%s = %s (%v), want %s %s %v", FieldDispatch, field, err, tt.backend, tt.mode, tt.lead)
		}
		if got := d.String(); got != tt.want {
			t.Errorf("Dispatch.String() = %q, want %q", got, tt.want)
		}
		var text bytes.Buffer
		if err := WriteText(&text, Build(res), TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), "· dispatch "+tt.want+"\n") {
			t.Errorf("the summary does not say %q:\n%s", tt.want, text.String()[:300])
		}
	}
}

func TestElapsed(t *testing.T) {
	s := engine.NewSnapshot(epoch, time.Second)
	tests := []struct {
		name string
		r    orchestrator.Result
		want time.Duration
	}{
		{"data end", orchestrator.Result{Started: epoch, Ended: epoch.Add(9 * time.Second), Total: &engine.Snapshot{End: epoch.Add(7 * time.Second)}}, 7 * time.Second},
		{"run end without data", orchestrator.Result{Started: epoch, Ended: epoch.Add(9 * time.Second), Total: s}, 9 * time.Second},
		{"no start", orchestrator.Result{Ended: epoch}, 0},
		{"end before start", orchestrator.Result{Started: epoch, Ended: epoch.Add(-time.Second)}, 0},
	}
	for _, tt := range tests {
		if got := Elapsed(&tt.r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFmtMs(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0"}, {0.85, "850µs"}, {4.254, "4.25ms"}, {12.34, "12.3ms"}, {250.4, "250ms"}, {1250, "1.25s"}, {75000, "75.0s"},
	}
	for _, tt := range tests {
		if got := fmtMs(tt.ms); got != tt.want {
			t.Errorf("fmtMs(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.5: 1, 1: 1, 1.1: 2, 3: 5, 7: 10, 10: 10, 11: 20, 160: 200, 480: 500, 501: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
