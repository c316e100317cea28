package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/report"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

func newReportCmd() *cobra.Command {
	var (
		out, store string
		ascii      bool
		s3o        s3Options
	)
	cmd := &cobra.Command{
		Use:   "report RUN_DIR_OR_ID | s3://BUCKET/runs/<run-id>...",
		Short: "Rebuild the reports of a stored run",
		Long: `report collects a run's results again from the store and rewrites
report.json, report.html and the summary. Give the run's directory
(runs/<run-id>), its id (looked up under --store), or its address in S3:
s3://BUCKET/runs/<run-id>. A run of several regions keeps each region's
results in that region's bucket: give one address per bucket (the first is
the home region); each bucket's region comes from --bucket-region
BUCKET=REGION, else from S3 (GetBucketLocation). Reports of an S3 run go
to --out, by default runs/<run-id> under --store. The exit code is the
run's verdict: 0 passed, 1 thresholds failed, 4 incomplete.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, runID, err := openRunStore(cmd.Context(), args, store, s3o)
			if err != nil {
				return err
			}
			res, err := collectRun(cmd.Context(), st, runID, args)
			if err != nil {
				return err
			}
			if out == "" {
				root := store // s3:// runs: reports go under --store
				if d, ok := st.(*dirstore.Store); ok {
					root = d.Root()
				}
				out = runDir(root, runID)
			}
			return rebuildReport(cmd.OutOrStdout(), res, out, ascii)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory for report.json and report.html (default: the run's directory; runs/<run-id> under --store for s3://)")
	f.StringVar(&store, "store", ".", "directory that holds runs/<run-id>/, when an id is given")
	f.BoolVar(&ascii, "ascii", false, "use only ASCII in the summary")
	f.StringVar(&s3o.Region, "region", "", "region of the S3 client for s3:// runs (default: AWS_REGION, else "+defaultS3Region+")")
	f.StringSliceVar(&s3o.BucketRegions, "bucket-region", nil, "BUCKET=REGION: a bucket's region, for a run of several s3:// addresses (default: asked of S3)")
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

// openRunStore opens the store of the run that args name: s3:// addresses
// (one per region's bucket), or one local run directory or id.
func openRunStore(ctx context.Context, args []string, store string, o s3Options) (shard.Store, string, error) {
	if isS3Run(args[0]) {
		for _, a := range args {
			if !isS3Run(a) {
				return nil, "", exit(ExitUsage, "%s: give every address of the run as s3://BUCKET/runs/<run-id>", a)
			}
		}
		return openS3Runs(ctx, args, o)
	}
	if len(args) > 1 {
		return nil, "", exit(ExitUsage, "give one run directory or id (several arguments only as s3:// addresses of one run)")
	}
	root, runID, err := locateRun(args[0], store)
	if err != nil {
		return nil, "", err
	}
	return dirstore.New(root), runID, nil
}

// collectRun collects runID from st; args (the command's arguments) name
// where it was looked for.
func collectRun(ctx context.Context, st shard.Store, runID string, args []string) (*orchestrator.Result, error) {
	res, err := orchestrator.Collect(ctx, st, runID)
	if errors.Is(err, shard.ErrNotFound) {
		return nil, exit(ExitUsage, "no run %s in %s: its manifest is missing (%v)", runID, strings.Join(args, " "), err)
	}
	if err != nil {
		return nil, exit(ExitInfra, "%v", err)
	}
	return res, nil
}

// rebuildReport writes the reports of res, collected again, into out and
// returns the run's verdict as an exit error.
func rebuildReport(stdout io.Writer, res *orchestrator.Result, out string, ascii bool) error {
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
	code, err := writeReports(stdout, res, out, ascii, previousCost(out, res.RunID))
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	if code != ExitPassed {
		return exit(code, "")
	}
	return nil
}

// previousCost is the cost section of the report already in dir for runID,
// if any: the estimate and the actual cost do not change after the run, and
// the stored results alone cannot price it again (the prices and options the
// run used are in that report only).
func previousCost(dir, runID string) *cost.Cost {
	rep, err := report.ReadJSON(filepath.Join(dir, ReportJSON))
	if err != nil || rep.RunID != runID {
		return nil
	}
	return rep.Cost
}
