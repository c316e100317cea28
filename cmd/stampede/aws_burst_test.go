package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/s3store"
)

// burstRegion is one region of a burst test: its burst queue, bucket and
// Lambda stand-in.
type burstRegion struct {
	awsRegion
	burstURL string
	svc      *lambdaharness.Service
	fn       *lambdafunc.Function // the test's own client of svc
}

// startBurstRegions creates each region's queues and bucket, starts its
// Lambda stand-in with emulators[region] emulators of the real bootstrap,
// routes AWS_ENDPOINT_URL_LAMBDA to them by region, and writes the
// --aws-config file naming it all.
func startBurstRegions(t *testing.T, la *localAWS, emulators map[string]int, names ...string) ([]*burstRegion, string) {
	t.Helper()
	var builds lambdaharness.Builds
	bins := builds.Binaries(t)
	var (
		regions  []*burstRegion
		services []*lambdaharness.Service
		cfg      strings.Builder
	)
	for _, name := range names {
		r := &burstRegion{awsRegion: awsRegion{name: name}}
		r.url = localaws.CreateQueue(t, la.sqs, "tasks-"+name)
		r.burstURL = localaws.CreateQueue(t, la.sqs, "burst-"+name)
		r.bucket = localaws.CreateBucket(t, la.s3, "results-"+name)
		r.store = s3store.New(la.s3, r.bucket)
		r.svc = lambdaharness.StartService(t, lambdaharness.ServiceOptions{
			Region: name, Binaries: bins, Emulators: emulators[name], Timeout: 60 * time.Second,
			Env: la.functionEnv(r.bucket, r.burstURL),
		})
		r.fn = lambdafunc.New(localaws.NewLambdaClient(localaws.Config(context.Background(), t, r.svc.URL)), r.svc.Function())
		services = append(services, r.svc)
		regions = append(regions, r)
		fmt.Fprintf(&cfg, "%s:\n  queue_url: %s\n  burst_queue_url: %s\n  bucket: %s\n  function: %s\n",
			name, r.url, r.burstURL, r.bucket, r.svc.Function())
	}
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", lambdaharness.StartRouter(t, services...))
	path := filepath.Join(t.TempDir(), "aws.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return regions, path
}

// queueDepth is how many messages the queue holds, visible or in flight.
func queueDepth(t *testing.T, client *sqs.Client, url string) int {
	t.Helper()
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n
}

// burstOutcomes decodes what each invocation of svc that ended said it did.
func burstOutcomes(t *testing.T, svc *lambdaharness.Service) (ran, empty int) {
	t.Helper()
	for _, inv := range svc.Invocations() {
		var resp generator.Response
		if inv.Err != "" || json.Unmarshal(inv.Response, &resp) != nil || resp.Burst == nil {
			t.Errorf("%s invocation %s: error %q, response %s", svc.Region(), inv.Payload, inv.Err, inv.Response)
			continue
		}
		if resp.Burst.Task != "" {
			ran++
		}
		if resp.Burst.Empty {
			empty++
		}
	}
	return ran, empty
}

// TestRunAWSBurst runs `stampede run --backend aws --dispatch burst` with
// two regions: tasks go to each region's burst queue (local-aws-sqs), the
// CLI invokes the function asynchronously once per task through the real
// SDK lambda client to the Lambda stand-in, whose emulators run the real
// bootstrap; each invocation takes one task, leases it in S3 (gofakes3) and
// runs it against a counting target. One extra invoke in us-east-1 plays
// Lambda's at-least-once delivery: no task runs twice, the merged counts
// equal the target's, and no message is left in any queue.
func TestRunAWSBurst(t *testing.T) {
	start := time.Now()
	la := startLocalAWS(t)
	target, served := countingTarget(t)
	// 2 generators × 2 slices per region run at once (a slice's generators
	// are invoked its lead before it starts); us-east-1 has one more for
	// the duplicate invoke.
	regions, awsConfig := startBurstRegions(t, la, map[string]int{"us-east-1": 5, "eu-west-1": 4}, "us-east-1", "eu-west-1")
	dir := t.TempDir()
	planPath := writePlan(t, dir, "burst.yaml", awsPlan)
	t.Logf("binaries, servers and 9 emulators ready in %v", time.Since(start).Round(time.Millisecond))

	// The duplicate: once the CLI's first invoke is accepted in us-east-1,
	// invoke once more (the payload names no task: any invocation takes
	// whichever task the queue hands it).
	us := regions[0]
	dupErr := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for us.svc.Accepted() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		dupErr <- us.fn.InvokeAsync(context.Background(), []byte(`{"stampede_burst":{"run_id":"duplicate","region":"us-east-1","slice":0}}`))
	}()

	runStart := time.Now()
	out := filepath.Join(dir, "report")
	code, stdout, stderr := runCLI(context.Background(), "run", planPath, "--backend", "aws", "--dispatch", "burst",
		"--aws-config", awsConfig, "--target", target.URL, "--lead", "3s", "--out", out, "--yes", "--progress-every", "1s")
	t.Logf("run took %v", time.Since(runStart).Round(time.Millisecond))
	if code != ExitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if err := <-dupErr; err != nil {
		t.Fatalf("duplicate invoke: %v", err)
	}
	for _, want := range []string{"dispatch: burst", "queue " + us.burstURL} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the plan summary lacks %q:\n%s", want, stderr)
		}
	}
	rep, err := report.ReadJSON(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cost == nil || !strings.Contains(strings.Join(rep.Cost.Assumptions, "\n"), "dispatch: burst") {
		t.Errorf("the report's cost assumptions do not name the dispatch: %v", rep.Cost)
	}

	// Every invocation ended (the duplicate waits out its receive).
	waitFor(t, 30*time.Second, "every invocation to end", func() bool {
		return us.svc.Running()+us.svc.Waiting() == 0 && len(us.svc.Invocations()) == 5
	})
	for _, r := range regions {
		ran, empty := burstOutcomes(t, r.svc)
		wantEmpty := 0
		if r == us {
			wantEmpty = 1
		}
		if ran != 4 || empty != wantEmpty || r.svc.Accepted() != 4+wantEmpty || r.svc.Throttled() != 0 {
			t.Errorf("%s: %d invocations ran a task, %d found none, %d accepted, %d throttled; want 4, %d, %d, 0",
				r.name, ran, empty, r.svc.Accepted(), r.svc.Throttled(), wantEmpty, 4+wantEmpty)
		}
		if n := queueDepth(t, la.sqs, r.burstURL); n != 0 {
			t.Errorf("%s: %d messages left in the burst queue", r.name, n)
		}
		if n := queueDepth(t, la.sqs, r.url); n != 0 {
			t.Errorf("%s: %d messages in the task queue: burst tasks must not go there", r.name, n)
		}
	}

	if rep.Requests != served.Load() {
		t.Errorf("report has %d requests, the target served %d", rep.Requests, served.Load())
	}
	if rep.Requests < 180 || rep.Requests > 220 || rep.Errors != 0 {
		t.Errorf("requests = %d, errors %d; want about 200, none", rep.Requests, rep.Errors)
	}
	if rep.Shards.Expected != 8 || rep.Shards.Completed != 8 || len(rep.Shards.Missing) != 0 {
		t.Errorf("shards %+v, want 8 of 8 completed", rep.Shards)
	}
	var ars []*awsRegion
	for _, r := range regions {
		ars = append(ars, &r.awsRegion)
	}
	checkRegions(t, context.Background(), rep, ars)
	checkAWSCost(t, rep)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}
