package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/report"
)

// Report file names inside the output directory.
const (
	ReportJSON = "report.json"
	ReportHTML = "report.html"
)

// writeReports builds the report of res (with the cost section c, if any),
// writes report.json, report.html and the exports into dir and the summary
// to stdout, and returns the exit code the results call for (passed,
// thresholds failed or incomplete).
func writeReports(stdout io.Writer, res *orchestrator.Result, dir string, ascii bool, c *cost.Cost) (int, error) {
	rep := report.Build(res)
	rep.Cost = c
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ExitInfra, fmt.Errorf("create report directory: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ReportJSON), func(w io.Writer) error { return report.WriteJSON(w, rep) }); err != nil {
		return ExitInfra, err
	}
	if err := writeFile(filepath.Join(dir, ReportHTML), func(w io.Writer) error { return report.WriteHTML(w, rep) }); err != nil {
		return ExitInfra, err
	}
	if err := writeExports(dir, res, rep); err != nil {
		return ExitInfra, err
	}
	if err := report.WriteText(stdout, rep, report.TextOptions{ASCII: ascii}); err != nil {
		return ExitInfra, err
	}
	fmt.Fprintf(stdout, "\nreport: %s (and %s, %s, %s, %s)\n", filepath.Join(dir, ReportHTML), ReportJSON,
		report.HlogFile, report.TimelineCSVFile, report.JUnitFile)
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

// writeExports writes the HdrHistogram interval log, the timeline CSV and
// the JUnit XML of the thresholds into dir, next to report.json.
func writeExports(dir string, res *orchestrator.Result, rep *report.Report) error {
	for _, e := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{report.HlogFile, func(w io.Writer) error { return report.WriteHlog(w, res, rep) }},
		{report.TimelineCSVFile, func(w io.Writer) error { return report.WriteTimelineCSV(w, rep) }},
		{report.JUnitFile, func(w io.Writer) error { return report.WriteJUnit(w, rep) }},
	} {
		if err := writeFile(filepath.Join(dir, e.name), e.write); err != nil {
			return err
		}
	}
	return nil
}
