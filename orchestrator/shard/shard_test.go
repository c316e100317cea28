package shard_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

func validTask() *shard.Task {
	return &shard.Task{
		RunID: "20261125T175155Z-ab12cd", Region: "us-east-1", ID: "g0007-s02", Generator: 7, Slice: 2,
		Config: engine.Config{
			Target:   "http://127.0.0.1:8080",
			Load:     engine.Load{Model: engine.ModelOpen, Rate: 100},
			Duration: 30 * time.Minute,
			Shard:    engine.Shard{Index: 7, Count: 10, Seed: 42},
			Window:   engine.Window{Start: 20 * time.Minute, End: 30 * time.Minute},
			Epoch:    time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC),
			Interval: 6 * time.Second,
			Env:      map[string]string{"TOKEN": "s3cr3t"},
			Scenarios: []engine.Scenario{{Name: "browse", Weight: 1, Steps: []engine.Step{{
				Name: "GET /", Method: "GET", URL: "/",
				Body: &engine.Body{Kind: engine.BodyJSON, JSON: map[string]any{"a": []any{1.0, "x"}}},
			}}}},
		},
	}
}

func TestKeys(t *testing.T) {
	const run = "r1"
	h := shard.Hash("g0007-s02")
	tests := []struct{ got, want string }{
		{shard.RunPrefix(run), "runs/r1/"},
		{shard.ManifestKey(run), "runs/r1/manifest.json"},
		{shard.StopKey(run), "runs/r1/stop"},
		{shard.LeaseKey(run, "eu-west-1", "g0007-s02"), "runs/r1/leases/" + h + "/eu-west-1/g0007-s02"},
		{shard.CheckpointKey(run, "eu-west-1", "g0007-s02"), "runs/r1/checkpoints/" + h + "/eu-west-1/g0007-s02.json"},
		{shard.ResultKey(run, "eu-west-1", "g0007-s02"), "runs/r1/results/" + h + "/eu-west-1/g0007-s02.json"},
		{shard.TaskID(7, 2), "g0007-s02"},
		{shard.TaskID(12345, 100), "g12345-s100"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if len(h) != 2 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Errorf("Hash = %q, want 2 hex digits", h)
	}
}

// TestHashSpreads checks that 10,000 task ids use (nearly) every prefix.
func TestHashSpreads(t *testing.T) {
	counts := map[string]int{}
	for g := range 2500 {
		for s := range 4 {
			counts[shard.Hash(shard.TaskID(g, s))]++
		}
	}
	if len(counts) != 256 {
		t.Errorf("10,000 ids use %d prefixes, want 256", len(counts))
	}
	for h, n := range counts {
		if n > 80 { // mean 39
			t.Errorf("prefix %s holds %d of 10,000 ids", h, n)
		}
	}
}

func TestParseKeys(t *testing.T) {
	const run = "r1"
	region, id, ok := shard.ParseResultKey(run, shard.ResultKey(run, "local-a", "g0003-s01"))
	if !ok || region != "local-a" || id != "g0003-s01" {
		t.Errorf("ParseResultKey(ResultKey) = %q, %q, %v", region, id, ok)
	}
	region, id, ok = shard.ParseCheckpointKey(run, shard.CheckpointKey(run, "b", "g0000-s00"))
	if !ok || region != "b" || id != "g0000-s00" {
		t.Errorf("ParseCheckpointKey(CheckpointKey) = %q, %q, %v", region, id, ok)
	}
	region, id, ok = shard.ParseLeaseKey(run, shard.LeaseKey(run, "b", "g0000-s00"))
	if !ok || region != "b" || id != "g0000-s00" {
		t.Errorf("ParseLeaseKey(LeaseKey) = %q, %q, %v", region, id, ok)
	}
	for _, key := range []string{
		"runs/r1/results/zz/local-a/g0003-s01.json", // wrong hash
		"runs/r2/results/" + shard.Hash("g0003-s01") + "/local-a/g0003-s01.json",
		"runs/r1/results/" + shard.Hash("g0003-s01") + "/local-a/g0003-s01",
		"runs/r1/results/" + shard.Hash("g0003-s01") + "/g0003-s01.json",
		"runs/r1/results/" + shard.Hash("g0003-s01") + "/a/b/g0003-s01.json",
		"runs/r1/manifest.json",
	} {
		if _, _, ok := shard.ParseResultKey(run, key); ok {
			t.Errorf("ParseResultKey(%q) accepted a foreign key", key)
		}
	}
}

func TestTaskRoundTrip(t *testing.T) {
	want := validTask()
	b, err := shard.EncodeTask(want)
	if err != nil {
		t.Fatalf("EncodeTask: %v", err)
	}
	got, err := shard.DecodeTask(b)
	if err != nil {
		t.Fatalf("DecodeTask: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the task:\n%+v\n%+v", got, want)
	}
}

func TestTaskValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*shard.Task)
		want   string
	}{
		{"run id", func(t *shard.Task) { t.RunID = "../x" }, "run id"},
		{"region", func(t *shard.Task) { t.Region = "" }, "region"},
		{"id", func(t *shard.Task) { t.ID = "g0007-s03" }, "does not name"},
		{"shard index", func(t *shard.Task) { t.Config.Shard.Index = 6 }, "does not fit"},
		{"shard count", func(t *shard.Task) { t.Config.Shard.Count = 7 }, "does not fit"},
		{"window end", func(t *shard.Task) { t.Config.Window.End = 31 * time.Minute }, "window"},
		{"window empty", func(t *shard.Task) { t.Config.Window.End = t.Config.Window.Start }, "window"},
		{"epoch", func(t *shard.Task) { t.Config.Epoch = time.Time{} }, "epoch"},
		{"duration", func(t *shard.Task) { t.Config.Duration = 0 }, "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := validTask()
			tt.change(task)
			_, err := shard.EncodeTask(task)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("EncodeTask error = %v, want one mentioning %q", err, tt.want)
			}
			b, _ := json.Marshal(task)
			if _, err := shard.DecodeTask(b); err == nil {
				t.Fatalf("DecodeTask accepted an invalid task")
			}
		})
	}
}

