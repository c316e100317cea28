package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

func newStopCmd() *cobra.Command {
	var (
		store, reason string
		s3o           s3Options
	)
	cmd := &cobra.Command{
		Use:   "stop RUN_DIR_OR_ID | s3://BUCKET/runs/<run-id>...",
		Short: "Stop a running test from anywhere",
		Long: `stop writes a run's stop marker. Every generator polls it about every
second and stops, writing what it measured; the ` + "`stampede run`" + ` that
started the run then collects the results and its report says the run was
stopped, and why (--reason). Ctrl-C on ` + "`stampede run`" + ` does the same.

Give the run's directory (runs/<run-id>), its id (under --store), or, for the
aws backend, the address of every region's bucket:
s3://BUCKET/runs/<run-id> (see ` + "`stampede report --help`" + `).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, runID, err := openRunStore(cmd.Context(), args, store, s3o)
			if err != nil {
				return err
			}
			return stopRun(cmd.Context(), cmd.OutOrStdout(), st, runID, reason)
		},
	}
	f := cmd.Flags()
	f.StringVar(&store, "store", ".", "directory that holds runs/<run-id>/, when an id is given")
	f.StringVar(&reason, "reason", orchestrator.StopExternal, "why the run stops (shown in its report)")
	f.StringVar(&s3o.Region, "region", "", "region of the S3 client for s3:// runs (default: AWS_REGION, else "+defaultS3Region+")")
	f.StringSliceVar(&s3o.BucketRegions, "bucket-region", nil, "BUCKET=REGION: a bucket's region, for a run of several s3:// addresses (default: asked of S3)")
	return cmd
}

// stopRun writes the stop marker of runID.
func stopRun(ctx context.Context, stdout io.Writer, st shard.Store, runID, reason string) error {
	if err := orchestrator.Stop(ctx, st, runID, reason); err != nil {
		return exit(ExitInfra, "%v", err)
	}
	fmt.Fprintf(stdout, "run %s: stop marker written (%q); its generators stop within about a second\n", runID, reason)
	return nil
}
