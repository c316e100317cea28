package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stampede-load/stampede/orchestrator/internal/awsretry"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

var _ shard.Store = (*Store)(nil)

// Store is one S3 bucket. Safe for concurrent use.
type Store struct {
	client   *s3.Client
	bucket   string
	retryer  aws.Retryer
	pageSize int32 // keys per ListObjectsV2 page; 0: S3's default (1000)

	puts, gets, lists atomic.Int64
	tally             awsretry.Tally // retries (and throttles) of all of them
}

// Ops counts the requests a Store made to S3, retried attempts included.
type Ops struct {
	Puts  int64 // PutObject requests (Put and Create)
	Gets  int64 // GetObject requests
	Lists int64 // ListObjectsV2 requests (one per page)
	// Retries is how many of the requests above were retries of a failed
	// attempt (503 SlowDown, 5xx, throttling, network errors).
	Retries int64
}

// Option tunes New.
type Option func(*Store)

// WithRetry sets the attempts per request (first one included) and the
// longest backoff between attempts (defaults DefaultMaxAttempts,
// DefaultMaxBackoff). Backoff is exponential with full jitter.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(s *Store) { s.retryer = newRetryer(maxAttempts, maxBackoff) }
}

// WithPageSize sets how many keys List asks for per ListObjectsV2 page
// (1 to 1000; S3's default, 1000, when not set).
func WithPageSize(n int) Option {
	return func(s *Store) { s.pageSize = int32(min(1000, max(1, n))) }
}

// New returns the store of bucket reached through client.
func New(client *s3.Client, bucket string, opts ...Option) *Store {
	s := &Store{client: client, bucket: bucket, retryer: newRetryer(DefaultMaxAttempts, DefaultMaxBackoff)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Ops returns the requests made so far.
func (s *Store) Ops() Ops {
	return Ops{Puts: s.puts.Load(), Gets: s.gets.Load(), Lists: s.lists.Load(), Retries: s.tally.Retries.Load()}
}

// Put writes data at key, replacing what was there.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if _, err := s.put(ctx, key, data, nil); err != nil {
		return fmt.Errorf("s3store: put %s: %w", key, err)
	}
	return nil
}

// Create writes data at key only if no object is there yet, and returns
// shard.ErrExists otherwise. When the create was retried (its first
// attempt may have succeeded with the answer lost) and S3 answers 412, the
// object is read back: if it holds data, the create was this caller's.
func (s *Store) Create(ctx context.Context, key string, data []byte) error {
	attempts, err := s.put(ctx, key, data, aws.String("*"))
	if err == nil {
		return nil
	}
	if !isStatus(err, http.StatusPreconditionFailed) && !isCode(err, "PreconditionFailed") {
		return fmt.Errorf("s3store: create %s: %w", key, err)
	}
	if attempts > 1 {
		if got, gerr := s.Get(ctx, key); gerr == nil && bytes.Equal(got, data) {
			return nil
		}
	}
	return fmt.Errorf("s3store: create %s: %w", key, shard.ErrExists)
}

// put sends one PutObject and returns how many attempts it took.
func (s *Store) put(ctx context.Context, key string, data []byte, ifNoneMatch *string) (int, error) {
	var c awsretry.Call
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data), // seekable: the SDK rewinds it to retry
		ContentLength: aws.Int64(int64(len(data))),
		IfNoneMatch:   ifNoneMatch,
	}, s.call(&s.puts, &c))
	return c.Attempts, c.Explain(ctx, err)
}

// Get returns the object at key, or shard.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	}, s.call(&s.gets, nil))
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) || isStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("s3store: get %s: %w", key, shard.ErrNotFound)
		}
		return nil, fmt.Errorf("s3store: get %s: %w", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3store: get %s: read body: %w", key, err)
	}
	return data, nil
}

// List returns every key under prefix, sorted, reading every page.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if s.pageSize > 0 {
		in.MaxKeys = aws.Int32(s.pageSize)
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
	var keys []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, s.call(&s.lists, nil))
		if err != nil {
			return nil, fmt.Errorf("s3store: list %s (after %d keys): %w", prefix, len(keys), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func isStatus(err error, code int) bool {
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == code
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
