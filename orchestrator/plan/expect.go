package plan

import (
	"math"
	"strings"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// Keys of expect, of a JSON condition and of poll.
var (
	expectKeys = []string{"status", "body_contains", "json"}
	condKeys   = []string{"path", "equals", "in", "exists"}
	pollKeys   = []string{"interval", "max_tries", "until", "while"}
)

// parseExpect reads expect: {status, body_contains, json}. An empty
// expectation is nil (the engine's default: status 200-399).
func (p *parser) parseExpect(n *yaml.Node, path string) *engine.Expect {
	f := p.mapping(n, path, expectKeys)
	if f == nil {
		return nil
	}
	var e engine.Expect
	bad := false
	if v := f.get("status"); v != nil {
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items, _ = p.list(v, f.at("status"))
		}
		for i, it := range items {
			at := f.at("status")
			if v.Kind == yaml.SequenceNode {
				at = index(at, i)
			}
			code, ok := p.integer(it, at, 100, 599)
			bad = bad || !ok
			e.Status = append(e.Status, int(code))
		}
	}
	if v := f.get("body_contains"); v != nil {
		s, ok := p.str(v, f.at("body_contains"))
		if ok && s == "" {
			p.at(v, f.at("body_contains"), "leave body_contains out", "must not be empty")
			ok = false
		}
		bad = bad || !ok
		e.BodyContains = s
	}
	if v := f.get("json"); v != nil {
		items, ok := p.list(v, f.at("json"))
		bad = bad || !ok
		for i, it := range items {
			c, ok := p.parseCond(it, index(f.at("json"), i))
			bad = bad || !ok
			e.JSON = append(e.JSON, c)
		}
	}
	if len(e.Status) == 0 && e.BodyContains == "" && len(e.JSON) == 0 {
		return nil
	}
	if !bad {
		if _, err := engine.CompileExpect(&e); err != nil {
			p.at(n, path, "", "%s", strings.TrimPrefix(err.Error(), "expect: "))
		}
	}
	return &e
}

// parseCond reads {path: $.a, equals: X | in: [X, Y] | exists: bool}.
func (p *parser) parseCond(n *yaml.Node, path string) (engine.Cond, bool) {
	var c engine.Cond
	f := p.mapping(n, path, condKeys)
	if f == nil {
		return c, false
	}
	ok := true
	if v := f.get("path"); v == nil {
		p.at(n, f.at("path"), "a JSON path such as $.status", "is required")
		ok = false
	} else if c.Path, ok = p.str(v, f.at("path")); ok && c.Path == "" {
		p.at(v, f.at("path"), "a JSON path such as $.status", "must not be empty")
		ok = false
	}
	var ops []string
	for _, k := range []string{"equals", "in", "exists"} {
		if f.has(k) {
			ops = append(ops, k)
		}
	}
	if len(ops) != 1 {
		p.at(n, path, "e.g. {path: $.status, equals: completed}", "give exactly one of equals, in or exists")
		return c, false
	}
	switch v := f.vals[ops[0]]; ops[0] {
	case "equals":
		if isNull(v) {
			p.at(v, f.at("equals"), "use exists: false to require a missing value", "equals cannot be null")
			return c, false
		}
		var good bool
		c.Equals, good = p.jsonValue(v, f.at("equals"), nil)
		ok = ok && good
	case "in":
		items, good := p.list(v, f.at("in"))
		if good && len(items) == 0 {
			p.at(v, f.at("in"), "", "list at least one value")
			good = false
		}
		ok = ok && good
		for i, it := range items {
			x, good := p.jsonValue(it, index(f.at("in"), i), nil)
			ok = ok && good
			c.In = append(c.In, x)
		}
	case "exists":
		b, good := p.boolean(v, f.at("exists"))
		ok = ok && good
		c.Exists = &b
	}
	if ok {
		if _, err := engine.CompileCond(c); err != nil {
			p.at(f.get("path"), f.at("path"), "", "%s", err)
			ok = false
		}
	}
	return c, ok
}

