package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/internal/syncbuf"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// awsEnv is the AWS-compatible servers the aws scenarios share: one
// local-aws-sqs process and one gofakes3, for the parent test's lifetime,
// and for the CLI's preflight moto_server's STS (credentials) and a Lambda
// service stand-in (the account's concurrency; the scenarios' emulators
// are invoked by the harness's event source, not through it).
type awsEnv struct {
	sqsURL, s3URL string
	stsURL        string
	lambdaURL     string
	sqs           *sqs.Client // direct, for set-up and checks
	s3            *s3.Client
}

func newAWSEnv(t *testing.T) *awsEnv {
	t.Helper()
	e := &awsEnv{sqsURL: localaws.StartSQS(t), s3URL: localaws.StartS3(t), stsURL: localaws.StartMoto(t)}
	e.lambdaURL = lambdaharness.StartService(t, lambdaharness.ServiceOptions{Region: awsRegionName}).URL
	ctx := context.Background()
	e.sqs = localaws.NewSQSClient(localaws.Config(ctx, t, e.sqsURL))
	e.s3 = localaws.NewS3Client(localaws.Config(ctx, t, e.s3URL))
	return e
}

// awsOptions shape one scenario's region.
type awsOptions struct {
	Emulators int
	// Visibility is the queue's visibility timeout in seconds (default 30).
	Visibility int
	// SQSRules and S3Rules fault the requests of everyone — the CLI, the
	// generators, the harness's event source — through proxies.
	SQSRules, S3Rules []localaws.Rule
	OnReceive         func(sqsqueue.Message)
	Timeout           time.Duration // the function timeout (default 60s)
}

// awsRegion is one scenario's us-east-1: a fresh queue and bucket behind
// fault proxies, a fleet of emulators running the real bootstrap, the
// --aws-config file and the environment that point the CLI at them.
type awsRegion struct {
	queueURL, bucket  string
	sqsProxy, s3Proxy *localaws.FaultProxy
	store             *s3store.Store // direct, for checks
	fleet             *lambdaharness.Fleet
	log               syncbuf.Buffer // the emulators' output and the harness's
	config            string         // --aws-config file
	env               []string       // the CLI's AWS environment
	bins              lambdaharness.Binaries
}

const awsRegionName = "us-east-1"

