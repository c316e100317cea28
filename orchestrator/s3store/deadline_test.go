package s3store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/s3store"
)

// TestDeadlineSaysWhy checks that a write whose retries a deadline cuts
// short says what S3 answered, not only that the deadline passed: a
// generator's log must say why its result was not written.
func TestDeadlineSaysWhy(t *testing.T) {
	ep := localaws.StartS3(t)
	bucket := localaws.CreateBucket(t, client(t, ep), "deadline")
	f := localaws.StartFaults(t, ep, 1000, localaws.S3SlowDown())
	s := s3store.New(client(t, f.URL), bucket, s3store.WithRetry(100, 50*time.Millisecond))
	for _, op := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"put", func(ctx context.Context) error { return s.Put(ctx, "runs/r/a", []byte("x")) }},
		{"create", func(ctx context.Context) error { return s.Create(ctx, "runs/r/b", []byte("x")) }},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := op.do(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || !strings.Contains(err.Error(), "SlowDown") ||
			!strings.Contains(err.Error(), "gave up after") {
			t.Errorf("%s cut short by its deadline: %v; want the deadline and S3's last answer (SlowDown)", op.name, err)
		}
	}
	if f.Faulted() < 4 {
		t.Errorf("%d attempts faulted, want several", f.Faulted())
	}
}
