package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/awsstack"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/multistore"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// envEndpointS3 points the S3 client at an S3-compatible server; it then
// uses path-style addressing.
const envEndpointS3 = "AWS_ENDPOINT_URL_S3"

// awsFlags are the flags of `stampede run` that choose and configure the
// backend.
type awsFlags struct {
	backend string
	config  string // endpoints file (awsstack.LoadOverrides)
	stack   string
	lead    time.Duration
}

// addBackendFlags registers the backend flags on f.
func addBackendFlags(f *pflag.FlagSet, fl *awsFlags) {
	f.StringVar(&fl.backend, "backend", orchestrator.BackendLocal,
		"where generators run: local (goroutines of this process) or aws (Lambda in each plan region)")
	f.StringVar(&fl.config, "aws-config", "",
		"YAML file mapping regions to their queue_url and bucket (aws backend; instead of the stack's outputs)")
	f.StringVar(&fl.stack, "stack", awsstack.DefaultStack,
		"CloudFormation stack of the generators in every region (aws backend)")
	f.DurationVar(&fl.lead, "lead", 0,
		fmt.Sprintf("how long after dispatch the load starts, so every generator is up (default %v local, %v aws)",
			orchestrator.DefaultLeadLocal, orchestrator.DefaultLeadAWS))
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
}

// adapterOps counts the requests the orchestrator's AWS clients really
// made, retries included: one LIST through the multi-region store is one
// LIST per region's bucket, which a counter above that store would miss.
type adapterOps struct {
	queues []*sqsqueue.Queue
	stores []*s3store.Store
}

// Ops sums the adapters' counters.
func (a adapterOps) Ops() cost.Ops {
	var o cost.Ops
	for _, q := range a.queues {
		n := q.Ops()
		o.SQSSends += n.Sends
		o.SQSReceives += n.Receives
		o.SQSDeletes += n.Deletes
	}
	for _, st := range a.stores {
		n := st.Ops()
		o.S3Puts += n.Puts
		o.S3Gets += n.Gets
		o.S3Lists += n.Lists
	}
	return o
}

// check validates the backend flags.
func (fl awsFlags) check() error {
	switch {
	case fl.backend != orchestrator.BackendLocal && fl.backend != orchestrator.BackendAWS:
		return exit(ExitUsage, "--backend %q: want %s or %s", fl.backend, orchestrator.BackendLocal, orchestrator.BackendAWS)
	case fl.backend == orchestrator.BackendLocal && fl.config != "":
		return exit(ExitUsage, "--aws-config is for the aws backend: add --backend aws")
	case fl.lead < 0:
		return exit(ExitUsage, "--lead %v: want a positive duration", fl.lead)
	}
	return nil
}

// startBackend starts the backend the flags name (checked) for p. logw
// receives the local generators' log (nil: none); the aws backend prints
// its plan per region on stderr before anything is sent.
func startBackend(ctx context.Context, p *plan.Plan, fl runFlags, logw, stderr io.Writer) (*runBackend, error) {
	if fl.aws.backend != orchestrator.BackendAWS {
		lb := startLocal(ctx, p, fl.store, logw)
		return &runBackend{backend: lb.backend, lead: fl.aws.lead, close: lb.close}, nil
	}
	b, ops, err := newAWSBackend(ctx, p, fl.aws, stderr)
	if err != nil {
		return nil, err
	}
	lead := fl.aws.lead
	if lead == 0 {
		lead = orchestrator.LeadAWS(p)
	}
	return &runBackend{backend: b, lead: lead, close: func() {}, ops: ops}, nil
}

// newAWSBackend finds each plan region's queue and bucket (from the
// --aws-config file, else the stack's CloudFormation outputs), checks the
// stack regions before anything is sent (awsstack.Preflight), prints the
// generators per region, and returns a backend of one SQS queue per region
// and one store over every region's bucket, with the adapters' request
// counters.
func newAWSBackend(ctx context.Context, p *plan.Plan, fl awsFlags, stderr io.Writer) (orchestrator.Backend, adapterOps, error) {
	var none orchestrator.Backend
	var ops adapterOps
	regions := make([]string, len(p.Regions))
	for i, r := range p.Regions {
		regions[i] = r.Name
	}
	var overrides awsstack.Overrides
	if fl.config != "" {
		o, err := awsstack.LoadOverrides(fl.config)
		if err != nil {
			return none, ops, exit(ExitUsage, "--aws-config: %w", err)
		}
		overrides = o
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return none, ops, exit(ExitInfra, "aws backend: load AWS config: %w", err)
	}
	var stackRegions []string
	needed := map[string]int{}
	nSlices := max(1, len(orchestrator.SliceWindows(p.Engine.Duration, p.Slice)))
	for _, r := range p.Regions {
		if _, ok := overrides[r.Name]; !ok {
			stackRegions = append(stackRegions, r.Name)
		}
		// A slice's generators start while the previous slice's still end.
		needed[r.Name] = r.Generators * min(2, nSlices)
	}
	if len(stackRegions) > 0 {
		if err := awsstack.Preflight(ctx, cfg, stackRegions, fl.stack, needed); err != nil {
			return none, ops, exit(ExitInfra, "aws backend: preflight: %w", err)
		}
	}
	eps, err := awsstack.Resolve(ctx, cfg, regions, fl.stack, overrides)
	if err != nil {
		return none, ops, exit(ExitInfra, "aws backend: %w", err)
	}
	b := orchestrator.Backend{Name: orchestrator.BackendAWS, Queues: map[string]orchestrator.Queue{}}
	stores := make([]multistore.Region, len(regions))
	for i, r := range regions {
		ep := eps[r]
		rc := cfg.Copy()
		rc.Region = r
		q := sqsqueue.New(sqs.NewFromConfig(rc), ep.QueueURL)
		st := s3store.New(newS3Client(rc), ep.Bucket)
		b.Queues[r] = q
		stores[i] = multistore.Region{Name: r, Store: st}
		ops.queues = append(ops.queues, q)
		ops.stores = append(ops.stores, st)
	}
	if b.Store, err = multistore.New(stores...); err != nil {
		return none, ops, exit(ExitUsage, "aws backend: %w", err)
	}
	printAWSPlan(stderr, p, eps, nSlices)
	return b, ops, nil
}

// newS3Client is cfg's S3 client, path-style when AWS_ENDPOINT_URL_S3
// points at an S3-compatible server.
func newS3Client(cfg aws.Config) *s3.Client {
	pathStyle := os.Getenv(envEndpointS3) != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}

// printAWSPlan prints, per region, the generators and where their tasks
// and results go.
func printAWSPlan(w io.Writer, p *plan.Plan, eps map[string]awsstack.Endpoints, slices int) {
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
		fmt.Fprintf(w, "  %-14s %4d generators  queue %s  bucket %s%s\n", r.Name, r.Generators, ep.QueueURL, ep.Bucket, fn)
	}
}
