package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Doc is a response as checks and captures see it; its body is checked
// once to be JSON on first use. Reset it per response. A Doc is owned by
// one virtual user and not safe for concurrent use.
type Doc struct {
	status  int
	body    []byte
	header  func(name string) string
	checked bool // valid holds whether body is one JSON value
	valid   bool
}

// Reset points d at a new response. d keeps body (it does not copy it)
// until the next Reset; header may be nil.
func (d *Doc) Reset(status int, body []byte, header func(name string) string) {
	*d = Doc{status: status, body: body, header: header}
}

// Status is the response's status code.
func (d *Doc) Status() int { return d.status }

// Body is the response body as kept (possibly truncated by MaxBodyBytes).
func (d *Doc) Body() []byte { return d.body }

// Header returns the response header name ("" when absent).
func (d *Doc) Header(name string) string {
	if d.header == nil {
		return ""
	}
	return d.header(name)
}

// lookup returns the value at p in the JSON body (found false when a step
// is missing), or isJSON false when the body is not one JSON value. It
// decodes only the value found (see lookupRaw).
func (d *Doc) lookup(p *JSONPath) (v any, found, isJSON bool) {
	if !d.checked {
		d.checked, d.valid = true, json.Valid(d.body)
	}
	if !d.valid {
		return nil, false, false
	}
	raw, found := p.lookupRaw(d.body)
	if !found {
		return nil, false, true
	}
	return decodeRaw(raw), true, true
}

// Checker evaluates a step's Expect. It is immutable and safe for
// concurrent use.
type Checker struct {
	status   []int // empty: 200–399
	contains []byte
	conds    []*CondEval
}

// CompileExpect compiles e (nil: status 200–399 passes). It reports every
// bad condition at once.
func CompileExpect(e *Expect) (*Checker, error) {
	c := &Checker{}
	if e == nil {
		return c, nil
	}
	var errs []error
	for _, s := range e.Status {
		if s < 100 || s > 599 {
			errs = append(errs, fmt.Errorf("status %d is not an HTTP status code", s))
		}
	}
	c.status = append([]int(nil), e.Status...)
	if e.BodyContains != "" {
		c.contains = []byte(e.BodyContains)
	}
	for i, cond := range e.JSON {
		ce, err := CompileCond(cond)
		if err != nil {
			errs = append(errs, fmt.Errorf("json[%d]: %w", i, err))
			continue
		}
		c.conds = append(c.conds, ce)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Check reports whether the response meets the expectation. When it does
// not, class is ErrNone if the status code missed (the failure is then
// counted by status; the body is not examined) and ErrExpect if the status
// was accepted but a body or JSON condition missed.
func (c *Checker) Check(d *Doc) (ok bool, class ErrorClass) {
	if !c.statusOK(d.status) {
		return false, ErrNone
	}
	if c.contains != nil && !bytes.Contains(d.body, c.contains) {
		return false, ErrExpect
	}
	for _, ce := range c.conds {
		if !ce.Eval(d) {
			return false, ErrExpect
		}
	}
	return true, ErrNone
}

func (c *Checker) statusOK(code int) bool {
	if len(c.status) == 0 {
		return code >= 200 && code <= 399
	}
	for _, s := range c.status {
		if s == code {
			return true
		}
	}
	return false
}

// condOp is what a CondEval tests.
type condOp uint8

const (
	condEquals condOp = iota
	condIn
	condExists
)

// CondEval evaluates a Cond. It is immutable and safe for concurrent use.
type CondEval struct {
	path   *JSONPath
	op     condOp
	want   []any // normalized: numbers as float64
	exists bool
}

// CompileCond compiles c. Exactly one of Equals, In and Exists must be set
// (so "equals: null" cannot be expressed; use "exists").
func CompileCond(c Cond) (*CondEval, error) {
	p, err := ParseJSONPath(c.Path)
	if err != nil {
		return nil, err
	}
	ce := &CondEval{path: p}
	set := 0
	want := c.In
	if len(c.In) > 0 {
		set++
		ce.op = condIn
	}
	if c.Equals != nil {
		set++
		ce.op = condEquals
		want = []any{c.Equals}
	}
	if c.Exists != nil {
		set++
		ce.op = condExists
		ce.exists = *c.Exists
	}
	if set != 1 {
		return nil, fmt.Errorf("condition on %s: set exactly one of equals, in and exists", c.Path)
	}
	for _, w := range want {
		n, err := normalizeJSON(w)
		if err != nil {
			return nil, fmt.Errorf("condition on %s: %w", c.Path, err)
		}
		ce.want = append(ce.want, n)
	}
	return ce, nil
}

// Eval reports whether the condition holds on d's JSON body. Every
// condition is false on a body that is not JSON.
func (c *CondEval) Eval(d *Doc) bool {
	got, found, ok := d.lookup(c.path)
	if !ok {
		return false
	}
	if c.op == condExists {
		return found == c.exists
	}
	if !found {
		return false
	}
	for _, w := range c.want {
		if jsonEqual(w, got) {
			return true
		}
	}
	return false
}

// normalizeJSON turns a plan value into the shapes jsonEqual compares:
// every number a float64.
func normalizeJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			m[k] = n
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			s[i] = n
		}
		return s, nil
	}
	if f, ok := toFloat(v); ok {
		return f, nil
	}
	return nil, fmt.Errorf("unsupported value %v of type %T", v, v)
}

