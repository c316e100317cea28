package dirstore_test

import (
	"context"
	"testing"

	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/shard"
	"github.com/stampede-load/stampede/orchestrator/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) shard.Store { return dirstore.New(t.TempDir()) })
}

func TestInvalidKeys(t *testing.T) {
	s := dirstore.New(t.TempDir())
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "runs/../x", "runs//x", "runs/./x", `runs\x`, "runs/.tmp-1"} {
		if err := s.Put(ctx, key, nil); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", key)
		}
		if _, err := s.Get(ctx, key); err == nil {
			t.Errorf("Get(%q) succeeded, want an error", key)
		}
	}
}
