package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/internal/syncbuf"
	"github.com/stampede-load/stampede/orchestrator/report"
)

// builds holds the binaries the scenarios run: the CLI (built here once per
// test process) and, for the aws path, lambdaharness's bootstrap and RIE.
var builds struct {
	mu   sync.Mutex // guards dir and aws.Dir while they are set
	once sync.Once
	dir  string
	cli  string
	err  error
	aws  lambdaharness.Builds
}

// buildDir makes the directory of this process's builds once.
func buildDir() error {
	if builds.dir == "" && builds.err == nil {
		builds.dir, builds.err = os.MkdirTemp("", "stampede-chaos-")
	}
	return builds.err
}

// awsBinaries returns the bootstrap and the RIE, built into this process's
// own directory: the shared cache (~/.cache/stampede/lambdaharness) may hold
// a bootstrap another checkout built a moment ago.
func awsBinaries(t testing.TB) lambdaharness.Binaries {
	t.Helper()
	builds.mu.Lock()
	if err := buildDir(); err != nil {
		builds.mu.Unlock()
		t.Fatal(err)
	}
	if builds.aws.Dir == "" { // set once, before the first build reads it
		builds.aws.Dir = filepath.Join(builds.dir, "aws")
	}
	builds.mu.Unlock()
	return builds.aws.Binaries(t)
}

// cli returns the path of a freshly built stampede binary.
func cli(t testing.TB) string {
	t.Helper()
	builds.once.Do(func() {
		builds.mu.Lock()
		defer builds.mu.Unlock()
		if buildDir() != nil {
			return
		}
		builds.cli = filepath.Join(builds.dir, "stampede")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", builds.cli, "github.com/stampede-load/stampede/cmd/stampede")
		if out, err := cmd.CombinedOutput(); err != nil {
			builds.err = fmt.Errorf("go build ./cmd/stampede: %w\n%s", err, out)
		}
	})
	if builds.err != nil {
		t.Fatal(builds.err)
	}
	return builds.cli
}

func cleanupBuilds() {
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
}

// cliRun is one stampede process.
type cliRun struct {
	cmd            *exec.Cmd
	stdout, stderr syncbuf.Buffer
	done           chan struct{}
	code           int
	exited         time.Time // when it exited (read after done)
}

// startCLI starts stampede with args; env replaces the environment's
// AWS_* variables and adds the token.
func startCLI(t testing.TB, env []string, args ...string) *cliRun {
	t.Helper()
	r := &cliRun{cmd: exec.Command(cli(t), args...), done: make(chan struct{})}
	r.cmd.Env = cliEnv(env)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start stampede: %v", err)
	}
	go func() {
		err := r.cmd.Wait()
		r.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.code = 128 + int(ws.Signal())
			}
		} else if err != nil {
			r.code = -1
		}
		r.exited = time.Now()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// cliEnv is this process's environment without AWS_* and the token,
// then extra and the token.
func cliEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, envToken+"=") {
			env = append(env, kv)
		}
	}
	return append(append(env, extra...), envToken+"="+token)
}

// wait waits for the process to exit (at most d) and returns its code.
func (r *cliRun) wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(d):
		t.Fatalf("stampede %s did not exit within %v\nstdout:\n%s\nstderr:\n%s",
			strings.Join(r.cmd.Args[1:], " "), d, r.stdout.String(), r.stderr.String())
		return -1
	}
}

// signal sends sig to the process.
func (r *cliRun) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal stampede: %v", err)
	}
}

// runCLI runs stampede to its end (at most d) and returns its code and output.
func runCLI(t testing.TB, env []string, d time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r := startCLI(t, env, args...)
	code = r.wait(t, d)
	return code, r.stdout.String(), r.stderr.String()
}

// readReport reads report.json from dir.
func readReport(t testing.TB, dir string) *report.Report {
	t.Helper()
	rep, err := report.ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("read the report: %v", err)
	}
	return rep
}

// planYAML is a plan of gens generators hitting /hit at rate/s for d, with
// the token from the environment in every request. extra is added at the
// top level (timeouts, regions).
func planYAML(d time.Duration, rate, gens int, extra string) string {
	return fmt.Sprintf(`name: chaos
target: http://127.0.0.1:9
duration: %s
load: {rate: %d}
generators: %d
defaults: {timeout: 1s}
%s
scenarios:
  - name: hit
    steps:
      - name: GET /hit
        get: /hit
        headers: {Authorization: 'Bearer {{ env "%s" }}'}
        expect: {status: 200}
`, d, rate, gens, extra, envToken)
}

// writePlan writes src into dir and returns its path.
func writePlan(t testing.TB, dir, src string) string {
	t.Helper()
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
