package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/shard"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// awsPlan runs 2 regions × 2 generators × 2 slices of 2s, open model.
const awsPlan = `name: aws-e2e
target: http://127.0.0.1:9
duration: 4s
slice: 2s
load:
  rate: 50/s
regions: {us-east-1: 2, eu-west-1: 2}
scenarios:
  - name: hit
    steps:
      - name: GET /hit
        get: /hit
        expect: {status: 200}
`

// awsRegion is one region's queue, bucket and generator fleet.
type awsRegion struct {
	name   string
	queue  *sqsqueue.Queue
	url    string
	bucket string
	store  *s3store.Store
	fleet  *lambdaharness.Fleet
}

// localAWS is an SQS-compatible and an S3-compatible server on loopback,
// with the CLI's environment pointed at them.
type localAWS struct {
	sqsURL, s3URL string
	sqs           *sqs.Client
	s3            *s3.Client
}

// startLocalAWS starts the servers and points the SDK's environment at
// them, with test credentials and no shared config files.
// STS is moto_server's, for the preflight's credentials check.
func startLocalAWS(t *testing.T) *localAWS {
	t.Helper()
	la := pointSDK(t, localaws.StartSQS(t), localaws.StartS3(t))
	t.Setenv("AWS_ENDPOINT_URL_STS", localaws.StartMoto(t))
	return la
}

