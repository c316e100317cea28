package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator/plan"
)

func newValidateCmd() *cobra.Command {
	var allowLarge bool
	cmd := &cobra.Command{
		Use:   "validate PLAN",
		Short: "Check a plan and print every problem in it",
		Long: `validate parses PLAN, checks every key and value and prints OK, or one
line per problem ("file:line:col: path: message (hint: ...)") and exits 2.
Environment variables the plan references must be set, as for run. A plan
above the default caps (rate, users, generators, duration: docs/plan.md) is
invalid without --allow-large, as for run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPlan(cmd.ErrOrStderr(), args[0])
			if err != nil {
				return err
			}
			if err := checkLimits(cmd.ErrOrStderr(), args[0], p, allowLarge); err != nil {
				return err
			}
			gens := 0
			for _, r := range p.Regions {
				gens += r.Generators
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (plan %q, %d scenarios, %s, %d generators in %d regions, %d thresholds)\n",
				args[0], p.Name, len(p.Engine.Scenarios), p.Engine.Duration, gens, len(p.Regions), len(p.Thresholds))
			return nil
		},
	}
	cmd.Flags().BoolVar(&allowLarge, "allow-large", false, "accept a plan above the default caps on rate, users, generators and duration")
	return cmd
}

// loadPlan reads the plan at path. An invalid plan prints its problems,
// one per line, on stderr and gives ExitUsage.
func loadPlan(stderr io.Writer, path string) (*plan.Plan, error) {
	p, err := plan.Load(path)
	if err == nil {
		return p, nil
	}
	return nil, planErrors(stderr, path, err)
}

// checkLimits refuses p (ExitUsage, every problem printed) when it goes
// beyond the default caps and allowLarge is not set.
func checkLimits(stderr io.Writer, path string, p *plan.Plan, allowLarge bool) error {
	if allowLarge {
		return nil
	}
	if err := p.CheckLimits(plan.DefaultLimits()); err != nil {
		return planErrors(stderr, path, err)
	}
	return nil
}

// planErrors prints a plan's problems, one per line, on stderr and gives
// ExitUsage.
func planErrors(stderr io.Writer, path string, err error) error {
	var errs plan.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(stderr, e.Error())
		}
		return exit(ExitUsage, "%s: %d problem(s), nothing was run", path, len(errs))
	}
	return exit(ExitUsage, "%v", err)
}
