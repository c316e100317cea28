package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

// PricingRegion is where the AWS Price List API is called (it answers for
// every region).
const PricingRegion = "us-east-1"

// costFlags are the flags of `stampede cost`.
type costFlags struct {
	json     bool
	prices   string
	backend  string
	dispatch string
}

func newCostCmd() *cobra.Command {
	var fl costFlags
	cmd := &cobra.Command{
		Use:   "cost PLAN",
		Short: "Estimate what a plan costs on AWS",
		Long: `cost prints what PLAN would cost on AWS (Lambda generators, SQS, S3, data
transfer out, CloudWatch Logs), itemized per region and in total, with the
cost per million requests and every assumption the estimate makes. A local
run is priced as the same run on Lambda (--backend local: a 1 s lead instead
of 30 s). Nothing is sent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return costPlan(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], fl)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&fl.json, "json", false, "print the estimate as JSON")
	f.StringVar(&fl.prices, "prices", "", "price table file (default: the built-in table)")
	f.StringVar(&fl.backend, "backend", orchestrator.BackendAWS, "aws or local (sets the lead before the start)")
	f.StringVar(&fl.dispatch, "dispatch", orchestrator.DispatchSQS, "how generators start on aws: sqs or burst (sets the lead and the SQS and Lambda requests)")
	return cmd
}

// costPlan is `stampede cost`.
func costPlan(stdout, stderr io.Writer, path string, fl costFlags) error {
	if err := (awsFlags{backend: fl.backend, dispatch: fl.dispatch}).check(); err != nil {
		return err
	}
	p, err := loadPlan(stderr, path)
	if err != nil {
		return err
	}
	prices, err := loadPrices(fl.prices)
	if err != nil {
		return err
	}
	c, err := cost.Estimate(p, prices, cost.Options{Backend: fl.backend, Dispatch: fl.dispatch})
	if err != nil {
		return exit(ExitUsage, "%v", err)
	}
	if fl.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			return exit(ExitInfra, "write estimate: %v", err)
		}
		return nil
	}
	if err := c.WriteText(stdout); err != nil {
		return exit(ExitInfra, "%v", err)
	}
	if c.OverBudget(p.Budget.MaxUSD) {
		fmt.Fprintf(stdout, "\nover budget: %s > %s\n", cost.USD(c.EstimatedUSD), cost.USD(p.Budget.MaxUSD))
	}
	return nil
}

// loadPrices reads the price table file, or the built-in one when path is "".
func loadPrices(path string) (*cost.Prices, error) {
	var (
		p   *cost.Prices
		err error
	)
	if path == "" {
		p, err = cost.DefaultPrices()
	} else {
		p, err = cost.LoadPrices(path)
	}
	if err != nil {
		return nil, exit(ExitUsage, "%v", err)
	}
	return p, nil
}

// costGate estimates p before a run: it refuses a plan whose estimate
// exceeds the budget (--max-cost, else budget.max_usd) with the breakdown
// and what to change (ExitBudget), and on the aws backend shows the
// estimate and asks for confirmation unless --yes or stdin is not a
// terminal. It returns the estimate, its prices and the budget (0: none).
func costGate(in io.Reader, stderr io.Writer, p *plan.Plan, fl runFlags, backend string) (*cost.Cost, *cost.Prices, float64, error) {
	if fl.maxCost < 0 {
		return nil, nil, 0, exit(ExitUsage, "--max-cost %v: want a positive amount in USD", fl.maxCost)
	}
	prices, err := loadPrices(fl.prices)
	if err != nil {
		return nil, nil, 0, err
	}
	budget := p.Budget.MaxUSD
	if fl.maxCost > 0 {
		budget = fl.maxCost
	}
	opts := cost.Options{Backend: backend, Dispatch: fl.aws.dispatch, Lead: fl.aws.lead, PollEvery: fl.poll, Unwatched: fl.quiet && budget == 0}
	c, err := cost.Estimate(p, prices, opts)
	if err != nil {
		return nil, nil, 0, exit(ExitUsage, "%v", err)
	}
	c.BudgetUSD = budget
	if c.OverBudget(budget) {
		_ = c.WriteText(stderr)
		fmt.Fprintf(stderr, "\nthe estimate %s exceeds the budget %s; to fit it:\n", cost.USD(c.EstimatedUSD), cost.USD(budget))
		for _, a := range c.Advice(budget) {
			fmt.Fprintf(stderr, "  - %s\n", a)
		}
		return nil, nil, 0, exit(ExitBudget, "over budget: nothing was sent")
	}
	if backend == orchestrator.BackendAWS && !fl.yes {
		if err := confirmCost(in, stderr, c, isTerminal(in)); err != nil {
			return nil, nil, 0, err
		}
	}
	return c, prices, budget, nil
}

// confirmCost shows the estimate and asks whether to go on. Off a terminal
// (CI, a pipe) it only prints the estimate and goes on: nobody could answer.
func confirmCost(in io.Reader, stderr io.Writer, c *cost.Cost, interactive bool) error {
	if !interactive {
		fmt.Fprintf(stderr, "estimated cost %s (not a terminal: not asking)\n", cost.USD(c.EstimatedUSD))
		return nil
	}
	_ = c.WriteText(stderr)
	fmt.Fprintf(stderr, "\nrun it for about %s? [y/N] ", cost.USD(c.EstimatedUSD))
	line, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return exit(ExitBudget, "not confirmed: nothing was sent")
	}
	return nil
}

// countOps wraps b's store and queues in counters of the orchestrator's
// own requests (the local backend's; the aws backend counts in its
// adapters) and returns the counter. Keep b.Store from before the call to
// read without counting.
func countOps(b *orchestrator.Backend) cost.Counter {
	store := &cost.CountingStore{Store: b.Store}
	counters := cost.Counters{store}
	queues := make(map[string]orchestrator.Queue, len(b.Queues))
	for name, q := range b.Queues {
		cq := &cost.CountingQueue{Queue: q}
		queues[name] = cq
		counters = append(counters, cq)
	}
	b.Store, b.Queues = store, queues
	return counters
}

// composeAbort asks a, then b; the first non-empty reason stops the run.
func composeAbort(a, b func(orchestrator.Progress) string) func(orchestrator.Progress) string {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(p orchestrator.Progress) string {
		if r := a(p); r != "" {
			return r
		}
		return b(p)
	}
}

func newPricesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Manage the price table cost estimates use",
	}
	var out string
	update := &cobra.Command{
		Use:   "update",
		Short: "Fetch current prices from the AWS Price List API",
		Long: `update reads the prices stampede uses (Lambda, SQS, S3, data transfer out,
CloudWatch Logs) from the AWS Price List API (GetProducts, called in
us-east-1 with the usual AWS credentials) for every region of the current
table, and writes a price table file to give to --prices.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return updatePrices(cmd.Context(), cmd.ErrOrStderr(), out)
		},
	}
	update.Flags().StringVar(&out, "out", "prices.json", "file to write")
	cmd.AddCommand(update)
	return cmd
}

