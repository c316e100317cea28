package plan

import (
	"math"
	"time"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

var loadKeys = []string{"model", "rate", "stages", "max_inflight", "max_conns", "drop_after", "release_tick", "users", "ramp_up"}

// openOnly and closedOnly name the load keys of one model.
var (
	openOnly   = []string{"rate", "drop_after", "release_tick"}
	closedOnly = []string{"users", "ramp_up"}
)

// parseLoad reads load and applies its defaults.
func (p *parser) parseLoad(top *fields) {
	e := &p.plan.Engine
	l := &e.Load
	e.MaxInflight, e.MaxConns = DefaultMaxInflight, DefaultMaxConns
	l.Model = engine.ModelOpen
	n := top.get(KeyLoad)
	if n == nil {
		p.at(top.node, KeyLoad, "e.g. load: {rate: 50} (iterations/s) or load: {model: closed, users: 100}", "is required")
		return
	}
	f := p.mapping(n, KeyLoad, loadKeys)
	if f == nil {
		return
	}
	if m := f.get("model"); m != nil {
		if s, ok := p.str(m, f.at("model")); ok {
			if s != engine.ModelOpen && s != engine.ModelClosed {
				p.at(m, f.at("model"), "use open (arrivals per second) or closed (a number of users)", "unknown load model %q", clip(s))
				return
			}
			l.Model = s
		}
	}
	open := l.Model == engine.ModelOpen
	wrong, other, hint := closedOnly, "closed", "add model: closed, or use rate for the open model"
	if !open {
		wrong, other, hint = openOnly, "open", "the closed model uses users, ramp_up and stages"
	}
	for _, k := range wrong {
		if f.has(k) {
			p.at(f.keys[k], f.at(k), hint, "%s is for the %s model", k, other)
		}
	}
	p.parseStages(f, open)
	if open {
		p.openLoad(f)
	} else {
		p.closedLoad(f)
	}
	if v := f.get("max_inflight"); v != nil {
		if c, ok := p.integer(v, f.at("max_inflight"), 1, 1_000_000); ok {
			e.MaxInflight = int(c)
		}
	}
	if v := f.get("max_conns"); v != nil {
		if c, ok := p.integer(v, f.at("max_conns"), 1, MaxConns); ok {
			e.MaxConns = int(c)
		}
	}
}

func (p *parser) openLoad(f *fields) {
	l := &p.plan.Engine.Load
	l.DropAfter = DefaultDropAfter
	if d := f.get("drop_after"); d != nil {
		if v, ok := p.positive(d, f.at("drop_after")); ok {
			l.DropAfter = v
		}
	}
	if d := f.get("release_tick"); d != nil {
		if v, ok := p.duration(d, f.at("release_tick")); ok {
			if v < MinReleaseTick || v > MaxReleaseTick {
				p.at(d, f.at("release_tick"), "the default, 500µs, releases arrivals within half a millisecond; 5ms costs well under half its CPU at 1,000 iterations/s",
					"%s is outside %s to %s", formatDuration(v), formatDuration(MinReleaseTick), formatDuration(MaxReleaseTick))
			} else {
				l.ReleaseTick = v
			}
		}
	}
	r := f.get("rate")
	ok := true
	if r != nil {
		l.Rate, ok = p.rate(r, f.at("rate"))
	}
	if r == nil && !f.has("stages") {
		p.at(f.node, f.at("rate"), "e.g. rate: 50 (iterations per second), 50/s or 3000/m", "is required (or give stages)")
		return
	}
	if ok {
		p.checkStarts(f, l.Rate)
	}
}

func (p *parser) closedLoad(f *fields) {
	l := &p.plan.Engine.Load
	u := f.get("users")
	ok := true
	if u != nil {
		var v int64
		v, ok = p.integer(u, f.at("users"), 0, 10_000_000)
		l.Users = int(v)
	}
	if r := f.get("ramp_up"); r != nil {
		if f.has("stages") {
			p.at(f.keys["ramp_up"], f.at("ramp_up"), "ramp with a first stage instead, e.g. {duration: 30s, target: 100}", "ramp_up cannot go with stages")
		} else if d, ok := p.duration(r, f.at("ramp_up")); ok {
			if d < 0 {
				p.at(r, f.at("ramp_up"), "", "must not be negative")
			} else {
				l.RampUp = d
			}
		}
	}
	if u == nil && !f.has("stages") {
		p.at(f.node, f.at("users"), "e.g. users: 100", "is required (or give stages)")
		return
	}
	if ok {
		p.checkStarts(f, float64(l.Users))
	}
}

// checkStarts refuses a load that never does anything.
func (p *parser) checkStarts(f *fields, start float64) {
	if start > 0 || p.badStages {
		return
	}
	for _, s := range p.plan.Engine.Load.Stages {
		if s.Target > 0 {
			return
		}
	}
	p.at(f.node, KeyLoad, "raise the rate, the users or a stage target", "the load is 0 throughout: nothing would run")
}

// rate reads an open-model rate: a number (per second) or "50/s", "3000/m".
func (p *parser) rate(n *yaml.Node, path string) (float64, bool) {
	if n.Kind != yaml.ScalarNode {
		p.at(n, path, "", "want a rate such as 50 or 3000/m, got %s", describe(n))
		return 0, false
	}
	v, msg, hint := parseRate(n.Value)
	if msg == "" && v > 1e9 {
		msg, hint = "the rate is too high", "at most 1e9 iterations per second"
	}
	if msg != "" {
		p.at(n, path, hint, "%s", msg)
		return 0, false
	}
	return v, true
}

// parseStages reads load.stages: [{duration: 30s, target: 200}, ...].
func (p *parser) parseStages(f *fields, open bool) {
	n := f.get("stages")
	if n == nil {
		return
	}
	items, ok := p.list(n, f.at("stages"))
	if !ok {
		p.badStages = true
		return
	}
	if len(items) == 0 {
		p.at(n, f.at("stages"), "leave stages out for a constant load", "list at least one stage")
		p.badStages = true
	}
	l := &p.plan.Engine.Load
	for i, it := range items {
		at := index(f.at("stages"), i)
		sf := p.mapping(it, at, []string{"duration", "target"})
		if sf == nil {
			p.badStages = true
			continue
		}
		var st engine.Stage
		if d := sf.get("duration"); d == nil {
			p.at(it, sf.at("duration"), "use 0s for an instant jump", "is required")
		} else if v, ok := p.duration(d, sf.at("duration")); ok {
			if v < 0 {
				p.at(d, sf.at("duration"), "", "must not be negative")
			}
			st.Duration = max(v, 0)
		}
		t := sf.get("target")
		ok := false
		switch {
		case t == nil:
			p.at(it, sf.at("target"), "iterations per second (open model) or users (closed)", "is required")
		case open:
			st.Target, ok = p.rate(t, sf.at("target"))
		default:
			var u int64
			u, ok = p.integer(t, sf.at("target"), 0, 10_000_000)
			st.Target = float64(u)
		}
		p.badStages = p.badStages || !ok
		if p.stagesLen < math.MaxInt64-st.Duration {
			p.stagesLen += st.Duration
		} else {
			p.stagesLen = time.Duration(math.MaxInt64)
		}
		l.Stages = append(l.Stages, st)
	}
}
