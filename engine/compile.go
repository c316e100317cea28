package engine

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Content types set when a step's body has no explicit one.
const (
	contentTypeJSON = "application/json"
	contentTypeForm = "application/x-www-form-urlencoded"
)

// runPlan is a Config compiled for one Run: every template parsed once,
// static requests pre-rendered. It is immutable and shared by all virtual
// users.
type runPlan struct {
	setup     []*stepPlan // once per virtual user (Config.Setup)
	scenarios []scenarioPlan
	stepNames []string // the Recorder's step names; stepPlan.id indexes it
	workflows []string // scenario names; scenario index = workflow index
	vars      []varPlan
	basePath  string // Target's path without its trailing slash
}

type scenarioPlan struct {
	setup, steps []*stepPlan
	think        Think
}

type varPlan struct {
	name string
	t    *Template
}

// stepPlan is one compiled step.
type stepPlan struct {
	id       int
	method   string
	timeout  time.Duration
	keepBody bool

	// The URL: urlT is nil when it is static, and then scheme, host and
	// path (the request-target before the query) are fixed.
	urlT         *Template
	scheme, host string
	path         []byte
	query        tmplSeq // "a=1&b=2", escaped
	header       tmplSeq // header lines
	body         tmplSeq
	hasBody      bool
	static       *Request // the whole request when nothing in it varies

	checker  *Checker
	captures []capturePlan
	poll     *pollPlan
	think    Think
}

type capturePlan struct {
	name string
	x    *Extractor
}

type pollPlan struct {
	interval time.Duration
	maxTries int // 0: until the run stops
	until    *CondEval
	while    *CondEval
}

// compilePlan compiles cfg's scenarios against the target URL base.
func compilePlan(cfg *Config, base *url.URL) (*runPlan, error) {
	if len(cfg.Scenarios) == 0 {
		return nil, fmt.Errorf("scenarios: none")
	}
	p := &runPlan{basePath: strings.TrimRight(base.EscapedPath(), "/")}
	ids := map[string]int{}
	for k, kv := range cfg.Vars {
		if kv.Name == "" {
			return nil, fmt.Errorf("vars[%d].name: empty", k)
		}
		t, err := ParseTemplate(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("vars[%d] (%s): %w", k, kv.Name, err)
		}
		p.vars = append(p.vars, varPlan{kv.Name, t})
	}
	timeout := cfg.Defaults.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	for j := range cfg.Setup {
		st, err := p.compileStep(cfg, base, &cfg.Setup[j], timeout, ids)
		if err != nil {
			return nil, fmt.Errorf("setup[%d] (%s): %w", j, cfg.Setup[j].Name, err)
		}
		p.setup = append(p.setup, st)
	}
	for k := range cfg.Scenarios {
		sc := &cfg.Scenarios[k]
		sp := scenarioPlan{think: sc.Think}
		p.workflows = append(p.workflows, sc.Name)
		parts := []struct {
			name string
			list []Step
			dst  *[]*stepPlan
		}{{"setup", sc.Setup, &sp.setup}, {"steps", sc.Steps, &sp.steps}}
		for _, part := range parts {
			for j := range part.list {
				st, err := p.compileStep(cfg, base, &part.list[j], timeout, ids)
				if err != nil {
					return nil, fmt.Errorf("scenarios[%d].%s[%d] (%s): %w", k, part.name, j, part.list[j].Name, err)
				}
				*part.dst = append(*part.dst, st)
			}
		}
		if len(sp.steps) == 0 {
			return nil, fmt.Errorf("scenarios[%d] (%s).steps: none", k, sc.Name)
		}
		p.scenarios = append(p.scenarios, sp)
	}
	return p, nil
}

