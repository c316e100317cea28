package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Output is what engineload prints. Durations are in microseconds.
type Output struct {
	Mode      string  `json:"mode"`
	Rate      float64 `json:"rate,omitempty"` // offered arrivals/s (open)
	Conns     int     `json:"conns"`
	ElapsedS  float64 `json:"elapsed_s"`
	Requests  int64   `json:"requests"`
	Failures  int64   `json:"failures"`
	ReqPerSec float64 `json:"req_per_s"`
	// Service is from the actual send; Response from the intended start
	// (coordinated omission corrected).
	ServiceP50Us  int64 `json:"service_p50_us"`
	ServiceP99Us  int64 `json:"service_p99_us"`
	ResponseP50Us int64 `json:"response_p50_us"`
	ResponseP99Us int64 `json:"response_p99_us"`
	// Open model: arrivals started, late (more than 1ms), dropped, and the
	// scheduling lateness of the started ones.
	Started      int64   `json:"started"`
	Late         int64   `json:"late"`
	Dropped      int64   `json:"dropped"`
	LatenessP50  int64   `json:"lateness_p50_us"`
	LatenessP99  int64   `json:"lateness_p99_us"`
	LatenessMax  int64   `json:"lateness_max_us"`
	AchievedRate float64 `json:"achieved_rate,omitempty"` // started/s over the window (open)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("engineload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:18080/", "URL to GET")
	mode := fs.String("mode", engine.ModelClosed, "closed (conns users back to back) or open (-rate arrivals/s)")
	conns := fs.Int("conns", 50, "connections (closed: users; open: max in flight)")
	rate := fs.Float64("rate", 1000, "open model: arrivals per second")
	duration := fs.Duration("duration", 5*time.Second, "test length")
	tick := fs.Duration("tick", engine.DefaultReleaseTick, "open model: release grid (engine.WithReleaseTick); 0 releases each arrival at its due time")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	planFile := fs.String("plan", "", "a plan file to run instead of the one-step GET (its target, load and duration replaced by the flags'; e.g. infra/bench/engineload/multistep.yaml)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config(*target, *mode, *conns, *rate, *duration)
	if err == nil && *planFile != "" {
		cfg, err = fromPlan(*planFile, cfg)
	}
	if err != nil {
		fmt.Fprintln(stderr, "engineload:", err)
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "engineload:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "engineload:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	snap, err := engine.Run(ctx, cfg, engine.WithReleaseTick(*tick))
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintln(stderr, "engineload:", err)
		return 1
	}
	out := summarize(snap, *mode, *rate, *conns, elapsed, *duration)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(stderr, "engineload:", err)
		return 1
	}
	return 0
}

// config is a one-step GET plan: closed with conns users and no think time,
// or open at rate arrivals/s with conns users at most.
func config(target, mode string, conns int, rate float64, d time.Duration) (engine.Config, error) {
	if conns <= 0 || d <= 0 {
		return engine.Config{}, errors.New("-conns and -duration must be positive")
	}
	cfg := engine.Config{
		Target:    target,
		Scenarios: []engine.Scenario{{Name: "get", Weight: 1, Steps: []engine.Step{{Name: "GET /", Method: "GET", URL: target}}}},
		MaxConns:  conns,
		Duration:  d,
		Defaults:  engine.Defaults{Timeout: 10 * time.Second},
		Grace:     time.Second,
	}
	switch mode {
	case engine.ModelClosed:
		cfg.Load = engine.Load{Model: engine.ModelClosed, Users: conns}
	case engine.ModelOpen:
		if rate <= 0 {
			return engine.Config{}, errors.New("-rate must be positive")
		}
		cfg.Load = engine.Load{Model: engine.ModelOpen, Rate: rate}
		cfg.MaxInflight = conns
	default:
		return engine.Config{}, fmt.Errorf("-mode %q: want closed or open", mode)
	}
	return cfg, nil
}

// fromPlan is the plan in file with base's target, load, connections,
// duration and grace: the same load as the one-step GET, other steps.
func fromPlan(file string, base engine.Config) (engine.Config, error) {
	p, err := plan.Load(file)
	if err != nil {
		return engine.Config{}, err
	}
	cfg := p.Engine
	cfg.Target, cfg.Load, cfg.MaxConns, cfg.MaxInflight = base.Target, base.Load, base.MaxConns, base.MaxInflight
	cfg.Duration, cfg.Grace = base.Duration, base.Grace
	return cfg, nil
}

func summarize(s *engine.Snapshot, mode string, rate float64, conns int, elapsed, d time.Duration) Output {
	st := s.Total()
	us := func(d time.Duration) int64 { return d.Microseconds() }
	o := Output{
		Mode: mode, Conns: conns, ElapsedS: elapsed.Seconds(),
		Requests: st.Requests, Failures: st.Failures,
		ReqPerSec:     float64(st.Requests) / elapsed.Seconds(),
		ServiceP50Us:  us(st.Service.Quantile(50)),
		ServiceP99Us:  us(st.Service.Quantile(99)),
		ResponseP50Us: us(st.Response.Quantile(50)),
		ResponseP99Us: us(st.Response.Quantile(99)),
		Started:       s.Iterations.Started,
		Late:          s.Iterations.Late,
		Dropped:       s.Iterations.Dropped,
	}
	if mode == engine.ModelOpen {
		o.Rate = rate
		o.AchievedRate = float64(s.Iterations.Started) / d.Seconds()
		if l := s.Iterations.Lateness; l != nil && l.Count() > 0 {
			o.LatenessP50, o.LatenessP99, o.LatenessMax = us(l.Quantile(50)), us(l.Quantile(99)), us(l.Max())
		}
	}
	return o
}
