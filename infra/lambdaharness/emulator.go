package lambdaharness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// InvokePath is the RIE's invoke endpoint (the Lambda Invoke API's path).
const InvokePath = "/2015-03-31/functions/function/invocations"

const (
	// readyTimeout bounds an emulator's start (it answers within 100 ms).
	readyTimeout = 15 * time.Second
	// stopTimeout is how long an emulator gets to exit after SIGTERM.
	stopTimeout = 3 * time.Second
	// maxLine is the longest output line kept whole (bytes).
	maxLine = 64 << 10
)

// emulator is one aws-lambda-rie process running the bootstrap. It serves
// one invocation at a time: its owner (one poller) never overlaps them.
type emulator struct {
	name   string
	url    string // invoke URL
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	client *http.Client
}

// startEmulator runs the RIE on two free loopback ports and waits until
// it accepts connections. Its output goes line by line to logf.
func startEmulator(name string, bins Binaries, env []string, timeout time.Duration,
	logf func(string, ...any)) (*emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("emulator %s: %w", name, err)
	}
	invokeAddr, runtimeAddr := ports[0], ports[1]
	cmd := exec.Command(bins.RIE,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bins.Bootstrap)
	cmd.Env = env
	cmd.Stdout = &lineWriter{prefix: name + ": ", logf: logf}
	cmd.Stderr = cmd.Stdout
	// The bootstrap inherits the output pipe: don't wait for it forever.
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator %s: start %s: %w", name, bins.RIE, err)
	}
	e := &emulator{
		name:   name,
		url:    "http://" + invokeAddr + InvokePath,
		cmd:    cmd,
		exited: make(chan struct{}),
		client: &http.Client{Timeout: timeout + 30*time.Second},
	}
	go func() {
		_ = cmd.Wait() // its status is of no interest: stop kills it
		close(e.exited)
	}()
	if err := e.waitReady(invokeAddr); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// waitReady dials addr until it answers, the process exits or
// readyTimeout passes.
func (e *emulator) waitReady(addr string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("emulator %s exited before it listened on %s (see its output in the test log)", e.name, addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("emulator %s: not listening on %s after %v", e.name, addr, readyTimeout)
		}
	}
}

// invoke posts ev and returns the function's response. A function error
// (the RIE's errorMessage/errorType body) is returned as an error.
func (e *emulator) invoke(ctx context.Context, ev *events.SQSEvent) (*events.SQSEventResponse, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	data, fnErr, err := e.invokeRaw(ctx, body)
	if err != nil {
		return nil, err
	}
	if fnErr != "" {
		return nil, fmt.Errorf("invoke %s: %s", e.name, fnErr)
	}
	var out events.SQSEventResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("invoke %s: decode response %q: %w", e.name, data, err)
	}
	return &out, nil
}

// invokeRaw posts payload and returns the function's response body, and
// a description of the function error when the function failed (the
// RIE's errorMessage/errorType body).
func (e *emulator) invokeRaw(ctx context.Context, payload []byte) (resp []byte, fnErr string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	r, err := e.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("invoke %s: %w", e.name, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, "", fmt.Errorf("invoke %s: read response: %w", e.name, err)
	}
	if r.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("invoke %s: status %d: %s", e.name, r.StatusCode, bytes.TrimSpace(data))
	}
	var fe struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal(data, &fe) == nil && (fe.Message != "" || fe.Type != "") {
		return data, "function error " + fe.Type + ": " + fe.Message, nil
	}
	return data, "", nil
}

// stop ends the process: SIGTERM, then SIGKILL after stopTimeout. It
// returns once the process has exited.
func (e *emulator) stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		return
	case <-time.After(stopTimeout):
	}
	_ = e.cmd.Process.Kill()
	<-e.exited
}

// freePorts returns n distinct "127.0.0.1:port" addresses that were free a
// moment ago (held open together, so that they differ).
func freePorts(n int) ([]string, error) {
	addrs := make([]string, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs, nil
}

// processEnv is the emulator's environment: a few of this process's
// variables (PATH, HOME, TMPDIR) and then extra, which wins.
func processEnv(region string, timeout time.Duration, extra map[string]string) []string {
	env := []string{}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env,
		"AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int(max(time.Second, timeout)/time.Second)),
	)
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// startEmulators starts n emulators named prefix-0… and stops them all in
// t.Cleanup.
func startEmulators(t testing.TB, n int, prefix string, bins Binaries, env []string, timeout time.Duration,
	logf func(string, ...any)) []*emulator {
	t.Helper()
	if bins.RIE == "" || bins.Bootstrap == "" {
		t.Fatal("lambdaharness: emulators need Binaries (Builds.Binaries)")
	}
	var es []*emulator
	t.Cleanup(func() {
		var stops sync.WaitGroup
		for _, e := range es {
			stops.Go(e.stop)
		}
		stops.Wait()
	})
	for i := range n {
		e, err := startEmulator(fmt.Sprintf("%s-%d", prefix, i), bins, env, timeout, logf)
		if err != nil {
			t.Fatalf("lambdaharness: %v", err)
		}
		es = append(es, e)
	}
	return es
}

// lineWriter passes whole lines to logf. Safe for concurrent use.
type lineWriter struct {
	prefix string
	logf   func(string, ...any)
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.logf("%s%s", w.prefix, w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine { // a runaway line: pass it on in pieces
		w.logf("%s%s", w.prefix, w.buf)
		w.buf = nil
	}
	return len(p), nil
}
