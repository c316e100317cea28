package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/shard"
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
	return startBurstRegionsEnv(t, la, emulators, nil, names...)
}

// startBurstRegionsEnv is startBurstRegions with env, when not nil, to
// change each region's function environment.
func startBurstRegionsEnv(t *testing.T, la *localAWS, emulators map[string]int, env func(region string, env map[string]string), names ...string) ([]*burstRegion, string) {
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
		fenv := la.functionEnv(r.bucket, r.burstURL)
		if env != nil {
			env(name, fenv)
		}
		r.svc = lambdaharness.StartService(t, lambdaharness.ServiceOptions{
			Region: name, Binaries: bins, Emulators: emulators[name], Timeout: 60 * time.Second, Env: fenv,
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
	if rep.Cost == nil || !strings.Contains(strings.Join(rep.Cost.Assumptions, "\n"), "dispatch: burst, load starts 3s after dispatch") {
		t.Errorf("the report's cost assumptions do not name the dispatch: %v", rep.Cost)
	}
	if d := rep.Dispatch; d == nil || *d != (report.Dispatch{Backend: "aws", Mode: "burst", LeadMs: 3000}) {
		t.Errorf("report.json %s = %+v, want aws burst 3000 ms", report.FieldDispatch, d)
	}
	if !strings.Contains(stdout, "dispatch burst on aws, lead 3.00s") {
		t.Errorf("the summary does not name the dispatch:\n%s", stdout)
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
	checkBurstCost(t, rep, regions)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// checkBurstCost checks what the burst dispatch costs besides compute:
// the Invoke requests the CLI made (8 accepted, none throttled here, as
// the stand-in counted them), each a billed Lambda request in the
// estimate and the actual, and the burst queue's send, receive and delete
// requests within 10% (they are exact here: 2 sends, 4 receives and 4
// deletes per region).
func checkBurstCost(t *testing.T, rep *report.Report, regions []*burstRegion) {
	t.Helper()
	est, act := rep.Cost.Estimate, rep.Cost.Actual
	for _, l := range est.Lines {
		t.Logf("  %-18s estimated %8.1f %-8s $%.8f; actual %8.1f $%.8f", l.Item, l.Quantity, l.Unit, l.USD, act.Line(l.Item).Quantity, act.Line(l.Item).USD)
	}
	var accepted int64
	for _, r := range regions {
		accepted += int64(r.svc.Accepted())
	}
	accepted-- // the test's own duplicate invoke in us-east-1
	a := act.Usage
	if a.InvokesAccepted != accepted || a.InvokeAttempts != accepted || a.InvokeThrottled != 0 || est.Usage.InvokesAccepted != 8 {
		t.Errorf("invokes: actual %d accepted of %d attempts, %d throttled; the stand-ins accepted %d from the CLI; estimated %d",
			a.InvokesAccepted, a.InvokeAttempts, a.InvokeThrottled, accepted, est.Usage.InvokesAccepted)
	}
	if e, got := est.Line(cost.ItemInvoke).Quantity, act.Line(cost.ItemInvoke).Quantity; e != 8 || got != 8 {
		t.Errorf("lambda requests: estimated %v, actual %v; want 8 and 8", e, got)
	}
	for _, rc := range act.Regions {
		if u := rc.Usage; u.SQSReceives != 4 || u.SQSDeletes != 4 || u.SQSSends != 2 {
			t.Errorf("%s: SQS %d/%d/%d send/receive/delete, want 2 sends (a slice each), 4 receives and 4 deletes (a task each)", rc.Region, u.SQSSends, u.SQSReceives, u.SQSDeletes)
		}
	}
	if e, got := est.Line(cost.ItemSQS).USD, act.Line(cost.ItemSQS).USD; !within(e, got, 0.10) {
		t.Errorf("sqs: estimated $%.8f, actual $%.8f: more than 10%% apart", e, got)
	}
	// The GETs include the orchestrator's stop-marker read every poll on
	// both sides. Each generator's own reads, 1 + ⌊lease to end / 1 s⌋, are
	// 6 in the estimate (invoked at dispatch, 5.1 s) and 5 or 6 here (the
	// invoke, cold start and receive take a few 100 ms): hence 20%.
	if e, got := est.Usage.S3Gets, a.S3Gets; !within(float64(e), float64(got), 0.20) {
		t.Errorf("s3 gets: estimated %d, actual %d: more than 20%% apart", e, got)
	}
}

// TestRunAWSBurstLeaseFault: one generator's lease cannot be written (S3
// answers its conditional PUT 403 on every try, through a fault proxy in
// front of us-east-1's generators): it retries, gives up and deletes its
// message. At the task's window start the CLI finds no lease for it, sends
// it again and invokes once more; the new generator leases it and runs,
// late. Every task completes, the counts equal the target's, no message is
// left, and the actual cost counts the ninth invoke.
func TestRunAWSBurstLeaseFault(t *testing.T) {
	la := startLocalAWS(t)
	target, served := countingTarget(t)
	const victim = "g0000-s00"
	faults := localaws.StartFaultsMatching(t, la.s3URL, 1+generator.DefaultRetries, localaws.Status(403), func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/leases/") && strings.Contains(r.URL.Path, victim)
	})
	regions, awsConfig := startBurstRegionsEnv(t, la, map[string]int{"us-east-1": 5, "eu-west-1": 4}, func(region string, env map[string]string) {
		if region == "us-east-1" {
			env["AWS_ENDPOINT_URL_S3"] = faults.URL
		}
	}, "us-east-1", "eu-west-1")
	us := regions[0]
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	code, stdout, stderr := runCLI(context.Background(), "run", writePlan(t, dir, "burst.yaml", awsPlan), "--backend", "aws", "--dispatch", "burst",
		"--aws-config", awsConfig, "--target", target.URL, "--lead", "6s", "--out", out, "--yes", "--progress-every", "1s")
	if code != ExitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if faults.Faulted() != 1+generator.DefaultRetries {
		t.Errorf("%d lease PUTs faulted, want %d (one generator's tries)", faults.Faulted(), 1+generator.DefaultRetries)
	}
	waitFor(t, 20*time.Second, "every invocation to end", func() bool {
		return us.svc.Running()+us.svc.Waiting() == 0 && len(us.svc.Invocations()) == 5
	})
	failed := 0
	for _, inv := range us.svc.Invocations() {
		if strings.Contains(inv.Err+string(inv.Response), "lease not written after 5 tries") {
			failed++
		}
	}
	if failed != 1 || us.svc.Accepted() != 5 {
		t.Errorf("us-east-1: %d invocations failed their lease, %d accepted; want 1, and 4 + 1 sent again", failed, us.svc.Accepted())
	}
	rep, err := report.ReadJSON(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != served.Load() || rep.Shards.Expected != 8 || rep.Shards.Completed != 8 || !rep.Shards.Complete() || rep.Errors != 0 {
		t.Errorf("report: %d requests (target %d), %d errors, shards %+v; want every task completed", rep.Requests, served.Load(), rep.Errors, rep.Shards)
	}
	for _, r := range regions {
		if n := queueDepth(t, la.sqs, r.burstURL); n != 0 {
			t.Errorf("%s: %d messages left in the burst queue", r.name, n)
		}
	}
	// The victim ran, leased after its window's start (when it was sent
	// again), where its slice's peer started on time.
	res, peer := storedResult(t, us, rep.RunID, victim), storedResult(t, us, rep.RunID, "g0001-s00")
	late := res.Started.Sub(peer.Started)
	t.Logf("%s: leased %v after its window's start (its peer's engine start), engine %v late; %d requests, the peer %d",
		victim, res.Leased.Sub(peer.Started).Round(time.Millisecond), late.Round(time.Millisecond), res.Snapshot.Total().Requests, peer.Snapshot.Total().Requests)
	if res.Leased.Before(peer.Started) || late > 3*time.Second || res.Snapshot.Total().Requests == 0 {
		t.Errorf("%s: leased %v, started %v (peer %v), %d requests; want leased after its window's start and run", victim, res.Leased, res.Started, peer.Started, res.Snapshot.Total().Requests)
	}
	if a := rep.Cost.Actual.Usage; a.InvokesAccepted != 9 {
		t.Errorf("actual cost: %d invokes accepted, want 9 (8 + the second chance)", a.InvokesAccepted)
	}
}

// storedResult reads task id's final result from r's bucket.
func storedResult(t *testing.T, r *burstRegion, runID, id string) *shard.Result {
	t.Helper()
	return readResult(t, r.store, shard.ResultKey(runID, r.name, id))
}

// readResult reads and decodes the final result under key.
func readResult(t *testing.T, st *s3store.Store, key string) *shard.Result {
	t.Helper()
	data, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := shard.DecodeResult(data)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// killPlan runs one generator per region for a minute: long enough to be
// stopped.
var killPlan = strings.Replace(strings.Replace(discoveryPlan, "duration: 2s", "duration: 60s", 1), "name: discovery", "name: kill-switch", 1)

// newRunIn waits for a run other than those in seen to appear in the
// store and returns its id.
func newRunIn(t *testing.T, st *s3store.Store, seen ...string) string {
	t.Helper()
	var id string
	waitFor(t, 20*time.Second, "the run's manifest", func() bool {
		keys, err := st.List(context.Background(), shard.RunsPrefix)
		if err != nil {
			return false
		}
		for _, k := range keys {
			if run := strings.Split(k, "/")[1]; !slices.Contains(seen, run) {
				id = run
				return true
			}
		}
		return false
	})
	return id
}

// lastEnd is the latest Ended of the run's final results in every region.
func lastEnd(t *testing.T, runID string, regions []*burstRegion) time.Time {
	t.Helper()
	var last time.Time
	for _, r := range regions {
		keys, err := r.store.List(context.Background(), shard.ResultsPrefix(runID))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if res := readResult(t, r.store, k); res.Ended.After(last) {
				last = res.Ended
			}
		}
	}
	return last
}

// TestKillSwitchAWS stops burst runs on the aws backend and checks the
// backstop against the Lambda stand-in: `stampede stop` given one region's
// bucket writes the stop marker into both regions' buckets and sets both
// functions to reserved concurrency 0 (synchronous invokes are then
// refused with 429, asynchronous ones held, not run); the generators stop
// within 5 s; the run restores the setting when it ends. Then Ctrl-C on
// `stampede run` does the same, and a reservation of 7 comes back as 7.
func TestKillSwitchAWS(t *testing.T) {
	la := startLocalAWS(t)
	target, served := countingTarget(t)
	regions, awsConfig := startBurstRegions(t, la, map[string]int{"us-east-1": 3, "eu-west-1": 3}, "us-east-1", "eu-west-1")
	us := regions[0]
	dir := t.TempDir()
	planPath := writePlan(t, dir, "kill.yaml", killPlan)
	type result struct {
		code     int
		out, err string
	}
	runArgs := []string{"run", planPath, "--backend", "aws", "--dispatch", "burst", "--aws-config", awsConfig,
		"--target", target.URL, "--lead", "2s", "--yes", "--quiet", "--store", dir}
	running := func() bool { return regions[0].svc.Running() == 1 && regions[1].svc.Running() == 1 }

	// 1. stampede stop from elsewhere.
	done := make(chan result, 1)
	go func() {
		code, out, errs := runCLI(context.Background(), append(runArgs, "--out", filepath.Join(dir, "a"))...)
		done <- result{code, out, errs}
	}()
	runID := newRunIn(t, us.store)
	waitFor(t, 30*time.Second, "load from both regions", func() bool { return running() && served.Load() >= 40 })
	// At a random phase of the generators' 1 s stop-marker polls (else the
	// latency measured would be that of one fixed phase).
	time.Sleep(rand.N(time.Second))
	const reason = "operator: kill switch test"
	stopAt := time.Now()
	code, out, errs := runCLI(context.Background(), "stop", s3Scheme+us.bucket+"/runs/"+runID, "--aws-config", awsConfig, "--reason", reason)
	t.Logf("stampede stop took %v:\n%s", time.Since(stopAt).Round(time.Millisecond), out)
	if code != ExitPassed {
		t.Fatalf("stop: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"stop marker written", "in all 2 regions' buckets", "stampede stop --release"} {
		if !strings.Contains(out, want) {
			t.Errorf("stop output lacks %q", want)
		}
	}
	for _, r := range regions {
		if !strings.Contains(out, r.name) || !strings.Contains(out, "throttled (was none (unreserved))") {
			t.Errorf("stop output does not say what it did in %s", r.name)
		}
		if n, ok := r.svc.Reserved(); !ok || n != 0 {
			t.Errorf("%s: reserved concurrency %d (set %v) after the stop, want 0", r.name, n, ok)
		}
	}
	// While throttled, nothing new starts.
	started := us.svc.Started()
	client := localaws.NewLambdaClient(localaws.Config(context.Background(), t, us.svc.URL))
	_, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(us.svc.Function()), Payload: []byte(`{}`)},
		func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	var tm *lambdatypes.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Errorf("a synchronous invoke while stopped: %v, want TooManyRequestsException", err)
	}
	if err := us.fn.InvokeAsync(context.Background(), []byte(`{"stampede_burst":{"run_id":"late","region":"us-east-1","slice":0}}`)); err != nil {
		t.Errorf("an asynchronous invoke while stopped: %v, want it accepted and held", err)
	}
	time.Sleep(300 * time.Millisecond) // the run releases the function about 2s after the stop
	if n, _ := us.svc.Reserved(); us.svc.Started() != started || us.svc.Waiting() != 1 || n != 0 {
		t.Errorf("while throttled: %d invocations started, %d waiting; want none started, the late one held", us.svc.Started()-started, us.svc.Waiting())
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end within 30s of the stop")
	}
	runEnded := time.Since(stopAt)
	latency := lastEnd(t, runID, regions).Sub(stopAt)
	t.Logf("stop latency: generators ended %v after `stampede stop` began; the run ended after %v", latency.Round(time.Millisecond), runEnded.Round(time.Millisecond))
	if latency > 5*time.Second {
		t.Errorf("generators stopped %v after the stop, want within 5s", latency)
	}
	if !strings.Contains(r.err, "kill switch released") || !strings.Contains(r.err, "reservation removed") {
		t.Errorf("the run did not say it released the kill switch:\n%s", r.err)
	}
	for _, rg := range regions {
		if n, ok := rg.svc.Reserved(); ok {
			t.Errorf("%s: reserved concurrency %d after the run, want none again", rg.name, n)
		}
	}
	rep, err := report.ReadJSON(filepath.Join(dir, "a", ReportJSON))
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", r.code, err, r.err)
	}
	if rep.Stopped != reason || rep.Requests != served.Load() || !rep.Shards.Complete() {
		t.Errorf("report: stopped %q, %d requests (target %d), shards %+v", rep.Stopped, rep.Requests, served.Load(), rep.Shards)
	}
	code, out, errs = runCLI(context.Background(), "stop", "--release", s3Scheme+us.bucket+"/runs/"+runID, "--aws-config", awsConfig)
	if code != ExitPassed || !strings.Contains(out, "released already") {
		t.Errorf("stop --release after the run: exit %d\n%s\n%s", code, out, errs)
	}
	// Released, the function runs the held invocation (as Lambda retries a
	// throttled event up to its maximum age): it finds no task, does nothing.
	waitFor(t, 20*time.Second, "the held invocation", func() bool { return len(us.svc.Invocations()) == 2 })
	if ran, empty := burstOutcomes(t, us.svc); ran != 1 || empty != 1 {
		t.Errorf("us-east-1: %d invocations ran a task, %d found none; want the run's one, and the held one empty", ran, empty)
	}

	// 2. Ctrl-C, with a reservation of 7 in eu-west-1 to come back.
	eu := regions[1]
	if err := eu.fn.SetReserved(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	before := served.Load()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		code, out, errs := runCLI(ctx, append(runArgs, "--out", filepath.Join(dir, "b"))...)
		done <- result{code, out, errs}
	}()
	runB := newRunIn(t, us.store, runID)
	waitFor(t, 30*time.Second, "load again", func() bool { return served.Load() >= before+40 })
	time.Sleep(rand.N(time.Second))
	cancelAt := time.Now()
	cancel()
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end within 30s of Ctrl-C")
	}
	t.Logf("Ctrl-C: generators ended %v after it, the run after %v:\n%s", lastEnd(t, runB, regions).Sub(cancelAt).Round(time.Millisecond),
		time.Since(cancelAt).Round(time.Millisecond), r.err)
	if r.code != ExitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want %d", r.code, ExitInterrupted)
	}
	for _, want := range []string{"set to 0", "throttled (was 7)", "restored to 7", "reservation removed"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("run output lacks %q", want)
		}
	}
	if n, ok := eu.svc.Reserved(); !ok || n != 7 {
		t.Errorf("eu-west-1 reserved %d (set %v) after the run, want 7 again", n, ok)
	}
	if _, ok := us.svc.Reserved(); ok {
		t.Error("us-east-1 keeps a reservation after the run")
	}
}

