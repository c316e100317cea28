package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds how many YAML nodes one parse visits: aliases can make a
// small file expand exponentially.
const maxNodes = 1_000_000

// YAML tags the parser distinguishes.
const (
	tagStr   = "!!str"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagBool  = "!!bool"
	tagNull  = "!!null"
	tagMerge = "!!merge"
)

// nodes walks yaml.v3 nodes, reporting problems to its collector. It is
// owned by one parse.
type nodes struct {
	collector
	visits int
	tooBig bool
}

// resolve follows aliases and counts the visit. Past maxNodes it returns a
// null node and the parse reports only that the plan is too large.
func (w *nodes) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	w.visits++
	if w.visits > maxNodes || (n != nil && n.Kind == yaml.AliasNode) {
		w.tooBig = true
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagNull}
	}
	return n
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == tagNull)
}

// describe names n's kind for messages ("a mapping", "the number 3").
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case tagNull:
		return "null"
	case tagStr:
		return fmt.Sprintf("the string %q", clip(n.Value))
	case tagBool:
		return n.Value
	case tagInt, tagFloat:
		return "the number " + clip(n.Value)
	}
	return fmt.Sprintf("%q", clip(n.Value))
}

// clip shortens s for messages.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fields is one YAML mapping's keys, checked against the keys allowed there.
type fields struct {
	node *yaml.Node
	path string
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
	// order lists the keys as written.
	order []string
}

// get returns key's value (aliases resolved), nil when absent or null.
func (f *fields) get(key string) *yaml.Node {
	if f == nil || isNull(f.vals[key]) {
		return nil
	}
	return f.vals[key]
}

// has reports whether key is present, even as null.
func (f *fields) has(key string) bool {
	if f == nil {
		return false
	}
	_, ok := f.vals[key]
	return ok
}

// path of key's value.
func (f *fields) at(key string) string { return join(f.path, key) }

// mapping checks that n is a mapping whose keys are all in known and
// returns them. Unknown and duplicate keys are reported; nil means n is
// not a mapping (reported too).
func (w *nodes) mapping(n *yaml.Node, path string, known []string) *fields {
	n = w.resolve(n)
	if n.Kind != yaml.MappingNode {
		w.at(n, path, "", "want a mapping, got %s", describe(n))
		return nil
	}
	f := &fields{node: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	w.addPairs(f, n, known, false)
	return f
}

// addPairs adds n's pairs to f; merged pairs (from "<<") never override.
func (w *nodes) addPairs(f *fields, n *yaml.Node, known []string, merged bool) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := w.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.at(k, f.path, "", "a key must be a plain name, got %s", describe(k))
			continue
		}
		if k.ShortTag() == tagMerge {
			merges = append(merges, v)
			continue
		}
		name := k.Value
		if first, dup := f.keys[name]; dup {
			if !merged {
				w.at(k, join(f.path, name), "remove one of them", "duplicate key (first at line %d)", first.Line)
			}
			continue
		}
		if !contains(known, name) {
			hint := suggest(name, known)
			if hint == "" {
				hint = "valid keys here: " + strings.Join(known, ", ")
			}
			w.at(k, join(f.path, name), hint, "unknown key %q", clip(name))
			continue
		}
		f.keys[name] = k
		f.vals[name] = w.resolve(v)
		f.order = append(f.order, name)
	}
	for _, m := range merges {
		m = w.resolve(m)
		switch m.Kind {
		case yaml.MappingNode:
			w.addPairs(f, m, known, true)
		case yaml.SequenceNode:
			for _, s := range m.Content {
				if s = w.resolve(s); s.Kind == yaml.MappingNode {
					w.addPairs(f, s, known, true)
				}
			}
		default:
			w.at(m, f.path, "", "a merge (<<) needs a mapping, got %s", describe(m))
		}
	}
}

