package orchestrator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// TestRunYAMLClosedModel runs a parsed plan (closed model, think times,
// two regions, two slices) end to end: what the report counts is what the
// target answered, and the manifest holds the plan without its secret.
func TestRunYAMLClosedModel(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	src := fmt.Sprintf(`name: yaml-closed
target: %s
duration: 2s
slice: 1s
load: {model: closed, users: 4}
regions: {us-east-1: 1, eu-west-1: 1}
defaults:
  timeout: 10s
  headers: {Authorization: 'Bearer {{ env "API_TOKEN" }}'}
scenarios:
  - name: browse
    weight: 3
    steps:
      - name: list products
        get: /products
        think: 100ms
  - name: checkout
    steps:
      - name: add to cart
        post: /cart
        json: {sku: A-1, qty: 2}
      - name: view cart
        get: /cart
        think: 50ms
`, tg.srv.URL)
	p, err := plan.Parse("closed.yaml", []byte(src), func(name string) (string, bool) {
		return apiToken, name == "API_TOKEN"
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p.Engine.Grace = 10 * time.Second // see testPlan
	b, root := localBackend(t, p, nil)
	res, err := orchestrator.Run(context.Background(), p, b, orchestrator.Options{PollEvery: 250 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Shards.Expected != 4 || res.Shards.Completed != 4 {
		t.Errorf("shards = %+v, want 4 of 4", res.Shards)
	}
	assertExact(t, res, tg)
	if res.Total.Iterations.Completed < 8 {
		t.Errorf("%d iterations completed by 4 users in 2s, want at least 8", res.Total.Iterations.Completed)
	}
	if tg.snapshot()["GET /products 401"] != 0 {
		t.Error("requests went out without the env token")
	}
	assertNoSecret(t, root)
	manifest, err := b.Store.Get(context.Background(), shard.ManifestKey(res.RunID))
	if err != nil || !strings.Contains(string(manifest), "yaml-closed") {
		t.Errorf("manifest: %v", err)
	}
	if res.Plan.Name != "yaml-closed" || len(res.Plan.Engine.Scenarios) != 2 || string(res.Plan.Source) != src {
		t.Errorf("collected plan %q with %d scenarios, source kept: %v", res.Plan.Name, len(res.Plan.Engine.Scenarios), string(res.Plan.Source) == src)
	}
}
