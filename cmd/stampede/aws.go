package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/awsstack"
	"github.com/stampede-load/stampede/orchestrator/backstop"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/multistore"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// The Lambda adapter is what the burst dispatch and the backstop use.
var (
	_ orchestrator.Invoker = (*lambdafunc.Function)(nil)
	_ backstop.Function    = (*lambdafunc.Function)(nil)
)

// envEndpointS3 points the S3 client at an S3-compatible server; it then
// uses path-style addressing.
const envEndpointS3 = "AWS_ENDPOINT_URL_S3"

// awsFlags are the flags of `stampede run` that choose and configure the
// backend.
type awsFlags struct {
	backend  string
	config   string // endpoints file (awsstack.LoadOverrides)
	stack    string
	dispatch string // orchestrator.DispatchSQS or DispatchBurst
	lead     time.Duration
}

// addBackendFlags registers the backend flags on f.
func addBackendFlags(f *pflag.FlagSet, fl *awsFlags) {
	f.StringVar(&fl.backend, "backend", orchestrator.BackendLocal,
		"where generators run: local (goroutines of this process) or aws (Lambda in each plan region)")
	addStackLookupFlags(f, &fl.config, &fl.stack)
	f.StringVar(&fl.dispatch, "dispatch", orchestrator.DispatchSQS,
		"how generators start on aws: sqs (the task queue's event source mapping; ramps ~300/min) or burst (direct asynchronous invokes; 1,000 in ~15 s)")
	f.DurationVar(&fl.lead, "lead", 0,
		fmt.Sprintf("how long after dispatch the load starts, so every generator is up (default %v local; aws: %v plus the event source's ramp, or %v plus Lambda's scaling with --dispatch burst)",
			orchestrator.DefaultLeadLocal, orchestrator.DefaultLeadAWS, orchestrator.DefaultLeadBurst))
}

// addStackLookupFlags registers --aws-config and --stack (run and stop).
func addStackLookupFlags(f *pflag.FlagSet, config, stack *string) {
	f.StringVar(config, "aws-config", "",
		"YAML file mapping regions to their queue_url, burst_queue_url, bucket and function (aws backend; instead of the stack's outputs)")
	f.StringVar(stack, "stack", awsstack.DefaultStack,
		"CloudFormation stack of the generators in every region (aws backend)")
}

// runBackend is a started backend and how to end it.
type runBackend struct {
	backend orchestrator.Backend
	lead    time.Duration // 0: the orchestrator's default for the backend
	close   func()
	// ops counts the orchestrator's own SQS and S3 requests, from the AWS
	// adapters themselves (nil on the local backend: runPlan wraps the
	// store and queues in counters instead).
	ops cost.Counter
	// kill is the aws backend's kill-switch backstop (nil: none).
	kill *killSwitch
}

// adapterOps counts the requests the orchestrator's AWS clients really
// made, retries included: one LIST through the multi-region store is one
// LIST per region's bucket, which a counter above that store would miss.
// Its slices are by region, in regions' order (invokers only with burst
// dispatch).
type adapterOps struct {
	regions  []string
	queues   []*sqsqueue.Queue
	stores   []*s3store.Store
	invokers []*countedInvoker
}

var _ cost.RegionCounter = adapterOps{}

// Ops sums the adapters' counters.
func (a adapterOps) Ops() cost.Ops {
	var o cost.Ops
	for _, r := range a.RegionOps() {
		o.Add(r)
	}
	return o
}

// RegionOps is each region's adapters' counts.
func (a adapterOps) RegionOps() map[string]cost.Ops {
	out := make(map[string]cost.Ops, len(a.regions))
	for i, r := range a.regions {
		var o cost.Ops
		if i < len(a.queues) {
			n := a.queues[i].Ops()
			o.SQSSends, o.SQSReceives, o.SQSDeletes = n.Sends, n.Receives, n.Deletes
		}
		if i < len(a.stores) {
			n := a.stores[i].Ops()
			o.S3Puts, o.S3Gets, o.S3Lists = n.Puts, n.Gets, n.Lists
		}
		if i < len(a.invokers) {
			n := a.invokers[i].fn.Ops()
			o.InvokesAccepted, o.InvokeAttempts, o.InvokeThrottled = a.invokers[i].accepted.Load(), n.Invokes, n.Throttled
		}
		out[r] = o
	}
	return out
}

// countedInvoker is the burst dispatch's invoker of one region: the Lambda
// adapter (which counts attempts and 429s), and the invokes Lambda
// accepted, each a billed invocation.
type countedInvoker struct {
	fn       *lambdafunc.Function
	accepted atomic.Int64
}

var _ orchestrator.Invoker = (*countedInvoker)(nil)

func (c *countedInvoker) InvokeAsync(ctx context.Context, payload []byte) error {
	if err := c.fn.InvokeAsync(ctx, payload); err != nil {
		return err
	}
	c.accepted.Add(1)
	return nil
}

