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
	"github.com/stampede-load/stampede/orchestrator/cost"
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
	maxCost    float64 // USD
	prices     string
	yes        bool
	allowLarge bool
	aws        awsFlags // --backend, --aws-config, --stack, --lead (aws.go)
}

func newRunCmd() *cobra.Command {
	var fl runFlags
	cmd := &cobra.Command{
		Use:   "run PLAN",
		Short: "Run a plan and report the results",
		Long: `run executes PLAN on the local backend (or on Lambda with --backend aws): it
splits the plan into shard tasks, runs them in generator goroutines, prints a progress line every few seconds
on stderr, then merges the results and writes report.json and report.html
(to runs/<run-id>/ under the store, or --out) and the summary to stdout.

Ctrl-C stops the generators cleanly; what they measured is still reported
(exit code 130). A second Ctrl-C kills the process.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], fl)
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
	f.Float64Var(&fl.maxCost, "max-cost", 0, "budget in USD (default: the plan's budget.max_usd): refuse a plan estimated above it, stop a run before it spends more")
	f.StringVar(&fl.prices, "prices", "", "price table file for the cost (default: the built-in table)")
	f.BoolVar(&fl.yes, "yes", false, "do not ask to confirm the cost estimate (aws backend)")
	f.BoolVar(&fl.allowLarge, "allow-large", false, "run a plan above the default caps on rate, users, generators and duration (docs/plan.md)")
	addBackendFlags(f, &fl.aws)
	return cmd
}

// runPlan is `stampede run`.
func runPlan(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, path string, fl runFlags) error {
	p, err := loadPlan(stderr, path)
	if err != nil {
		return err
	}
	if err := override(p, fl); err != nil {
		return err
	}
	if err := checkLimits(stderr, path, p, fl.allowLarge); err != nil {
		return err
	}
	if err := fl.aws.check(); err != nil {
		return err
	}
	fl.aws.lead = fl.aws.leadFor(p) // the cost estimate and the run use the same lead
	est, prices, budget, err := costGate(stdin, stderr, p, fl, fl.aws.backend)
	if err != nil {
		return err
	}
	var logw io.Writer
	if !fl.quiet {
		logw = stderr
	}
	lb, err := startBackend(ctx, p, fl, logw, stderr)
	if err != nil {
		return err
	}
	store := lb.backend.Store
	ops := lb.ops
	if ops == nil {
		ops = countOps(&lb.backend)
	}
	opts := orchestrator.Options{PollEvery: fl.poll, Lead: lb.lead}
	if lb.kill != nil {
		opts.RunID = orchestrator.NewRunID(time.Now()) // the kill switch records under it
		lb.kill.store = store
	}
	if !fl.quiet {
		pv := newProgress(stderr, p, isTerminal(stderr))
		pv.Spend = func(pr orchestrator.Progress) string { return cost.USD(est.Spent(pr, ops)) }
		opts.Progress = pv.Update
	}
	if budget > 0 {
		opts.Abort = composeAbort(opts.Abort, est.NewGuard(budget, fl.poll, ops))
	}
	opts.Abort = lb.kill.abort(opts.RunID, opts.Abort)
	disarm := lb.kill.arm(ctx, opts.RunID)
	res, runErr := orchestrator.Run(ctx, p, lb.backend, opts)
	disarm()
	lb.close()
	releaseErr := lb.kill.release(opts.RunID)
	if res != nil {
		if err := est.AddActual(context.WithoutCancel(ctx), store, res, prices, ops); err != nil {
			fmt.Fprintf(stderr, "stampede: %v (the report has the estimate only)\n", err)
		}
	}
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
	code, err := writeReports(stdout, res, out, fl.ascii, est)
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	switch {
	case interrupted:
		return exit(ExitInterrupted, "")
	case runErr != nil:
		return exit(ExitInfra, "")
	case releaseErr != nil:
		return exit(ExitInfra, "the kill switch could not restore the generator function (see above)")
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
