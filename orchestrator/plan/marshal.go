package plan

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// Marshal writes the normalized plan as YAML in the plan format, with
// every default spelled out, so that Parse reads back an equal Engine
// configuration (given the same file name and environment). Data sets read
// from a file are written as that file's name, others inline. Secret values
// are never written: templates keep their {{ env "NAME" }} references.
func (p *Plan) Marshal() ([]byte, error) {
	root := p.node()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("marshal plan %s: %w", p.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal plan %s: %w", p.Name, err)
	}
	return buf.Bytes(), nil
}

// node builds the plan's YAML tree.
func (p *Plan) node() *yaml.Node {
	e := &p.Engine
	m := &mapBuilder{}
	m.add(KeyName, strN(p.Name))
	if p.Description != "" {
		m.add(KeyDescription, strN(p.Description))
	}
	m.add(KeyTarget, strN(e.Target))
	if len(e.AllowedHosts) > 0 {
		m.add(KeyAllowedHosts, flowSeq(strNs(e.AllowedHosts)...))
	}
	m.add(KeyDuration, durN(e.Duration))
	m.add(KeyLoad, loadNode(e))
	p.regionsNode(m)
	m.add(KeySlice, durN(p.Slice))
	m.add(KeyMemoryMB, intN(int64(p.MemoryMB)))
	if p.Seed != 0 {
		m.add(KeySeed, &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: strconv.FormatUint(p.Seed, 10)})
	}
	m.add(KeyDefaults, defaultsNode(&e.Defaults))
	if len(e.Vars) > 0 {
		m.add(KeyVars, kvNode(e.Vars))
	}
	if len(e.Data) > 0 {
		m.add(KeyData, p.dataNode())
	}
	var scs []*yaml.Node
	for i := range e.Scenarios {
		scs = append(scs, scenarioNode(&e.Scenarios[i]))
	}
	if len(e.Setup) > 0 {
		m.add(KeySetup, stepsNode(e.Setup))
	}
	m.add(KeyScenarios, seqN(scs...))
	if len(p.Thresholds) > 0 {
		var ts []*yaml.Node
		for _, t := range p.Thresholds {
			expr := t.Expr
			if expr == "" {
				expr = formatThreshold(t)
			}
			if t.AbortOnFail {
				tm := &mapBuilder{}
				tm.add("expr", strN(expr))
				tm.add("abort_on_fail", boolN(true))
				ts = append(ts, tm.flow())
			} else {
				ts = append(ts, strN(expr))
			}
		}
		m.add(KeyThresholds, seqN(ts...))
	}
	if p.Budget.MaxUSD > 0 {
		b := &mapBuilder{}
		b.add("max_usd", floatN(p.Budget.MaxUSD))
		m.add(KeyBudget, b.flow())
	}
	return m.node()
}

func loadNode(e *engine.Config) *yaml.Node {
	l := &e.Load
	m := &mapBuilder{}
	closed := l.Model == engine.ModelClosed
	if closed {
		m.add("model", strN(engine.ModelClosed))
		if l.Users != 0 || len(l.Stages) == 0 {
			m.add("users", intN(int64(l.Users)))
		}
		if l.RampUp > 0 {
			m.add("ramp_up", durN(l.RampUp))
		}
	} else if l.Rate != 0 || len(l.Stages) == 0 {
		m.add("rate", floatN(l.Rate))
	}
	if len(l.Stages) > 0 {
		var st []*yaml.Node
		for _, s := range l.Stages {
			sm := &mapBuilder{}
			sm.add("duration", durN(s.Duration))
			if closed { // users: a whole number, never 1e+06
				sm.add("target", intN(int64(s.Target)))
			} else {
				sm.add("target", floatN(s.Target))
			}
			st = append(st, sm.flow())
		}
		m.add("stages", seqN(st...))
	}
	m.add("max_inflight", intN(int64(e.MaxInflight)))
	m.add("max_conns", intN(int64(e.MaxConns)))
	if !closed && l.DropAfter > 0 {
		m.add("drop_after", durN(l.DropAfter))
	}
	if !closed && l.ReleaseTick > 0 {
		m.add("release_tick", durN(l.ReleaseTick))
	}
	return m.node()
}

