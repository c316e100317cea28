package localaws

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/syncbuf"
)

// Install is the command that installs StartSQS's npm dependencies, run
// from the repository root.
const Install = "npm ci --prefix infra/localaws"

// sqsScript is the Node script, in this package's directory, that starts
// local-aws-sqs and prints "listening on URL".
const sqsScript = "sqs-server.mjs"

// sqsStartTimeout bounds how long StartSQS waits for the server.
const sqsStartTimeout = 20 * time.Second

// StartSQS starts local-aws-sqs (npm, 2.0.2) as a child process on a free
// port of 127.0.0.1, waits until it answers, and returns its endpoint URL.
// The process is killed when the test ends. Every call starts its own
// server: share one across subtests and create a fresh queue per test.
// It fails the test, with the command to run, when node or the npm
// package is missing.
func StartSQS(t testing.TB) (endpoint string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("localaws: node is not installed (install Node.js 18 or later, then run `%s`): %v", Install, err)
	}
	dir, err := packageDir()
	if err != nil {
		t.Fatalf("localaws: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "local-aws-sqs", "package.json")); err != nil {
		t.Fatalf("localaws: the npm package local-aws-sqs is not installed in %s: run `%s` from the repository root", dir, Install)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, sqsScript, "0")
	cmd.Dir = dir
	out := &firstLine{ready: make(chan struct{})}
	var stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	// The script exits when its stdin closes: if this test process dies
	// without running its cleanups, the server goes too.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("localaws: start local-aws-sqs: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("localaws: start local-aws-sqs: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		<-exited
	})

	select {
	case <-out.ready:
	case <-exited:
		t.Fatalf("localaws: local-aws-sqs exited before it listened (%v); stderr:\n%s", waitErr, stderr.String())
	case <-time.After(sqsStartTimeout):
		t.Fatalf("localaws: local-aws-sqs did not start within %v; stderr:\n%s", sqsStartTimeout, stderr.String())
	}
	line := out.line()
	endpoint, ok := strings.CutPrefix(line, "listening on ")
	if !ok || !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("localaws: local-aws-sqs printed %q, want \"listening on http://127.0.0.1:PORT\"; stderr:\n%s", line, stderr.String())
	}
	if err := waitAnswers(endpoint, 5*time.Second); err != nil {
		t.Fatalf("localaws: local-aws-sqs at %s: %v; stderr:\n%s", endpoint, err, stderr.String())
	}
	return endpoint
}

// packageDir is the directory of this package's sources (where the Node
// script and node_modules are), found from this file's path or, failing
// that, by walking up from the working directory to go.mod.
func packageDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(dir, sqsScript)); err == nil {
			return dir, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find infra/localaws: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "infra", "localaws"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find infra/localaws: no go.mod above %s", wd)
		}
	}
}

// waitAnswers polls endpoint until it answers any HTTP response.
func waitAnswers(endpoint string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(endpoint)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v: %w", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// firstLine is a child's stdout: it keeps the first line, signals ready
// once it has it, and discards the rest.
type firstLine struct {
	mu    sync.Mutex
	buf   []byte
	done  bool
	ready chan struct{}
}

func (w *firstLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.buf = w.buf[:i]
		w.done = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *firstLine) line() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}