// parseCaptures reads capture: {var: {json: $.a} | {header: ETag} | {regex: 'id=(\d+)'}}.
func (p *parser) parseCaptures(n *yaml.Node, path string, scenario int) []engine.Capture {
	keys, vals, _ := p.pairs(n, path)
	var out []engine.Capture
	for i, k := range keys {
		at := join(path, k.Value)
		if msg, hint := checkVarName(k.Value); msg != "" {
			p.at(k, at, hint, "%s", msg)
			continue
		}
		from := []string{engine.CaptureJSON, engine.CaptureHeader, engine.CaptureRegex}
		f := p.mapping(vals[i], at, from)
		if f == nil {
			continue
		}
		if len(f.order) != 1 {
			p.at(vals[i], at, "e.g. token: {json: $.access_token}", "give exactly one of json, header or regex")
			continue
		}
		c := engine.Capture{Var: k.Value, From: f.order[0]}
		v := f.get(c.From)
		if v == nil {
			p.at(f.keys[c.From], f.at(c.From), "", "needs a value")
			continue
		}
		var ok bool
		if c.Expr, ok = p.str(v, f.at(c.From)); !ok {
			continue
		}
		if _, err := engine.CompileCapture(c); err != nil {
			p.at(v, f.at(c.From), "", "%s", err)
			continue
		}
		switch {
		case scenario == setupScenario:
			if p.setupCaps == nil {
				p.setupCaps = map[string]bool{}
			}
			p.setupCaps[c.Var] = true
		case scenario >= 0 && scenario < len(p.captures):
			p.captures[scenario][c.Var] = true
		}
		out = append(out, c)
	}
	return out
}

// parsePoll reads poll: {interval, max_tries, until, while}.
func (p *parser) parsePoll(n *yaml.Node, path string) *engine.Poll {
	f := p.mapping(n, path, pollKeys)
	if f == nil {
		return nil
	}
	var pl engine.Poll
	if v := f.get("interval"); v == nil {
		p.at(n, f.at("interval"), "e.g. interval: 2s", "is required")
	} else {
		pl.Interval, _ = p.positive(v, f.at("interval"))
	}
	if v := f.get("max_tries"); v == nil {
		p.at(n, f.at("max_tries"), "e.g. max_tries: 5", "is required")
	} else {
		t, _ := p.integer(v, f.at("max_tries"), 1, 100_000)
		pl.MaxTries = int(t)
	}
	if v := f.get("until"); v == nil {
		p.at(n, f.at("until"), "e.g. until: {path: $.status, equals: completed}", "is required")
	} else {
		pl.Until, _ = p.parseCond(v, f.at("until"))
	}
	if v := f.get("while"); v != nil {
		c, _ := p.parseCond(v, f.at("while"))
		pl.While = &c
	}
	return &pl
}

// jsonBody converts a json: body and checks it compiles.
func (p *parser) jsonBody(n *yaml.Node, path string, sc scope) any {
	v, ok := p.jsonValue(n, path, &sc)
	if ok {
		if _, err := engine.CompileJSON(v); err != nil {
			p.at(n, path, "", "%s", err)
		}
	}
	return v
}

// jsonValue converts n to a plain Go value: map[string]any, []any, string,
// int, float64, bool or nil. With sc set, strings are templates.
func (p *parser) jsonValue(n *yaml.Node, path string, sc *scope) (any, bool) {
	n = p.resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		keys, vals, ok := p.pairs(n, path)
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			v, good := p.jsonValue(vals[i], join(path, k.Value), sc)
			ok = ok && good
			m[k.Value] = v
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, good := p.jsonValue(c, index(path, i), sc)
			ok = ok && good
			s = append(s, v)
		}
		return s, ok
	case yaml.ScalarNode:
		return p.jsonScalar(n, path, sc)
	}
	p.at(n, path, "", "want a JSON value, got %s", describe(n))
	return nil, false
}

func (p *parser) jsonScalar(n *yaml.Node, path string, sc *scope) (any, bool) {
	switch n.ShortTag() {
	case tagNull:
		return nil, true
	case tagBool:
		var b bool
		return b, n.Decode(&b) == nil
	case tagInt:
		var i int
		if n.Decode(&i) == nil {
			return i, true
		}
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) {
			return f, true
		}
		p.at(n, path, "", "the number %s is too large", clip(n.Value))
		return nil, false
	case tagFloat:
		var f float64
		if n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			p.at(n, path, "quote it to send a string", "%s is not a JSON number", clip(n.Value))
			return nil, false
		}
		return f, true
	}
	if sc != nil {
		p.template(n, path, n.Value, *sc)
	}
	return n.Value, true
}