func newAWSRegion(t *testing.T, e *awsEnv, o awsOptions) *awsRegion {
	t.Helper()
	bins := awsBinaries(t)
	ar := &awsRegion{bins: bins}
	var err error
	if ar.sqsProxy, err = localaws.StartFaultProxy(e.sqsURL, o.SQSRules...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ar.sqsProxy.Close)
	if ar.s3Proxy, err = localaws.StartFaultProxy(e.s3URL, o.S3Rules...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ar.s3Proxy.Close)
	vis := o.Visibility
	if vis == 0 {
		vis = 30
	}
	ar.queueURL = localaws.CreateQueueAttrs(t, e.sqs, "chaos", map[string]string{"VisibilityTimeout": strconv.Itoa(vis)})
	ar.bucket = localaws.CreateBucket(t, e.s3, "chaos")
	ar.store = s3store.New(e.s3, ar.bucket)

	ctx := context.Background()
	viaProxy := localaws.NewSQSClient(localaws.Config(ctx, t, ar.sqsProxy.URL))
	ar.fleet = lambdaharness.Start(t, lambdaharness.Options{
		Binaries:  bins,
		Queue:     sqsqueue.New(viaProxy, ar.queueURL),
		QueueURL:  ar.queueURL,
		Region:    awsRegionName,
		Emulators: max(o.Emulators, 1),
		Timeout:   o.Timeout,
		OnReceive: o.OnReceive,
		Logf:      ar.log.Logf,
		Env: map[string]string{
			"BUCKET":                ar.bucket,
			"AWS_ENDPOINT_URL_S3":   ar.s3Proxy.URL,
			"AWS_ACCESS_KEY_ID":     localaws.AccessKey,
			"AWS_SECRET_ACCESS_KEY": localaws.SecretKey,
		},
	})
	dir := t.TempDir()
	ar.config = filepath.Join(dir, "aws.yaml")
	cfg := fmt.Sprintf("%s:\n  queue_url: %s\n  bucket: %s\n", awsRegionName, ar.queueURL, ar.bucket)
	if err := os.WriteFile(ar.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(dir, "none")
	ar.env = []string{
		"AWS_ENDPOINT_URL_SQS=" + ar.sqsProxy.URL,
		"AWS_ENDPOINT_URL_S3=" + ar.s3Proxy.URL,
		"AWS_ENDPOINT_URL_STS=" + e.stsURL,
		"AWS_ENDPOINT_URL_LAMBDA=" + e.lambdaURL,
		"AWS_ACCESS_KEY_ID=" + localaws.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + localaws.SecretKey,
		"AWS_REGION=" + awsRegionName,
		"AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none,
	}
	return ar
}

// waitLog waits until the fleet's log holds text (at most d).
func (ar *awsRegion) waitLog(text string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(ar.log.String(), text) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// awsRun is one `stampede run --backend aws` of a scenario.
type awsRun struct {
	*cliRun
	ar  *awsRegion
	out string // the report's directory
}

// start starts `stampede run` of the plan src against target on the
// region, its report to a fresh directory.
func (ar *awsRegion) start(t testing.TB, src, target string) *awsRun {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	return &awsRun{cliRun: startCLI(t, ar.env, ar.runArgs(writePlan(t, dir, src), target, out)...), ar: ar, out: out}
}

// finish waits for the run (two minutes at most), fails t unless it exits
// with want, reads its report and counts the run in r.
func (run *awsRun) finish(t testing.TB, r *Row, want int) *report.Report {
	t.Helper()
	if code := run.wait(t, 2*time.Minute); code != want {
		t.Fatalf("stampede run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s\ngenerators:\n%s",
			code, want, run.stdout.String(), run.stderr.String(), run.ar.log.String())
	}
	rep := readReport(t, run.out)
	r.Runs, r.Completed, r.Tasks, r.Reported = 1, 1, rep.Shards.Expected, rep.Shards.Completed
	return rep
}

// runArgs are the arguments of `stampede run PLAN` on this region.
func (ar *awsRegion) runArgs(plan, target, out string, extra ...string) []string {
	return append([]string{"run", plan, "--backend", "aws", "--aws-config", ar.config, "--target", target,
		"--lead", "2s", "--out", out, "--yes", "--progress-every", "500ms"}, extra...)
}

// runID is the id of the only run in the bucket (waiting up to 20s for it).
func (ar *awsRegion) runID(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		keys, err := ar.store.List(context.Background(), "runs/")
		if err == nil {
			for _, k := range keys {
				if id, ok := strings.CutSuffix(strings.TrimPrefix(k, "runs/"), "/manifest.json"); ok {
					return id
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run in bucket %s after 20s (%v)", ar.bucket, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// s3URL is the run's address for `stampede report` and `stampede stop`.
func (ar *awsRegion) s3URL(id string) string { return "s3://" + ar.bucket + "/runs/" + id }

// proc is one process of this machine.
type proc struct {
	pid, ppid int
	exe       string
	args      []string
}

// procs lists the processes whose parent is ppid.
func procs(ppid int) []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		if p, _ := strconv.Atoi(fields[1]); p != ppid {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, proc{pid: pid, ppid: ppid, exe: exe, args: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")})
	}
	return out
}

// emulators are the RIE processes of this region's fleet (their
// environment names its bucket).
func (ar *awsRegion) emulators() []proc {
	var out []proc
	for _, p := range procs(os.Getpid()) {
		if len(p.args) > 0 && p.args[0] == ar.bins.RIE && slices.Contains(p.args, ar.bins.Bootstrap) &&
			slices.Contains(environ(p.pid), "BUCKET="+ar.bucket) {
			out = append(out, p)
		}
	}
	return out
}

// environ is a process's environment.
func environ(pid int) []string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	return strings.Split(string(b), "\x00")
}

// runtimeAPI is an emulator's runtime API address (what it sets
// AWS_LAMBDA_RUNTIME_API to).
func runtimeAPI(e proc) string {
	for i, a := range e.args {
		if a == "--runtime-api-address" && i+1 < len(e.args) {
			return e.args[i+1]
		}
	}
	return ""
}

// killBootstrap kills (SIGKILL) the bootstrap running under one of this
// region's emulators and returns its pid (0 if none runs).
func (ar *awsRegion) killBootstrap(t testing.TB) int {
	t.Helper()
	for _, e := range ar.emulators() {
		for _, c := range procs(e.pid) {
			if len(c.args) > 0 && c.args[0] == ar.bins.Bootstrap {
				if err := syscall.Kill(c.pid, syscall.SIGKILL); err != nil {
					t.Fatalf("kill bootstrap %d: %v", c.pid, err)
				}
				return c.pid
			}
		}
	}
	return 0
}
