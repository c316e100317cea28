// Command stampede is the CLI of the stampede load generator: it validates
// plans, runs them (on the local backend: generators as goroutines of this
// process, results in a directory), rebuilds reports from stored runs and
// serves a demo target to try it on. See docs/cli.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in README.md and docs/cli.md.
const (
	// ExitPassed: the run completed and every threshold held (or the
	// command succeeded).
	ExitPassed = 0
	// ExitThresholds: the run completed but a threshold failed.
	ExitThresholds = 1
	// ExitUsage: the plan is invalid or the command line is wrong.
	ExitUsage = 2
	// ExitInfra: the run could not be carried out (store, queue, generators).
	ExitInfra = 3
	// ExitIncomplete: some shards never reported (or their results are
	// unreadable): the numbers are not the whole test.
	ExitIncomplete = 4
	// ExitBudget: the plan's cost estimate exceeds the budget (--max-cost
	// or budget.max_usd), or it was not confirmed; nothing was sent.
	ExitBudget = 5
	// ExitInterrupted: stopped by Ctrl-C (SIGINT) or SIGTERM; the partial
	// report is still written.
	ExitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills the process the usual way.
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitError ends a command with an exit code; err (if any) is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exit returns an exitError with a formatted message ("" format: none).
func exit(code int, format string, args ...any) error {
	if format == "" {
		return &exitError{code: code}
	}
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// run executes the command line args and returns the exit code. ctx ends
// the command early (Ctrl-C in main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitPassed
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "stampede: %v\n", ee.err)
		}
		return ee.code
	}
	// Everything else comes from cobra parsing the command line.
	fmt.Fprintf(stderr, "stampede: %v\nRun 'stampede --help' for usage.\n", err)
	return ExitUsage
}

// newRoot builds the command tree writing to stdout and stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "stampede",
		Short: "A serverless-native HTTP load generator",
		Long: `stampede runs HTTP load tests described by a YAML plan. The plan is split
into shard tasks that generators run in parallel; their exact histograms are
merged into one report (terminal, report.json, report.html).

This build runs the local backend: generators are goroutines of this process
and results go to runs/<run-id>/ under the store directory.

Exit codes: 0 passed, 1 thresholds failed, 2 invalid plan or usage,
3 infrastructure error, 4 incomplete run (missing shards), 5 over budget,
130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCmd(), newValidateCmd(), newReportCmd(), newTargetCmd())
	root.AddCommand(newCostCmd(), newPricesCmd())
	root.AddCommand(newDeployCmd(), newUndeployCmd())
	root.AddCommand(newCompareCmd(), newStopCmd())
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}
