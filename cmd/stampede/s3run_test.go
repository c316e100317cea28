package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/multistore"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

func TestParseS3Run(t *testing.T) {
	tests := []struct {
		arg     string
		want    s3Run
		wantErr string
	}{
		{"s3://my-bucket/runs/20261125-abc", s3Run{"my-bucket", "20261125-abc"}, ""},
		{"s3://my-bucket/runs/20261125-abc/", s3Run{"my-bucket", "20261125-abc"}, ""},
		{"s3://b.example.com/runs/r_1.2", s3Run{"b.example.com", "r_1.2"}, ""},
		{"my-bucket/runs/x", s3Run{}, "not an s3:// address"},
		{"s3:///runs/x", s3Run{}, "names no bucket"},
		{"s3://", s3Run{}, "names no bucket"},
		{"s3://My_Bucket/runs/x", s3Run{}, "not a bucket name"},
		{"s3://ab/runs/x", s3Run{}, "not a bucket name"},
		{"s3://-bucket/runs/x", s3Run{}, "not a bucket name"},
		{"s3://my-bucket", s3Run{}, "not a run's address"},
		{"s3://my-bucket/runs", s3Run{}, "not a run's address"},
		{"s3://my-bucket/runs/", s3Run{}, "not a run's address"},
		{"s3://my-bucket/other/x", s3Run{}, "not a run's address"},
		{"s3://my-bucket/runs/x/results", s3Run{}, "not a run's address"},
		{"s3://my-bucket/runs/x//", s3Run{}, "not a run's address"},
		{"s3://my-bucket/runs/a b", s3Run{}, "not a run id"},
		{"s3://my-bucket/runs/..", s3Run{}, "not a run id"},
	}
	for _, tt := range tests {
		got, err := parseS3Run(tt.arg)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseS3Run(%q) = %+v, %v; want error %q", tt.arg, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseS3Run(%q) = %+v, %v; want %+v", tt.arg, got, err, tt.want)
		}
	}
}

