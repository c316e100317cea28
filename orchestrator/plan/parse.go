package plan

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// Top-level plan keys.
const (
	KeyName         = "name"
	KeyDescription  = "description"
	KeyTarget       = "target"
	KeyAllowedHosts = "allowed_hosts"
	KeyDuration     = "duration"
	KeyLoad         = "load"
	KeyGenerators   = "generators"
	KeyRegions      = "regions"
	KeySlice        = "slice"
	KeyMemoryMB     = "memory_mb"
	KeySeed         = "seed"
	KeyDefaults     = "defaults"
	KeyVars         = "vars"
	KeyData         = "data"
	KeySetup        = "setup"
	KeyScenarios    = "scenarios"
	KeyThresholds   = "thresholds"
	KeyBudget       = "budget"
)

// TopLevelKeys lists the keys a plan may have at its top level, in the
// order Marshal writes them.
func TopLevelKeys() []string {
	return []string{
		KeyName, KeyDescription, KeyTarget, KeyAllowedHosts, KeyDuration, KeyLoad,
		KeyGenerators, KeyRegions, KeySlice, KeyMemoryMB, KeySeed, KeyDefaults,
		KeyVars, KeyData, KeySetup, KeyScenarios, KeyThresholds, KeyBudget,
	}
}

// Defaults applied by Parse.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxInflight = 256
	DefaultMaxConns    = 512
	DefaultDropAfter   = time.Second
	// The range of load.release_tick (open model; unset: the engine's
	// default, engine.DefaultReleaseTick).
	MinReleaseTick      = 50 * time.Microsecond
	MaxReleaseTick      = 50 * time.Millisecond
	DefaultMaxBodyBytes = 1 << 20
	DefaultGenerators   = 1
	DefaultRegion       = "local"
	DefaultSlice        = 10 * time.Minute
	DefaultMemoryMB     = 1769
	DefaultWeight       = 1
)

// Limits checked by Parse.
const (
	// MaxSlice keeps one generator invocation under Lambda's 15 minutes.
	MaxSlice = 14 * time.Minute
	// MaxConns stays below a Lambda's 1,024 file descriptors.
	MaxConns      = 900
	MaxGenerators = 100_000
	MinMemoryMB   = 128
	MaxMemoryMB   = 10240
)

