package chaos

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator/dirstore"
)

// TestFaultStore checks the store rules: Every, Once per key, AddRule.
func TestFaultStore(t *testing.T) {
	ctx := context.Background()
	fs := NewFaultStore(dirstore.New(t.TempDir()), StoreRule{Name: "lease", Op: OpCreate, Key: "/leases/", Once: true})
	if err := fs.Create(ctx, "runs/r/leases/a", []byte("1")); !errors.Is(err, ErrInjected) {
		t.Errorf("first create: %v, want the injected fault", err)
	}
	if err := fs.Create(ctx, "runs/r/leases/a", []byte("1")); err != nil {
		t.Errorf("retry: %v", err)
	}
	if err := fs.Put(ctx, "runs/r/results/a", []byte("x")); err != nil {
		t.Errorf("unmatched put: %v", err)
	}
	fs.AddRule(StoreRule{Name: "dead", Op: OpPut})
	if err := fs.Put(ctx, "runs/r/results/a", []byte("y")); !errors.Is(err, ErrInjected) {
		t.Errorf("put after AddRule: %v", err)
	}
	if b, err := fs.Get(ctx, "runs/r/results/a"); err != nil || string(b) != "x" {
		t.Errorf("get = %q, %v; the failed put must not have written", b, err)
	}
	if fs.Faulted("lease") != 1 || fs.Faulted("dead") != 1 {
		t.Errorf("faulted lease %d, dead %d", fs.Faulted("lease"), fs.Faulted("dead"))
	}
}

func TestTable(t *testing.T) {
	var tb Table
	tb.Add(Row{Order: 2, Backend: "aws", Scenario: "b", Pass: true})
	tb.Add(Row{Order: 1, Backend: "aws", Scenario: "a | pipe", Runs: 1, Completed: 1, Tasks: 2, Reported: 1, Lost: 3, Declared: 3, Pass: true, Note: "ok"})
	tb.Add(Row{Order: 9, Backend: "local", Scenario: "c", Stop: 1234 * time.Millisecond, Pass: false})
	var b bytes.Buffer
	if err := tb.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"| local | c |  | 0/0 | — | 0 (0) | 1.23s | **FAIL** |",
		`| aws | a \| pipe |  | 1/1 | 1/2 | 3 (3) | — | pass: ok |`,
		"| aws | b |  | 0/0 | — | 0 (0) | — | pass |",
	}
	if len(lines) != 5 || !slices.Equal(lines[2:], want) {
		t.Errorf("table:\n%s\nwant rows:\n%s", b.String(), strings.Join(want, "\n"))
	}
	if !tb.Failed() {
		t.Error("Failed() = false with a failed row")
	}
}
