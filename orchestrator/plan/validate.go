package plan

import (
	"net"
	"net/url"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// validate runs the checks that need the whole plan: thresholds against
// step names, URL hosts against target and allowed_hosts, variables
// against their definitions, data references against the data sets, and
// environment references against the environment.
func (p *parser) validate() {
	p.parseThresholds()
	p.checkHosts()
	p.checkVars()
	p.checkData()
	p.resolveEnv()
}

// parseThresholds reads "p99 < 500ms" or {expr: "...", abort_on_fail: true}.
func (p *parser) parseThresholds() {
	for i, n := range p.thresholds {
		at := index(KeyThresholds, i)
		var expr string
		var abort, ok bool
		exprNode := n
		if n.Kind == yaml.MappingNode {
			f := p.mapping(n, at, []string{"expr", "abort_on_fail"})
			if f == nil {
				continue
			}
			if v := f.get("abort_on_fail"); v != nil {
				abort, _ = p.boolean(v, f.at("abort_on_fail"))
			}
			if exprNode = f.get("expr"); exprNode == nil {
				p.at(n, f.at("expr"), "e.g. expr: \"p99 < 2s\"", "is required")
				continue
			}
			at = f.at("expr")
		}
		if expr, ok = p.str(exprNode, at); !ok {
			continue
		}
		t, msg, hint := parseThreshold(expr)
		if msg != "" {
			p.at(exprNode, at, hint, "%s", msg)
			continue
		}
		if t.Step != "" && !p.stepNames[t.Step] {
			names := make([]string, 0, len(p.stepNames))
			for s := range p.stepNames {
				names = append(names, s)
			}
			sort.Strings(names)
			h := suggest(t.Step, names)
			if h == "" {
				h = "the text before \": \" must be a step's name"
			}
			p.at(exprNode, at, h, "no step is named %q", clip(t.Step))
			continue
		}
		t.AbortOnFail = abort
		p.plan.Thresholds = append(p.plan.Thresholds, t)
	}
}

// checkHosts refuses absolute step URLs to hosts other than the target's
// and allowed_hosts (hosts given by a template are checked at run time).
func (p *parser) checkHosts() {
	target, err := url.Parse(p.plan.Engine.Target)
	if p.plan.Engine.Target == "" || err != nil {
		return
	}
	for _, u := range p.urls {
		scheme, rest, ok := strings.Cut(u.url, "://")
		if !ok || (scheme != "http" && scheme != "https") {
			continue
		}
		host := rest
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if strings.Contains(host, "{{") || strings.Contains(rest[:min(len(rest), len(host)+2)], "{{") {
			continue
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		if host == "" {
			p.at(u.node, u.path, "", "%q has no host", clip(u.url))
			continue
		}
		if sameHost(host, scheme, target.Host, target.Scheme) {
			continue
		}
		allowed := false
		for _, a := range p.plan.Engine.AllowedHosts {
			allowed = allowed || sameHost(host, scheme, a, "")
		}
		if !allowed {
			p.at(u.node, u.path, "add it to allowed_hosts, or use a path relative to target",
				"host %q is neither the target's nor in allowed_hosts", clip(host))
		}
	}
}

// sameHost compares host[:port] values case-insensitively; a port left
// out means the scheme's default (or, for an allowed host with no scheme,
// any port).
func sameHost(a, aScheme, b, bScheme string) bool {
	ah, ap := splitHostPort(a, aScheme)
	bh, bp := splitHostPort(b, bScheme)
	if !strings.EqualFold(ah, bh) {
		return false
	}
	return bp == "" || ap == bp
}

func splitHostPort(h, scheme string) (host, port string) {
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = strings.Trim(h, "[]"), ""
	}
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return host, port
}

// checkVars reports variables that no plan var, capture or data column
// defines.
func (p *parser) checkVars() {
	// The plan-level setup's captures are visible to every scenario.
	for _, c := range p.captures {
		for v := range p.setupCaps {
			c[v] = true
		}
	}
	all := map[string]bool{}
	for v := range p.setupCaps {
		all[v] = true
	}
	for _, c := range p.captures {
		for v := range c {
			all[v] = true
		}
	}
	planVars := map[string]int{}
	for i, kv := range p.plan.Engine.Vars {
		if _, dup := planVars[kv.Name]; !dup {
			planVars[kv.Name] = i
		}
	}
	for _, u := range p.uses {
		caps := all
		switch {
		case u.sc.scenario == setupScenario:
			caps = p.setupCaps
		case u.sc.scenario >= 0 && u.sc.scenario < len(p.captures):
			caps = p.captures[u.sc.scenario]
		}
		for _, v := range u.vars {
			i, isVar := planVars[v]
			switch {
			case isVar && (u.sc.vars < 0 || i < u.sc.vars):
			case !u.sc.noCaptures && caps[v]:
			case isVar:
				p.at(u.node, u.path, "vars are evaluated in order: move "+v+" above this one", "variable %q is used before it is defined", v)
			case u.sc.noCaptures && all[v]:
				p.at(u.node, u.path, "vars are evaluated before any request; use the capture in a step", "variable %q is captured by a step, not defined under vars", v)
			default:
				var names []string
				for n := range planVars {
					names = append(names, n)
				}
				for n := range caps {
					names = append(names, n)
				}
				sort.Strings(names)
				hint := suggest(v, names)
				if hint == "" {
					hint = "define it under vars, capture it in a step of this scenario, or read a data column with {{ data \"set\" \"column\" }}"
				}
				p.at(u.node, u.path, hint, "undefined variable %q", v)
			}
		}
	}
}

// checkData reports {{ data "set" "column" }} references to sets or
// columns that do not exist.
func (p *parser) checkData() {
	declared := map[string]bool{}
	if p.root != nil {
		if n := p.root.get(KeyData); n != nil && n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				declared[n.Content[i].Value] = true
			}
		}
	}
	for _, u := range p.uses {
		for _, r := range dataRefs(u.src) {
			ds, ok := p.plan.Engine.Data[r[0]]
			switch {
			case !ok && !declared[r[0]]:
				p.at(u.node, u.path, "declare it under data:, e.g. data: {"+r[0]+": {file: "+r[0]+".csv}}", "data set %q is not defined", clip(r[0]))
			case ok && !contains(ds.Columns, r[1]):
				p.at(u.node, u.path, "its columns are "+strings.Join(ds.Columns, ", "), "data set %q has no column %q", r[0], clip(r[1]))
			}
		}
	}
}

// resolveEnv looks up every referenced environment variable.
func (p *parser) resolveEnv() {
	for _, u := range p.uses {
		for _, name := range u.env {
			if _, done := p.plan.Engine.Env[name]; done || contains(p.plan.Secrets, name) {
				continue
			}
			p.plan.Secrets = append(p.plan.Secrets, name)
			v, ok := p.lookupEnv(name)
			if !ok {
				p.at(u.node, u.path, "export "+name+"=... before running", "environment variable %q is not set", clip(name))
				continue
			}
			if p.plan.Engine.Env == nil {
				p.plan.Engine.Env = map[string]string{}
			}
			p.plan.Engine.Env[name] = v
		}
	}
	sort.Strings(p.plan.Secrets)
}
