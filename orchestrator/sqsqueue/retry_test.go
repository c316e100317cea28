package sqsqueue_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/sqsqueue"
)

// isBatchSend matches SendMessageBatch requests of the JSON protocol.
func isBatchSend(r *http.Request) bool {
	return r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessageBatch"
}

// fast retries: the tests check counts, not the SDK's timing.
var fast = sqsqueue.WithRetry(4, 5*time.Millisecond)

// viaProxy returns a queue that sends through faults, and one on the same
// SQS queue that talks to the server directly (to check what arrived).
func viaProxy(t *testing.T, srv server, faults func(target string) *localaws.Faults, opts ...sqsqueue.Option) (*sqsqueue.Queue, *sqsqueue.Queue, *localaws.Faults) {
	t.Helper()
	url := localaws.CreateQueue(t, srv.client, "retry")
	f := faults(srv.endpoint)
	client := localaws.NewSQSClient(localaws.Config(context.Background(), t, f.URL))
	return sqsqueue.New(client, url, opts...), sqsqueue.New(srv.client, url), f
}

// entryFailures answers a SendMessageBatch itself, reporting every entry
// failed with senderFault.
func entryFailures(senderFault bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Entries []struct{ Id string } }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type failed struct {
			Id, Code, Message string
			SenderFault       bool
		}
		out := struct {
			Successful []struct{}
			Failed     []failed
		}{Successful: []struct{}{}}
		for _, e := range in.Entries {
			out.Failed = append(out.Failed, failed{e.Id, "InternalError", "injected", senderFault})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(out)
	})
}

func TestRetries(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		fault http.Handler
	}{
		{"Throttled", localaws.SQSThrottled()},
		{"Status500", localaws.Status(http.StatusInternalServerError)},
		{"Status503", localaws.Status(http.StatusServiceUnavailable)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, direct, f := viaProxy(t, srv, func(target string) *localaws.Faults {
				return localaws.StartFaultsMatching(t, target, 2, tt.fault, isBatchSend)
			}, fast)
			sent := bodies(7, tt.name)
			if err := q.Send(ctx, sent); err != nil {
				t.Fatalf("Send through 2 faults: %v", err)
			}
			if ops := q.Ops(); ops.Sends != 3 || ops.Retries != 2 {
				t.Errorf("Ops = %+v, want 3 sends of which 2 retries", ops)
			}
			if f.Faulted() != 2 || f.Requests() != 3 {
				t.Errorf("proxy saw %d requests, faulted %d; want 3 and 2", f.Requests(), f.Faulted())
			}
			receiveAll(t, direct, len(sent))
		})
	}

	t.Run("GivesUp", func(t *testing.T) {
		t.Parallel()
		q, _, f := viaProxy(t, srv, func(target string) *localaws.Faults {
			return localaws.StartFaults(t, target, 100, localaws.SQSThrottled())
		}, sqsqueue.WithRetry(3, time.Millisecond))
		err := q.Send(ctx, bodies(12, "gives-up"))
		if err == nil || !strings.Contains(err.Error(), "12 not sent") || !strings.Contains(err.Error(), "RequestThrottled") {
			t.Fatalf("Send = %v, want an error saying 12 not sent, RequestThrottled", err)
		}
		// Two batches (10 + 2), three attempts each.
		if ops := q.Ops(); ops.Sends != 6 || ops.Retries != 4 || f.Requests() != 6 {
			t.Errorf("Ops = %+v, proxy requests %d; want 6 sends, 4 retries, 6 requests", ops, f.Requests())
		}
	})

	t.Run("EntriesResent", func(t *testing.T) {
		t.Parallel()
		q, direct, f := viaProxy(t, srv, func(target string) *localaws.Faults {
			return localaws.StartFaultsMatching(t, target, 1, entryFailures(false), isBatchSend)
		}, fast)
		sent := bodies(10, "resent")
		if err := q.Send(ctx, sent); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if ops := q.Ops(); ops.Sends != 2 || ops.Retries != 0 || f.Faulted() != 1 {
			t.Errorf("Ops = %+v, faulted %d; want 2 sends (one resend of the failed entries), no retries, 1 fault", ops, f.Faulted())
		}
		receiveAll(t, direct, len(sent))
	})

	t.Run("ResendLimit", func(t *testing.T) {
		t.Parallel()
		q, _, _ := viaProxy(t, srv, func(target string) *localaws.Faults {
			return localaws.StartFaults(t, target, 100, entryFailures(false))
		}, fast, sqsqueue.WithResends(2))
		err := q.Send(ctx, bodies(3, "limit"))
		if err == nil || !strings.Contains(err.Error(), "3 not sent") || !strings.Contains(err.Error(), "after 2 resends") {
			t.Fatalf("Send = %v, want an error saying 3 not sent after 2 resends", err)
		}
		if got := q.Ops().Sends; got != 3 {
			t.Errorf("Ops().Sends = %d, want 3 (first + 2 resends)", got)
		}
	})

	t.Run("SenderFault", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		q, _, _ := viaProxy(t, srv, func(target string) *localaws.Faults {
			h := entryFailures(true)
			return localaws.StartFaults(t, target, 100, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				h.ServeHTTP(w, r)
			}))
		}, fast)
		err := q.Send(ctx, bodies(4, "sender"))
		if err == nil || !strings.Contains(err.Error(), "4 not sent") || !strings.Contains(err.Error(), "InternalError: injected") {
			t.Fatalf("Send = %v, want an error saying 4 not sent, InternalError: injected", err)
		}
		if calls.Load() != 1 {
			t.Errorf("entries refused for the sender's fault were sent %d times, want 1", calls.Load())
		}
	})
}
