package chaos

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Row is one scenario's outcome.
type Row struct {
	Order    int    // where the row goes within its backend (the order)
	Backend  string // "local" or "aws"
	Scenario string
	// Faults says what was injected and how often ("12 duplicate deliveries").
	Faults string
	// Runs is how many runs the scenario made, Completed how many of them
	// ended with a report; Tasks and Reported count their tasks and those
	// that wrote a readable final result (fewer when the scenario kills a
	// generator or damages results).
	Runs, Completed int
	Tasks, Reported int
	// Lost is what the target served and the report does not count;
	// Declared is how many of those the report accounts for by naming a
	// missing task (at most that task's last checkpoint interval). Lost
	// beyond Declared is a request lost in silence: the invariant is that
	// there is none.
	Lost, Declared int64
	// Stop is the stop latency (zero: not measured): from the stop to the
	// target's last request.
	Stop time.Duration
	// Pass is whether the invariant held; Note says which, or why not.
	Pass bool
	Note string
}

// Table collects rows from concurrent scenarios. The zero value is ready.
type Table struct {
	mu   sync.Mutex
	rows []Row
}

// Add appends r.
func (t *Table) Add(r Row) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows = append(t.rows, r)
}

// Rows returns the rows, local ones first, each backend's by Order (then
// in the order added).
func (t *Table) Rows() []Row {
	t.mu.Lock()
	defer t.mu.Unlock()
	rows := slices.Clone(t.rows)
	slices.SortStableFunc(rows, func(a, b Row) int {
		return cmp.Or(strings.Compare(backendOrder(a.Backend), backendOrder(b.Backend)), cmp.Compare(a.Order, b.Order))
	})
	return rows
}

func backendOrder(b string) string {
	if b == "local" {
		return "0"
	}
	return "1" + b
}

// Failed reports whether any row failed its invariant.
func (t *Table) Failed() bool {
	for _, r := range t.Rows() {
		if !r.Pass {
			return true
		}
	}
	return false
}

// WriteMarkdown writes the rows as a Markdown table.
func (t *Table) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| backend | scenario | faults injected | runs completed | tasks reported | requests lost (declared) | stop latency | result |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---|\n")
	for _, r := range t.Rows() {
		stop := "—"
		if r.Stop > 0 {
			stop = r.Stop.Round(10 * time.Millisecond).String()
		}
		verdict := "pass"
		if !r.Pass {
			verdict = "**FAIL**"
		}
		if r.Note != "" {
			verdict += ": " + r.Note
		}
		tasks := "—"
		if r.Tasks > 0 {
			tasks = fmt.Sprintf("%d/%d", r.Reported, r.Tasks)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d/%d | %s | %d (%d) | %s | %s |\n",
			r.Backend, escape(r.Scenario), escape(r.Faults), r.Completed, r.Runs, tasks, r.Lost, r.Declared, stop, escape(verdict))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escape keeps a cell on one line and its pipes out of the table syntax.
func escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
