package engine

import (
	"fmt"
	"strconv"
)

// JSONPath is a compiled path into a decoded JSON value. The syntax is a
// small subset of JSONPath:
//
//	$                  the whole document
//	$.a.b              object members (names run up to the next '.' or '[')
//	$.items[0].id      array elements by index
//	$.items[-1]        negative indexes count from the end (-1 is the last)
//	$['odd key']       quoted member names (' or "; \' \" \\ escapes)
//
// It is immutable and safe for concurrent use.
type JSONPath struct {
	src   string
	steps []pathStep
}

// pathStep is one member or index step.
type pathStep struct {
	key   string
	index int
	isIdx bool
}

// ParseJSONPath compiles a path. Errors name the byte offset of the problem.
func ParseJSONPath(s string) (*JSONPath, error) {
	if s == "" || s[0] != '$' {
		return nil, pathErr(s, 0, "must start with \"$\"")
	}
	p := &JSONPath{src: s}
	for i := 1; i < len(s); {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, pathErr(s, i, "empty member name after \".\"")
			}
			p.steps = append(p.steps, pathStep{key: s[i+1 : j]})
			i = j
		case '[':
			st, next, err := parseBracket(s, i)
			if err != nil {
				return nil, err
			}
			p.steps = append(p.steps, st)
			i = next
		default:
			return nil, pathErr(s, i, fmt.Sprintf("unexpected %q, want \".\" or \"[\"", s[i]))
		}
	}
	return p, nil
}

// parseBracket reads "[n]" or "['key']" at s[i] == '['.
func parseBracket(s string, i int) (pathStep, int, error) {
	j := i + 1
	if j < len(s) && (s[j] == '\'' || s[j] == '"') {
		key, end, err := quotedKey(s, j)
		if err != nil {
			return pathStep{}, 0, err
		}
		if end >= len(s) || s[end] != ']' {
			return pathStep{}, 0, pathErr(s, end, "want \"]\" after a quoted name")
		}
		return pathStep{key: key}, end + 1, nil
	}
	k := j
	for k < len(s) && s[k] != ']' {
		k++
	}
	if k == len(s) {
		return pathStep{}, 0, pathErr(s, i, "unclosed \"[\"")
	}
	n, err := strconv.Atoi(s[j:k])
	if err != nil {
		return pathStep{}, 0, pathErr(s, j, fmt.Sprintf("%q is not an index or a quoted name", s[j:k]))
	}
	return pathStep{index: n, isIdx: true}, k + 1, nil
}

// quotedKey reads a quoted name starting at the quote s[j]; end is the
// offset after the closing quote.
func quotedKey(s string, j int) (key string, end int, err error) {
	q := s[j]
	var buf []byte
	for k := j + 1; k < len(s); k++ {
		switch s[k] {
		case q:
			return string(buf), k + 1, nil
		case '\\':
			if k+1 < len(s) && (s[k+1] == q || s[k+1] == '\\' || s[k+1] == '\'' || s[k+1] == '"') {
				k++
			}
		}
		buf = append(buf, s[k])
	}
	return "", 0, pathErr(s, j, "unterminated quoted name")
}

func pathErr(src string, off int, msg string) error {
	return fmt.Errorf("json path %q: offset %d: %s", src, off, msg)
}

// String returns the source of the path.
func (p *JSONPath) String() string { return p.src }

// Lookup walks doc (as decoded by encoding/json: map[string]any, []any)
// and returns the value at the path, or false when a step is missing.
func (p *JSONPath) Lookup(doc any) (any, bool) {
	v := doc
	for _, st := range p.steps {
		if st.isIdx {
			arr, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := st.index
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return nil, false
			}
			v = arr[i]
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[st.key]; !ok {
			return nil, false
		}
	}
	return v, true
}