// toFloat converts any numeric type to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint:
		return float64(x), true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// jsonEqual compares a normalized want with a decoded value.
func jsonEqual(want, got any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := toFloat(got)
		return ok && g == w
	case string:
		g, ok := got.(string)
		return ok && g == w
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case nil:
		return got == nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !jsonEqual(w[i], g[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !jsonEqual(wv, gv) {
				return false
			}
		}
		return true
	}
	return false
}

// Extractor runs a Capture. It is immutable and safe for concurrent use.
type Extractor struct {
	from   string
	path   *JSONPath
	header string
	re     *regexp.Regexp
}

// CompileCapture compiles c. An empty From with an Expr starting with "$"
// means CaptureJSON.
func CompileCapture(c Capture) (*Extractor, error) {
	if !IsVarName(c.Var) {
		return nil, fmt.Errorf("capture var %q: want a letter or '_' then letters, digits, '_' or '.', not a function name", c.Var)
	}
	x := &Extractor{from: c.From}
	if x.from == "" && strings.HasPrefix(c.Expr, "$") {
		x.from = CaptureJSON
	}
	var err error
	switch x.from {
	case CaptureJSON:
		x.path, err = ParseJSONPath(c.Expr)
	case CaptureHeader:
		if c.Expr == "" {
			err = errors.New("empty header name")
		}
		x.header = c.Expr
	case CaptureRegex:
		x.re, err = regexp.Compile(c.Expr)
	default:
		err = fmt.Errorf("unknown source %q (want json, header or regex)", c.From)
	}
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", c.Var, err)
	}
	return x, nil
}

// Extract returns the captured value, or false when nothing matched (a
// missing path, a JSON null, an absent or empty header, no regex match).
// A JSON value is given as text: strings as they are, numbers in shortest
// form (integers without exponent), bools, objects and arrays as compact JSON.
func (x *Extractor) Extract(d *Doc) (string, bool) {
	switch {
	case x.path != nil:
		v, found, _ := d.lookup(x.path)
		if !found || v == nil {
			return "", false
		}
		return jsonText(v), true
	case x.re != nil:
		m := x.re.FindSubmatchIndex(d.body)
		if m == nil {
			return "", false
		}
		if len(m) >= 4 && m[2] >= 0 {
			return string(d.body[m[2]:m[3]]), true
		}
		return string(d.body[m[0]:m[1]]), true
	}
	v := d.Header(x.header)
	return v, v != ""
}

// jsonText renders a decoded JSON value as capture text.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			return string(x) // an integer, exact whatever its size
		}
		f, err := x.Float64()
		if err != nil {
			return string(x)
		}
		return formatNumber(f)
	case float64:
		return formatNumber(x)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// formatNumber gives f in shortest form, without exponent when integral
// and below 1e21.
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
