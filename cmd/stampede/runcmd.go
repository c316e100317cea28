package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// DefaultPollEvery is how often `run` prints a progress line.
const DefaultPollEvery = 2 * time.Second

// runFlags are the flags of `stampede run`.
type runFlags struct {
	out        string
	store      string
	target     string
	generators int
	quiet      bool
	ascii      bool
	poll       time.Duration
}

func newRunCmd() *cobra.Command {
	var fl runFlags
	cmd := &cobra.Command{
		Use:   "run PLAN",
		Short: "Run a plan and report the results",
		Long: `run executes PLAN on the local backend: it splits the plan into shard tasks,
runs them in generator goroutines, prints a progress line every few seconds
on stderr, then merges the results and writes report.json and report.html
(to runs/<run-id>/ under the store, or --out) and the summary to stdout.

Ctrl-C stops the generators cleanly; what they measured is still reported
(exit code 130). A second Ctrl-C kills the process.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.out, "out", "", "directory for report.json and report.html (default: the run's directory)")
	f.StringVar(&fl.store, "store", ".", "directory that holds runs/<run-id>/ (the local blob store)")
	f.StringVar(&fl.target, "target", "", "base URL to test instead of the plan's target")
	f.IntVar(&fl.generators, "generators", 0, "generators per region instead of the plan's count")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "print no progress lines")
	f.BoolVar(&fl.ascii, "ascii", false, "use only ASCII in the summary")
	f.DurationVar(&fl.poll, "progress-every", DefaultPollEvery, "how often to print a progress line")
	return cmd
}

// runPlan is `stampede run`.
func runPlan(ctx context.Context, stdout, stderr io.Writer, path string, fl runFlags) error {
	p, err := loadPlan(stderr, path)
	if err != nil {
		return err
	}
	if err := override(p, fl); err != nil {
		return err
	}
	var logw io.Writer
	if !fl.quiet {
		logw = stderr
	}
	lb := startLocal(ctx, p, fl.store, logw)
	opts := orchestrator.Options{PollEvery: fl.poll}
	if !fl.quiet {
		opts.Progress = newProgressPrinter(stderr, p)
	}
	res, runErr := orchestrator.Run(ctx, p, lb.backend, opts)
	lb.close()
	interrupted := ctx.Err() != nil
	if runErr != nil {
		if interrupted && res == nil {
			return exit(ExitInterrupted, "interrupted: %v", runErr)
		}
		if res == nil {
			return exit(ExitInfra, "run %s: %w", path, runErr)
		}
		fmt.Fprintf(stderr, "stampede: run %s: %v (reporting what was collected)\n", path, runErr)
	}
	if res.Stopped == "" && interrupted {
		res.Stopped = "interrupted"
	}
	out := fl.out
	if out == "" {
		out = runDir(fl.store, res.RunID)
	}
	code, err := writeReports(stdout, res, out, fl.ascii)
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	switch {
	case interrupted:
		return exit(ExitInterrupted, "")
	case runErr != nil:
		return exit(ExitInfra, "")
	}
	return exit(code, "")
}

// override applies the command line's --target and --generators to p.
func override(p *plan.Plan, fl runFlags) error {
	if fl.target != "" {
		u, err := url.Parse(fl.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return exit(ExitUsage, "--target %q is not a base URL such as http://127.0.0.1:8080", fl.target)
		}
		p.Engine.Target = fl.target
	}
	if fl.generators < 0 {
		return exit(ExitUsage, "--generators %d: want at least 1", fl.generators)
	}
	if fl.generators > 0 {
		for i := range p.Regions {
			p.Regions[i].Generators = fl.generators
		}
	}
	return nil
}

// runDir is where a run's objects live under the store directory.
func runDir(store, runID string) string { return filepath.Join(store, "runs", runID) }
