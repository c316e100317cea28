// Command generator is the Lambda function's `bootstrap` (runtime
// provided.al2023, arm64 by default): it serves the generator handler of
// functions/generator to the Lambda runtime API. Build it with
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bootstrap ./cmd/generator
//
// Environment: BUCKET names the results bucket (required); BURST_QUEUE_URL
// the burst queue that burst invocations take their task from (optional:
// without it the function serves SQS events only). The AWS SDK's usual
// variables give the region and credentials (Lambda sets them), and
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_SQS point it at AWS-compatible
// servers (S3 then with path-style addressing), as the tests do under the
// Runtime Interface Emulator.
//
// The SDK clients are created once, at cold start, outside the handler. The
// generator's deadline comes from the invocation's context: the handler
// stops the engine early enough to write its results before it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// Environment variables the bootstrap reads.
const (
	EnvBucket     = "BUCKET"
	EnvBurstQueue = "BURST_QUEUE_URL"
	EnvEndpointS3 = "AWS_ENDPOINT_URL_S3"
)

// initTimeout bounds loading the SDK configuration at cold start.
const initTimeout = 10 * time.Second

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	h, err := newHandler(ctx, os.Getenv)
	cancel()
	if err != nil {
		log.Fatalf("generator: %v", err)
	}
	lambda.Start(h.Invoke)
}

// newHandler builds the generator handler over the results bucket named
// by the environment (getenv).
func newHandler(ctx context.Context, getenv func(string) string) (*generator.Handler, error) {
	bucket := getenv(EnvBucket)
	if bucket == "" {
		return nil, errors.New(EnvBucket + " is not set: it must name the results bucket (template.yaml sets it)")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	h := &generator.Handler{Store: s3store.New(newS3Client(cfg, getenv), bucket)}
	if url := getenv(EnvBurstQueue); url != "" {
		h.Tasks = burstQueue{sqsqueue.New(sqs.NewFromConfig(cfg), url)}
	}
	return h, nil
}

// burstQueue is the burst queue as the handler's TaskQueue.
type burstQueue struct{ q *sqsqueue.Queue }

var _ generator.TaskQueue = burstQueue{}

// Receive long-polls for one message.
func (b burstQueue) Receive(ctx context.Context, wait time.Duration) (generator.Message, bool, error) {
	msgs, err := b.q.Receive(ctx, 1, wait)
	if err != nil || len(msgs) == 0 {
		return generator.Message{}, false, err
	}
	m := msgs[0]
	return generator.Message{ID: m.ID, Receipt: m.Receipt, Body: m.Body}, true, nil
}

// Delete deletes the message delivered with receipt.
func (b burstQueue) Delete(ctx context.Context, receipt string) error {
	return b.q.Delete(ctx, receipt)
}

// newS3Client is the S3 client of cfg, path-style when AWS_ENDPOINT_URL_S3
// points it at an S3-compatible server (loopback has no bucket subdomains).
func newS3Client(cfg aws.Config, getenv func(string) string) *s3.Client {
	pathStyle := getenv(EnvEndpointS3) != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}
