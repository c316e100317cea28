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
// deployed in every region, and each region's Lambda concurrency — the
// function's reserved concurrency if it has one, else the account's
// unreserved pool (GetAccountSettings) — covers generators[region], the
// generators that must run there at once. cfg's region is replaced per
// region.
//
// Bad credentials end the check at once; otherwise every problem in every
// region is reported, joined, each with the command or setting that fixes it.
// Regions served by an override file have no stack to check: leave them out.
func Preflight(ctx context.Context, cfg aws.Config, regions []string, stack string, generators map[string]int) error {
	if len(regions) == 0 {
		return errors.New("preflight: no regions")
	}
	if err := checkCredentials(ctx, cfg, regions[0]); err != nil {
		return err
	}
	var errs []error
	for _, r := range regions {
		if err := checkRegion(ctx, cfg, r, stack, generators[r]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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

// checkRegion checks the stack and the concurrency for needed generators in r.
func checkRegion(ctx context.Context, cfg aws.Config, r, stack string, needed int) error {
	ep, err := Discover(ctx, cfg, r, stack)
	if err != nil {
		return err
	}
	cfg = cfg.Copy()
	cfg.Region = r
	lc := lambda.NewFromConfig(cfg)
	fc, err := lc.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(ep.FunctionName)})
	if err != nil {
		return fmt.Errorf("%s: generator function %s of stack %s: %w: redeploy with `stampede deploy --regions %s --stack-name %s`",
			r, ep.FunctionName, stack, err, r, stack)
	}
	if reserved := fc.ReservedConcurrentExecutions; reserved != nil {
		switch {
		case *reserved == 0:
			return fmt.Errorf("%s: generator function %s is stopped (reserved concurrency 0, as the kill switch sets it while a run stops): "+
				"`stampede stop --release s3://BUCKET/runs/<run-id>` restores what the stopped run recorded; or run `aws lambda delete-function-concurrency --region %s --function-name %s`",
				r, ep.FunctionName, r, ep.FunctionName)
		case int(*reserved) < needed:
			return fmt.Errorf("%s: the plan needs %d generators at once but function %s has a reserved concurrency of %d: redeploy with `stampede deploy --regions %s --reserved-concurrency %d` or use fewer generators in %s",
				r, needed, ep.FunctionName, *reserved, r, needed, r)
		}
		return nil
	}
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
