package chaos

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// secretScan counts what was searched for the token and where it was found.
type secretScan struct {
	mu      sync.Mutex
	sources int   // files, objects and logs searched
	bytes   int64 // their total size
	found   []string
}

// text searches one named text.
func (s *secretScan) text(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources++
	s.bytes += int64(len(text))
	if strings.Contains(text, token) {
		s.found = append(s.found, name)
	}
}

// dir searches every file under root.
func (s *secretScan) dir(t testing.TB, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s.text(path, string(b))
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s for the secret: %v", root, err)
	}
}

// store searches every object of st under prefix.
func (s *secretScan) store(t testing.TB, st shard.Store, prefix string) {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, prefix)
	if err != nil {
		t.Fatalf("scan the store for the secret: %v", err)
	}
	for _, k := range keys {
		b, err := st.Get(ctx, k)
		if err != nil {
			t.Fatalf("scan the store for the secret: %v", err)
		}
		s.text("object "+k, string(b))
	}
}

// check fails t if the token was found, and describes the scan.
func (s *secretScan) check(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.found) > 0 {
		t.Errorf("the secret token is in %d places: %q", len(s.found), s.found)
	}
	return fmt.Sprintf("token in 0 of %d files, objects and logs (%d KiB)", s.sources, s.bytes>>10)
}
