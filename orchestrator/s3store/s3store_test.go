package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/s3store"
	"github.com/stampede-load/stampede/orchestrator/shard"
	"github.com/stampede-load/stampede/orchestrator/storetest"
)

// fast retries: the tests check counts, not the SDK's timing.
var fast = s3store.WithRetry(4, 5*time.Millisecond)

func client(t *testing.T, endpoint string) *s3.Client {
	return localaws.NewS3Client(localaws.Config(context.Background(), t, endpoint))
}

func TestConformance(t *testing.T) {
	c := client(t, localaws.StartS3(t))
	storetest.Run(t, func(t *testing.T) shard.Store {
		return s3store.New(c, localaws.CreateBucket(t, c, "conformance"))
	})
}

func TestOps(t *testing.T) {
	c := client(t, localaws.StartS3(t))
	s := s3store.New(c, localaws.CreateBucket(t, c, "ops"))
	ctx := context.Background()
	for i := range 3 {
		if err := s.Put(ctx, fmt.Sprintf("runs/r/k%d", i), []byte("x")); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if err := s.Create(ctx, "runs/r/lease", []byte("me")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Create(ctx, "runs/r/lease", []byte("other")); !errors.Is(err, shard.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	if _, err := s.Get(ctx, "runs/r/k0"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, err := s.Get(ctx, "runs/r/none"); !errors.Is(err, shard.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	keys, err := s.List(ctx, "runs/r/")
	if err != nil || len(keys) != 4 {
		t.Fatalf("List = %q, %v; want 4 keys", keys, err)
	}
	want := s3store.Ops{Puts: 5, Gets: 2, Lists: 1}
	if got := s.Ops(); got != want {
		t.Errorf("Ops = %+v, want %+v", got, want)
	}
}

// TestListPages checks that List reads every page, in order, and counts
// each.
func TestListPages(t *testing.T) {
	c := client(t, localaws.StartS3(t))
	s := s3store.New(c, localaws.CreateBucket(t, c, "pages"), s3store.WithPageSize(10))
	ctx := context.Background()
	const n = 25
	var want []string
	for i := range n {
		key := fmt.Sprintf("runs/r/results/%02x/g%05d", (i*37)%256, i)
		if err := s.Put(ctx, key, []byte("x")); err != nil {
			t.Fatalf("Put: %v", err)
		}
		want = append(want, key)
	}
	if err := s.Put(ctx, "runs/r/other", nil); err != nil {
		t.Fatalf("Put: %v", err)
	}
	slices.Sort(want)
	keys, err := s.List(ctx, "runs/r/results/")
	if err != nil || !slices.Equal(keys, want) {
		t.Fatalf("List = %q, %v; want the %d keys under the prefix, sorted", keys, err, n)
	}
	if ops := s.Ops(); ops.Lists != 3 || ops.Puts != n+1 {
		t.Errorf("Ops = %+v, want %d puts and 3 list pages of up to 10 keys", ops, n+1)
	}
}

func TestRetries(t *testing.T) {
	ep := localaws.StartS3(t)
	direct := client(t, ep)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		fault http.Handler
	}{
		{"SlowDown", localaws.S3SlowDown()},
		{"Status500", localaws.Status(http.StatusInternalServerError)},
		{"Conflict409", conditionalConflict()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bucket := localaws.CreateBucket(t, direct, "retry")
			// Three faults: on the Put, the Create and the Get, in turn
			// (each operation's first attempts until the faults run out).
			f := localaws.StartFaults(t, ep, 3, tt.fault)
			s := s3store.New(client(t, f.URL), bucket, fast)
			if err := s.Put(ctx, "runs/r/a", []byte("put")); err != nil {
				t.Fatalf("Put through 3 faults: %v", err)
			}
			if err := s.Create(ctx, "runs/r/b", []byte("create")); err != nil {
				t.Fatalf("Create: %v", err)
			}
			got, err := s.Get(ctx, "runs/r/a")
			if err != nil || string(got) != "put" {
				t.Fatalf("Get = %q, %v; want \"put\"", got, err)
			}
			if ops := s.Ops(); ops != (s3store.Ops{Puts: 5, Gets: 1, Retries: 3}) {
				t.Errorf("Ops = %+v, want 5 puts (3 faulted, retried), 1 get, 3 retries", ops)
			}
			if f.Requests() != 6 || f.Faulted() != 3 {
				t.Errorf("proxy saw %d requests, faulted %d; want 6 and 3", f.Requests(), f.Faulted())
			}
		})
	}

	t.Run("GivesUp", func(t *testing.T) {
		bucket := localaws.CreateBucket(t, direct, "gives-up")
		f := localaws.StartFaults(t, ep, 100, localaws.S3SlowDown())
		s := s3store.New(client(t, f.URL), bucket, s3store.WithRetry(3, time.Millisecond))
		err := s.Put(ctx, "runs/r/a", []byte("x"))
		if err == nil || !strings.Contains(err.Error(), "SlowDown") {
			t.Fatalf("Put = %v, want a SlowDown error", err)
		}
		if ops := s.Ops(); ops.Puts != 3 || ops.Retries != 2 || f.Requests() != 3 {
			t.Errorf("Ops = %+v, proxy requests %d; want 3 puts, 2 retries, 3 requests", ops, f.Requests())
		}
	})

	// A create whose first attempt reached S3 but whose answer was lost is
	// retried, gets 412, and must still be the caller's.
	t.Run("CreateAnswerLost", func(t *testing.T) {
		bucket := localaws.CreateBucket(t, direct, "lost")
		mine := s3store.New(direct, bucket)
		f := localaws.StartFaults(t, ep, 1, forwardThenFail(t, ep))
		s := s3store.New(client(t, f.URL), bucket, fast)
		if err := s.Create(ctx, "runs/r/lease", []byte("winner")); err != nil {
			t.Fatalf("Create whose answer was lost = %v, want nil (the object is ours)", err)
		}
		if err := s.Create(ctx, "runs/r/lease", []byte("winner")); err == nil || !errors.Is(err, shard.ErrExists) {
			t.Fatalf("Create again (one attempt) = %v, want ErrExists", err)
		}
		if err := mine.Create(ctx, "runs/r/lease", []byte("someone else")); !errors.Is(err, shard.ErrExists) {
			t.Fatalf("Create by another = %v, want ErrExists", err)
		}
	})
}

// conditionalConflict answers as S3 does when two conditional writes race.
func conditionalConflict() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>ConditionalRequestConflict</Code>` +
			`<Message>A conflicting conditional operation is in progress.</Message></Error>`))
	})
}

// forwardThenFail forwards the request to target, drops the answer and
// replies 500 instead: the write happened, the client does not know.
func forwardThenFail(t *testing.T, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		if err != nil {
			t.Errorf("forward: %v", err)
			return
		}
		req.Header = r.Header.Clone()
		req.ContentLength = r.ContentLength
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("forward: %v", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("forwarded create answered %d, want 200", resp.StatusCode)
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
}

func TestLargeObjectRoundTrip(t *testing.T) {
	c := client(t, localaws.StartS3(t))
	s := s3store.New(c, localaws.CreateBucket(t, c, "large"))
	data := bytes.Repeat([]byte("stampede"), 3<<20/8)
	if err := s.Put(context.Background(), "runs/r/big", data); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(context.Background(), "runs/r/big")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %d bytes, %v; want the %d put", len(got), err, len(data))
	}
}
