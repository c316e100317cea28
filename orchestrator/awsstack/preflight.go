package awsstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Preflight checks, before anything is sent, that a run of stack in regions
// can go ahead: the credentials work (STS GetCallerIdentity), the stack is
// deployed in every region, the generator function is not stopped
// (reserved concurrency 0), and each region's Lambda concurrency — the
// function's reserved concurrency if it has one, else the account's
// unreserved pool (GetAccountSettings) — covers generators[region], the
// generators that must run there at once. cfg's region is replaced per
// region.
//
// A region in overrides has no stack to check: its function, if the
// override names one, is checked as the stack's would be, and the account's
// concurrency in any case.
//
// Bad credentials end the check at once; otherwise every problem in every
// region is reported, joined, each with the command or setting that fixes it.
func Preflight(ctx context.Context, cfg aws.Config, regions []string, stack string, overrides Overrides, generators map[string]int) error {
	if len(regions) == 0 {
		return errors.New("preflight: no regions")
	}
	if err := checkCredentials(ctx, cfg, regions[0]); err != nil {
		return err
	}
	var errs []error
	for _, r := range regions {
		fn := function{region: r}
		if ep, ok := overrides[r]; ok {
			fn.name, fn.fix = ep.FunctionName, fmt.Sprintf("check function: for %s in the override file", r)
		} else {
			ep, err := Discover(ctx, cfg, r, stack)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fn.name, fn.stack = ep.FunctionName, stack
			fn.fix = fmt.Sprintf("redeploy with `stampede deploy --regions %s --stack-name %s`", r, stack)
		}
		if err := checkConcurrency(ctx, cfg, fn, generators[r]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// function is the generator function of one region as the preflight checks
// it: its name ("" when an override names none), the stack it belongs to
// ("" for an override) and how to fix a function that cannot be read.
type function struct {
	region, name, stack, fix string
}

// checkCredentials asks STS who the caller is.
func checkCredentials(ctx context.Context, cfg aws.Config, region string) error {
	cfg = cfg.Copy()
	cfg.Region = region
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return fmt.Errorf("no working AWS credentials (sts GetCallerIdentity: %w): run `aws configure` or `aws sso login`, or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	}
	return nil
}

// checkConcurrency checks that fn is not stopped and that its reserved
// concurrency, else the account's unreserved pool, covers needed
// generators in fn.region.
func checkConcurrency(ctx context.Context, cfg aws.Config, fn function, needed int) error {
	cfg = cfg.Copy()
	cfg.Region = fn.region
	lc := lambda.NewFromConfig(cfg)
	if fn.name != "" {
		if decided, err := checkReserved(ctx, lc, fn, needed); decided {
			return err
		}
	}
	return checkAccount(ctx, lc, fn.region, needed)
}

// checkReserved checks fn's reserved concurrency against needed. decided
// is false when fn has none (the account's pool decides).
func checkReserved(ctx context.Context, lc *lambda.Client, fn function, needed int) (decided bool, err error) {
	r := fn.region
	fc, err := lc.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(fn.name)})
	if err != nil {
		of := ""
		if fn.stack != "" {
			of = " of stack " + fn.stack
		}
		return true, fmt.Errorf("%s: generator function %s%s: %w: %s", r, fn.name, of, err, fn.fix)
	}
	reserved := fc.ReservedConcurrentExecutions
	switch {
	case reserved == nil:
		return false, nil
	case *reserved == 0:
		return true, fmt.Errorf("%s: generator function %s is stopped (reserved concurrency 0, as the kill switch sets it while a run stops): "+
			"`stampede stop --release s3://BUCKET/runs/<run-id>` restores what the stopped run recorded; or run `aws lambda delete-function-concurrency --region %s --function-name %s`",
			r, fn.name, r, fn.name)
	case int(*reserved) < needed:
		redeploy := fmt.Sprintf("redeploy with `stampede deploy --regions %s --reserved-concurrency %d`", r, needed)
		if fn.stack == "" {
			redeploy = fmt.Sprintf("run `aws lambda put-function-concurrency --region %s --function-name %s --reserved-concurrent-executions %d`", r, fn.name, needed)
		}
		return true, fmt.Errorf("%s: the plan needs %d generators at once but function %s has a reserved concurrency of %d: %s or use fewer generators in %s",
			r, needed, fn.name, *reserved, redeploy, r)
	}
	return true, nil
}

// checkAccount checks that the account's concurrency in region r covers
// needed generators.
func checkAccount(ctx context.Context, lc *lambda.Client, r string, needed int) error {
	as, err := lc.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return fmt.Errorf("%s: lambda GetAccountSettings: %w: allow lambda:GetAccountSettings (see infra/iam/stampede-cli-policy.json)", r, err)
	}
	if as.AccountLimit == nil {
		return fmt.Errorf("%s: lambda GetAccountSettings returned no account limit", r)
	}
	limit, unreserved := int(as.AccountLimit.ConcurrentExecutions), int(aws.ToInt32(as.AccountLimit.UnreservedConcurrentExecutions))
	switch {
	case needed > limit:
		return fmt.Errorf("%s: the plan needs %d generators at once but the account's Lambda concurrency limit there is %d: request more (Service Quotas > AWS Lambda > Concurrent executions, region %s) or spread the generators over more regions",
			r, needed, limit, r)
	case needed > unreserved:
		return fmt.Errorf("%s: the plan needs %d generators at once but only %d of the account's %d concurrent executions are unreserved: free reserved concurrency of other functions, or use fewer generators in %s",
			r, needed, unreserved, limit, r)
	}
	return nil
}
