package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/awsstack"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// discoveryPlan is a small two-region run.
const discoveryPlan = `name: discovery
target: http://127.0.0.1:9
duration: 2s
load:
  rate: 20/s
regions: {us-east-1: 1, eu-west-1: 1}
scenarios:
  - name: hit
    steps:
      - name: GET /hit
        get: /hit
`

// TestRunAWSDiscovery runs `stampede run --backend aws --dispatch burst`
// with no --aws-config: the CLI finds each region's queues, bucket and
// function in the outputs of the stack "stampede" (CloudFormation
// DescribeStacks), runs the preflight (STS, the stack, the function's
// concurrency and the account's) and completes the run. moto_server holds
// the stacks, serves STS, and is the SQS and S3 of the run, created by the
// stacks; the Lambda API (preflight, invokes) is the stand-in's, running
// the real bootstrap (moto's Lambda cannot run code without Docker).
func TestRunAWSDiscovery(t *testing.T) {
	start := time.Now()
	moto := localaws.StartMoto(t)
	t.Logf("moto_server up in %v", time.Since(start).Round(time.Millisecond))
	la := pointSDK(t, moto, moto)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", moto)
	t.Setenv("AWS_ENDPOINT_URL_STS", moto)
	target, served := countingTarget(t)
	var builds lambdaharness.Builds
	bins := builds.Binaries(t)

	var services []*lambdaharness.Service
	stores := map[string]*s3store.Store{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg := localaws.Config(context.Background(), t, moto)
		cfg.Region = region
		stackStart := time.Now()
		out := localaws.CreateStack(t, cloudformation.NewFromConfig(cfg), awsstack.DefaultStack, localaws.GeneratorStack(""))
		t.Logf("%s: stack created in moto in %v: %v", region, time.Since(stackStart).Round(time.Millisecond), out)
		bucket := out[awsstack.OutputBucket]
		stores[region] = s3store.New(la.s3, bucket)
		// What template.yaml's Environment gives the function.
		services = append(services, lambdaharness.StartService(t, lambdaharness.ServiceOptions{
			Region: region, Function: out[awsstack.OutputFunctionName], Binaries: bins, Emulators: 1,
			Timeout: 60 * time.Second, Env: la.functionEnv(bucket, out[awsstack.OutputBurstQueueURL]),
		}))
	}
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", lambdaharness.StartRouter(t, services...))

	dir := t.TempDir()
	planPath := writePlan(t, dir, "discovery.yaml", discoveryPlan)
	runStart := time.Now()
	code, stdout, stderr := runCLI(context.Background(), "run", planPath, "--backend", "aws", "--dispatch", "burst",
		"--target", target.URL, "--lead", "3s", "--out", filepath.Join(dir, "report"), "--yes", "--quiet")
	t.Logf("run took %v (moto is slow); test %v", time.Since(runStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if code != ExitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep, err := report.ReadJSON(filepath.Join(dir, "report", ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Requests != served.Load() || !rep.Shards.Complete() || rep.Shards.Completed != 2 {
		t.Errorf("report: %d requests (target %d), shards %+v", rep.Requests, served.Load(), rep.Shards)
	}
	for region, st := range stores {
		if !strings.Contains(stderr, "bucket "+st.Bucket()) {
			t.Errorf("the plan summary does not name %s's discovered bucket %s:\n%s", region, st.Bucket(), stderr)
		}
		keys, err := st.List(context.Background(), shard.ResultsPrefix(rep.RunID))
		if err != nil || len(keys) != 1 {
			t.Errorf("%s: the stack's bucket holds results %q (%v), want 1", region, keys, err)
		}
	}
	for _, s := range services {
		if s.Started() != 1 {
			t.Errorf("%s: %d invocations, want 1", s.Region(), s.Started())
		}
	}

	// The preflight asked the function in each region: a stopped one fails
	// the next run before anything is sent.
	eu := services[1]
	fn := lambdafunc.New(localaws.NewLambdaClient(localaws.Config(context.Background(), t, eu.URL)), eu.Function())
	if err := fn.SetReserved(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(context.Background(), "run", planPath, "--backend", "aws", "--dispatch", "burst",
		"--target", target.URL, "--yes", "--quiet", "--store", dir)
	if code != ExitInfra || !strings.Contains(stderr, "eu-west-1: generator function stampede-generator is stopped") ||
		!strings.Contains(stderr, "stampede stop --release") || strings.Contains(stderr, "us-east-1: generator") {
		t.Errorf("run with eu-west-1 stopped: exit %d\n%s", code, stderr)
	}
	if eu.Accepted() != 1 {
		t.Errorf("eu-west-1 was invoked %d times, want only the first run's 1", eu.Accepted())
	}
}