// check validates the backend flags.
func (fl awsFlags) check() error {
	switch {
	case fl.backend != orchestrator.BackendLocal && fl.backend != orchestrator.BackendAWS:
		return exit(ExitUsage, "--backend %q: want %s or %s", fl.backend, orchestrator.BackendLocal, orchestrator.BackendAWS)
	case fl.backend == orchestrator.BackendLocal && fl.config != "":
		return exit(ExitUsage, "--aws-config is for the aws backend: add --backend aws")
	case fl.dispatch != orchestrator.DispatchSQS && fl.dispatch != orchestrator.DispatchBurst:
		return exit(ExitUsage, "--dispatch %q: want %s or %s", fl.dispatch, orchestrator.DispatchSQS, orchestrator.DispatchBurst)
	case fl.backend == orchestrator.BackendLocal && fl.dispatch != orchestrator.DispatchSQS:
		return exit(ExitUsage, "--dispatch %s is for the aws backend: add --backend aws", fl.dispatch)
	case fl.lead < 0:
		return exit(ExitUsage, "--lead %v: want a positive duration", fl.lead)
	}
	return nil
}

// leadFor is the lead of a run of p: --lead, else the aws backend's default
// for the dispatch (0 on the local backend: the orchestrator's default).
func (fl awsFlags) leadFor(p *plan.Plan) time.Duration {
	switch {
	case fl.lead > 0 || fl.backend != orchestrator.BackendAWS:
		return fl.lead
	case fl.dispatch == orchestrator.DispatchBurst:
		return orchestrator.LeadBurst(p)
	}
	return orchestrator.LeadAWS(p)
}

// startBackend starts the backend the flags name (checked) for p. logw
// receives the local generators' log (nil: none); the aws backend prints
// its plan per region on stderr before anything is sent.
func startBackend(ctx context.Context, p *plan.Plan, fl runFlags, logw, stderr io.Writer) (*runBackend, error) {
	if fl.aws.backend != orchestrator.BackendAWS {
		lb := startLocal(ctx, p, fl.store, logw)
		return &runBackend{backend: lb.backend, lead: fl.aws.lead, close: lb.close}, nil
	}
	env, err := resolveAWS(ctx, p, fl.aws)
	if err != nil {
		return nil, err
	}
	b, ops, err := env.backend(fl.aws.dispatch)
	if err != nil {
		return nil, err
	}
	lead := fl.aws.leadFor(p)
	printAWSPlan(stderr, p, env.eps, env.slices, fl.aws.dispatch)
	printDispatch(stderr, fl.aws.dispatch, lead)
	return &runBackend{backend: b, lead: lead, close: func() {}, ops: ops, kill: env.killSwitch(stderr, runReleaseFlags(fl.aws))}, nil
}

// runReleaseFlags are the flags a `stampede stop --release` needs to find
// the stacks of a run started with fl.
func runReleaseFlags(fl awsFlags) string {
	return releaseFlags(stopFlags{config: fl.config, stack: fl.stack})
}

// awsEnv is a run's AWS setting: the SDK configuration and each plan
// region's endpoints.
type awsEnv struct {
	cfg     aws.Config
	regions []string // the plan's, home first
	eps     map[string]awsstack.Endpoints
	slices  int
}

// resolveAWS finds each plan region's queue, burst queue, bucket and
// function (from the --aws-config file, else the stack's CloudFormation
// outputs) and checks every region before anything is sent
// (awsstack.Preflight): credentials, the stack (none for an override), the
// function and the concurrency.
func resolveAWS(ctx context.Context, p *plan.Plan, fl awsFlags) (*awsEnv, error) {
	env := &awsEnv{slices: max(1, len(orchestrator.SliceWindows(p.Engine.Duration, p.Slice)))}
	for _, r := range p.Regions {
		env.regions = append(env.regions, r.Name)
	}
	overrides, err := loadOverrides(fl.config)
	if err != nil {
		return nil, err
	}
	if env.cfg, err = config.LoadDefaultConfig(ctx); err != nil {
		return nil, exit(ExitInfra, "aws backend: load AWS config: %w", err)
	}
	needed := map[string]int{}
	for _, r := range p.Regions {
		// A slice's generators start while the previous slice's still end.
		needed[r.Name] = r.Generators * min(2, env.slices)
	}
	// Regions in the override file have no stack: their function (when
	// named) and the account's concurrency are still checked.
	if err := awsstack.Preflight(ctx, env.cfg, env.regions, fl.stack, overrides, needed); err != nil {
		return nil, exit(ExitInfra, "aws backend: preflight: %w", err)
	}
	if env.eps, err = awsstack.Resolve(ctx, env.cfg, env.regions, fl.stack, overrides); err != nil {
		return nil, exit(ExitInfra, "aws backend: %w", err)
	}
	if fl.dispatch == orchestrator.DispatchBurst {
		for _, r := range env.regions {
			if ep := env.eps[r]; ep.BurstQueueURL == "" || ep.FunctionName == "" {
				return nil, exit(ExitInfra, "aws backend: --dispatch burst needs the burst queue and the function of %s: "+
					"redeploy the stack (`stampede deploy --regions %s --stack-name %s`: its BurstQueueUrl output came with burst dispatch), "+
					"or give burst_queue_url and function in --aws-config", r, r, fl.stack)
			}
		}
	}
	return env, nil
}

