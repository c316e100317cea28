package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Modes of a run: closed loop with a fixed number of connections, or an
// open model at a fixed rate.
const (
	modeClosed = "closed"
	modeOpen   = "open"
)

// job is one run of one tool.
type job struct {
	mode     string
	rate     int // requests/s (open)
	conns    int
	duration time.Duration
	url      string
	dir      string // scratch directory for the tool's files
	// variant names a stampede-only run beyond the one-step GET (empty for
	// the runs every tool makes); plan is the plan file it runs, if any.
	variant, plan string
	tick          time.Duration // stampede's release grid (0: its default)
}

// parsed is what a tool's output says. Latencies are microseconds.
type parsed struct {
	requests         int64
	p50Us, p99Us     float64
	late, dropped    int64   // stampede only
	latenessP99Us    float64 // stampede only
	achievedRate     float64 // open model: offered arrivals started per second, when the tool says
	hasSchedulingOut bool
	failures         int64 // stampede only
}

// tool runs one load generator: cmd builds the command (nil: the tool has
// no such mode), parse reads its output (stdout, plus files it wrote).
type tool struct {
	name  string
	cmd   func(j job) *exec.Cmd
	parse func(j job, stdout []byte) (parsed, error)
}

func tools(bin, engineload string) []tool {
	return []tool{
		{name: "stampede", cmd: func(j job) *exec.Cmd {
			args := []string{"-url", j.url, "-mode", j.mode, "-conns", strconv.Itoa(j.conns), "-duration", j.duration.String()}
			if j.mode == modeOpen {
				args = append(args, "-rate", strconv.Itoa(j.rate))
			}
			if j.plan != "" {
				args = append(args, "-plan", j.plan)
			}
			if j.tick > 0 {
				args = append(args, "-tick", j.tick.String())
			}
			return exec.Command(engineload, args...)
		}, parse: parseStampede},
		{name: "wrk", cmd: func(j job) *exec.Cmd {
			if j.mode == modeOpen { // Debian's wrk is not wrk2: no fixed rate
				return nil
			}
			return exec.Command("wrk", "-t1", "-c"+strconv.Itoa(j.conns), "-d"+secs(j.duration), "--latency", j.url)
		}, parse: parseWrk},
		{name: "fortio", cmd: func(j job) *exec.Cmd {
			qps := "0" // 0: no wait, as fast as possible
			if j.mode == modeOpen {
				qps = strconv.Itoa(j.rate)
			}
			return exec.Command(filepath.Join(bin, "fortio"), "load", "-quiet", "-qps", qps, "-c", strconv.Itoa(j.conns),
				"-t", j.duration.String(), "-p", "50,99", "-json", filepath.Join(j.dir, "fortio.json"), j.url)
		}, parse: parseFortio},
		{name: "vegeta", cmd: func(j job) *exec.Cmd {
			rate := "0"
			if j.mode == modeOpen {
				rate = strconv.Itoa(j.rate) + "/1s"
			}
			c := exec.Command(filepath.Join(bin, "vegeta"), "attack", "-rate", rate, "-duration", j.duration.String(),
				"-connections", strconv.Itoa(j.conns), "-max-connections", strconv.Itoa(j.conns),
				"-workers", strconv.Itoa(j.conns), "-max-workers", strconv.Itoa(j.conns),
				"-output", filepath.Join(j.dir, "vegeta.bin"))
			c.Stdin = strings.NewReader("GET " + j.url + "\n")
			return c
		}, parse: func(j job, _ []byte) (parsed, error) { return parseVegeta(filepath.Join(bin, "vegeta"), j) }},
		{name: "hey", cmd: func(j job) *exec.Cmd {
			args := []string{"-z", j.duration.String(), "-c", strconv.Itoa(j.conns)}
			if j.mode == modeOpen { // hey paces each worker: rate/conns each
				args = append(args, "-q", strconv.FormatFloat(float64(j.rate)/float64(j.conns), 'f', -1, 64))
			}
			return exec.Command(filepath.Join(bin, "hey"), append(args, j.url)...)
		}, parse: parseHey},
	}
}

