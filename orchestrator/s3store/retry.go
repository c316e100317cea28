package s3store

import (
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stampede-load/stampede/orchestrator/internal/awsretry"
)

// Defaults of WithRetry. S3 asks clients that get 503 SlowDown to back off
// for seconds while it scales a prefix, hence more attempts and a longer
// backoff than the SDK's defaults (3 attempts, 20s).
const (
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 30 * time.Second
)

// conditionalConflict is the 409 S3 answers when a conditional write
// raced another on the same key, asking to retry. The SDK's standard
// retryer already covers SlowDown, throttling, 5xx and connection errors.
const conditionalConflict = "ConditionalRequestConflict"

// newRetryer is the retryer of every call: thousands of generators writing
// at once must not fail their writes because earlier ones were slowed
// down (awsretry.New has no client-side retry quota).
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return awsretry.New(maxAttempts, maxBackoff, conditionalConflict)
}

// call returns the per-request options: s's retryer, and counting every
// attempt into counter (retries into s.tally, and this call's attempts
// and last error into c when not nil).
func (s *Store) call(counter *atomic.Int64, c *awsretry.Call) func(*s3.Options) {
	return func(o *s3.Options) {
		o.Retryer = s.retryer
		o.APIOptions = append(o.APIOptions, awsretry.Count(counter, &s.tally, c))
	}
}
