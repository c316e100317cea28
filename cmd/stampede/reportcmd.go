package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
)

func newReportCmd() *cobra.Command {
	var (
		out, store string
		ascii      bool
	)
	cmd := &cobra.Command{
		Use:   "report RUN_DIR_OR_ID",
		Short: "Rebuild the reports of a stored run",
		Long: `report collects a run's results again from the store and rewrites
report.json, report.html and the summary. Give the run's directory
(runs/<run-id>) or its id (looked up under --store). The exit code is the
run's verdict: 0 passed, 1 thresholds failed, 4 incomplete.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, runID, err := locateRun(args[0], store)
			if err != nil {
				return err
			}
			return rebuildReport(cmd.Context(), cmd.OutOrStdout(), root, runID, out, ascii)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory for report.json and report.html (default: the run's directory)")
	f.StringVar(&store, "store", ".", "directory that holds runs/<run-id>/, when an id is given")
	f.BoolVar(&ascii, "ascii", false, "use only ASCII in the summary")
	return cmd
}

// locateRun turns a run directory (".../runs/<id>") or a bare id into the
// store root and the run id.
func locateRun(arg, store string) (root, runID string, err error) {
	if !strings.ContainsAny(arg, `/\`) {
		if _, err := os.Stat(runDir(store, arg)); err != nil {
			return "", "", exit(ExitUsage, "no run %q under %s (hint: give the run's directory, e.g. runs/%s)", arg, filepath.Join(store, "runs"), arg)
		}
		return store, arg, nil
	}
	dir := filepath.Clean(arg)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", "", exit(ExitUsage, "%s is not a run directory", arg)
	}
	parent := filepath.Dir(dir)
	if filepath.Base(parent) != "runs" {
		return "", "", exit(ExitUsage, "%s is not inside a runs/ directory (hint: runs/<run-id>)", arg)
	}
	return filepath.Dir(parent), filepath.Base(dir), nil
}

// rebuildReport is `stampede report`.
func rebuildReport(ctx context.Context, stdout io.Writer, root, runID, out string, ascii bool) error {
	res, err := orchestrator.Collect(ctx, dirstore.New(root), runID)
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	// The manifest never holds environment values; take the current ones
	// of the variables the plan names, so that they are redacted too.
	if p := res.Plan; p != nil {
		if p.Engine.Env == nil {
			p.Engine.Env = map[string]string{}
		}
		for _, name := range p.Secrets {
			if v, ok := os.LookupEnv(name); ok {
				p.Engine.Env[name] = v
			}
		}
	}
	if out == "" {
		out = runDir(root, runID)
	}
	code, err := writeReports(stdout, res, out, ascii, nil)
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	if code != ExitPassed {
		return exit(code, "")
	}
	return nil
}
