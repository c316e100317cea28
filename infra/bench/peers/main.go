package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// sample is one measured run.
type sample struct {
	tool, mode  string
	rate        int
	variant     string // job.variant
	targetConns int64  // connections the slow target accepted (variantManyRSS)
	elapsed     time.Duration
	cpu         time.Duration // user+sys of the tool process
	maxRSSKB    int64
	parsed
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engineload := fs.String("engineload", "bin/engineload", "the engineload binary")
	bin := fs.String("bin", filepath.Join(os.Getenv("HOME"), "go", "bin"), "where vegeta, hey and fortio are installed")
	duration := fs.Duration("duration", 5*time.Second, "length of each run")
	reps := fs.Int("reps", 3, "repetitions of every run")
	conns := fs.Int("conns", 50, "connections")
	rates := fs.String("rates", "1000,5000,20000", "open-model rates, requests/s")
	port := fs.Int("port", 18080, "nginx port on 127.0.0.1")
	cpu := fs.Int("cpu", 1, "core the tools are pinned to with taskset (nginx gets the other); -1: no pinning")
	only := fs.String("tools", "", "comma-separated subset of tools (default all)")
	multistep := fs.String("multistep", "infra/bench/engineload/multistep.yaml", "the multi-step plan stampede also runs closed-loop (empty: skip)")
	bigConns := fs.Int("bigconns", 500, "connections of stampede's peak-RSS run at -bigrate (0: skip)")
	bigRate := fs.Int("bigrate", 10000, "open-model rate of the peak-RSS run")
	coarseTick := fs.Duration("coarsetick", 5*time.Millisecond, "release grid of stampede's extra open-model run at the first -rates rate (0: skip)")
	bigDelay := fs.Duration("bigdelay", 45*time.Millisecond, "how long the peak-RSS run's target (in this process) takes per response, so that about bigrate×bigdelay connections are in use")
	out := fs.String("out", "", "markdown file whose peer section (between markers) is replaced; empty: stdout only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var openRates []int
	for f := range strings.SplitSeq(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			fmt.Fprintf(stderr, "peers: -rates: %q is not a positive rate\n", f)
			return 2
		}
		openRates = append(openRates, r)
	}
	dir, err := os.MkdirTemp("", "stampede-peers-")
	if err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	stopNginx, err := startNginx(dir, *port, 1-*cpu)
	if err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 1
	}
	defer stopNginx()

	url := fmt.Sprintf("http://127.0.0.1:%d/", *port)
	slow, err := startSlowTarget(*bigDelay)
	if err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 1
	}
	defer slow.close()
	ts := selectTools(tools(*bin, *engineload), *only)
	var samples []sample
	started := time.Now()
	for rep := range *reps {
		for _, t := range ts {
			jobs := []job{{mode: modeClosed, conns: *conns}}
			for _, r := range openRates {
				jobs = append(jobs, job{mode: modeOpen, rate: r, conns: *conns})
			}
			if t.name == "stampede" {
				jobs = append(jobs, extraJobs(*multistep, *conns, *bigRate, *bigConns)...)
				if *coarseTick > 0 {
					jobs = append(jobs, job{mode: modeOpen, rate: openRates[0], conns: *conns, variant: variantCoarse, tick: *coarseTick})
				}
			}
			for _, j := range jobs {
				if ctx.Err() != nil {
					return 1
				}
				j.duration, j.url, j.dir = *duration, url, dir
				if j.variant == variantManyRSS {
					j.url = slow.url
				}
				conns0 := slow.conns.Load()
				s, err := measure(t, j, *cpu)
				s.targetConns = slow.conns.Load() - conns0
				if errors.Is(err, errNoMode) {
					continue
				}
				if err != nil {
					fmt.Fprintf(stderr, "peers: rep %d: %s %s %d: %v\n", rep+1, t.name, j.mode, j.rate, err)
					continue
				}
				fmt.Fprintf(stderr, "rep %d %-8s %-6s %6d %-16s: %8.0f req/s %8.0f req/CPU-s p50 %7.0fµs p99 %7.0fµs rss %4d MB\n",
					rep+1, s.tool, s.mode, s.rate, s.variant, s.reqPerSec(), s.reqPerCPU(), s.p50Us, s.p99Us, s.maxRSSKB>>10)
				samples = append(samples, s)
			}
		}
	}
	md := render(samples, started, *duration, *reps, *conns, *cpu, *bigConns, *coarseTick)
	fmt.Fprint(stdout, md)
	if *out != "" {
		if err := splice(*out, md); err != nil {
			fmt.Fprintln(stderr, "peers:", err)
			return 1
		}
	}
	return 0
}

var errNoMode = errors.New("tool has no such mode")

// Variants of stampede's extra runs.
const (
	variantMulti   = "multi-step plan"
	variantManyRSS = "many connections"
	variantCoarse  = "coarse tick"
)

// extraJobs are stampede's runs beyond the one-step GET: the multi-step
// plan closed-loop with the usual connections, and the open model at
// bigRate with bigConns connections for peak RSS.
func extraJobs(multistep string, conns, bigRate, bigConns int) []job {
	var jobs []job
	if multistep != "" {
		jobs = append(jobs, job{mode: modeClosed, conns: conns, variant: variantMulti, plan: multistep})
	}
	if bigConns > 0 && bigRate > 0 {
		jobs = append(jobs, job{mode: modeOpen, rate: bigRate, conns: bigConns, variant: variantManyRSS})
	}
	return jobs
}

