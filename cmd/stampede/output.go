package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/report"
)

// Report file names inside the output directory.
const (
	ReportJSON = "report.json"
	ReportHTML = "report.html"
)

// writeReports builds the report of res, writes report.json and
// report.html into dir and the summary to stdout, and returns the exit
// code the results call for (passed, thresholds failed or incomplete).
func writeReports(stdout io.Writer, res *orchestrator.Result, dir string, ascii bool) (int, error) {
	rep := report.Build(res)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ExitInfra, fmt.Errorf("create report directory: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ReportJSON), func(w io.Writer) error { return report.WriteJSON(w, rep) }); err != nil {
		return ExitInfra, err
	}
	if err := writeFile(filepath.Join(dir, ReportHTML), func(w io.Writer) error { return report.WriteHTML(w, rep) }); err != nil {
		return ExitInfra, err
	}
	if err := report.WriteText(stdout, rep, report.TextOptions{ASCII: ascii}); err != nil {
		return ExitInfra, err
	}
	fmt.Fprintf(stdout, "\nreport: %s (and %s)\n", filepath.Join(dir, ReportHTML), ReportJSON)
	return exitCode(rep), nil
}

// exitCode is what a report's verdict means for the exit status.
func exitCode(rep *report.Report) int {
	switch {
	case !rep.Shards.Complete():
		return ExitIncomplete
	case !rep.ThresholdsOK():
		return ExitThresholds
	}
	return ExitPassed
}

// writeFile writes path through a temporary file, so that a reader never
// sees half a report.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after the rename: a no-op
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// newProgressPrinter returns an Options.Progress callback that prints one
// plain line per call: elapsed, requests, throughput, p99 so far, errors
// and tasks. Generators report every few seconds, so the throughput is
// measured between the two latest reports (their data's end times), not
// between two calls.
func newProgressPrinter(w io.Writer, p *plan.Plan) func(orchestrator.Progress) {
	var (
		started  bool
		lastReqs int64
		lastEnd  time.Time
		rps      float64
	)
	return func(pr orchestrator.Progress) {
		if !started {
			started = true
			gens := 0
			for _, r := range p.Regions {
				gens += r.Generators
			}
			fmt.Fprintf(w, "run %s: plan %q, %s, %d generators (local), target %s\n",
				pr.RunID, p.Name, p.Engine.Duration, gens, p.Engine.Target)
		}
		var reqs, fails int64
		p99 := "-"
		if s := pr.Snapshot; s != nil {
			t := s.Total()
			reqs, fails = t.Requests, t.Failures
			if t.Requests > 0 {
				p99 = t.Response.Quantile(99).Round(10 * time.Microsecond).String()
			}
			from := lastEnd
			if from.IsZero() {
				from = s.Epoch
			}
			if dt := s.End.Sub(from); dt > 0 && reqs >= lastReqs && !from.IsZero() {
				rps = float64(reqs-lastReqs) / dt.Seconds()
				lastReqs, lastEnd = reqs, s.End
			}
		}
		failPct := 0.0
		if reqs > 0 {
			failPct = 100 * float64(fails) / float64(reqs)
		}
		fmt.Fprintf(w, "%7s/%s  requests %d  rps %.1f  p99 %s  errors %d (%.2f%%)  tasks %d running, %d done of %d\n",
			pr.Elapsed.Round(100*time.Millisecond), pr.Duration, reqs, rps, p99,
			fails, failPct, pr.Leased-pr.Finished, pr.Finished, pr.Expected)
	}
}
