package cost_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/functions/generator"
	"github.com/stampede-load/stampede/functions/local"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/cost"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/memqueue"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/report"
)

const guardPlan = `name: guard
target: TARGET
duration: DURATION
load: {rate: 20/s}
generators: 2
defaults: {timeout: 2s}
scenarios:
  - name: one
    steps:
      - get: /a
`

func guardEstimate(t *testing.T, target, duration string, prices *cost.Prices, poll time.Duration) (*plan.Plan, *cost.Cost) {
	t.Helper()
	src := strings.NewReplacer("TARGET", target, "DURATION", duration).Replace(guardPlan)
	p, err := plan.Parse("guard.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cost.Estimate(p, prices, cost.Options{Backend: orchestrator.BackendLocal, PollEvery: poll})
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// TestGuardStopsRun: with a budget halfway between the estimates of half
// the run (4 s) and the whole run (8 s), the guard stops the run, which
// then costs more than about half the run and no more than the budget;
// the report shows the stop and the spend.
func TestGuardStopsRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	t.Cleanup(srv.Close)
	prices, err := cost.DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	const poll = 250 * time.Millisecond
	_, half := guardEstimate(t, srv.URL, "4s", prices, poll)
	p, est := guardEstimate(t, srv.URL, "8s", prices, poll)
	budget := (half.EstimatedUSD + est.EstimatedUSD) / 2

	store := dirstore.New(t.TempDir())
	q := memqueue.New(time.Minute)
	h := &generator.Handler{Store: store, Logf: func(string, ...any) {}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { local.Start(ctx, q, h, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	orch := &cost.CountingStore{Store: store}
	queue := &cost.CountingQueue{Queue: q}
	b := orchestrator.Backend{Name: orchestrator.BackendLocal, Queues: map[string]orchestrator.Queue{"local": queue}, Store: orch}
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{PollEvery: poll, Abort: est.NewGuard(budget, poll, cost.Counters{orch, queue})})
	if err != nil {
		t.Fatal(err)
	}
	if err := est.AddActual(context.Background(), store, res, prices, cost.Counters{orch, queue}); err != nil {
		t.Fatal(err)
	}
	rep := report.Build(res)
	rep.Cost = est
	t.Logf("half $%.6f, whole $%.6f, budget $%.6f, actual $%.6f; stopped %q",
		half.EstimatedUSD, est.EstimatedUSD, budget, est.ActualUSD, rep.Stopped)
	for _, l := range est.Actual.Lines {
		t.Logf("actual %s: %v %s $%.6f (estimate $%.6f)", l.Item, l.Quantity, l.Unit, l.USD, est.Estimate.Line(l.Item).USD)
	}
	t.Logf("elapsed %v", res.Ended.Sub(res.Started))
	if !strings.HasPrefix(rep.Stopped, cost.GuardPrefix+"projected $") || !strings.Contains(rep.Stopped, fmt.Sprintf("exceeds budget $%.6f", budget)) {
		t.Fatalf("stopped %q, want the cost guard", rep.Stopped)
	}
	// The guard keeps a poll of margin; on a starved CPU a generator can
	// still take a little longer than the model's 1 s to see the stop
	// marker, hence 5% of slack above the budget.
	if rep.Cost.ActualUSD > budget*1.05 || rep.Cost.ActualUSD < half.EstimatedUSD*0.9 {
		t.Errorf("actual $%.6f, want between about half the run ($%.6f) and the budget ($%.6f)", rep.Cost.ActualUSD, half.EstimatedUSD, budget)
	}
	if rep.Requests == 0 || rep.Requests >= 160 {
		t.Errorf("%d requests, want fewer than the whole run's 160", rep.Requests)
	}
}