func TestParseS3RunsOneRun(t *testing.T) {
	if _, _, err := parseS3Runs([]string{"s3://bucket-a/runs/r1", "s3://bucket-b/runs/r2"}); err == nil || !strings.Contains(err.Error(), "different runs") {
		t.Errorf("two runs: %v", err)
	}
	if _, _, err := parseS3Runs([]string{"s3://bucket-a/runs/r1", "s3://bucket-a/runs/r1/"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("same bucket twice: %v", err)
	}
	if _, err := parseBucketRegions([]string{"bucket-a"}); err == nil {
		t.Error("--bucket-region without a region accepted")
	}
	m, err := parseBucketRegions([]string{"bucket-a=eu-west-1"})
	if err != nil || m["bucket-a"] != "eu-west-1" {
		t.Errorf("parseBucketRegions = %v, %v", m, err)
	}
}

// s3Env points the CLI's S3 client at endpoint with fake credentials and
// no shared configuration files.
func s3Env(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	t.Setenv(envEndpointS3, endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", localaws.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", localaws.SecretKey)
	t.Setenv("AWS_REGION", localaws.Region)
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	return localaws.NewS3Client(localaws.Config(context.Background(), t, endpoint))
}

// localRun runs src on the local backend into a fresh store and returns
// the store directory, the run id and the run's report.
func localRun(t *testing.T, src string) (store, runID string, rep *report.Report) {
	t.Helper()
	_, url := startTarget(t)
	store = t.TempDir()
	p := writePlan(t, store, "plan.yaml", src)
	code, out, errs := runCLI(context.Background(), "run", p, "--target", url, "--store", store)
	if code != ExitPassed {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	rd := reportDir(t, out)
	rep, err := report.ReadJSON(filepath.Join(rd, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	return store, filepath.Base(rd), rep
}

// upload copies every object of the run under store into a bucket, with
// the same keys: bucketOf names the bucket of a key ("" for every bucket).
func upload(t *testing.T, client *s3.Client, store, runID string, buckets []string, bucketOf func(key string) string) int {
	t.Helper()
	ctx := context.Background()
	ds := dirstore.New(store)
	keys, err := ds.List(ctx, shard.RunPrefix(runID))
	if err != nil || len(keys) == 0 {
		t.Fatalf("list the run: %v, %d keys", err, len(keys))
	}
	n := 0
	for _, key := range keys {
		data, err := ds.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range buckets {
			if to := bucketOf(key); to != "" && to != b {
				continue
			}
			if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
				t.Fatalf("put %s/%s: %v", b, key, err)
			}
			n++
		}
	}
	return n
}

// sameCounts fails unless got's request counts equal want's exactly.
func sameCounts(t *testing.T, got, want *report.Report) {
	t.Helper()
	if want.Requests == 0 || got.Requests != want.Requests || got.Errors != want.Errors || got.RunID != want.RunID {
		t.Errorf("rebuilt: run %s, %d requests, %d errors; original: run %s, %d requests, %d errors",
			got.RunID, got.Requests, got.Errors, want.RunID, want.Requests, want.Errors)
	}
	if len(got.Endpoints) != len(want.Endpoints) {
		t.Fatalf("rebuilt endpoints %+v, original %+v", got.Endpoints, want.Endpoints)
	}
	for i, e := range want.Endpoints {
		if g := got.Endpoints[i]; g.Name != e.Name || g.Requests != e.Requests || g.Errors != e.Errors || g.Latency != e.Latency {
			t.Errorf("endpoint %s: rebuilt %d requests %d errors %+v, original %d %d %+v",
				e.Name, g.Requests, g.Errors, g.Latency, e.Requests, e.Errors, e.Latency)
		}
	}
	if len(got.Regions) != len(want.Regions) {
		t.Fatalf("rebuilt regions %+v, original %+v", got.Regions, want.Regions)
	}
	for i, r := range want.Regions {
		if g := got.Regions[i]; g.Name != r.Name || g.Requests != r.Requests {
			t.Errorf("region %s: rebuilt %s %d requests, original %d", r.Name, g.Name, g.Requests, r.Requests)
		}
	}
}

// s3Plan is goodPlan, shorter and a little faster.
var s3Plan = strings.NewReplacer("name: e2e", "name: s3", "duration: 2s", "duration: 1s", "rate: 20/s", "rate: 30/s").Replace(goodPlan)

func TestReportS3(t *testing.T) {
	store, runID, orig := localRun(t, s3Plan)
	client := s3Env(t, localaws.StartS3(t))
	bucket := localaws.CreateBucket(t, client, "results")
	upload(t, client, store, runID, []string{bucket}, func(string) string { return "" })

	out := t.TempDir()
	code, stdout, errs := runCLI(context.Background(), "report", "s3://"+bucket+"/runs/"+runID+"/", "--out", out)
	if code != ExitPassed {
		t.Fatalf("report: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errs)
	}
	if !strings.Contains(stdout, "report: "+filepath.Join(out, ReportHTML)) {
		t.Errorf("stdout:\n%s", stdout)
	}
	got, err := report.ReadJSON(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	sameCounts(t, got, orig)

	// Without --out, the reports go to runs/<run-id> under --store.
	local := t.TempDir()
	if code, _, errs := runCLI(context.Background(), "report", "s3://"+bucket+"/runs/"+runID, "--store", local); code != ExitPassed {
		t.Fatalf("report without --out: exit %d: %s", code, errs)
	}
	got, err = report.ReadJSON(filepath.Join(runDir(local, runID), ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	sameCounts(t, got, orig)

	// compare reads an s3:// run as well.
	if code, stdout, errs := runCLI(context.Background(), "compare", out, "s3://"+bucket+"/runs/"+runID); code != ExitPassed || !strings.Contains(stdout, "GET /health") {
		t.Errorf("compare with s3://: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errs)
	}
}

func TestReportS3Errors(t *testing.T) {
	client := s3Env(t, localaws.StartS3(t))
	bucket := localaws.CreateBucket(t, client, "results")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "s3://" + bucket + "/runs/no-such-run"}, ExitUsage, "manifest is missing"},
		{[]string{"report", "s3://" + bucket + "/results/x"}, ExitUsage, "not a run's address"},
		{[]string{"report", "s3://" + bucket + "/runs/a", "runs/a"}, ExitUsage, "s3://BUCKET/runs/<run-id>"},
		{[]string{"report", "runs/a", "runs/b"}, ExitUsage, "one run directory"},
		{[]string{"report", "s3://" + bucket + "/runs/a", "s3://other-bucket/runs/a", "--bucket-region", "nope"}, ExitUsage, "BUCKET=REGION"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(context.Background(), append(tt.args, "--out", t.TempDir())...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
}

func TestReportS3Regions(t *testing.T) {
	store, runID, orig := localRun(t, strings.Replace(s3Plan, "generators: 2\n", "regions: {us-east-1: 1, eu-west-1: 1}\n", 1))
	if len(orig.Regions) != 2 {
		t.Fatalf("original regions: %+v", orig.Regions)
	}
	client := s3Env(t, localaws.StartS3(t))
	east := localaws.CreateBucket(t, client, "east")
	west := localaws.CreateBucket(t, client, "west")
	bucketOf := map[string]string{"us-east-1": east, "eu-west-1": west}
	upload(t, client, store, runID, []string{east, west}, func(key string) string { return bucketOf[multistore.KeyRegion(key)] })

	out := t.TempDir()
	code, stdout, errs := runCLI(context.Background(), "report",
		"s3://"+east+"/runs/"+runID, "s3://"+west+"/runs/"+runID,
		"--bucket-region", east+"=us-east-1", "--bucket-region", west+"=eu-west-1", "--out", out)
	if code != ExitPassed {
		t.Fatalf("report: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errs)
	}
	got, err := report.ReadJSON(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	sameCounts(t, got, orig)

	// One bucket alone holds half the results: the other region's tasks
	// are missing and the run is incomplete.
	code, _, errs = runCLI(context.Background(), "report", "s3://"+east+"/runs/"+runID, "--out", t.TempDir())
	if code != ExitIncomplete {
		t.Errorf("one bucket of two: exit %d, want %d (incomplete): %s", code, ExitIncomplete, errs)
	}
}