func (p *runPlan) compileStep(cfg *Config, base *url.URL, s *Step, timeout time.Duration, ids map[string]int) (*stepPlan, error) {
	if s.Name == "" {
		return nil, fmt.Errorf("name: empty")
	}
	id, ok := ids[s.Name]
	if !ok {
		id = len(p.stepNames)
		ids[s.Name] = id
		p.stepNames = append(p.stepNames, s.Name)
	}
	st := &stepPlan{id: id, method: strings.ToUpper(s.Method), timeout: timeout, think: s.Think}
	if st.method == "" {
		st.method = "GET"
	}
	if !validToken(st.method) {
		return nil, fmt.Errorf("method: %q is not an HTTP method", s.Method)
	}
	if s.Timeout > 0 {
		st.timeout = s.Timeout
	}
	if err := p.compileURL(st, base, s); err != nil {
		return nil, err
	}
	if err := compileHeaders(st, cfg.Defaults.Headers, s); err != nil {
		return nil, err
	}
	var err error
	if st.checker, err = CompileExpect(s.Expect); err != nil {
		return nil, fmt.Errorf("expect: %w", err)
	}
	for k, c := range s.Capture {
		if c.Var == "" {
			return nil, fmt.Errorf("capture[%d].var: empty", k)
		}
		x, err := CompileCapture(c)
		if err != nil {
			return nil, fmt.Errorf("capture[%d] (%s): %w", k, c.Var, err)
		}
		st.captures = append(st.captures, capturePlan{c.Var, x})
	}
	if s.Poll != nil {
		if st.poll, err = compilePoll(s.Poll); err != nil {
			return nil, fmt.Errorf("poll: %w", err)
		}
	}
	e := s.Expect
	st.keepBody = len(st.captures) > 0 || st.poll != nil ||
		(e != nil && (e.BodyContains != "" || len(e.JSON) > 0))
	st.prerender()
	return st, nil
}

func compilePoll(pl *Poll) (*pollPlan, error) {
	if pl.Interval < 0 {
		return nil, fmt.Errorf("interval: %v is negative", pl.Interval)
	}
	if pl.MaxTries < 0 {
		return nil, fmt.Errorf("max_tries: %d is negative", pl.MaxTries)
	}
	until, err := CompileCond(pl.Until)
	if err != nil {
		return nil, fmt.Errorf("until: %w", err)
	}
	pp := &pollPlan{interval: pl.Interval, maxTries: pl.MaxTries, until: until}
	if pl.While != nil {
		if pp.while, err = CompileCond(*pl.While); err != nil {
			return nil, fmt.Errorf("while: %w", err)
		}
	}
	return pp, nil
}

// compileURL sets the step's URL and query. A relative URL is appended to
// the Target's path (Target "https://h/prod" and "/items" give "/prod/items").
func (p *runPlan) compileURL(st *stepPlan, base *url.URL, s *Step) error {
	t, err := ParseTemplate(s.URL)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if raw, ok := t.Static(); ok {
		u := string(raw)
		if isAbsURL(raw) {
			abs, err := url.Parse(u)
			if err != nil || abs.Host == "" {
				return fmt.Errorf("url: %q is not a valid URL", u)
			}
			st.scheme, st.host, st.path = abs.Scheme, abs.Host, []byte(abs.RequestURI())
		} else {
			st.scheme, st.host = base.Scheme, base.Host
			st.path = appendRelative(nil, p.basePath, raw)
		}
	} else {
		st.urlT = t
	}
	for k, q := range s.Query {
		if k > 0 {
			st.query.lit("&")
		}
		st.query.lit(queryEscape(q.Name) + "=")
		if err := st.query.tmpl(q.Value, escQuery); err != nil {
			return fmt.Errorf("query[%d] (%s): %w", k, q.Name, err)
		}
	}
	return nil
}

