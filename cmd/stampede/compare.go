package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator/report"
)

// DefaultTolerance is compare's allowed relative change.
const DefaultTolerance = "10%"

func newCompareCmd() *cobra.Command {
	var tolerance, store string
	cmd := &cobra.Command{
		Use:   "compare RUN_A RUN_B",
		Short: "Compare two runs endpoint by endpoint and flag regressions",
		Long: `compare reads the report.json of two runs (a run directory, a report.json
file, a run id under --store, or s3://BUCKET/runs/<run-id>, whose report
is rebuilt from its results in the bucket) and prints, per endpoint and in total,
p50, p95, p99, error rate and requests per second of A and B side by side.
B regresses when a latency or its error rate is higher than A's by more
than --tolerance, or its rate lower by more than it. Exit code: 0 no
regression, 1 a regression (as for failed thresholds), 2 usage.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return compareRuns(cmd.Context(), cmd.OutOrStdout(), args[0], args[1], store, tolerance)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tolerance, "tolerance", DefaultTolerance, `allowed relative change, "10%" or 0.1`)
	f.StringVar(&store, "store", ".", "directory that holds runs/<run-id>/, when an id is given")
	return cmd
}

// compareRuns is `stampede compare`.
func compareRuns(ctx context.Context, stdout io.Writer, a, b, store, tolerance string) error {
	tol, err := parseTolerance(tolerance)
	if err != nil {
		return err
	}
	ra, err := loadReport(ctx, a, store)
	if err != nil {
		return err
	}
	rb, err := loadReport(ctx, b, store)
	if err != nil {
		return err
	}
	c := report.Compare(ra, rb, tol)
	if err := report.WriteComparison(stdout, c); err != nil {
		return exit(ExitInfra, "%v", err)
	}
	if c.Regressions > 0 {
		return exit(ExitThresholds, "")
	}
	return nil
}

// parseTolerance reads "10%" or "0.1" as 0.1.
func parseTolerance(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(t, "%") {
		t, scale = strings.TrimSuffix(t, "%"), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v != v {
		return 0, exit(ExitUsage, "--tolerance %q is not a non-negative fraction or percentage such as 10%%", s)
	}
	return v * scale, nil
}

// loadReport reads a run's report.json from a file, a run directory or a
// run id under store, or rebuilds it from the results of an s3:// run
// (s3://BUCKET/runs/<run-id>, one bucket, the default region).
func loadReport(ctx context.Context, arg, store string) (*report.Report, error) {
	if isS3Run(arg) {
		st, runID, err := openS3Runs(ctx, []string{arg}, s3Options{})
		if err != nil {
			return nil, err
		}
		res, err := collectRun(ctx, st, runID, []string{arg})
		if err != nil {
			return nil, err
		}
		return report.Build(res), nil
	}
	path := arg
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		path = filepath.Join(arg, ReportJSON)
	} else if err != nil && !strings.ContainsAny(arg, `/\`) {
		path = filepath.Join(runDir(store, arg), ReportJSON)
	}
	r, err := report.ReadJSON(path)
	if err != nil {
		return nil, exit(ExitUsage, "%v (hint: give a run directory with a report.json, or run `stampede report RUN` first)", err)
	}
	return r, nil
}
