package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stampede-load/stampede/orchestrator/multistore"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// s3Scheme starts the address of a run stored in S3:
// s3://BUCKET/runs/<run-id>.
const s3Scheme = "s3://"

// defaultS3Region is the region of the S3 client when neither --region nor
// AWS_REGION names one.
const defaultS3Region = "us-east-1"

// envRegion is the SDK's region variable.
const envRegion = "AWS_REGION"

// s3Run is a parsed s3://BUCKET/runs/<run-id> address.
type s3Run struct {
	Bucket string
	RunID  string
}

// isS3Run reports whether arg is an s3:// address (valid or not).
func isS3Run(arg string) bool { return strings.HasPrefix(arg, s3Scheme) }

// parseS3Run parses s3://BUCKET/runs/<run-id>, with or without a trailing
// slash.
func parseS3Run(arg string) (s3Run, error) {
	const want = "want s3://BUCKET/runs/<run-id>"
	rest, ok := strings.CutPrefix(arg, s3Scheme)
	if !ok {
		return s3Run{}, fmt.Errorf("%q is not an s3:// address (%s)", arg, want)
	}
	rest = strings.TrimSuffix(rest, "/")
	parts := strings.Split(rest, "/")
	switch {
	case parts[0] == "":
		return s3Run{}, fmt.Errorf("%q names no bucket (%s)", arg, want)
	case !validBucket(parts[0]):
		return s3Run{}, fmt.Errorf("%q: %q is not a bucket name (%s)", arg, parts[0], want)
	case len(parts) != 3 || parts[1]+"/" != shard.RunsPrefix:
		return s3Run{}, fmt.Errorf("%q is not a run's address (%s)", arg, want)
	case !shard.ValidName(parts[2]):
		return s3Run{}, fmt.Errorf("%q: %q is not a run id (%s)", arg, parts[2], want)
	}
	return s3Run{Bucket: parts[0], RunID: parts[2]}, nil
}

// validBucket reports whether s may be an S3 bucket name: 3–63 lower-case
// letters, digits, '.' or '-', starting and ending with a letter or digit.
func validBucket(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		switch {
		case alnum:
		case (c == '.' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// s3Options configure the S3 client of `stampede report s3://…`.
type s3Options struct {
	// Region of the client (and of the bucket, with one address); empty:
	// AWS_REGION, else us-east-1.
	Region string
	// BucketRegions maps a bucket to its region ("bucket=region" flags);
	// buckets not named here are asked (GetBucketLocation). Only used with
	// several addresses.
	BucketRegions []string
}

// clientRegion is the region of the S3 client o asks for.
func (o s3Options) clientRegion() string {
	if o.Region != "" {
		return o.Region
	}
	if r := os.Getenv(envRegion); r != "" {
		return r
	}
	return defaultS3Region
}

// parseS3Runs parses addresses of one run (one per region's bucket) and
// returns them and the run id.
func parseS3Runs(args []string) ([]s3Run, string, error) {
	runs := make([]s3Run, len(args))
	seen := map[string]bool{}
	for i, a := range args {
		r, err := parseS3Run(a)
		if err != nil {
			return nil, "", exit(ExitUsage, "%v", err)
		}
		if i > 0 && r.RunID != runs[0].RunID {
			return nil, "", exit(ExitUsage, "%s and %s are different runs: give the addresses of one run", args[0], a)
		}
		if seen[r.Bucket] {
			return nil, "", exit(ExitUsage, "bucket %s given twice", r.Bucket)
		}
		seen[r.Bucket] = true
		runs[i] = r
	}
	return runs, runs[0].RunID, nil
}

// parseBucketRegions reads "bucket=region" pairs.
func parseBucketRegions(pairs []string) (map[string]string, error) {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		b, r, ok := strings.Cut(p, "=")
		if !ok || !validBucket(b) || !shard.ValidName(r) {
			return nil, exit(ExitUsage, "--bucket-region %q: want BUCKET=REGION, e.g. my-results=eu-west-1", p)
		}
		m[b] = r
	}
	return m, nil
}

// openS3Runs returns the store over the buckets of args (addresses of one
// run) and the run id. One address: that bucket. Several: a multistore of
// one region per bucket (each bucket's region from o.BucketRegions, else
// GetBucketLocation), the first address's bucket being the home region.
func openS3Runs(ctx context.Context, args []string, o s3Options) (shard.Store, string, error) {
	runs, runID, err := parseS3Runs(args)
	if err != nil {
		return nil, "", err
	}
	named, err := parseBucketRegions(o.BucketRegions)
	if err != nil {
		return nil, "", err
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.clientRegion()))
	if err != nil {
		return nil, "", exit(ExitInfra, "load AWS config: %w", err)
	}
	if len(runs) == 1 {
		return s3store.New(newS3Client(cfg), runs[0].Bucket), runID, nil
	}
	client := newS3Client(cfg)
	regions := make([]multistore.Region, len(runs))
	for i, r := range runs {
		region := named[r.Bucket]
		if region == "" {
			if region, err = bucketRegion(ctx, client, r.Bucket); err != nil {
				return nil, "", exit(ExitInfra, "%w (hint: --bucket-region %s=REGION)", err, r.Bucket)
			}
		}
		rc := cfg.Copy()
		rc.Region = region
		regions[i] = multistore.Region{Name: region, Store: s3store.New(newS3Client(rc), r.Bucket)}
	}
	store, err := multistore.New(regions...)
	if err != nil {
		return nil, "", exit(ExitUsage, "%w (each address must be a different region's bucket)", err)
	}
	return store, runID, nil
}

// bucketRegion asks S3 for bucket's region (an empty location constraint
// is us-east-1, "EU" the old name of eu-west-1).
func bucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	out, err := client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", fmt.Errorf("region of bucket %s: %w", bucket, err)
	}
	switch loc := string(out.LocationConstraint); loc {
	case "":
		return defaultS3Region, nil
	case "EU":
		return "eu-west-1", nil
	default:
		return loc, nil
	}
}
