package lambdaharness

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// Defaults of Options.
const (
	DefaultTimeout = 60 * time.Second
	// pollWait is each receive's long-poll wait: short, so that Cleanup
	// does not wait long for the pollers.
	pollWait = time.Second
	// errorPause is how long a poller waits after a failed receive.
	errorPause = 200 * time.Millisecond
)

// Options configure a Fleet.
type Options struct {
	Binaries Binaries
	// Queue is the task queue the pollers consume; QueueURL names it in the
	// events (its last path segment is the queue's name).
	Queue    *sqsqueue.Queue
	QueueURL string
	// Region is the function's region (AWS_REGION, the events' awsRegion).
	Region string
	// Emulators is how many emulators (concurrent executions) run (default 1).
	Emulators int
	// Timeout is the function timeout, in whole seconds (DefaultTimeout).
	Timeout time.Duration
	// Env is the function's environment: BUCKET, AWS_ENDPOINT_URL_S3,
	// credentials. AWS_REGION and AWS_LAMBDA_FUNCTION_TIMEOUT are set.
	Env map[string]string
	// OnReceive, if set, is called with every message a poller received,
	// before it is invoked (from the pollers' goroutines).
	OnReceive func(sqsqueue.Message)
	// Logf receives the emulators' output and the pollers' errors
	// (t.Logf when nil). Called from many goroutines, never after Cleanup.
	Logf func(format string, args ...any)
}

// Fleet is a running set of emulators and their pollers. Its counters are
// safe to read concurrently.
type Fleet struct {
	opts      Options
	arn       string
	emulators []*emulator

	invocations atomic.Int64 // invocations that returned a response
	failed      atomic.Int64 // records reported in BatchItemFailures or lost to an invoke error
	deleted     atomic.Int64 // messages deleted after their invocation
}

// Start runs opts.Emulators emulators of the bootstrap and one poller
// each. They stop in t.Cleanup: the pollers first (an invocation under
// way is abandoned), then the emulators.
func Start(t testing.TB, opts Options) *Fleet {
	t.Helper()
	if opts.Queue == nil || opts.Region == "" {
		t.Fatal("lambdaharness: Start needs Binaries, a Queue and a Region")
	}
	opts.Emulators = max(1, opts.Emulators)
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	f := &Fleet{opts: opts, arn: queueARN(opts.Region, opts.QueueURL)}
	f.emulators = startEmulators(t, opts.Emulators, opts.Region+"/rie", opts.Binaries,
		processEnv(opts.Region, opts.Timeout, opts.Env), opts.Timeout, opts.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Runs before startEmulators' cleanup: the pollers stop first.
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	for _, e := range f.emulators {
		wg.Go(func() { f.poll(ctx, e) })
	}
	return f
}

// Invocations is how many invocations returned a response.
func (f *Fleet) Invocations() int { return int(f.invocations.Load()) }

// Failed is how many records were reported failed (BatchItemFailures) or
// were lost to an invocation error; their messages were not deleted.
func (f *Fleet) Failed() int { return int(f.failed.Load()) }

// Deleted is how many messages were deleted after their invocation.
func (f *Fleet) Deleted() int { return int(f.deleted.Load()) }

// poll plays the event source mapping for one emulator (batch size 1):
// receive, invoke, delete unless reported failed; until ctx ends.
func (f *Fleet) poll(ctx context.Context, e *emulator) {
	for ctx.Err() == nil {
		msgs, err := f.opts.Queue.Receive(ctx, 1, pollWait)
		if err != nil {
			if ctx.Err() == nil {
				f.opts.Logf("lambdaharness: %s: %v", e.name, err)
				sleep(ctx, errorPause)
			}
			continue
		}
		for _, m := range msgs {
			f.deliver(ctx, e, m)
		}
	}
}

// deliver invokes e with m and deletes m unless the function reported it.
func (f *Fleet) deliver(ctx context.Context, e *emulator, m sqsqueue.Message) {
	if f.opts.OnReceive != nil {
		f.opts.OnReceive(m)
	}
	ev := &events.SQSEvent{Records: []events.SQSMessage{f.record(m)}}
	resp, err := e.invoke(ctx, ev)
	if err != nil {
		f.failed.Add(1)
		if ctx.Err() == nil {
			f.opts.Logf("lambdaharness: message %s not deleted: %v", m.ID, err)
		}
		return
	}
	f.invocations.Add(1)
	for _, item := range resp.BatchItemFailures {
		if item.ItemIdentifier == m.ID {
			f.failed.Add(1)
			f.opts.Logf("lambdaharness: %s: message %s reported failed: left for redelivery", e.name, m.ID)
			return
		}
	}
	if err := f.opts.Queue.Delete(context.WithoutCancel(ctx), m.Receipt); err != nil {
		f.opts.Logf("lambdaharness: %s: %v", e.name, err)
		return
	}
	f.deleted.Add(1)
}

// record is m as the event source mapping would pass it.
func (f *Fleet) record(m sqsqueue.Message) events.SQSMessage {
	return events.SQSMessage{
		MessageId:      m.ID,
		ReceiptHandle:  m.Receipt,
		Body:           string(m.Body),
		Attributes:     map[string]string{"ApproximateReceiveCount": strconv.Itoa(max(1, m.ReceiveCount))},
		EventSource:    "aws:sqs",
		EventSourceARN: f.arn,
		AWSRegion:      f.opts.Region,
	}
}

// queueARN makes an SQS ARN from a queue URL's last path segment.
func queueARN(region, url string) string {
	name := url[strings.LastIndex(url, "/")+1:]
	return "arn:aws:sqs:" + region + ":000000000000:" + name
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
