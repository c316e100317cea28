package localaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Test credentials and region: the local servers accept any.
const (
	Region    = "us-east-1"
	AccessKey = "test"
	SecretKey = "test"
)

// MaxMessageBytes is the MaximumMessageSize CreateQueue gives a queue
// (1 MiB, SQS's largest).
const MaxMessageBytes = 1 << 20

// Config returns an SDK configuration for the local server at endpoint:
// static test credentials, Region, and no shared config or credentials
// files (a developer's ~/.aws must not leak into tests).
func Config(ctx context.Context, t testing.TB, endpoint string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")),
		config.WithBaseEndpoint(endpoint),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatalf("localaws: load SDK config for %s: %v", endpoint, err)
	}
	return cfg
}

// NewSQSClient returns an SQS client for cfg's endpoint (which wins over
// AWS_ENDPOINT_URL_SQS).
func NewSQSClient(cfg aws.Config) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if cfg.BaseEndpoint != nil {
			o.BaseEndpoint = cfg.BaseEndpoint
		}
	})
}

// NewLambdaClient returns a Lambda client for cfg's endpoint (which wins
// over AWS_ENDPOINT_URL_LAMBDA), such as a lambdaharness.Service.
func NewLambdaClient(cfg aws.Config) *lambda.Client {
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if cfg.BaseEndpoint != nil {
			o.BaseEndpoint = cfg.BaseEndpoint
		}
	})
}

// NewS3Client returns an S3 client for cfg's endpoint with path-style
// addressing (loopback endpoints have no bucket subdomains).
func NewS3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if cfg.BaseEndpoint != nil {
			o.BaseEndpoint = cfg.BaseEndpoint
		}
		o.UsePathStyle = true
	})
}

// CreateQueue creates a fresh queue named name plus a random suffix, with
// MaximumMessageSize MaxMessageBytes and a 30 s visibility timeout, and
// returns its URL. It is deleted when the test ends.
func CreateQueue(t testing.TB, client *sqs.Client, name string) (queueURL string) {
	t.Helper()
	return CreateQueueAttrs(t, client, name, nil)
}

// CreateQueueAttrs is CreateQueue with queue attributes (SQS names, such
// as "VisibilityTimeout": "1" or "RedrivePolicy") that override the
// defaults.
func CreateQueueAttrs(t testing.TB, client *sqs.Client, name string, attrs map[string]string) (queueURL string) {
	t.Helper()
	all := map[string]string{
		"MaximumMessageSize": strconv.Itoa(MaxMessageBytes),
		"VisibilityTimeout":  "30",
	}
	for k, v := range attrs {
		all[k] = v
	}
	name = Fresh(name)
	out, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: all,
	})
	if err != nil {
		t.Fatalf("localaws: create queue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		// Best effort: the server may be gone already.
		_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	return url
}

// CreateBucket creates a fresh bucket named name (lower-cased) plus a
// random suffix and returns its name.
func CreateBucket(t testing.TB, client *s3.Client, name string) (bucket string) {
	t.Helper()
	bucket = strings.ToLower(Fresh(name))
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("localaws: create bucket %s: %v", bucket, err)
	}
	return bucket
}

// Fresh returns name with a random 8-hex-digit suffix ("tasks-1f2e3d4c"),
// valid as a queue and a bucket name when name is.
func Fresh(name string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return name + "-" + hex.EncodeToString(b[:])
}
