package cost

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/engine"
)

// CapturedValueBytes is the size assumed for a value captured from a
// response (a token, an id) when it is sent again in a later request.
const CapturedValueBytes = 64

// traffic is what the plan sends to the target, in expectation.
type traffic struct {
	iterations float64 // scenario iterations in the whole test
	requests   float64 // HTTP requests
	bytes      float64 // request bytes (HTTP layer: request line, headers, body)
	// iterTime is the expected length of one iteration (steps at the
	// assumed response time, plus think times).
	iterTime time.Duration
}

// scenarioShape is one scenario's requests and bytes per iteration.
type scenarioShape struct {
	weight   float64
	requests float64
	bytes    float64
	busy     time.Duration // requests × response time + think times
	pacing   time.Duration // ThinkPacing: an iteration starts every pacing
}

// planTraffic estimates cfg's traffic: arrivals from the engine's Schedule
// (open model), or user-seconds divided by the iteration time (closed
// model, each request taking resp). Every step is rendered once with a
// scope seeded by seed to measure its size; a poll step is assumed to take
// all its tries (the most it can send).
func planTraffic(cfg engine.Config, resp time.Duration, seed uint64) (traffic, error) {
	sched, err := engine.NewSchedule(cfg.Load, cfg.Duration)
	if err != nil {
		return traffic{}, fmt.Errorf("schedule: %w", err)
	}
	base, err := url.Parse(cfg.Target)
	if err != nil {
		return traffic{}, fmt.Errorf("target: %w", err)
	}
	sc := newScope(cfg, seed)
	var shapes []scenarioShape
	var weights float64
	for _, s := range cfg.Scenarios {
		sh := scenarioShape{weight: float64(max(s.Weight, 1))}
		for i := range s.Steps {
			st := &s.Steps[i]
			tries := 1.0
			if st.Poll != nil && st.Poll.MaxTries > 1 {
				tries = float64(st.Poll.MaxTries)
				sh.busy += time.Duration(tries-1) * st.Poll.Interval
			}
			size, err := requestSize(cfg, base, st, sc)
			if err != nil {
				return traffic{}, fmt.Errorf("scenario %s step %s: %w", s.Name, st.Name, err)
			}
			sh.requests += tries
			sh.bytes += tries * float64(size)
			sh.busy += time.Duration(tries)*resp + meanThink(st.Think)
		}
		if s.Think.Kind == engine.ThinkPacing {
			sh.pacing = s.Think.Min
		} else {
			sh.busy += meanThink(s.Think)
		}
		shapes = append(shapes, sh)
		weights += sh.weight
	}
	var t traffic
	if weights == 0 {
		return t, nil
	}
	var reqs, bytes, iter float64
	for _, sh := range shapes {
		f := sh.weight / weights
		reqs += f * sh.requests
		bytes += f * sh.bytes
		iter += f * max(sh.busy, sh.pacing).Seconds()
	}
	t.iterTime = time.Duration(iter * float64(time.Second))
	total := sched.Cumulative(cfg.Duration) // arrivals, or user-seconds
	if cfg.Load.Model == engine.ModelClosed {
		if iter <= 0 {
			return t, nil
		}
		total /= iter
	}
	t.iterations = total
	t.requests = total * reqs
	t.bytes = total * bytes
	return t, nil
}

// meanThink is a think time's expected wait (pacing is handled apart).
func meanThink(th engine.Think) time.Duration {
	switch th.Kind {
	case engine.ThinkConstant:
		return th.Min
	case engine.ThinkBetween:
		return (th.Min + th.Max) / 2
	}
	return 0
}

// newScope returns virtual user 0's scope: the plan's variables evaluated
// in order, and every captured variable set to CapturedValueBytes bytes.
func newScope(cfg engine.Config, seed uint64) *engine.Scope {
	sc := &engine.Scope{
		Vars: map[string]string{},
		Rand: rand.New(rand.NewPCG(seed, 0x636f7374)),
		Env:  cfg.Env,
		Data: cfg.Data,
	}
	placeholder := strings.Repeat("x", CapturedValueBytes)
	for _, steps := range allSteps(cfg) {
		for _, st := range steps {
			for _, c := range st.Capture {
				sc.Vars[c.Var] = placeholder
			}
		}
	}
	for _, kv := range cfg.Vars {
		if t, err := engine.ParseTemplate(kv.Value); err == nil {
			sc.Vars[kv.Name] = string(t.Append(nil, sc))
		}
	}
	return sc
}

