package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stampede-load/stampede/internal/syncbuf"
)

// TestConcurrent: writers and a reader at once (go test -race), and every
// line written is there at the end, whole.
func TestConcurrent(t *testing.T) {
	var b syncbuf.Buffer
	const writers, lines = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				b.Logf("writer %d line %d", w, i)
			}
		})
	}
	wg.Go(func() {
		for range lines {
			_ = b.String()
		}
	})
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		if !strings.HasPrefix(l, "writer ") || strings.Count(l, " ") != 3 {
			t.Fatalf("line %q is not whole", l)
		}
	}
}