func TestDecodeResult(t *testing.T) {
	r := shard.NewResult(validTask())
	r.Error = "engine: bad config"
	b, err := shard.EncodeResult(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := shard.DecodeResult(b)
	if err != nil || got.TaskID != "g0007-s02" || got.Region != "us-east-1" || got.Error != r.Error {
		t.Fatalf("DecodeResult = %+v, %v", got, err)
	}
	for _, bad := range []string{
		`{}`, `[]`, `not json`,
		`{"run_id":"r","task_id":"g0001-s00","region":"a","generator":2,"slice":0,"error":"x"}`,
		`{"run_id":"r","task_id":"g0001-s00","region":"a","generator":1,"slice":0}`,
	} {
		if _, err := shard.DecodeResult([]byte(bad)); err == nil {
			t.Errorf("DecodeResult(%s) succeeded", bad)
		}
	}
}

// TestResultWithSnapshot round-trips a result with a snapshot through the
// two-line form and the older single object, with DecodeResult and
// ParseResult.
func TestResultWithSnapshot(t *testing.T) {
	task := validTask()
	rec := engine.NewRecorder([]string{"GET /"}, nil, task.Config.Epoch, time.Second, 1)
	for i := range 5 {
		rec.Record(0, &engine.Sample{At: time.Duration(i) * time.Second, Response: time.Millisecond, Service: time.Millisecond, Status: 200})
	}
	r := shard.NewResult(task)
	r.Final, r.Snapshot = true, rec.Snapshot()
	twoLines, err := shard.EncodeResult(r)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(twoLines), "\n"); n != 1 || strings.Contains(strings.SplitN(string(twoLines), "\n", 2)[0], `"snapshot"`) {
		t.Fatalf("EncodeResult wrote %d line breaks and a head of %.200s", n, twoLines)
	}
	oneObject, err := json.Marshal(r) // the older form
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"two lines": twoLines, "one object": oneObject} {
		got, err := shard.DecodeResult(data)
		if err != nil || !got.Final || got.Snapshot == nil || got.Snapshot.Steps["GET /"].Requests != 5 || len(got.Snapshot.Timeline) != 5 {
			t.Fatalf("%s: DecodeResult = %+v, %v", name, got, err)
		}
		head, snap, err := shard.ParseResult(data)
		if err != nil || head.Snapshot != nil || snap == nil || snap.Snapshot().Steps["GET /"].Service.Count() != 5 {
			t.Fatalf("%s: ParseResult = %+v, %v, %v", name, head, snap, err)
		}
	}
	for name, bad := range map[string][]byte{
		"two snapshots":  append(append(bytes.Clone(oneObject), '\n'), strings.SplitN(string(twoLines), "\n", 2)[1]...),
		"bad snapshot":   append(bytes.Clone(twoLines[:strings.IndexByte(string(twoLines), '\n')+1]), `{"interval":0}`...),
		"snapshot cut":   twoLines[:len(twoLines)-10],
		"head not valid": append([]byte(`{"run_id":"?"}`), twoLines[strings.IndexByte(string(twoLines), '\n'):]...),
	} {
		if _, err := shard.DecodeResult(bad); err == nil {
			t.Errorf("%s: DecodeResult succeeded", name)
		}
		if _, _, err := shard.ParseResult(bad); err == nil {
			t.Errorf("%s: ParseResult succeeded", name)
		}
	}
}

func FuzzDecodeTask(f *testing.F) {
	b, err := shard.EncodeTask(validTask())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"run_id":"r","region":"a","id":"g0000-s00","config":{"shard":{"count":1},"duration":1,"window":{"end":1},"epoch":"2026-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		task, err := shard.DecodeTask(body)
		if err != nil {
			return
		}
		// Whatever decodes must encode again and decode to the same task.
		again, err := shard.EncodeTask(task)
		if err != nil {
			t.Fatalf("EncodeTask of a decoded task: %v", err)
		}
		if _, err := shard.DecodeTask(again); err != nil {
			t.Fatalf("DecodeTask(EncodeTask(task)): %v", err)
		}
	})
}