// compileHeaders builds the header lines: defaults the step does not
// override, the step's own, one Cookie line, then a Content-Type for JSON
// and form bodies unless a header sets it.
func compileHeaders(st *stepPlan, defaults []KV, s *Step) error {
	set := map[string]bool{}
	for _, h := range s.Headers {
		set[strings.ToLower(h.Name)] = true
	}
	var lines []KV
	for _, h := range defaults {
		if !set[strings.ToLower(h.Name)] {
			lines = append(lines, h)
		}
	}
	lines = append(lines, s.Headers...)
	for k, h := range lines {
		if !validToken(h.Name) {
			return fmt.Errorf("headers[%d]: %q is not a header name", k, h.Name)
		}
		st.header.lit(h.Name + ": ")
		if err := st.header.tmpl(h.Value, escHeader); err != nil {
			return fmt.Errorf("headers[%d] (%s): %w", k, h.Name, err)
		}
		st.header.lit("\r\n")
	}
	if len(s.Cookies) > 0 {
		st.header.lit("Cookie: ")
		for k, c := range s.Cookies {
			if !validToken(c.Name) {
				return fmt.Errorf("cookies[%d]: %q is not a cookie name", k, c.Name)
			}
			if k > 0 {
				st.header.lit("; ")
			}
			st.header.lit(c.Name + "=")
			if err := st.header.tmpl(c.Value, escCookie); err != nil {
				return fmt.Errorf("cookies[%d] (%s): %w", k, c.Name, err)
			}
		}
		st.header.lit("\r\n")
	}
	if s.Body == nil {
		return nil
	}
	ct, err := compileBody(st, s.Body)
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if ct != "" && !set["content-type"] {
		st.header.lit("Content-Type: " + ct + "\r\n")
	}
	return nil
}

// compileBody compiles b into st.body and returns its content type.
func compileBody(st *stepPlan, b *Body) (string, error) {
	st.hasBody = true
	ct := b.ContentType
	switch b.Kind {
	case BodyJSON:
		t, err := CompileJSON(b.JSON)
		if err != nil {
			return "", err
		}
		st.body.add(t, escNone)
		if ct == "" {
			ct = contentTypeJSON
		}
	case BodyRaw:
		if err := st.body.tmpl(b.Raw, escNone); err != nil {
			return "", err
		}
	case BodyForm:
		for k, f := range b.Form {
			if k > 0 {
				st.body.lit("&")
			}
			st.body.lit(queryEscape(f.Name) + "=")
			if err := st.body.tmpl(f.Value, escQuery); err != nil {
				return "", fmt.Errorf("form[%d] (%s): %w", k, f.Name, err)
			}
		}
		if ct == "" {
			ct = contentTypeForm
		}
	default:
		return "", fmt.Errorf("kind: unknown body kind %q", b.Kind)
	}
	if strings.ContainsAny(ct, "\r\n") {
		return "", fmt.Errorf("content_type: %q has a line break", ct)
	}
	return ct, nil
}

// prerender builds st.static when neither URL, query, headers nor body vary.
func (st *stepPlan) prerender() {
	query, qok := st.query.static()
	header, hok := st.header.static()
	body, bok := st.body.static()
	if st.urlT != nil || !qok || !hok || !bok {
		return
	}
	r := &Request{Method: st.method, Scheme: st.scheme, Host: st.host, Header: header,
		Timeout: st.timeout, KeepBody: st.keepBody}
	r.Target = appendQuery(append([]byte(nil), st.path...), query)
	if st.hasBody {
		r.Body = body
		if r.Body == nil {
			r.Body = []byte{}
		}
	}
	st.static = r
}

// isAbsURL reports whether u starts with "http://" or "https://".
func isAbsURL(u []byte) bool {
	s := string(u) // no allocation: used in comparisons only
	return len(s) >= 7 && strings.EqualFold(s[:7], "http://") ||
		len(s) >= 8 && strings.EqualFold(s[:8], "https://")
}

// appendRelative appends basePath and rel, with one slash between them.
func appendRelative(dst []byte, basePath string, rel []byte) []byte {
	dst = append(dst, basePath...)
	if len(rel) == 0 || rel[0] != '/' && rel[0] != '?' {
		dst = append(dst, '/')
	} else if rel[0] == '?' && basePath == "" {
		dst = append(dst, '/')
	}
	return append(dst, rel...)
}

// appendQuery appends "?query" (or "&query" when target has a query).
func appendQuery(target, query []byte) []byte {
	if len(query) == 0 {
		return target
	}
	sep := byte('?')
	for _, c := range target {
		if c == '?' {
			sep = '&'
			break
		}
	}
	return append(append(target, sep), query...)
}

// validToken reports whether s is a non-empty HTTP token (RFC 9110).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