// regionPattern matches AWS region names (us-east-1, us-gov-west-1).
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)?-[a-z]+-[0-9]{1,2}$`)

// parser turns one plan's YAML into a Plan. It is owned by one Parse call.
type parser struct {
	nodes
	dir       string
	lookupEnv func(string) (string, bool)
	plan      *Plan
	root      *fields

	// What the cross-checks of validate.go need.
	uses       []tmplUse
	urls       []urlUse
	captures   []map[string]bool // per scenario
	setupCaps  map[string]bool   // captured by the plan-level setup
	stepNames  map[string]bool
	thresholds []*yaml.Node
	stagesLen  time.Duration
	badStages  bool
}

func parse(file string, src []byte, lookupEnv func(string) (string, bool)) (*Plan, error) {
	p := &parser{
		dir:       filepath.Dir(file),
		lookupEnv: lookupEnv,
		stepNames: map[string]bool{},
		plan:      &Plan{File: file, Source: src, dataFiles: map[string]string{}},
	}
	p.file = file
	if root := p.document(src); root != nil && p.checkAliases(root) {
		p.top(root)
	}
	if p.tooBig {
		return nil, Errors{tooLarge(file, 1)}
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	return p.plan, nil
}

// yamlLine matches the position yaml.v3 puts in its messages.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document decodes src's single YAML document and returns its root node.
func (p *parser) document(src []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(Error{File: p.file, Line: 1, Msg: "the plan is empty", Hint: "start from examples/quickstart.yaml"})
			return nil
		}
		p.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add(Error{File: p.file, Line: extra.Line, Col: extra.Column, Msg: "a plan file holds one YAML document", Hint: "remove the second \"---\" or split the file"})
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err)
	}
	if len(doc.Content) == 0 {
		p.add(Error{File: p.file, Line: 1, Msg: "the plan is empty"})
		return nil
	}
	return doc.Content[0]
}

func (p *parser) yamlError(err error) {
	msg := err.Error()
	e := Error{File: p.file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	} else {
		// yaml.v3 does not say where bad bytes are: find the first.
		e.Line, e.Col = badByte(p.plan.Source)
	}
	p.add(e)
}

// badByte returns the position (1-based line and byte column) of src's
// first byte that YAML refuses — invalid UTF-8 or a control character
// other than tab, line feed and carriage return — or 1, 1 if none.
func badByte(src []byte) (line, col int) {
	line, col = 1, 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if (r == utf8.RuneError && size <= 1) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f ||
			(r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 0
		}
		col += size
		i += size
	}
	return 1, 1
}

// top parses the plan's top-level mapping.
func (p *parser) top(root *yaml.Node) {
	f := p.mapping(root, "", TopLevelKeys())
	if f == nil {
		return
	}
	p.root = f
	pl := p.plan
	if n := f.get(KeyName); n != nil {
		pl.Name, _ = p.str(n, KeyName)
	}
	if pl.Name == "" {
		pl.Name = strings.TrimSuffix(filepath.Base(p.file), filepath.Ext(p.file))
	}
	if n := f.get(KeyDescription); n != nil {
		pl.Description, _ = p.str(n, KeyDescription)
	}
	p.parseTarget(f)
	before := len(p.errs)
	p.parseLoad(f)
	p.parseDuration(f)
	if len(p.errs) == before {
		// The engine's own check of the load profile, as a safety net.
		if _, err := engine.NewSchedule(p.plan.Engine.Load, p.plan.Engine.Duration); err != nil {
			p.at(f.get(KeyLoad), KeyLoad, "", "%v", err)
		}
	}
	p.parseRegions(f)
	p.parseRun(f)
	p.parseDefaults(f.get(KeyDefaults), KeyDefaults)
	if n := f.get(KeyVars); n != nil {
		p.parseVars(n, KeyVars)
	}
	if n := f.get(KeyData); n != nil {
		p.parseData(n, KeyData)
	}
	if n := f.get(KeySetup); n != nil {
		p.plan.Engine.Setup = p.parseSteps(n, KeySetup, setupScenario, false)
	}
	if n := f.get(KeyScenarios); n != nil {
		p.parseScenarios(n, KeyScenarios)
	} else {
		p.at(f.node, KeyScenarios, "list what virtual users do, e.g. scenarios: [{name: browse, steps: [{get: /}]}]", "is required")
	}
	if n := f.get(KeyThresholds); n != nil {
		p.thresholds, _ = p.list(n, KeyThresholds)
	}
	if n := f.get(KeyBudget); n != nil {
		p.parseBudget(n, KeyBudget)
	}
	p.validate()
}

// parseTarget reads target and allowed_hosts.
func (p *parser) parseTarget(f *fields) {
	n := f.get(KeyTarget)
	if n == nil {
		p.at(f.node, KeyTarget, "the base URL of the system under test, e.g. target: http://127.0.0.1:8080", "is required")
	} else if s, ok := p.str(n, KeyTarget); ok {
		u, err := url.Parse(s)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
			p.at(n, KeyTarget, "write an absolute URL such as http://127.0.0.1:8080", "%q is not an absolute http(s) URL", clip(s))
		case strings.Contains(s, "{{"):
			p.at(n, KeyTarget, "use vars in step URLs instead", "target cannot be a template")
		case u.RawQuery != "" || u.Fragment != "":
			p.at(n, KeyTarget, "put query parameters on the steps", "target cannot have a query or fragment")
		default:
			p.plan.Engine.Target = s
		}
	}
	if n := f.get(KeyAllowedHosts); n != nil {
		items, _ := p.list(n, KeyAllowedHosts)
		for i, it := range items {
			at := index(KeyAllowedHosts, i)
			s, ok := p.str(it, at)
			if !ok {
				continue
			}
			if s == "" || strings.ContainsAny(s, "/ @?#") {
				p.at(it, at, "write the host only, e.g. cdn.example.com or cdn.example.com:8443", "%q is not a host name", clip(s))
				continue
			}
			p.plan.Engine.AllowedHosts = append(p.plan.Engine.AllowedHosts, s)
		}
	}
}

// parseDuration reads duration (default: the stages' total length).
func (p *parser) parseDuration(f *fields) {
	n := f.get(KeyDuration)
	if n == nil {
		if p.stagesLen > 0 {
			p.plan.Engine.Duration = p.stagesLen
			return
		}
		p.at(f.node, KeyDuration, "how long the test runs, e.g. duration: 2m", "is required")
		return
	}
	d, ok := p.positive(n, KeyDuration)
	if !ok {
		return
	}
	p.plan.Engine.Duration = d
	if p.stagesLen > d {
		p.at(n, KeyDuration, "lengthen the test or shorten the stages",
			"the load stages last %s, longer than the test's %s", formatDuration(p.stagesLen), formatDuration(d))
	}
}

var defaultsKeys = []string{"headers", "timeout", "insecure_tls", "max_redirects", "http2", "max_body_bytes"}

// parseDefaults reads the per-step defaults and applies the built-in ones.
func (p *parser) parseDefaults(n *yaml.Node, path string) {
	d := &p.plan.Engine.Defaults
	d.Timeout, d.MaxBodyBytes = DefaultTimeout, DefaultMaxBodyBytes
	if n == nil {
		return
	}
	f := p.mapping(n, path, defaultsKeys)
	if f == nil {
		return
	}
	anyScope := scope{scenario: -1, vars: -1}
	if h := f.get("headers"); h != nil {
		d.Headers = p.kvs(h, f.at("headers"), anyScope, checkHeaderName)
	}
	if t := f.get("timeout"); t != nil {
		if v, ok := p.positive(t, f.at("timeout")); ok {
			d.Timeout = v
		}
	}
	if b := f.get("insecure_tls"); b != nil {
		d.Insecure, _ = p.boolean(b, f.at("insecure_tls"))
	}
	if r := f.get("max_redirects"); r != nil {
		v, _ := p.integer(r, f.at("max_redirects"), 0, 50)
		d.MaxRedirects = int(v)
	}
	if b := f.get("http2"); b != nil {
		d.HTTP2, _ = p.boolean(b, f.at("http2"))
	}
	if b := f.get("max_body_bytes"); b != nil {
		if v, ok := p.integer(b, f.at("max_body_bytes"), 1, 1<<30); ok {
			d.MaxBodyBytes = v
		}
	}
}

// parseVars reads plan variables; each may use the ones before it.
func (p *parser) parseVars(n *yaml.Node, path string) {
	keys, vals, _ := p.pairs(n, path)
	for i, k := range keys {
		at := join(path, k.Value)
		if msg, hint := checkVarName(k.Value); msg != "" {
			p.at(k, at, hint, "%s", msg)
			continue
		}
		v := ""
		if !isNull(vals[i]) {
			var ok bool
			if v, ok = p.str(vals[i], at); !ok {
				continue
			}
		}
		p.template(vals[i], at, v, scope{scenario: -1, vars: len(p.plan.Engine.Vars), noCaptures: true})
		p.plan.Engine.Vars = append(p.plan.Engine.Vars, engine.KV{Name: k.Value, Value: v})
	}
}