// regionsNode writes "generators: N" and a list when every region has the
// same count, a map of region to count otherwise.
func (p *Plan) regionsNode(m *mapBuilder) {
	if len(p.Regions) == 0 {
		return
	}
	same := true
	for _, r := range p.Regions {
		same = same && r.Generators == p.Regions[0].Generators
	}
	if same {
		m.add(KeyGenerators, intN(int64(p.Regions[0].Generators)))
		var names []string
		for _, r := range p.Regions {
			names = append(names, r.Name)
		}
		m.add(KeyRegions, flowSeq(strNs(names)...))
		return
	}
	rm := &mapBuilder{}
	for _, r := range p.Regions {
		rm.add(r.Name, intN(int64(r.Generators)))
	}
	m.add(KeyRegions, rm.node())
}

func defaultsNode(d *engine.Defaults) *yaml.Node {
	m := &mapBuilder{}
	if len(d.Headers) > 0 {
		m.add("headers", kvNode(d.Headers))
	}
	m.add("timeout", durN(d.Timeout))
	if d.Insecure {
		m.add("insecure_tls", boolN(true))
	}
	if d.MaxRedirects != 0 {
		m.add("max_redirects", intN(int64(d.MaxRedirects)))
	}
	if d.HTTP2 {
		m.add("http2", boolN(true))
	}
	if d.MaxBodyBytes != 0 {
		m.add("max_body_bytes", intN(d.MaxBodyBytes))
	}
	return m.node()
}

func (p *Plan) dataNode() *yaml.Node {
	names := make([]string, 0, len(p.Engine.Data))
	for n := range p.Engine.Data {
		names = append(names, n)
	}
	sort.Strings(names)
	m := &mapBuilder{}
	for _, name := range names {
		ds := p.Engine.Data[name]
		dm := &mapBuilder{}
		if file, ok := p.dataFiles[name]; ok {
			dm.add(KeyFile, strN(file))
		} else {
			dm.add(KeyColumns, flowSeq(strNs(ds.Columns)...))
			var rows []*yaml.Node
			for _, r := range ds.Rows {
				rows = append(rows, flowSeq(strNs(r)...))
			}
			m2 := seqN(rows...)
			dm.add(KeyRows, m2)
		}
		if ds.Random {
			dm.add(KeyRandom, boolN(true))
		}
		m.add(name, dm.node())
	}
	return m.node()
}

func scenarioNode(s *engine.Scenario) *yaml.Node {
	m := &mapBuilder{}
	m.add("name", strN(s.Name))
	m.add("weight", intN(int64(s.Weight)))
	if t := thinkNode(s.Think); t != nil {
		m.add("think", t)
	}
	if len(s.Setup) > 0 {
		m.add("setup", stepsNode(s.Setup))
	}
	m.add("steps", stepsNode(s.Steps))
	return m.node()
}

func stepsNode(steps []engine.Step) *yaml.Node {
	var out []*yaml.Node
	for i := range steps {
		out = append(out, stepNode(&steps[i]))
	}
	return seqN(out...)
}

