package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error formats e as one line: "file:line:col: path: message (hint: ...)".
// Parts that are unknown (no line, no path, no hint) are left out; line
// breaks inside them are escaped.
func (e Error) Error() string {
	return oneLine.Replace(e.format())
}

// oneLine escapes line breaks, so that every problem prints on one line.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

func (e Error) format() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
		if e.Col > 0 {
			b.WriteString(strconv.Itoa(e.Col))
			b.WriteString(":")
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Error prints one line per problem, in file order.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// collector gathers problems while a plan is parsed. It is owned by one
// parse and not safe for concurrent use.
type collector struct {
	file string
	errs Errors
	seen map[string]bool
}

// at records a problem located at n (n may be nil: no position).
func (c *collector) at(n *yaml.Node, path, hint, format string, args ...any) {
	e := Error{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	c.add(e)
}

// add records e once (the same line is never reported twice).
func (c *collector) add(e Error) {
	key := e.Error()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.errs = append(c.errs, e)
}

// result returns the problems sorted by position, or nil when there are none.
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool {
		a, b := c.errs[i], c.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.errs
}

// suggest returns a "did you mean" hint naming the candidate closest to
// word (at most a third of its length away, and at least 1 edit allowed
// for short words), or "" when none is close.
func suggest(word string, candidates []string) string {
	best, bestD := "", -1
	limit := max(len(word)/3, 2)
	lw := strings.ToLower(word)
	for _, c := range candidates {
		d := editDistance(lw, strings.ToLower(c))
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
