package syncbuf

import (
	"bytes"
	"fmt"
	"sync"
)

// Buffer is a bytes.Buffer guarded by a mutex. Safe for concurrent use;
// the zero value is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logf appends a formatted line (a newline after format).
func (s *Buffer) Logf(format string, args ...any) {
	fmt.Fprintf(s, format+"\n", args...)
}