// pointSDK points the SDK's environment at SQS and S3 servers (with test
// credentials, no shared config files) and returns clients of them.
func pointSDK(t *testing.T, sqsURL, s3URL string) *localAWS {
	t.Helper()
	la := &localAWS{sqsURL: sqsURL, s3URL: s3URL}
	t.Setenv("AWS_ENDPOINT_URL_SQS", la.sqsURL)
	t.Setenv("AWS_ENDPOINT_URL_S3", la.s3URL)
	t.Setenv("AWS_ACCESS_KEY_ID", localaws.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", localaws.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	la.sqs = localaws.NewSQSClient(localaws.Config(ctx, t, la.sqsURL))
	la.s3 = localaws.NewS3Client(localaws.Config(ctx, t, la.s3URL))
	return la
}

// functionEnv is a generator function's environment against la, for
// results in bucket (and burst tasks from burstURL, if set).
func (la *localAWS) functionEnv(bucket, burstURL string) map[string]string {
	env := map[string]string{
		"BUCKET":                bucket,
		"AWS_ENDPOINT_URL_S3":   la.s3URL,
		"AWS_ENDPOINT_URL_SQS":  la.sqsURL,
		"AWS_ACCESS_KEY_ID":     localaws.AccessKey,
		"AWS_SECRET_ACCESS_KEY": localaws.SecretKey,
	}
	if burstURL != "" {
		env["BURST_QUEUE_URL"] = burstURL
	}
	return env
}

// countingTarget is a target on 127.0.0.1 that counts GET /hit.
func countingTarget(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hit" {
			served.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(target.Close)
	return target, &served
}

// TestRunAWSBackend runs `stampede run --backend aws` against an
// SQS-compatible server, an S3-compatible server and the real bootstrap
// under Runtime Interface Emulators, two regions on separate queues and
// buckets, and checks the report against a counting target, region by
// region, with one task delivered twice.
func TestRunAWSBackend(t *testing.T) {
	start := time.Now()
	var builds lambdaharness.Builds
	bins := builds.Binaries(t)
	t.Logf("binaries ready in %v", time.Since(start).Round(time.Millisecond))

	la := startLocalAWS(t)
	sqsClient, s3Client := la.sqs, la.s3
	ctx := context.Background()
	target, served := countingTarget(t)

	// One task of slice 1 in us-east-1 is sent a second time as soon as it
	// is first received, while its window is still ahead: it must not run
	// twice. us-east-1 has a spare emulator for it.
	var dupID atomic.Value // the duplicated task's id
	var dupErr atomic.Value
	regions := []*awsRegion{{name: "us-east-1"}, {name: "eu-west-1"}}
	var cfg strings.Builder
	for _, r := range regions {
		r.url = localaws.CreateQueue(t, sqsClient, "tasks-"+r.name)
		r.bucket = localaws.CreateBucket(t, s3Client, "results-"+r.name)
		r.queue = sqsqueue.New(sqsClient, r.url)
		r.store = s3store.New(s3Client, r.bucket)
		fmt.Fprintf(&cfg, "%s:\n  queue_url: %s\n  bucket: %s\n", r.name, r.url, r.bucket)
		opts := lambdaharness.Options{
			Binaries:  bins,
			Queue:     r.queue,
			QueueURL:  r.url,
			Region:    r.name,
			Emulators: 4, // 2 generators × 2 slices
			Timeout:   60 * time.Second,
			Env:       la.functionEnv(r.bucket, ""),
		}
		if r.name == "us-east-1" {
			opts.Emulators++
			q := r.queue
			opts.OnReceive = func(m sqsqueue.Message) {
				task, err := shard.DecodeTask(m.Body)
				if err != nil || task.Slice != 1 || !dupID.CompareAndSwap(nil, task.ID) {
					return
				}
				if err := q.Send(ctx, [][]byte{m.Body}); err != nil {
					dupErr.Store(err)
				}
			}
		}
		r.fleet = lambdaharness.Start(t, opts)
	}
	// The preflight asks Lambda for the account's concurrency in each
	// region (the override file names no function: the event source
	// harness invokes the emulators itself).
	var services []*lambdaharness.Service
	for _, r := range regions {
		services = append(services, lambdaharness.StartService(t, lambdaharness.ServiceOptions{Region: r.name}))
	}
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", lambdaharness.StartRouter(t, services...))
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "aws.yaml")
	if err := os.WriteFile(awsConfig, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	planPath := writePlan(t, dir, "aws.yaml.plan", awsPlan)
	t.Logf("servers and %d emulators ready in %v", 9, time.Since(start).Round(time.Millisecond))

	runStart := time.Now()
	out := filepath.Join(dir, "report")
	code, stdout, stderr := runCLI(ctx, "run", planPath, "--backend", "aws", "--aws-config", awsConfig,
		"--target", target.URL, "--lead", "3s", "--out", out, "--yes", "--progress-every", "1s")
	t.Logf("run took %v", time.Since(runStart).Round(time.Millisecond))
	if code != ExitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"us-east-1", "eu-west-1", "2 generators", "4 generators in 2 regions"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not print the plan per region (%q):\n%s", want, stderr)
		}
	}
	rep, err := report.ReadJSON(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}

	// The duplicate was delivered, invoked and deleted without running.
	us := regions[0]
	waitFor(t, 15*time.Second, "the duplicate's delivery", func() bool { return us.fleet.Deleted() == 5 })
	if err, _ := dupErr.Load().(error); err != nil {
		t.Fatalf("send the duplicate: %v", err)
	}
	id, _ := dupID.Load().(string)
	if id == "" {
		t.Fatal("no slice-1 task was received in us-east-1: nothing was duplicated")
	}
	if _, err := us.store.Get(ctx, shard.LeaseKey(rep.RunID, us.name, id)); err != nil {
		t.Errorf("lease of the duplicated task %s: %v", id, err)
	}
	if got := us.fleet.Invocations(); got != 5 {
		t.Errorf("us-east-1 invocations = %d, want 5 (4 tasks + the duplicate)", got)
	}

	checkAWSCost(t, rep)

	// Every request the target served is in the report exactly once.
	if rep.Requests != served.Load() {
		t.Errorf("report has %d requests, the target served %d", rep.Requests, served.Load())
	}
	// 50 iterations/s for 4s; the open model holds the rate.
	if rep.Requests < 180 || rep.Requests > 220 {
		t.Errorf("requests = %d, want about 200", rep.Requests)
	}
	if rep.Errors != 0 || rep.Status[200] != rep.Requests {
		t.Errorf("errors %d, status %v", rep.Errors, rep.Status)
	}
	if rep.Shards.Expected != 8 || rep.Shards.Completed != 8 || len(rep.Shards.Missing) != 0 {
		t.Errorf("shards %+v, want 8 of 8 completed", rep.Shards)
	}
	checkRegions(t, ctx, rep, regions)
	for _, r := range regions {
		if f := r.fleet.Failed(); f != 0 {
			t.Errorf("%s: %d records reported failed", r.name, f)
		}
	}
	t.Logf("total %v (binaries, servers, emulators, run, checks)", time.Since(start).Round(time.Millisecond))
}

