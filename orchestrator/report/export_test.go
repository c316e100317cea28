package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	runcost "github.com/stampede-load/stampede/orchestrator/cost"
)

func TestHlogRoundTrip(t *testing.T) {
	res := fixture()
	var buf bytes.Buffer
	res.Total.Steps["GET /"+secretValue] = res.Total.Steps["GET /products"].Clone()
	rep := Build(res)
	if err := WriteHlog(&buf, res, rep); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if strings.Contains(text, secretValue) || !strings.Contains(text, "Tag=GET_/"+Redacted+",") {
		t.Errorf("the hlog does not redact the secret step name:\n%s", text)
	}
	for _, want := range []string{"#[StartTime: 1775476800.000 (seconds since epoch), 2026-04-06T12:00:00Z]",
		"#[BaseTime: 1775476800.000 (seconds since epoch)]", `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`} {
		if !strings.Contains(text, want) {
			t.Errorf("hlog lacks %q:\n%s", want, text)
		}
	}
	// Read it back with the reference Go reader.
	rd := hdr.NewHistogramLogReader(strings.NewReader(text))
	type entry struct {
		tag   string
		count int64
		start int64
	}
	var got []entry
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		got = append(got, entry{h.Tag(), h.TotalCount(), h.StartTimeMs()})
	}
	snap := res.Total
	var want []entry
	for _, iv := range snap.Timeline {
		want = append(want, entry{"", iv.Response.Count(), epoch.UnixMilli() + int64(iv.Index)*1000})
	}
	want = append(want, entry{HlogTotalTag, snap.Total().Response.Count(), epoch.UnixMilli()})
	for i, name := range snap.StepNames() {
		want = append(want, entry{HlogTag(rep.Endpoints[i].Name), snap.Steps[name].Response.Count(), epoch.UnixMilli()})
	}
	if len(got) != len(want) {
		t.Fatalf("read %d histograms, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("histogram %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if want[len(want)-1].tag != "POST_/search" || want[len(want)-1].count != 200 {
		t.Errorf("last entry = %+v, want POST_/search with 200 values", want[len(want)-1])
	}
}

func TestTimelineCSV(t *testing.T) {
	rep := Build(synthRun(ramp(10, 100, 10*time.Second), []synthInterval{
		{reqs: 10, lat: 5 * time.Millisecond}, {reqs: 20, lat: 8 * time.Millisecond, s429: 3},
	}))
	var buf bytes.Buffer
	if err := WriteTimelineCSV(&buf, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and 2 intervals:\n%v", len(rows), rows)
	}
	// Offered at 1.5s of a 10→100 ramp over 10s is 23.5; 8ms reads 8.003 (HDR precision).
	want := []string{"1", "20", "3", "20", "23.5", "8.003", "8.003", "8.003", "8.003", "8.003", "8.003", "200:17 429:3", ""}
	for i, w := range want {
		if rows[2][i] != w {
			t.Errorf("row 2 column %s = %q, want %q", rows[0][i], rows[2][i], w)
		}
	}
}

func TestJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, Build(fixture())); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 5 || doc.Suite.Tests != 5 {
		t.Errorf("tests = %d/%d, want 4 thresholds + shards", doc.Tests, doc.Suite.Tests)
	}
	var failed []string
	for _, c := range doc.Suite.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name+": "+c.Failure.Message)
		}
	}
	wantFailed := []string{"error_rate < 1%: actual 1.75%", "shards complete: 2 of 3 shards completed"}
	if doc.Failures != len(wantFailed) || strings.Join(failed, "|") != strings.Join(wantFailed, "|") {
		t.Errorf("failures = %d %q, want %q", doc.Failures, failed, wantFailed)
	}
	if strings.Contains(buf.String(), secretValue) {
		t.Error("the JUnit XML holds a secret")
	}
}

func TestHTMLCostCard(t *testing.T) {
	rep := Build(fixture())
	var buf bytes.Buffer
	rep.Cost = &runcost.Cost{EstimatedUSD: 0.0125, ActualUSD: 0.0123}
	if err := WriteHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<div class="card">cost<b>$0.0123</b></div>`) {
		t.Error("the summary lacks the actual cost")
	}
	rep.Cost = nil
	buf.Reset()
	if err := WriteHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `card">cost`) {
		t.Error("a cost card without a cost")
	}
}
