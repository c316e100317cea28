package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// stopFlags are the flags of `stampede stop`.
type stopFlags struct {
	store, reason string
	s3o           s3Options
	// aws runs (s3:// addresses): the kill switch's backstop.
	backstop bool
	release  bool
	config   string // --aws-config
	stack    string
}

func newStopCmd() *cobra.Command {
	var fl stopFlags
	cmd := &cobra.Command{
		Use:   "stop RUN_DIR_OR_ID | s3://BUCKET/runs/<run-id>...",
		Short: "Stop a running test from anywhere",
		Long: `stop writes a run's stop marker. Every generator polls it about every
second and stops, writing what it measured; the ` + "`stampede run`" + ` that
started the run then collects the results and its report says the run was
stopped, and why (--reason). Ctrl-C on ` + "`stampede run`" + ` does the same.

Give the run's directory (runs/<run-id>), its id (under --store), or, for the
aws backend, the address of a region's bucket: s3://BUCKET/runs/<run-id>
(see ` + "`stampede report --help`" + `).

On the aws backend it also engages the kill switch's backstop: it finds
every region of the run (from its manifest) and its stack (--stack, or
--aws-config), writes the stop marker into every region's bucket, and sets
each region's generator function to reserved concurrency 0, so that no new
invocation starts (SQS redeliveries, later slices, burst invokes). It
records the previous setting first and prints it. The ` + "`stampede run`" + `
of the run restores it when the run ends; if that process is gone, run
` + "`stampede stop --release`" + ` with the same addresses. --backstop=false
writes the stop marker only. Reserved concurrency applies to the function,
not to one run: while it is 0 no other run of the stack can start
generators either.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return stopCommand(cmd.Context(), cmd.OutOrStdout(), args, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.store, "store", ".", "directory that holds runs/<run-id>/, when an id is given")
	f.StringVar(&fl.reason, "reason", orchestrator.StopExternal, "why the run stops (shown in its report)")
	f.StringVar(&fl.s3o.Region, "region", "", "region of the S3 client for s3:// runs (default: AWS_REGION, else "+defaultS3Region+")")
	f.StringSliceVar(&fl.s3o.BucketRegions, "bucket-region", nil, "BUCKET=REGION: a bucket's region, for a run of several s3:// addresses (default: asked of S3)")
	f.BoolVar(&fl.backstop, "backstop", true, "aws runs: also set the generator function's reserved concurrency to 0 in every region of the run")
	f.BoolVar(&fl.release, "release", false, "aws runs: restore the reserved concurrency that the backstop recorded (write no stop marker)")
	addStackLookupFlags(f, &fl.config, &fl.stack)
	return cmd
}

// stopCommand is `stampede stop`.
func stopCommand(ctx context.Context, stdout io.Writer, args []string, fl stopFlags) error {
	st, runID, err := openRunStore(ctx, args, fl.store, fl.s3o)
	if err != nil {
		return err
	}
	if !isS3Run(args[0]) {
		if fl.release {
			fmt.Fprintf(stdout, "run %s: nothing to release (the local backend has no backstop)\n", runID)
			return nil
		}
		return stopRun(ctx, stdout, st, runID, fl.reason)
	}
	return stopAWSRun(ctx, stdout, st, runID, args, fl)
}

// stopRun writes the stop marker of runID.
func stopRun(ctx context.Context, stdout io.Writer, st shard.Store, runID, reason string) error {
	if err := orchestrator.Stop(ctx, st, runID, reason); err != nil {
		return exit(ExitInfra, "%v", err)
	}
	fmt.Fprintf(stdout, "run %s: stop marker written (%q); its generators stop within about a second\n", runID, reason)
	return nil
}