func secs(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) + "s" }

func parseStampede(j job, out []byte) (parsed, error) {
	var o struct {
		Requests     int64   `json:"requests"`
		Failures     int64   `json:"failures"`
		P50          int64   `json:"service_p50_us"`
		P99          int64   `json:"service_p99_us"`
		Late         int64   `json:"late"`
		Dropped      int64   `json:"dropped"`
		LatenessP99  int64   `json:"lateness_p99_us"`
		AchievedRate float64 `json:"achieved_rate"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		return parsed{}, fmt.Errorf("stampede output: %w", err)
	}
	if j.plan != "" && o.Failures > 0 {
		// A plan whose checks fail measures error handling, not the plan.
		return parsed{}, fmt.Errorf("%s: %d of %d requests failed (does nginx answer /api/ with apiBody?)", j.plan, o.Failures, o.Requests)
	}
	return parsed{requests: o.Requests, failures: o.Failures, p50Us: float64(o.P50), p99Us: float64(o.P99), late: o.Late, dropped: o.Dropped,
		latenessP99Us: float64(o.LatenessP99), achievedRate: o.AchievedRate, hasSchedulingOut: true}, nil
}

var (
	wrkPct = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkReq = regexp.MustCompile(`(?m)^\s+(\d+) requests in`)
)

func parseWrk(_ job, out []byte) (parsed, error) {
	var p parsed
	m := wrkReq.FindSubmatch(out)
	if m == nil {
		return p, fmt.Errorf("wrk output has no request count: %q", out)
	}
	p.requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	for _, m := range wrkPct.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		v *= map[string]float64{"us": 1, "ms": 1e3, "s": 1e6}[string(m[3])]
		if string(m[1]) == "50" {
			p.p50Us = v
		} else {
			p.p99Us = v
		}
	}
	return p, nil
}

func parseFortio(j job, _ []byte) (parsed, error) {
	b, err := os.ReadFile(filepath.Join(j.dir, "fortio.json"))
	if err != nil {
		return parsed{}, fmt.Errorf("fortio output: %w", err)
	}
	var o struct {
		DurationHistogram struct {
			Count       int64
			Percentiles []struct{ Percentile, Value float64 }
		}
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return parsed{}, fmt.Errorf("fortio output: %w", err)
	}
	p := parsed{requests: o.DurationHistogram.Count}
	for _, q := range o.DurationHistogram.Percentiles {
		switch q.Percentile {
		case 50:
			p.p50Us = q.Value * 1e6
		case 99:
			p.p99Us = q.Value * 1e6
		}
	}
	return p, nil
}

// parseVegeta runs `vegeta report` on the attack's results (outside the
// measured process).
func parseVegeta(vegeta string, j job) (parsed, error) {
	out, err := exec.Command(vegeta, "report", "-type=json", filepath.Join(j.dir, "vegeta.bin")).Output()
	if err != nil {
		return parsed{}, fmt.Errorf("vegeta report: %w", err)
	}
	var o struct {
		Requests  int64
		Latencies map[string]float64 // nanoseconds
	}
	if err := json.Unmarshal(out, &o); err != nil {
		return parsed{}, fmt.Errorf("vegeta report: %w", err)
	}
	return parsed{requests: o.Requests, p50Us: o.Latencies["50th"] / 1e3, p99Us: o.Latencies["99th"] / 1e3}, nil
}

var (
	heyPct    = regexp.MustCompile(`(?m)^\s+(50|99)%+ in ([\d.]+) secs`)
	heyStatus = regexp.MustCompile(`(?m)^\s+\[\d+\]\s+(\d+) responses`)
)

func parseHey(_ job, out []byte) (parsed, error) {
	var p parsed
	for _, m := range heyStatus.FindAllSubmatch(out, -1) {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		p.requests += n
	}
	if p.requests == 0 {
		return p, fmt.Errorf("hey output has no responses: %q", out)
	}
	for _, m := range heyPct.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		if string(m[1]) == "50" {
			p.p50Us = v * 1e6
		} else {
			p.p99Us = v * 1e6
		}
	}
	return p, nil
}