// updatePrices is `stampede prices update`.
func updatePrices(ctx context.Context, stderr io.Writer, out string) error {
	p, err := cost.DefaultPrices()
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(PricingRegion))
	if err != nil {
		return exit(ExitInfra, "aws config: %v", err)
	}
	client := pricing.NewFromConfig(cfg)
	var items []string
	for _, svc := range cost.PriceListServices() {
		for region := range p.Regions {
			field := "regionCode"
			if svc == cost.ServiceDataTransfer {
				field = "fromRegionCode"
			}
			in := &pricing.GetProductsInput{
				ServiceCode: aws.String(svc),
				Filters: []pricingtypes.Filter{{
					Field: aws.String(field), Type: pricingtypes.FilterTypeTermMatch, Value: aws.String(region),
				}},
			}
			for pg := pricing.NewGetProductsPaginator(client, in); pg.HasMorePages(); {
				page, err := pg.NextPage(ctx)
				if err != nil {
					return exit(ExitInfra, "price list %s %s: %v", svc, region, err)
				}
				items = append(items, page.PriceList...)
			}
		}
	}
	set, err := cost.ApplyPriceList(p, items)
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	p.Source = "AWS Price List API (GetProducts: " + strings.Join(cost.PriceListServices(), ", ") + "), on-demand, first paid tier"
	p.Date = time.Now().UTC().Format(time.DateOnly)
	data, err := p.Marshal()
	if err != nil {
		return exit(ExitInfra, "%v", err)
	}
	if err := writeFile(out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return exit(ExitInfra, "%v", err)
	}
	fmt.Fprintf(stderr, "%d prices from %d price list entries written to %s\n", len(set), len(items), out)
	return nil
}
