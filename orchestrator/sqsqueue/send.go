package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// resendBase is the first backoff before entries a batch reported as failed
// are sent again; it doubles each round up to the queue's max backoff.
const resendBase = 50 * time.Millisecond

// Send enqueues every body (each 1 byte to MaxBodyBytes of UTF-8 text, as
// SQS requires). It packs them into batches of at most MaxBatchEntries
// entries and MaxBatchBytes bytes, keeps up to the queue's in-flight limit
// of batches going, and sends again the entries a batch reports as failed
// through no fault of the sender. It returns an error naming how many
// bodies were not sent; some of the others may have been.
func (q *Queue) Send(ctx context.Context, bodies [][]byte) error {
	for i, b := range bodies {
		if err := checkBody(b); err != nil {
			return fmt.Errorf("sqsqueue: send %d messages: body %d: %w", len(bodies), i, err)
		}
	}
	batches := pack(bodies)
	work := make(chan []int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		unsent   int
		firstErr error
	)
	for range min(q.inFlight, len(batches)) {
		wg.Go(func() {
			for batch := range work {
				n, err := q.sendBatch(ctx, bodies, batch)
				if n == 0 {
					continue
				}
				mu.Lock()
				unsent += n
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, b := range batches {
		work <- b
	}
	close(work)
	wg.Wait()
	if unsent > 0 {
		return fmt.Errorf("sqsqueue: send %d messages: %d not sent: %w", len(bodies), unsent, firstErr)
	}
	return nil
}

// checkBody reports why SQS would refuse b.
func checkBody(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty (SQS needs at least 1 byte)")
	case len(b) > MaxBodyBytes:
		return fmt.Errorf("%d bytes, over the SQS limit of %d bytes (1 MiB)", len(b), MaxBodyBytes)
	case !utf8.Valid(b):
		return errors.New("not valid UTF-8 (SQS message bodies are text)")
	}
	return nil
}

// pack groups the indexes of bodies, in order, into batches that SQS
// accepts: at most MaxBatchEntries entries and MaxBatchBytes bytes each.
func pack(bodies [][]byte) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for i, b := range bodies {
		if len(cur) == MaxBatchEntries || (len(cur) > 0 && size+len(b) > MaxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += len(b)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// sendBatch sends the bodies at indexes batch in one SendMessageBatch,
// then again those reported as failed, up to q.resends times. It returns
// how many were not sent and why.
func (q *Queue) sendBatch(ctx context.Context, bodies [][]byte, batch []int) (unsent int, firstErr error) {
	pending := batch
	for round := 0; ; round++ {
		entries := make([]types.SendMessageBatchRequestEntry, len(pending))
		for j, i := range pending {
			entries[j] = types.SendMessageBatchRequestEntry{
				Id:          aws.String(strconv.Itoa(i)),
				MessageBody: aws.String(string(bodies[i])),
			}
		}
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(q.url),
			Entries:  entries,
		}, q.call(&q.sends))
		if err != nil {
			// The SDK has retried already as often as it was told to.
			return unsent + len(pending), fmt.Errorf("send batch of %d: %w", len(pending), err)
		}
		retry, refused, entryErr := sorted(pending, out)
		unsent += refused
		if firstErr == nil {
			firstErr = entryErr
		}
		if len(retry) == 0 {
			return unsent, firstErr
		}
		if round == q.resends {
			return unsent + len(retry), fmt.Errorf("%d entries still failing after %d resends: %w", len(retry), q.resends, entryErr)
		}
		if werr := q.wait(ctx, round); werr != nil {
			return unsent + len(retry), fmt.Errorf("resend %d entries: %w", len(retry), werr)
		}
		pending = retry
	}
}

// sorted splits the entries of pending that out did not report successful
// into those to send again and a count of those SQS refused for good
// (SenderFault), and returns the first entry error it saw.
func sorted(pending []int, out *sqs.SendMessageBatchOutput) (retry []int, refused int, err error) {
	ok := make(map[string]bool, len(out.Successful))
	for _, s := range out.Successful {
		ok[aws.ToString(s.Id)] = true
	}
	failed := make(map[string]types.BatchResultErrorEntry, len(out.Failed))
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = f
	}
	for _, i := range pending {
		id := strconv.Itoa(i)
		if ok[id] {
			continue
		}
		f, known := failed[id]
		if err == nil {
			if known {
				err = fmt.Errorf("entry %s: %s: %s", id, aws.ToString(f.Code), aws.ToString(f.Message))
			} else {
				err = fmt.Errorf("entry %s: neither successful nor failed in the response", id)
			}
		}
		if known && f.SenderFault {
			refused++
			continue
		}
		retry = append(retry, i)
	}
	return retry, refused, err
}

// wait sleeps before resend round+1: full jitter over an exponential
// backoff from resendBase, capped at the queue's max backoff.
func (q *Queue) wait(ctx context.Context, round int) error {
	d := min(resendBase<<min(round, 20), max(q.backoff, time.Millisecond))
	t := time.NewTimer(time.Duration(rand.Int64N(int64(d)) + 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
