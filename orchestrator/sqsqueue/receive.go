package sqsqueue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message is one delivery of a message.
type Message struct {
	ID string
	// Receipt identifies this delivery; pass it to Delete.
	Receipt string
	Body    []byte
	// ReceiveCount is how many times the message has been delivered, this
	// delivery included (SQS's ApproximateReceiveCount; 0 if not returned).
	ReceiveCount int
}

// receiveCount is the attribute name, as a message system attribute and
// as the deprecated AttributeNames value (some SQS-compatible servers only
// honour the latter; real SQS accepts both).
const receiveCount = "ApproximateReceiveCount"

// Receive returns up to n (1 to 10) messages, waiting up to wait
// (whole seconds, at most MaxWait) for the first one: long polling. It may
// return none. The wait is shortened to what is left of ctx's deadline, so
// that no poll outlives its caller on the server and takes messages nobody
// reads. When ctx is done it returns promptly with ctx's error.
func (q *Queue) Receive(ctx context.Context, n int, wait time.Duration) ([]Message, error) {
	wait = min(wait, MaxWait)
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(min(10, max(1, n))),
		WaitTimeSeconds:             int32(max(0, wait/time.Second)),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		AttributeNames:              []types.QueueAttributeName{types.QueueAttributeName(receiveCount)},
	}, q.call(&q.receives))
	if err != nil {
		return nil, fmt.Errorf("sqsqueue: receive: %w", err)
	}
	msgs := make([]Message, len(out.Messages))
	for i, m := range out.Messages {
		count, _ := strconv.Atoi(m.Attributes[receiveCount])
		msgs[i] = Message{
			ID:           aws.ToString(m.MessageId),
			Receipt:      aws.ToString(m.ReceiptHandle),
			Body:         []byte(aws.ToString(m.Body)),
			ReceiveCount: count,
		}
	}
	return msgs, nil
}

// Delete removes the message delivered with receipt.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(q.url),
		ReceiptHandle: aws.String(receipt),
	}, q.call(&q.deletes))
	if err != nil {
		return fmt.Errorf("sqsqueue: delete: %w", err)
	}
	return nil
}
