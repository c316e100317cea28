package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
)

// roundTrip checks that Marshal's output parses back to the same plan.
func roundTrip(t *testing.T, p *Plan, lookupEnv func(string) (string, bool)) {
	t.Helper()
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(p.File, out, lookupEnv)
	if err != nil {
		t.Fatalf("reparse:\n%v\n---\n%s", err, out)
	}
	q.Source, q.File = p.Source, p.File
	if !reflect.DeepEqual(p, q) {
		t.Errorf("marshal/parse changed the plan:\n%#v\n%#v\n---\n%s", p, q, out)
	}
}

func TestParseMinimalAppliesDefaults(t *testing.T) {
	src := []byte(head + "scenarios: [{steps: [{get: /}]}]\n")
	p, err := Parse("dir/minimal.yaml", src, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Config{
		Target:      "http://127.0.0.1:8080",
		Scenarios:   []engine.Scenario{{Name: "scenario 1", Weight: 1, Steps: []engine.Step{{Name: "GET /", Method: "GET", URL: "/"}}}},
		Load:        engine.Load{Model: engine.ModelOpen, Rate: 5, DropAfter: time.Second},
		Defaults:    engine.Defaults{Timeout: 30 * time.Second, MaxBodyBytes: 1 << 20},
		MaxInflight: 256,
		MaxConns:    512,
		Duration:    10 * time.Second,
	}
	if !reflect.DeepEqual(p.Engine, want) {
		t.Errorf("engine =\n%#v\nwant\n%#v", p.Engine, want)
	}
	if p.Name != "minimal" || p.File != "dir/minimal.yaml" || string(p.Source) != string(src) {
		t.Errorf("name %q file %q", p.Name, p.File)
	}
	if !reflect.DeepEqual(p.Regions, []Region{{Name: "local", Generators: 1}}) || p.Slice != 10*time.Minute ||
		p.MemoryMB != 1769 || p.Seed != 0 || p.Budget.MaxUSD != 0 || p.Thresholds != nil {
		t.Errorf("plan = %+v", p)
	}
	roundTrip(t, p, noEnv)
}

func TestParseFullPlan(t *testing.T) {
	src := `name: full
target: https://api.example.com/base
allowed_hosts: [cdn.example.com, "static.example.com:8443"]
load:
  model: closed
  users: 10
  stages:
    - {duration: 10s, target: 50}
    - {duration: 0s, target: 200}
    - {duration: 20s, target: 0}
  max_inflight: 300
  max_conns: 100
regions: {us-east-1: 3, eu-west-1: 1}
slice: 5m
memory_mb: 3008
seed: 18446744073709551615
defaults:
  headers: {Zeta: z, Alpha: a}
  timeout: 2s
  insecure_tls: true
  max_redirects: 3
  http2: true
  max_body_bytes: 4096
vars:
  currency: USD
  amount: 42
  label: '{{ currency }}-{{ randomInt 1 9 }}'
data:
  accounts:
    columns: [login, pin]
    rows: [[alice, "0001"], [bob, "0002"]]
    random: true
step_base: &base
  timeout: 1s
scenarios:
  - name: buy
    weight: 3
    think: {pacing: 2s}
    setup:
      - post: /login
        form: {user: '{{ data "accounts" "login" }}', pin: '{{ data "accounts" "pin" }}'}
        capture: {token: {header: X-Token}}
    steps:
      - <<: *base
        method: put
        url: https://cdn.example.com/upload?x=1
        body: "raw {{ token }}"
        content_type: text/plain
        cookies: {sid: '{{ uuid }}'}
        think: {between: [0s, 1s]}
      - name: order
        post: /orders
        query: {b: 2, a: 1}
        json:
          amount: 12
          price: 9.5
          whole: 2.0
          ok: true
          none: null
          date: 2026-03-01
          items: [1, "two", {three: 3}]
          empty: {}
          list: []
        expect:
          status: [200, 201]
          body_contains: '"ok"'
          json:
            - {path: $.id, exists: true}
            - {path: $.total, equals: 12.5}
            - {path: $.state, in: [new, paid]}
        capture:
          order_id: {json: $.id}
          num: {regex: 'id=(\d+)'}
        think: 1s
  - name: idle
    weight: 0
    steps: [{head: /ping, timeout: 500ms}]
thresholds:
  - "order: p95 < 300ms"
  - {expr: "error_rate < 5%", abort_on_fail: true}
budget: {max_usd: 2.5}
`
	_, err := Parse("full.yaml", []byte(src), noEnv)
	if err == nil {
		t.Fatal("step_base is not a plan key: want an error")
	}
	if got := err.Error(); got != `full.yaml:33:1: step_base: unknown key "step_base" (hint: valid keys here: name, description, target, allowed_hosts, duration, load, generators, regions, slice, memory_mb, seed, defaults, vars, data, setup, scenarios, thresholds, budget)` {
		t.Fatalf("got %v", got)
	}
	// Without the stray key (and the merge that used it) the plan is valid.
	src2 := replaceOnce(t, src, "step_base: &base\n  timeout: 1s\n", "")
	src2 = replaceOnce(t, src2, "      - <<: *base\n", "      - timeout: &t 1s\n")
	p, err := Parse("full.yaml", []byte(src2), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	e := p.Engine
	if e.Duration != 30*time.Second {
		t.Errorf("duration from stages = %v", e.Duration)
	}
	wantLoad := engine.Load{Model: engine.ModelClosed, Users: 10, Stages: []engine.Stage{
		{Duration: 10 * time.Second, Target: 50}, {Duration: 0, Target: 200}, {Duration: 20 * time.Second, Target: 0}}}
	if !reflect.DeepEqual(e.Load, wantLoad) || e.MaxInflight != 300 || e.MaxConns != 100 {
		t.Errorf("load = %+v", e.Load)
	}
	if !reflect.DeepEqual(p.Regions, []Region{{"us-east-1", 3}, {"eu-west-1", 1}}) || p.Slice != 5*time.Minute ||
		p.MemoryMB != 3008 || p.Seed != 1<<64-1 || p.Budget.MaxUSD != 2.5 {
		t.Errorf("plan = %+v", p)
	}
	wantDefaults := engine.Defaults{Headers: []engine.KV{{Name: "Zeta", Value: "z"}, {Name: "Alpha", Value: "a"}}, Timeout: 2 * time.Second,
		Insecure: true, MaxRedirects: 3, HTTP2: true, MaxBodyBytes: 4096}
	if !reflect.DeepEqual(e.Defaults, wantDefaults) {
		t.Errorf("defaults = %+v", e.Defaults)
	}
	if !reflect.DeepEqual(e.Vars, []engine.KV{{Name: "currency", Value: "USD"}, {Name: "amount", Value: "42"}, {Name: "label", Value: "{{ currency }}-{{ randomInt 1 9 }}"}}) {
		t.Errorf("vars = %+v", e.Vars)
	}
	if !reflect.DeepEqual(e.Data, map[string]engine.DataSet{"accounts": {Columns: []string{"login", "pin"},
		Rows: [][]string{{"alice", "0001"}, {"bob", "0002"}}, Random: true}}) {
		t.Errorf("data = %+v", e.Data)
	}
	buy := e.Scenarios[0]
	if buy.Think != (engine.Think{Kind: engine.ThinkPacing, Min: 2 * time.Second}) || buy.Setup[0].Name != "POST /login" ||
		buy.Setup[0].Body.Kind != engine.BodyForm || buy.Setup[0].Capture[0] != (engine.Capture{Var: "token", From: "header", Expr: "X-Token"}) {
		t.Errorf("buy = %+v", buy)
	}
	put := buy.Steps[0]
	if put.Method != "PUT" || put.Name != "PUT https://cdn.example.com/upload?x=1" || put.Timeout != time.Second ||
		!reflect.DeepEqual(*put.Body, engine.Body{Kind: engine.BodyRaw, Raw: "raw {{ token }}", ContentType: "text/plain"}) ||
		put.Think != (engine.Think{Kind: engine.ThinkBetween, Max: time.Second}) {
		t.Errorf("put = %+v", put)
	}
	order := buy.Steps[1]
	wantJSON := map[string]any{"amount": 12, "price": 9.5, "whole": 2.0, "ok": true, "none": nil, "date": "2026-03-01",
		"items": []any{1, "two", map[string]any{"three": 3}}, "empty": map[string]any{}, "list": []any{}}
	if !reflect.DeepEqual(order.Body.JSON, wantJSON) {
		t.Errorf("json = %#v", order.Body.JSON)
	}
	yes := true
	wantExpect := &engine.Expect{Status: []int{200, 201}, BodyContains: `"ok"`, JSON: []engine.Cond{
		{Path: "$.id", Exists: &yes}, {Path: "$.total", Equals: 12.5}, {Path: "$.state", In: []any{"new", "paid"}}}}
	if !reflect.DeepEqual(order.Expect, wantExpect) || !reflect.DeepEqual(order.Query, []engine.KV{{Name: "b", Value: "2"}, {Name: "a", Value: "1"}}) {
		t.Errorf("expect = %+v query = %+v", order.Expect, order.Query)
	}
	if e.Scenarios[1].Weight != 0 || e.Scenarios[1].Steps[0].Method != "HEAD" {
		t.Errorf("idle = %+v", e.Scenarios[1])
	}
	wantTh := []Threshold{{Expr: "order: p95 < 300ms", Metric: MetricP95, Step: "order", Op: "<", Value: 300},
		{Expr: "error_rate < 5%", Metric: MetricErrorRate, Op: "<", Value: 0.05, AbortOnFail: true}}
	if !reflect.DeepEqual(p.Thresholds, wantTh) {
		t.Errorf("thresholds = %+v", p.Thresholds)
	}
	roundTrip(t, p, noEnv)
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not in source", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestParseMergeKeys(t *testing.T) {
	src := head + `scenarios:
  - steps:
      - &common {get: /a, timeout: 2s, headers: {X: y}}
      - <<: *common
        get: /b
`
	p, err := Parse("plan.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	b := p.Engine.Scenarios[0].Steps[1]
	if b.URL != "/b" || b.Timeout != 2*time.Second || !reflect.DeepEqual(b.Headers, []engine.KV{{Name: "X", Value: "y"}}) {
		t.Errorf("merged step = %+v", b)
	}
}

func TestParseEnv(t *testing.T) {
	src := head + `vars: {key: '{{ env "B_KEY" }}'}
scenarios:
  - steps:
      - get: '/{{ env "A_KEY" }}/{{ env "B_KEY" }}'
`
	env := map[string]string{"A_KEY": "a-secret", "B_KEY": "b-secret", "UNUSED": "x"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	p, err := Parse("plan.yaml", []byte(src), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Secrets, []string{"A_KEY", "B_KEY"}) ||
		!reflect.DeepEqual(p.Engine.Env, map[string]string{"A_KEY": "a-secret", "B_KEY": "b-secret"}) {
		t.Errorf("secrets %v env %v", p.Secrets, p.Engine.Env)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "secret") {
		t.Errorf("Marshal wrote a secret value:\n%s", out)
	}
	roundTrip(t, p, lookup)
}

func TestLoadReadsDataRelativeToPlan(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte("email,password\na@x.io,p1\nb@x.io,p2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := head + "data: {users: {file: users.csv}}\nscenarios: [{steps: [{get: '/{{ data \"users\" \"email\" }}'}]}]\n"
	file := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.DataSet{Columns: []string{"email", "password"}, Rows: [][]string{{"a@x.io", "p1"}, {"b@x.io", "p2"}}}
	if !reflect.DeepEqual(p.Engine.Data["users"], want) {
		t.Errorf("data = %+v", p.Engine.Data)
	}
	roundTrip(t, p, noEnv)
	if _, err := Load(filepath.Join(dir, "nope.yaml")); err == nil {
		t.Error("Load of a missing file: want an error")
	}
}

func TestPlanSetup(t *testing.T) {
	const head = `target: http://127.0.0.1:8080
duration: 10s
load: {rate: 5}
`
	src := head + `setup:
  - post: /auth/token
    capture: {token: {json: $.access_token}}
scenarios:
  - name: a
    steps:
      - get: /a
        headers: {Authorization: 'Bearer {{ token }}'}
  - name: b
    steps:
      - get: /b
        headers: {Authorization: 'Bearer {{ token }}'}
`
	p, err := Parse("setup.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s := p.Engine.Setup; len(s) != 1 || s[0].Name != "POST /auth/token" || s[0].Capture[0].Var != "token" {
		t.Fatalf("setup = %+v", s)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("setup.yaml", out, noEnv)
	if err != nil {
		t.Fatalf("reparse of\n%s: %v", out, err)
	}
	if !reflect.DeepEqual(back.Engine.Setup, p.Engine.Setup) {
		t.Errorf("setup after marshal = %+v, want %+v", back.Engine.Setup, p.Engine.Setup)
	}

	// The setup runs before any scenario: it cannot read a scenario's capture.
	bad := head + `setup:
  - get: /me
    headers: {X-Job: '{{ job }}'}
scenarios:
  - steps:
      - post: /jobs
        capture: {job: {json: $.id}}
`
	_, err = Parse("bad.yaml", []byte(bad), noEnv)
	if err == nil || !strings.Contains(err.Error(), `bad.yaml:6:`) || !strings.Contains(err.Error(), `setup[0].headers.X-Job`) {
		t.Errorf("setup reading a scenario capture: got %v", err)
	}
}

func TestParseReleaseTick(t *testing.T) {
	src := "target: http://127.0.0.1:8080\nduration: 1m\nload: {rate: 1000, release_tick: 5ms}\nscenarios: [{steps: [{get: /}]}]\n"
	p, err := Parse("tick.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Engine.Load.ReleaseTick; got != 5*time.Millisecond {
		t.Fatalf("release_tick parsed as %v; want 5ms", got)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("again.yaml", out, nil)
	if err != nil {
		t.Fatalf("marshalled plan does not parse: %v\n%s", err, out)
	}
	if got := again.Engine.Load.ReleaseTick; got != 5*time.Millisecond {
		t.Errorf("release_tick after marshal and parse: %v; want 5ms\n%s", got, out)
	}
	// Unset, it stays zero: the engine's default applies.
	def, err := Parse("def.yaml", []byte(strings.Replace(src, ", release_tick: 5ms", "", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.Engine.Load.ReleaseTick != 0 {
		t.Errorf("release_tick defaults to %v; want 0 (the engine's default)", def.Engine.Load.ReleaseTick)
	}
}