func allSteps(cfg engine.Config) [][]engine.Step {
	out := [][]engine.Step{cfg.Setup}
	for _, s := range cfg.Scenarios {
		out = append(out, s.Setup, s.Steps)
	}
	return out
}

// requestSize renders st as the engine's HTTP/1.1 client writes it: the
// request line, Host, the default and step headers, one Cookie line, the
// body's Content-Type, User-Agent unless given, Content-Length, the body.
func requestSize(cfg engine.Config, base *url.URL, st *engine.Step, sc *engine.Scope) (int, error) {
	render := func(s string) (string, error) {
		t, err := engine.ParseTemplate(s)
		if err != nil {
			return "", err
		}
		return string(t.Append(nil, sc)), nil
	}
	u, err := render(st.URL)
	if err != nil {
		return 0, fmt.Errorf("url: %w", err)
	}
	host, target := base.Host, strings.TrimSuffix(base.Path, "/")+u
	if abs, err := url.Parse(u); err == nil && abs.Host != "" {
		host, target = abs.Host, abs.RequestURI()
	}
	for i, q := range st.Query {
		v, err := render(q.Value)
		if err != nil {
			return 0, fmt.Errorf("query: %w", err)
		}
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		target += sep + url.QueryEscape(q.Name) + "=" + url.QueryEscape(v)
	}
	n := len(st.Method) + 1 + len(target) + len(" HTTP/1.1\r\nHost: \r\n") + len(host)
	set := map[string]bool{}
	for _, h := range st.Headers {
		set[strings.ToLower(h.Name)] = true
	}
	headers := append([]engine.KV(nil), st.Headers...)
	for _, h := range cfg.Defaults.Headers {
		if !set[strings.ToLower(h.Name)] {
			headers = append(headers, h)
			set[strings.ToLower(h.Name)] = true
		}
	}
	for _, h := range headers {
		v, err := render(h.Value)
		if err != nil {
			return 0, fmt.Errorf("header %s: %w", h.Name, err)
		}
		n += len(h.Name) + len(": \r\n") + len(v)
	}
	if len(st.Cookies) > 0 {
		n += len("Cookie: \r\n") + len("; ")*(len(st.Cookies)-1)
		for _, c := range st.Cookies {
			v, err := render(c.Value)
			if err != nil {
				return 0, fmt.Errorf("cookie %s: %w", c.Name, err)
			}
			n += len(c.Name) + 1 + len(v)
		}
	}
	body, ctype, err := renderBody(st.Body, sc, render)
	if err != nil {
		return 0, fmt.Errorf("body: %w", err)
	}
	if ctype != "" && !set["content-type"] {
		n += len("Content-Type: \r\n") + len(ctype)
	}
	if !set["user-agent"] {
		n += len("User-Agent: stampede\r\n")
	}
	if st.Body != nil || st.Method == "POST" || st.Method == "PUT" || st.Method == "PATCH" {
		n += len("Content-Length: \r\n") + len(strconv.Itoa(body))
	}
	return n + len("\r\n") + body, nil
}

// renderBody returns the body's size and its content type.
func renderBody(b *engine.Body, sc *engine.Scope, render func(string) (string, error)) (int, string, error) {
	if b == nil {
		return 0, "", nil
	}
	switch b.Kind {
	case engine.BodyJSON:
		t, err := engine.CompileJSON(b.JSON)
		if err != nil {
			return 0, "", err
		}
		return len(t.Append(nil, sc)), or(b.ContentType, "application/json"), nil
	case engine.BodyForm:
		n := 0
		for i, f := range b.Form {
			v, err := render(f.Value)
			if err != nil {
				return 0, "", err
			}
			n += len(url.QueryEscape(f.Name)) + 1 + len(url.QueryEscape(v))
			if i > 0 {
				n++
			}
		}
		return n, or(b.ContentType, "application/x-www-form-urlencoded"), nil
	}
	v, err := render(b.Raw)
	return len(v), b.ContentType, err
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