// checkRegions checks the per-region breakdown against the report's total
// and each bucket's results: every region's results are in its own bucket.
func checkRegions(t *testing.T, ctx context.Context, rep *report.Report, regions []*awsRegion) {
	t.Helper()
	if len(rep.Regions) != len(regions) {
		t.Fatalf("report regions %+v, want %d", rep.Regions, len(regions))
	}
	var sum int64
	for _, rr := range rep.Regions {
		sum += rr.Requests
		if rr.Generators != 2 || rr.Requests == 0 || rr.Errors != 0 {
			t.Errorf("region %+v, want 2 generators, requests, no errors", rr)
		}
	}
	if sum != rep.Requests {
		t.Errorf("regions' requests add up to %d, the total is %d", sum, rep.Requests)
	}
	for _, r := range regions {
		keys, err := r.store.List(ctx, shard.ResultsPrefix(rep.RunID))
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 4 {
			t.Errorf("bucket of %s holds %d results, want 4: %q", r.name, len(keys), keys)
		}
		var requests int64
		for _, k := range keys {
			region, _, ok := shard.ParseResultKey(rep.RunID, k)
			if !ok || region != r.name {
				t.Errorf("bucket of %s holds %s", r.name, k)
			}
			data, err := r.store.Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			res, err := shard.DecodeResult(data)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			requests += res.Snapshot.Total().Requests
		}
		for _, rr := range rep.Regions {
			if rr.Name == r.name && rr.Requests != requests {
				t.Errorf("report says %s ran %d requests, its bucket's results %d", r.name, rr.Requests, requests)
			}
		}
	}
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkAWSCost checks the cost section of an aws-backend run: the estimate
// made before anything was sent lies within 10% of the cost computed from
// what ran, in total and for compute, invocations and data out.
func checkAWSCost(t *testing.T, rep *report.Report) {
	t.Helper()
	c := rep.Cost
	if c == nil || c.Estimate == nil || c.Actual == nil {
		t.Fatalf("report cost %+v", c)
	}
	est, act := c.Estimate, c.Actual
	t.Logf("aws: estimated $%.6f actual $%.6f; compute %.3f vs %.3f GB-s; invocations %d vs %d; bytes %d vs %d",
		c.EstimatedUSD, c.ActualUSD, est.Usage.GBSeconds, act.Usage.GBSeconds,
		est.Usage.Invocations, act.Usage.Invocations, est.Usage.BytesOut, act.Usage.BytesOut)
	if !within(c.EstimatedUSD, c.ActualUSD, 0.10) {
		t.Errorf("estimated $%.6f, actual $%.6f: more than 10%% apart", c.EstimatedUSD, c.ActualUSD)
		for _, l := range est.Lines {
			t.Logf("  %-20s estimated %10.1f %-8s $%.8f; actual %10.1f $%.8f", l.Item, l.Quantity, l.Unit, l.USD, act.Line(l.Item).Quantity, act.Line(l.Item).USD)
		}
	}
	for _, item := range []string{cost.ItemCompute, cost.ItemInvoke, cost.ItemTransfer} {
		if e, a := est.Line(item).USD, act.Line(item).USD; !within(e, a, 0.10) {
			t.Errorf("%s: estimated $%.8f, actual $%.8f: more than 10%% apart", item, e, a)
		}
	}
	if act.Usage.Requests != rep.Requests || act.Usage.BytesOut != rep.BytesSent {
		t.Errorf("actual usage %d requests %d bytes; report %d requests %d bytes",
			act.Usage.Requests, act.Usage.BytesOut, rep.Requests, rep.BytesSent)
	}
}
