package awsstack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// Stack output keys, as template.yaml names them.
const (
	OutputQueueURL      = "QueueUrl"
	OutputBurstQueueURL = "BurstQueueUrl"
	OutputBucket        = "BucketName"
	OutputFunctionName  = "FunctionName"
	OutputFunctionArn   = "FunctionArn"
)

// DefaultStack is the stack name `stampede deploy` uses unless told otherwise.
const DefaultStack = "stampede"

// ErrNoStack is wrapped by the error Discover returns when the stack does
// not exist in the region.
var ErrNoStack = errors.New("stack not found")

// noStackError is ErrNoStack for one region, with the fix.
type noStackError struct{ region, stack string }

func (e *noStackError) Error() string {
	return fmt.Sprintf("stack %s not found in %s: run `stampede deploy --regions %s --stack-name %s`",
		e.stack, e.region, e.region, e.stack)
}

func (e *noStackError) Is(target error) bool { return target == ErrNoStack }

// Endpoints is where one region's generator stack lives.
type Endpoints struct {
	Region   string `json:"region" yaml:"-"`
	QueueURL string `json:"queue_url" yaml:"queue_url"`
	// BurstQueueURL is the queue of the burst dispatch (no event source
	// mapping reads it); empty for stacks deployed before it existed.
	BurstQueueURL string `json:"burst_queue_url,omitempty" yaml:"burst_queue_url,omitempty"`
	Bucket        string `json:"bucket" yaml:"bucket"`
	FunctionName  string `json:"function,omitempty" yaml:"function,omitempty"`
}

// usable are the stack states whose outputs can be trusted.
var usable = map[types.StackStatus]bool{
	types.StackStatusCreateComplete:         true,
	types.StackStatusUpdateComplete:         true,
	types.StackStatusUpdateRollbackComplete: true,
	types.StackStatusImportComplete:         true,
	types.StackStatusImportRollbackComplete: true,
}

// Discover reads the endpoints of stack in region from its CloudFormation
// outputs (DescribeStacks). cfg's region is replaced by region. A missing
// stack wraps ErrNoStack; every error says how to fix it.
func Discover(ctx context.Context, cfg aws.Config, region, stack string) (Endpoints, error) {
	cfg = cfg.Copy()
	cfg.Region = region
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{
		StackName: aws.String(stack),
	})
	if isNotFound(err) || (err == nil && len(out.Stacks) == 0) {
		return Endpoints{}, &noStackError{region: region, stack: stack}
	}
	if err != nil {
		return Endpoints{}, fmt.Errorf("describe stack %s in %s: %w", stack, region, err)
	}
	s := out.Stacks[0]
	if !usable[s.StackStatus] {
		return Endpoints{}, fmt.Errorf("stack %s in %s is %s: %s", stack, region, s.StackStatus, statusFix(s.StackStatus, region, stack))
	}
	outputs := make(map[string]string, len(s.Outputs))
	for _, o := range s.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	ep := Endpoints{
		Region:        region,
		QueueURL:      outputs[OutputQueueURL],
		BurstQueueURL: outputs[OutputBurstQueueURL],
		Bucket:        outputs[OutputBucket],
		FunctionName:  outputs[OutputFunctionName],
	}
	for key, v := range map[string]string{OutputQueueURL: ep.QueueURL, OutputBucket: ep.Bucket, OutputFunctionName: ep.FunctionName} {
		if v == "" {
			return Endpoints{}, fmt.Errorf("stack %s in %s has no output %s (is it a stampede stack?): redeploy with `stampede deploy --regions %s --stack-name %s`",
				stack, region, key, region, stack)
		}
	}
	return ep, nil
}

// statusFix says what to do about a stack in an unusable state.
func statusFix(st types.StackStatus, region, stack string) string {
	if strings.HasSuffix(string(st), "_IN_PROGRESS") {
		return "wait until it completes (`aws cloudformation wait stack-update-complete` or the console) and try again"
	}
	return fmt.Sprintf("remove it with `stampede undeploy --regions %s --stack-name %s` and deploy again", region, stack)
}

// isNotFound reports whether err is CloudFormation's "Stack with id X does
// not exist" (a ValidationError).
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist")
}

// Resolve returns the endpoints of every region: from overrides where the
// region has an entry, else from the stack's outputs. All failures are
// reported at once.
func Resolve(ctx context.Context, cfg aws.Config, regions []string, stack string, overrides Overrides) (map[string]Endpoints, error) {
	eps := make(map[string]Endpoints, len(regions))
	var errs []error
	for _, r := range regions {
		if ep, ok := overrides[r]; ok {
			eps[r] = ep
			continue
		}
		ep, err := Discover(ctx, cfg, r, stack)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		eps[r] = ep
	}
	return eps, errors.Join(errs...)
}