// measure runs one job and reads the tool process's rusage (CPU time) and
// its peak RSS (peakRSS).
func measure(t tool, j job, cpu int) (sample, error) {
	cmd := t.cmd(j)
	if cmd == nil {
		return sample{}, errNoMode
	}
	prog := filepath.Base(cmd.Path)
	if cpu >= 0 {
		if p, err := exec.LookPath("taskset"); err == nil {
			cmd.Args = append([]string{p, "-c", strconv.Itoa(cpu)}, cmd.Args...)
			cmd.Path = p
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Start()
	var rssKB int64
	if err == nil {
		done := make(chan struct{})
		watched := make(chan int64)
		go func() { watched <- peakRSS(cmd.Process.Pid, prog, done) }()
		err = cmd.Wait()
		close(done)
		rssKB = <-watched
	}
	elapsed := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %w: %s", cmd.Args, err, lastLine(stderr.Bytes()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("no rusage")
	}
	if rssKB == 0 {
		return sample{}, fmt.Errorf("%v: no peak RSS read from /proc/%d/status", cmd.Args, cmd.Process.Pid)
	}
	p, err := t.parse(j, stdout.Bytes())
	if err != nil {
		return sample{}, err
	}
	return sample{
		tool: t.name, mode: j.mode, rate: j.rate, variant: j.variant, elapsed: elapsed,
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		maxRSSKB: rssKB, parsed: p,
	}, nil
}

// peakRSS watches process pid until done and returns the largest VmHWM
// (peak resident set, KiB) it read while the process ran prog. rusage's
// Maxrss cannot be used: a child forked from this process with a shared
// address space (as os/exec does) is charged this process's peak RSS when
// it execs, so every tool would seem at least as large as the benchmark
// driver. VmHWM belongs to the address space the tool execed into; it only
// grows, so polling every few milliseconds misses at most the last few.
func peakRSS(pid int, prog string, done <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	if len(prog) > 15 {
		prog = prog[:15] // the kernel's comm is 15 bytes at most
	}
	var peak int64
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			if name, hwm, ok := parseStatus(b); ok && name == prog {
				peak = max(peak, hwm)
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

// parseStatus reads the Name and VmHWM (KiB) lines of /proc/PID/status.
func parseStatus(b []byte) (name string, hwmKB int64, ok bool) {
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Name":
			name = v
		case "VmHWM":
			n, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
			if err != nil {
				return "", 0, false
			}
			hwmKB, ok = n, true
		}
	}
	return name, hwmKB, ok
}

// slowTarget answers every request after a delay, counting the
// connections it accepts: the peak-RSS run's target, which needs hundreds
// of requests in flight where nginx answers at once. It runs in this
// process, so its CPU is not charged to the tool measured.
type slowTarget struct {
	url   string
	conns atomic.Int64
	srv   *http.Server
}

func startSlowTarget(delay time.Duration) (*slowTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("slow target: %w", err)
	}
	t := &slowTarget{url: "http://" + ln.Addr().String() + "/"}
	t.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(delay)
			io.WriteString(w, "hello, world\n")
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				t.conns.Add(1)
			}
		},
	}
	go t.srv.Serve(ln)
	return t, nil
}

func (t *slowTarget) close() { t.srv.Close() }

func (s sample) reqPerSec() float64 { return float64(s.requests) / s.elapsed.Seconds() }
func (s sample) reqPerCPU() float64 { return float64(s.requests) / max(s.cpu.Seconds(), 1e-9) }

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func selectTools(all []tool, only string) []tool {
	if only == "" {
		return all
	}
	var out []tool
	for _, t := range all {
		for n := range strings.SplitSeq(only, ",") {
			if strings.TrimSpace(n) == t.name {
				out = append(out, t)
			}
		}
	}
	return out
}

// apiBody is what nginx answers under /api/: the JSON the multi-step plan
// (infra/bench/engineload/multistep.yaml) checks and captures from.
const apiBody = `{"ok":true,"access_token":"eyJhbGciOiJIUzI1NiJ9.bench.c2lnbmF0dXJl","items":[{"id":4711,"name":"widget","price":9.99},{"id":4712,"name":"gadget","price":19.99}]}`

// startNginx runs nginx in the foreground, one worker (pinned to core
// nginxCPU when it is 0 or 1), serving a 13-byte body from every path but
// /api/ (apiBody there) with access logging off and long keep-alive, and
// waits until it accepts.
func startNginx(dir string, port, nginxCPU int) (stop func(), err error) {
	affinity := ""
	if nginxCPU == 0 || nginxCPU == 1 {
		affinity = "worker_cpu_affinity " + map[int]string{0: "01", 1: "10"}[nginxCPU] + ";"
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
%s
pid %[2]s/nginx.pid;
error_log %[2]s/error.log error;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  server {
    listen 127.0.0.1:%[3]d;
    location / { default_type text/plain; return 200 "hello, world\n"; }
    location /api/ { default_type application/json; return 200 '%[4]s'; }
  }
}
`, affinity, dir, port, apiBody)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("nginx config: %w", err)
	}
	cmd := exec.Command("nginx", "-p", dir, "-c", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGQUIT)
		_ = cmd.Wait()
	}
	for range 100 {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("nginx did not listen on port %d: %s", port, errOut.String())
}
