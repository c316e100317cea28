package awsretry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/internal/awsretry"
)

// always is a fault count that never runs out.
const always = 1 << 30

// s3Rig is S3 (gofakes3, one bucket) behind a proxy that answers the first
// requests with a fault, and a client of the proxy.
type s3Rig struct {
	*localaws.Faults
	client *s3.Client
	bucket string
}

func startS3(t *testing.T, n int, fault http.Handler) *s3Rig {
	t.Helper()
	ep := localaws.StartS3(t)
	bucket := localaws.CreateBucket(t, s3Client(t, ep), "awsretry")
	f := localaws.StartFaults(t, ep, n, fault)
	return &s3Rig{Faults: f, client: s3Client(t, f.URL), bucket: bucket}
}

// put writes key through the proxy with opt.
func (r *s3Rig) put(ctx context.Context, key string, opt func(*s3.Options)) error {
	_, err := r.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(r.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader([]byte("x")),
		ContentLength: aws.Int64(1),
	}, opt)
	return err
}

// s3Error answers as S3 does: status with an XML error naming code.
func s3Error(status int, code string) http.Handler { return localaws.S3Error(status, code, "injected") }

// counted is one client's view of its calls: the options that give a
// call the retryer and the counter, and what they counted.
type counted struct {
	retryer  aws.Retryer
	attempts atomic.Int64
	tally    awsretry.Tally
}

func newCounted(maxAttempts int, maxBackoff time.Duration, codes ...string) *counted {
	return &counted{retryer: awsretry.New(maxAttempts, maxBackoff, codes...)}
}

func (c *counted) s3(call *awsretry.Call) func(*s3.Options) {
	return func(o *s3.Options) {
		o.Retryer = c.retryer
		o.APIOptions = append(o.APIOptions, awsretry.Count(&c.attempts, &c.tally, call))
	}
}

func (c *counted) sqs(call *awsretry.Call) func(*sqs.Options) {
	return func(o *sqs.Options) {
		o.Retryer = c.retryer
		o.APIOptions = append(o.APIOptions, awsretry.Count(&c.attempts, &c.tally, call))
	}
}

// faultStatus is the HTTP status fault answers with.
func faultStatus(t *testing.T, fault http.Handler) int {
	w := httptest.NewRecorder()
	fault.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodPut, "/", nil))
	return w.Code
}

func s3Client(t *testing.T, url string) *s3.Client {
	return localaws.NewS3Client(localaws.Config(context.Background(), t, url))
}

// TestCountS3 runs PutObject through faults that go away: each attempt is
// counted once, the retries and the throttled attempts apart.
func TestCountS3(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		faults    int
		fault     http.Handler
		codes     []string // retried beyond the SDK's own
		attempts  int
		throttles int
		fails     bool
	}{
		{"SlowDown", 2, localaws.S3SlowDown(), nil, 3, 2, false},
		{"Status429", 3, s3Error(http.StatusTooManyRequests, "TooManyRequests"), nil, 4, 3, false},
		{"Status500", 2, s3Error(http.StatusInternalServerError, "InternalError"), nil, 3, 0, false},
		{"ExtraCode", 1, s3Error(http.StatusConflict, "ConditionalRequestConflict"), []string{"ConditionalRequestConflict"}, 2, 0, false},
		{"NotRetried", 1, s3Error(http.StatusConflict, "ConditionalRequestConflict"), nil, 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := startS3(t, tc.faults, tc.fault)
			c := newCounted(5, time.Millisecond, tc.codes...)
			var call awsretry.Call
			err := rig.put(context.Background(), "k", c.s3(&call))
			if (err != nil) != tc.fails {
				t.Fatalf("PutObject = %v, want failed %v", err, tc.fails)
			}
			retries := tc.attempts - 1
			if call.Attempts != tc.attempts || call.Throttles != tc.throttles {
				t.Errorf("Call = %+v, want %d attempts, %d throttled", call, tc.attempts, tc.throttles)
			}
			if c.attempts.Load() != int64(tc.attempts) || c.tally.Retries.Load() != int64(retries) || c.tally.Throttles.Load() != int64(tc.throttles) {
				t.Errorf("counted %d attempts, tally %d retries %d throttles; want %d, %d, %d",
					c.attempts.Load(), c.tally.Retries.Load(), c.tally.Throttles.Load(), tc.attempts, retries, tc.throttles)
			}
			if rig.Requests() != tc.attempts {
				t.Errorf("proxy saw %d requests, want %d", rig.Requests(), tc.attempts)
			}
			var re *smithyhttp.ResponseError
			if !errors.As(call.Last, &re) || re.HTTPStatusCode() != faultStatus(t, tc.fault) {
				t.Errorf("Call.Last = %v, want the last fault answered", call.Last)
			}
		})
	}
}