// loadOverrides reads the --aws-config file ("" for none).
func loadOverrides(path string) (awsstack.Overrides, error) {
	if path == "" {
		return nil, nil
	}
	o, err := awsstack.LoadOverrides(path)
	if err != nil {
		return nil, exit(ExitUsage, "--aws-config: %w", err)
	}
	return o, nil
}

// regionConfig is env's SDK configuration for region r.
func (env *awsEnv) regionConfig(r string) aws.Config {
	rc := env.cfg.Copy()
	rc.Region = r
	return rc
}

// backend returns a backend of one SQS queue per region (the task queue,
// or the burst queue and the function's invoker with burst dispatch) and
// one store over every region's bucket, with the adapters' request
// counters.
func (env *awsEnv) backend(dispatch string) (orchestrator.Backend, adapterOps, error) {
	ops := adapterOps{regions: env.regions}
	b := orchestrator.Backend{Name: orchestrator.BackendAWS, Queues: map[string]orchestrator.Queue{}}
	if dispatch == orchestrator.DispatchBurst {
		b.Invokers = map[string]orchestrator.Invoker{}
	}
	for _, r := range env.regions {
		ep, rc := env.eps[r], env.regionConfig(r)
		url := ep.QueueURL
		if b.Invokers != nil {
			url = ep.BurstQueueURL
			inv := &countedInvoker{fn: lambdafunc.New(lambda.NewFromConfig(rc), ep.FunctionName)}
			b.Invokers[r] = inv
			ops.invokers = append(ops.invokers, inv)
		}
		q := sqsqueue.New(sqs.NewFromConfig(rc), url)
		b.Queues[r] = q
		ops.queues = append(ops.queues, q)
	}
	st, stores, err := env.store()
	if err != nil {
		return b, ops, err
	}
	b.Store, ops.stores = st, stores
	return b, ops, nil
}

// store is one store over every region's bucket (the plan's first region
// is home), and each region's own.
func (env *awsEnv) store() (*multistore.Store, []*s3store.Store, error) {
	var stores []*s3store.Store
	regions := make([]multistore.Region, len(env.regions))
	for i, r := range env.regions {
		st := s3store.New(newS3Client(env.regionConfig(r)), env.eps[r].Bucket)
		regions[i] = multistore.Region{Name: r, Store: st}
		stores = append(stores, st)
	}
	ms, err := multistore.New(regions...)
	if err != nil {
		return nil, nil, exit(ExitUsage, "aws backend: %w", err)
	}
	return ms, stores, nil
}

// newS3Client is cfg's S3 client, path-style when AWS_ENDPOINT_URL_S3
// points at an S3-compatible server.
func newS3Client(cfg aws.Config) *s3.Client {
	pathStyle := os.Getenv(envEndpointS3) != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}

// printAWSPlan prints, per region, the generators and where their tasks
// (the task queue, or the burst queue with burst dispatch) and results go.
func printAWSPlan(w io.Writer, p *plan.Plan, eps map[string]awsstack.Endpoints, slices int, dispatch string) {
	total := 0
	for _, r := range p.Regions {
		total += r.Generators
	}
	fmt.Fprintf(w, "aws backend: %d generators in %d regions, %d time slices each (%d tasks)\n",
		total, len(p.Regions), slices, total*slices)
	for _, r := range p.Regions {
		ep := eps[r.Name]
		fn := ""
		if ep.FunctionName != "" {
			fn = ", function " + ep.FunctionName
		}
		queue := ep.QueueURL
		if dispatch == orchestrator.DispatchBurst {
			queue = ep.BurstQueueURL
		}
		fmt.Fprintf(w, "  %-14s %4d generators  queue %s  bucket %s%s\n", r.Name, r.Generators, queue, ep.Bucket, fn)
	}
}

// printDispatch says how the generators will start, and the lead.
func printDispatch(w io.Writer, dispatch string, lead time.Duration) {
	fmt.Fprintf(w, "dispatch: %s\n", dispatchText(dispatch, lead))
}

// dispatchText describes a dispatch mode and its lead (the plan summary
// and the report's cost assumptions).
func dispatchText(dispatch string, lead time.Duration) string {
	if dispatch == orchestrator.DispatchBurst {
		return fmt.Sprintf("burst — tasks go to each region's burst queue, then one asynchronous invoke per task starts a generator that takes one; load starts %v after dispatch", lead)
	}
	return fmt.Sprintf("sqs — tasks go to each region's task queue, whose event source mapping starts the generators (about 300 more a minute); load starts %v after dispatch", lead)
}
