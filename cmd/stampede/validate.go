package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator/plan"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PLAN",
		Short: "Check a plan and print every problem in it",
		Long: `validate parses PLAN, checks every key and value and prints OK, or one
line per problem ("file:line:col: path: message (hint: ...)") and exits 2.
Environment variables the plan references must be set, as for run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPlan(cmd.ErrOrStderr(), args[0])
			if err != nil {
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
}

// loadPlan reads the plan at path. An invalid plan prints its problems,
// one per line, on stderr and gives ExitUsage.
func loadPlan(stderr io.Writer, path string) (*plan.Plan, error) {
	p, err := plan.Load(path)
	if err == nil {
		return p, nil
	}
	var errs plan.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(stderr, e.Error())
		}
		return nil, exit(ExitUsage, "%s: %d problem(s), nothing was run", path, len(errs))
	}
	return nil, exit(ExitUsage, "%v", err)
}