// pairs returns a free-form mapping's keys and values in order (for
// headers, vars, captures: names chosen by the user). Duplicates are
// reported.
func (w *nodes) pairs(n *yaml.Node, path string) (keys, vals []*yaml.Node, ok bool) {
	n = w.resolve(n)
	if n.Kind != yaml.MappingNode {
		w.at(n, path, "", "want a mapping of names to values, got %s", describe(n))
		return nil, nil, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := w.resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode || k.ShortTag() == tagMerge || k.ShortTag() == tagNull {
			w.at(k, path, "", "a name must be a plain string, got %s", describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			w.at(k, join(path, k.Value), "remove one of them", "duplicate key (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		keys = append(keys, k)
		vals = append(vals, w.resolve(n.Content[i+1]))
	}
	return keys, vals, true
}

// list checks that n is a sequence and returns its items (resolved).
func (w *nodes) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = w.resolve(n)
	if n.Kind != yaml.SequenceNode {
		w.at(n, path, "", "want a list, got %s", describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = w.resolve(c)
	}
	return out, true
}

// str returns a scalar's text; numbers and booleans count as text.
func (w *nodes) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == tagNull {
		w.at(n, path, "", "want a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// integer returns a scalar integer within [lo, hi].
func (w *nodes) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tagInt || n.Decode(&v) != nil {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() == tagStr {
			if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				hint = "remove the quotes"
			}
		}
		w.at(n, path, hint, "want a whole number, got %s", describe(n))
		return 0, false
	}
	if v < lo || v > hi {
		w.at(n, path, "", "%d is out of range (want %s)", v, rangeText(lo, hi))
		return 0, false
	}
	return v, true
}

func rangeText(lo, hi int64) string {
	if hi == math.MaxInt64 || hi == math.MaxInt {
		return fmt.Sprintf(">= %d", lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// number returns a finite scalar number.
func (w *nodes) number(n *yaml.Node, path string) (float64, bool) {
	var v float64
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != tagInt && tag != tagFloat) || n.Decode(&v) != nil ||
		math.IsNaN(v) || math.IsInf(v, 0) {
		w.at(n, path, "", "want a number, got %s", describe(n))
		return 0, false
	}
	return v, true
}

// boolean returns a scalar true or false.
func (w *nodes) boolean(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tagBool || n.Decode(&v) != nil {
		w.at(n, path, "write true or false", "want true or false, got %s", describe(n))
		return false, false
	}
	return v, true
}

// duration returns a scalar duration such as "1m30s" (see parseDuration).
func (w *nodes) duration(n *yaml.Node, path string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode {
		w.at(n, path, "", "want a duration such as 500ms or 2m, got %s", describe(n))
		return 0, false
	}
	d, msg, hint := parseDuration(n.Value)
	if msg != "" {
		w.at(n, path, hint, "%s", msg)
		return 0, false
	}
	return d, true
}

// positive returns a duration > 0.
func (w *nodes) positive(n *yaml.Node, path string) (time.Duration, bool) {
	d, ok := w.duration(n, path)
	if ok && d <= 0 {
		w.at(n, path, "", "must be longer than 0s")
		return 0, false
	}
	return d, ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAliases reports an alias that refers to a node containing it and a
// document whose aliases expand to more than maxNodes nodes. It returns
// false when the document must not be walked.
func (w *nodes) checkAliases(root *yaml.Node) bool {
	memo := map[*yaml.Node]int{}
	onPath := map[*yaml.Node]bool{}
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1
			}
			if onPath[n.Alias] {
				w.at(n, "", "an alias cannot refer to a node that contains it", "alias *%s refers to itself", clip(n.Value))
				return -1
			}
			n = n.Alias
		}
		if s, ok := memo[n]; ok {
			return s
		}
		onPath[n] = true
		total := 1
		for _, c := range n.Content {
			s := size(c)
			if s < 0 {
				total = -1
				break
			}
			total = min(total+s, maxNodes+1)
		}
		delete(onPath, n)
		memo[n] = total
		return total
	}
	switch s := size(root); {
	case s < 0:
		return false
	case s > maxNodes:
		w.add(tooLarge(w.file, max(root.Line, 1)))
		return false
	}
	return true
}

// tooLarge is the error of a plan whose aliases expand past maxNodes, at
// line of file.
func tooLarge(file string, line int) Error {
	return Error{File: file, Line: line, Msg: fmt.Sprintf("the plan is too large: its aliases expand to more than %d nodes", maxNodes),
		Hint: "write the values out instead of nesting aliases"}
}
