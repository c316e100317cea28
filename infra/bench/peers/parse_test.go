package main

import (
	"math"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParsers(t *testing.T) {
	wrk := `Running 5s test @ http://127.0.0.1:18080/
  1 threads and 50 connections
  Latency Distribution
     50%  601.00us
     75%    1.02ms
     90%    2.10ms
     99%   38.00ms
  268470 requests in 5.00s, 40.71MB read
Requests/sec:  53694.00
`
	hey := `Summary:
  Requests/sec:	23639.1

Latency distribution:
  10%% in 0.0010 secs
  50%% in 0.0020 secs
  99%% in 0.0061 secs

Status code distribution:
  [200]	118000 responses
  [503]	195 responses
`
	stampede := `{"requests": 99963, "service_p50_us": 815, "service_p99_us": 9543, "late": 3, "dropped": 1, "lateness_p99_us": 120, "achieved_rate": 19990.5}`
	tests := []struct {
		name  string
		parse func(job, []byte) (parsed, error)
		out   string
		want  parsed
	}{
		{"wrk", parseWrk, wrk, parsed{requests: 268470, p50Us: 601, p99Us: 38000}},
		{"hey", parseHey, hey, parsed{requests: 118195, p50Us: 2000, p99Us: 6100}},
		{"stampede", parseStampede, stampede, parsed{requests: 99963, p50Us: 815, p99Us: 9543, late: 3, dropped: 1,
			latenessP99Us: 120, achievedRate: 19990.5, hasSchedulingOut: true}},
	}
	for _, tt := range tests {
		got, err := tt.parse(job{}, []byte(tt.out))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, b) }
		if got.requests != tt.want.requests || !near(got.p50Us, tt.want.p50Us) || !near(got.p99Us, tt.want.p99Us) ||
			got.late != tt.want.late || got.dropped != tt.want.dropped || got.achievedRate != tt.want.achievedRate {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if _, err := parseWrk(job{}, []byte("garbage")); err == nil {
		t.Error("parseWrk accepted output without a request count")
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRenderExtras(t *testing.T) {
	sec := time.Second
	samples := []sample{
		{tool: "stampede", mode: modeClosed, elapsed: sec, cpu: sec, parsed: parsed{requests: 100000}},
		{tool: "stampede", mode: modeClosed, variant: variantMulti, elapsed: sec, cpu: 2 * sec, parsed: parsed{requests: 130000}},
		{tool: "stampede", mode: modeOpen, rate: 10000, variant: variantManyRSS, elapsed: sec, cpu: sec, maxRSSKB: 40 << 10, targetConns: 498,
			parsed: parsed{requests: 10000, achievedRate: 9990, dropped: 3}},
		{tool: "wrk", mode: modeClosed, elapsed: sec, cpu: sec, parsed: parsed{requests: 125000}},
		{tool: "stampede", mode: modeOpen, rate: 1000, elapsed: sec, cpu: 100 * time.Millisecond, parsed: parsed{requests: 1000}},
		{tool: "stampede", mode: modeOpen, rate: 1000, variant: variantCoarse, elapsed: sec, cpu: 25 * time.Millisecond,
			parsed: parsed{requests: 1000, latenessP99Us: 4900}},
	}
	md := render(samples, time.Unix(0, 0), 5*sec, 1, 50, 1, 500, 5*time.Millisecond)
	for _, want := range []string{
		"| stampede | closed | max | 100000 |", "0.80×", // the peer table keeps the variants out
		"| multi-step plan, closed | 50 | 130000 | 65000 (65000–65000) |", "65% of the one-step GET's req/CPU-s (goal ≥ 60%)",
		"| one-step GET, open 10000 req/s, a target that waits before answering | 500 |",
		"peak RSS 40 MB (goal < 64 MB) with 498 connections opened, achieved 9990 started/s, 3 dropped",
		"| one-step GET, open 1000 req/s, release grid 5ms | 50 |", "2.5% of a core (goal ≤ 5% at 1,000 req/s; 10.0% with the default grid), lateness p99 4.90 ms",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("render lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "| stampede | closed |") != 1 {
		t.Errorf("the variants leaked into the peer table:\n%s", md)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tengineload\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 1236200 kB\nVmHWM:\t    9876 kB\nVmRSS:\t    9000 kB\n"
	name, hwm, ok := parseStatus([]byte(status))
	if !ok || name != "engineload" || hwm != 9876 {
		t.Errorf("parseStatus = %q, %d, %v; want engineload, 9876, true", name, hwm, ok)
	}
	if _, _, ok := parseStatus([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); ok {
		t.Error("a status without VmHWM (a zombie) was read as a sample")
	}
}

// TestPeakRSSOfChild runs a real child that grows to a known size and
// checks that peakRSS sees it and not this test process's own peak.
func TestPeakRSSOfChild(t *testing.T) {
	big := make([]byte, 64<<20) // this process: at least 64 MiB resident
	for i := range big {
		big[i] = 1
	}
	cmd := exec.Command("sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	got := make(chan int64)
	go func() { got <- peakRSS(cmd.Process.Pid, "sleep", done) }()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	close(done)
	kb := <-got
	if kb <= 0 || kb > 16<<10 {
		t.Errorf("peak RSS of sleep = %d KiB; want a few MiB, not this process's %d MiB", kb, len(big)>>20)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	t.Logf("sleep: VmHWM %d KiB, rusage Maxrss %d KiB", kb, ru.Maxrss)
	big[0] = 2
}