// TestCountSQS: SQS's JSON protocol throttles with 400 RequestThrottled,
// one of the SDK's throttle codes.
func TestCountSQS(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"QueueUrl":"http://127.0.0.1/000000000000/q"}`))
	}))
	t.Cleanup(ok.Close)
	f := localaws.StartFaults(t, ok.URL, 2, localaws.SQSThrottled())
	client := localaws.NewSQSClient(localaws.Config(context.Background(), t, f.URL))
	c := newCounted(4, time.Millisecond)
	var call awsretry.Call
	out, err := client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("q")}, c.sqs(&call))
	if err != nil || !strings.HasSuffix(aws.ToString(out.QueueUrl), "/q") {
		t.Fatalf("GetQueueUrl after 2 throttles = %v", err)
	}
	if call.Attempts != 3 || call.Throttles != 2 || c.tally.Retries.Load() != 2 || c.tally.Throttles.Load() != 2 || c.attempts.Load() != 3 {
		t.Errorf("Call = %+v, tally %d retries %d throttles; want 3 attempts, 2 retries, 2 throttled",
			call, c.tally.Retries.Load(), c.tally.Throttles.Load())
	}
	if f.Requests() != 3 {
		t.Errorf("proxy saw %d requests, want 3", f.Requests())
	}
	if call.Last == nil || !strings.Contains(call.Last.Error(), "RequestThrottled") {
		t.Errorf("Call.Last = %v, want RequestThrottled", call.Last)
	}
}

// TestGivesUp: a call out of attempts fails with the SDK's
// MaxAttemptsError, and Explain leaves that error alone (it says enough);
// a call whose deadline ends its retries says how many attempts it made
// and what the last one was answered.
func TestGivesUp(t *testing.T) {
	t.Parallel()
	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		rig := startS3(t, always, localaws.S3SlowDown())
		c := newCounted(3, time.Millisecond)
		var call awsretry.Call
		ctx := context.Background()
		err := rig.put(ctx, "k", c.s3(&call))
		var maxed *retry.MaxAttemptsError
		if !errors.As(err, &maxed) || maxed.Attempt != 3 {
			t.Fatalf("PutObject = %v, want MaxAttemptsError after 3", err)
		}
		if call.Attempts != 3 || call.Throttles != 3 || rig.Requests() != 3 {
			t.Errorf("Call = %+v, proxy %d requests; want 3 attempts, all throttled", call, rig.Requests())
		}
		if got := call.Explain(ctx, err); got != err {
			t.Errorf("Explain with the context live = %v, want the error as it was", got)
		}
	})
	t.Run("Deadline", func(t *testing.T) {
		t.Parallel()
		rig := startS3(t, always, localaws.S3SlowDown())
		c := newCounted(1000, 20*time.Millisecond)
		var call awsretry.Call
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := call.Explain(ctx, rig.put(ctx, "k", c.s3(&call)))
		want := fmt.Sprintf("(gave up after %d attempts, the last: ", call.Attempts)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "SlowDown") {
			t.Fatalf("PutObject cut short = %v; want the deadline, %q and SlowDown", err, want)
		}
		// The last attempt may have been cut in flight, before the server saw it.
		if n := rig.Requests(); call.Attempts < 3 || n < call.Attempts-1 || n > call.Attempts {
			t.Errorf("Call = %+v, proxy %d requests; want several attempts, each seen", call, n)
		}
	})
}

// TestCountConcurrent: calls without a Call of their own, at once, each
// keep their own attempt count (one stack per call): every call's first
// attempt fails, so there are exactly as many retries as calls.
func TestCountConcurrent(t *testing.T) {
	t.Parallel()
	const calls = 16
	ep := localaws.StartS3(t)
	bucket := localaws.CreateBucket(t, s3Client(t, ep), "awsretry")
	var mu sync.Mutex
	seen := map[string]bool{}
	f := localaws.StartFaultsMatching(t, ep, calls, localaws.S3SlowDown(), func(r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		first := !seen[r.URL.Path]
		seen[r.URL.Path] = true
		return first
	})
	rig := &s3Rig{Faults: f, client: s3Client(t, f.URL), bucket: bucket}
	c := newCounted(3, time.Millisecond)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			if err := rig.put(context.Background(), fmt.Sprintf("k%d", i), c.s3(nil)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c.attempts.Load() != 2*calls || c.tally.Retries.Load() != calls || c.tally.Throttles.Load() != calls || f.Faulted() != calls {
		t.Errorf("counted %d attempts, %d retries, %d throttles; want %d, %d, %d",
			c.attempts.Load(), c.tally.Retries.Load(), c.tally.Throttles.Load(), 2*calls, calls, calls)
	}
}

// TestCallReused: a Call given to a second call starts again from zero.
func TestCallReused(t *testing.T) {
	t.Parallel()
	rig := startS3(t, 1, localaws.S3SlowDown())
	c := newCounted(3, time.Millisecond)
	var call awsretry.Call
	for i, want := range []int{2, 1} {
		if err := rig.put(context.Background(), "k", c.s3(&call)); err != nil {
			t.Fatal(err)
		}
		if call.Attempts != want || (want == 1 && (call.Last != nil || call.Throttles != 0)) {
			t.Errorf("call %d: Call = %+v, want %d attempts and nothing left of the call before", i, call, want)
		}
	}
}
