package plan

import (
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// methods a step may use, in the order hints list them.
var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

const methodHint = "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"

var scenarioKeys = []string{"name", "weight", "think", "setup", "steps"}

var stepKeys = []string{
	"name", "method", "url", "get", "post", "put", "patch", "delete", "head", "options",
	"query", "headers", "cookies", "json", "body", "form", "content_type",
	"expect", "capture", "poll", "think", "timeout",
}

// parseScenarios reads the scenario list.
func (p *parser) parseScenarios(n *yaml.Node, path string) {
	items, ok := p.list(n, path)
	if !ok {
		return
	}
	if len(items) == 0 {
		p.at(n, path, "", "list at least one scenario")
		return
	}
	names := map[string]bool{}
	anyWeight := false
	for i, it := range items {
		p.captures = append(p.captures, map[string]bool{})
		sc, ok := p.parseScenario(it, index(path, i), i)
		if !ok {
			anyWeight = true // reported already; don't pile on
			continue
		}
		if names[sc.Name] {
			p.at(it, join(index(path, i), "name"), "give each scenario its own name", "duplicate scenario name %q", clip(sc.Name))
		}
		names[sc.Name] = true
		anyWeight = anyWeight || sc.Weight > 0
		p.plan.Engine.Scenarios = append(p.plan.Engine.Scenarios, sc)
	}
	if !anyWeight {
		p.at(n, path, "give at least one scenario a weight above 0", "every scenario has weight 0: nothing would run")
	}
}

func (p *parser) parseScenario(n *yaml.Node, path string, i int) (engine.Scenario, bool) {
	sc := engine.Scenario{Name: "scenario " + strconv.Itoa(i+1), Weight: DefaultWeight}
	f := p.mapping(n, path, scenarioKeys)
	if f == nil {
		return sc, false
	}
	if v := f.get("name"); v != nil {
		if s, ok := p.str(v, f.at("name")); ok && s != "" {
			sc.Name = s
		}
	}
	if v := f.get("weight"); v != nil {
		if w, ok := p.integer(v, f.at("weight"), 0, 1_000_000); ok {
			sc.Weight = int(w)
		}
	}
	if v := f.get("think"); v != nil {
		sc.Think = p.parseThink(v, f.at("think"), true)
	}
	if v := f.get("setup"); v != nil {
		sc.Setup = p.parseSteps(v, f.at("setup"), i, false)
	}
	if v := f.get("steps"); v != nil {
		sc.Steps = p.parseSteps(v, f.at("steps"), i, true)
	} else {
		p.at(f.node, f.at("steps"), "list the requests one iteration makes, e.g. steps: [{get: /}]", "is required")
	}
	return sc, true
}

func (p *parser) parseSteps(n *yaml.Node, path string, scenario int, required bool) []engine.Step {
	items, ok := p.list(n, path)
	if !ok {
		return nil
	}
	if len(items) == 0 && required {
		p.at(n, path, "", "list at least one step")
	}
	var out []engine.Step
	for i, it := range items {
		out = append(out, p.parseStep(it, index(path, i), scenario))
	}
	return out
}

// parseStep reads one request. URL forms: "get: /path" (any method in
// lower case) or "method: GET" with "url: /path" (method defaults to GET).
func (p *parser) parseStep(n *yaml.Node, path string, scenario int) engine.Step {
	var st engine.Step
	f := p.mapping(n, path, stepKeys)
	if f == nil {
		return st
	}
	sc := scope{scenario: scenario, vars: -1}
	urlNode, urlPath := p.stepMethod(f, &st)
	if urlNode != nil {
		if s, ok := p.str(urlNode, urlPath); ok {
			st.URL = s
			p.checkURLForm(urlNode, urlPath, s)
			p.template(urlNode, urlPath, s, sc)
			p.urls = append(p.urls, urlUse{node: urlNode, path: urlPath, url: s})
		}
	}
	st.Name = st.Method + " " + st.URL
	if v := f.get("name"); v != nil {
		if s, ok := p.str(v, f.at("name")); ok && strings.TrimSpace(s) != "" {
			st.Name = s
		}
	}
	p.stepNames[st.Name] = true
	if v := f.get("query"); v != nil {
		st.Query = p.kvs(v, f.at("query"), sc, nil)
	}
	if v := f.get("headers"); v != nil {
		st.Headers = p.kvs(v, f.at("headers"), sc, checkHeaderName)
	}
	if v := f.get("cookies"); v != nil {
		st.Cookies = p.kvs(v, f.at("cookies"), sc, checkCookieName)
	}
	st.Body = p.parseBody(f, sc)
	if v := f.get("timeout"); v != nil {
		st.Timeout, _ = p.positive(v, f.at("timeout"))
	}
	if v := f.get("expect"); v != nil {
		st.Expect = p.parseExpect(v, f.at("expect"))
	}
	if v := f.get("capture"); v != nil {
		st.Capture = p.parseCaptures(v, f.at("capture"), scenario)
	}
	if v := f.get("poll"); v != nil {
		st.Poll = p.parsePoll(v, f.at("poll"))
	}
	if v := f.get("think"); v != nil {
		st.Think = p.parseThink(v, f.at("think"), false)
	}
	return st
}

// stepMethod sets st.Method and returns the URL's node and path.
func (p *parser) stepMethod(f *fields, st *engine.Step) (*yaml.Node, string) {
	var short []string
	for _, m := range methods {
		if f.has(strings.ToLower(m)) {
			short = append(short, strings.ToLower(m))
		}
	}
	switch {
	case len(short) > 1:
		p.at(f.keys[short[1]], f.at(short[1]), "split them into separate steps", "a step makes one request: both %s and %s given", short[0], short[1])
		return nil, ""
	case len(short) == 1 && (f.has("method") || f.has("url")):
		k := "url"
		if f.has("method") {
			k = "method"
		}
		p.at(f.keys[k], f.at(k), "write either "+short[0]+": URL, or method: and url:", "%s cannot go with %s", k, short[0])
		return nil, ""
	case len(short) == 1:
		st.Method = strings.ToUpper(short[0])
		n := f.get(short[0])
		if n == nil {
			p.at(f.keys[short[0]], f.at(short[0]), "e.g. "+short[0]+": /path", "needs a URL")
		}
		return n, f.at(short[0])
	}
	st.Method = "GET"
	if m := f.get("method"); m != nil {
		if s, ok := p.str(m, f.at("method")); ok {
			up := strings.ToUpper(strings.TrimSpace(s))
			if !contains(methods, up) {
				p.at(m, f.at("method"), methodHint, "%q is not an HTTP method", clip(s))
			}
			st.Method = up
		}
	}
	n := f.get("url")
	if n == nil {
		p.at(f.node, f.at("url"), "write get: /path, or method: and url:", "a step needs a URL")
	}
	return n, f.at("url")
}

// checkURLForm requires a path, an absolute http(s) URL or a template.
func (p *parser) checkURLForm(n *yaml.Node, path, s string) {
	switch {
	case strings.HasPrefix(s, "/"), strings.HasPrefix(s, "{{"),
		strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
	default:
		p.at(n, path, "start a path with /, or give an absolute http(s) URL", "%q is not a path or an http(s) URL", clip(s))
	}
}

// parseBody reads json, body or form (at most one) and content_type.
func (p *parser) parseBody(f *fields, sc scope) *engine.Body {
	var given []string
	for _, k := range []string{"json", "body", "form"} {
		if f.has(k) {
			given = append(given, k)
		}
	}
	ct := f.get("content_type")
	if len(given) > 1 {
		p.at(f.keys[given[1]], f.at(given[1]), "keep one of them", "a step has one body: both %s and %s given", given[0], given[1])
		return nil
	}
	if len(given) == 0 {
		if ct != nil {
			p.at(ct, f.at("content_type"), "add json, body or form", "content_type needs a body")
		}
		return nil
	}
	b := &engine.Body{}
	switch given[0] {
	case "json":
		b.Kind = engine.BodyJSON
		b.JSON = p.jsonBody(f.vals["json"], f.at("json"), sc)
	case "body":
		b.Kind = engine.BodyRaw
		if v := f.get("body"); v != nil {
			if s, ok := p.str(v, f.at("body")); ok {
				b.Raw = s
				p.template(v, f.at("body"), s, sc)
			}
		}
	case "form":
		b.Kind = engine.BodyForm
		if v := f.get("form"); v != nil {
			b.Form = p.kvs(v, f.at("form"), sc, nil)
		}
	}
	if ct != nil {
		b.ContentType, _ = p.str(ct, f.at("content_type"))
	}
	return b
}

// parseThink reads a wait: "1s" (constant) or {constant: 1s},
// {between: [1s, 3s]} or, for a scenario, {pacing: 2s}.
func (p *parser) parseThink(n *yaml.Node, path string, scenario bool) engine.Think {
	var t engine.Think
	if n.Kind == yaml.ScalarNode {
		if d, ok := p.duration(n, path); ok {
			if d < 0 {
				p.at(n, path, "", "must not be negative")
			} else if d > 0 {
				t = engine.Think{Kind: engine.ThinkConstant, Min: d}
			}
		}
		return t
	}
	keys := []string{engine.ThinkConstant, engine.ThinkBetween, engine.ThinkPacing}
	f := p.mapping(n, path, keys)
	if f == nil {
		return t
	}
	if len(f.order) != 1 {
		p.at(n, path, "e.g. think: {between: [1s, 3s]}", "give exactly one of constant, between or pacing")
		return t
	}
	kind := f.order[0]
	v := f.vals[kind]
	switch kind {
	case engine.ThinkConstant:
		return p.parseThink(v, f.at(kind), scenario)
	case engine.ThinkPacing:
		if !scenario {
			p.at(f.keys[kind], f.at(kind), "set pacing on the scenario; a step uses constant or between", "pacing applies to a scenario's iterations, not to a step")
			return t
		}
		if d, ok := p.positive(v, f.at(kind)); ok {
			t = engine.Think{Kind: engine.ThinkPacing, Min: d}
		}
	case engine.ThinkBetween:
		items, ok := p.list(v, f.at(kind))
		if !ok {
			return t
		}
		if len(items) != 2 {
			p.at(v, f.at(kind), "e.g. between: [1s, 3s]", "want two durations: [min, max]")
			return t
		}
		lo, ok1 := p.duration(items[0], index(f.at(kind), 0))
		hi, ok2 := p.duration(items[1], index(f.at(kind), 1))
		switch {
		case !ok1 || !ok2:
		case lo < 0 || hi < lo:
			p.at(v, f.at(kind), "write [min, max] with 0 <= min <= max", "[%s, %s] is not a range", formatDuration(lo), formatDuration(hi))
		default:
			t = engine.Think{Kind: engine.ThinkBetween, Min: lo, Max: hi}
		}
	}
	return t
}