// TestRunAWSOverridePreflight: regions given with --aws-config have no
// stack, but the preflight still checks the credentials (moto's STS), the
// function the file names (the Lambda stand-in) and the account's
// concurrency, and sends nothing when a check fails.
func TestRunAWSOverridePreflight(t *testing.T) {
	la := startLocalAWS(t)
	regions, awsConfig := startBurstRegions(t, la, map[string]int{}, "us-east-1", "eu-west-1")
	us, eu := regions[0], regions[1]
	dir := t.TempDir()
	planPath := writePlan(t, dir, "burst.yaml", awsPlan)
	run := func(extra ...string) (int, string) {
		args := append([]string{"run", planPath, "--backend", "aws", "--dispatch", "burst", "--aws-config", awsConfig,
			"--target", "http://127.0.0.1:9", "--lead", "3s", "--yes", "--quiet", "--store", dir}, extra...)
		code, _, stderr := runCLI(context.Background(), args...)
		return code, stderr
	}
	nothingSent := func(what string) {
		t.Helper()
		for _, r := range regions {
			if n := queueDepth(t, la.sqs, r.burstURL); n != 0 || r.svc.Accepted() != 0 {
				t.Errorf("%s: %s: %d messages sent, %d invokes accepted; want none", what, r.name, n, r.svc.Accepted())
			}
		}
	}

	// A stopped function (the kill switch's reserved concurrency 0).
	if err := eu.fn.SetReserved(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	code, stderr := run()
	if code != ExitInfra || !strings.Contains(stderr, "preflight: eu-west-1: generator function "+eu.svc.Function()+" is stopped (reserved concurrency 0") ||
		!strings.Contains(stderr, "aws lambda delete-function-concurrency --region eu-west-1") || strings.Contains(stderr, "us-east-1:") {
		t.Errorf("stopped function: exit %d\n%s", code, stderr)
	}
	nothingSent("stopped function")

	// Too small a reservation for 2 generators × 2 slices at once.
	if err := eu.fn.SetReserved(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	code, stderr = run()
	if code != ExitInfra || !strings.Contains(stderr, "eu-west-1: the plan needs 4 generators at once but function "+eu.svc.Function()+" has a reserved concurrency of 3") ||
		!strings.Contains(stderr, "put-function-concurrency") {
		t.Errorf("reservation of 3: exit %d\n%s", code, stderr)
	}
	if err := eu.fn.DeleteReserved(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The account's limit (each stand-in: 1000) against more generators.
	code, stderr = run("--generators", "600", "--allow-large")
	for _, r := range regions {
		if !strings.Contains(stderr, r.name+": the plan needs 1200 generators at once but the account's Lambda concurrency limit there is 1000") {
			t.Errorf("1200 generators in %s: exit %d\n%s", r.name, code, stderr)
		}
	}
	nothingSent("over the account")

	// A function the file names that does not exist.
	bad := filepath.Join(dir, "bad.yaml")
	src, err := os.ReadFile(awsConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), "function: "+us.svc.Function(), "function: not-deployed", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	awsConfig = bad
	code, stderr = run()
	if code != ExitInfra || !strings.Contains(stderr, "us-east-1: generator function not-deployed: ") || !strings.Contains(stderr, "check function: for us-east-1 in the override file") {
		t.Errorf("unknown function: exit %d\n%s", code, stderr)
	}

	// Without credentials nothing else is asked.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // no instance metadata to ask either
	code, stderr = run()
	if code != ExitInfra || !strings.Contains(stderr, "no working AWS credentials") || !strings.Contains(stderr, "aws configure") {
		t.Errorf("no credentials: exit %d\n%s", code, stderr)
	}
	nothingSent("no credentials")
}