func stepNode(s *engine.Step) *yaml.Node {
	m := &mapBuilder{}
	m.add("name", strN(s.Name))
	if contains(methods, s.Method) {
		m.add(strings.ToLower(s.Method), strN(s.URL))
	} else {
		m.add("method", strN(s.Method))
		m.add("url", strN(s.URL))
	}
	if len(s.Query) > 0 {
		m.add("query", kvNode(s.Query))
	}
	if len(s.Headers) > 0 {
		m.add("headers", kvNode(s.Headers))
	}
	if len(s.Cookies) > 0 {
		m.add("cookies", kvNode(s.Cookies))
	}
	if b := s.Body; b != nil {
		switch b.Kind {
		case engine.BodyJSON:
			m.add("json", jsonNode(b.JSON))
		case engine.BodyForm:
			m.add("form", kvNode(b.Form))
		default:
			m.add("body", strN(b.Raw))
		}
		if b.ContentType != "" {
			m.add("content_type", strN(b.ContentType))
		}
	}
	if s.Timeout > 0 {
		m.add("timeout", durN(s.Timeout))
	}
	if s.Expect != nil {
		m.add("expect", expectNode(s.Expect))
	}
	if len(s.Capture) > 0 {
		cm := &mapBuilder{}
		for _, c := range s.Capture {
			one := &mapBuilder{}
			one.add(c.From, strN(c.Expr))
			cm.add(c.Var, one.flow())
		}
		m.add("capture", cm.node())
	}
	if pl := s.Poll; pl != nil {
		pm := &mapBuilder{}
		pm.add("interval", durN(pl.Interval))
		pm.add("max_tries", intN(int64(pl.MaxTries)))
		pm.add("until", condNode(pl.Until))
		if pl.While != nil {
			pm.add("while", condNode(*pl.While))
		}
		m.add("poll", pm.node())
	}
	if t := thinkNode(s.Think); t != nil {
		m.add("think", t)
	}
	return m.node()
}

func expectNode(e *engine.Expect) *yaml.Node {
	m := &mapBuilder{}
	switch len(e.Status) {
	case 0:
	case 1:
		m.add("status", intN(int64(e.Status[0])))
	default:
		var codes []*yaml.Node
		for _, c := range e.Status {
			codes = append(codes, intN(int64(c)))
		}
		m.add("status", flowSeq(codes...))
	}
	if e.BodyContains != "" {
		m.add("body_contains", strN(e.BodyContains))
	}
	if len(e.JSON) > 0 {
		var cs []*yaml.Node
		for _, c := range e.JSON {
			cs = append(cs, condNode(c))
		}
		m.add("json", seqN(cs...))
	}
	return m.node()
}

func condNode(c engine.Cond) *yaml.Node {
	m := &mapBuilder{}
	m.add("path", strN(c.Path))
	switch {
	case c.Exists != nil:
		m.add("exists", boolN(*c.Exists))
	case c.In != nil:
		var vs []*yaml.Node
		for _, v := range c.In {
			vs = append(vs, jsonNode(v))
		}
		m.add("in", flowSeq(vs...))
	default:
		m.add("equals", jsonNode(c.Equals))
	}
	return m.flow()
}

func thinkNode(t engine.Think) *yaml.Node {
	switch t.Kind {
	case engine.ThinkConstant:
		return durN(t.Min)
	case engine.ThinkBetween:
		m := &mapBuilder{}
		m.add(engine.ThinkBetween, flowSeq(durN(t.Min), durN(t.Max)))
		return m.flow()
	case engine.ThinkPacing:
		m := &mapBuilder{}
		m.add(engine.ThinkPacing, durN(t.Min))
		return m.flow()
	}
	return nil
}

// jsonNode writes a JSON value; object keys are sorted.
func jsonNode(v any) *yaml.Node {
	switch x := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagNull, Value: "null"}
	case bool:
		return boolN(x)
	case int:
		return intN(int64(x))
	case int64:
		return intN(x)
	case float64:
		// Keep the float a float, even when integral (1.0).
		s := formatNumber(x)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagFloat, Value: s}
	case string:
		return strN(x)
	case []any:
		var items []*yaml.Node
		for _, it := range x {
			items = append(items, jsonNode(it))
		}
		return seqN(items...)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := &mapBuilder{}
		for _, k := range keys {
			m.add(k, jsonNode(x[k]))
		}
		return m.node()
	}
	return strN(fmt.Sprint(v))
}
