package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
)

// exampleEnv stands in for the environment the examples reference.
func exampleEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"CLIENT_SECRET":   "super-secret-for-staging",
		"REPORTS_API_KEY": "staging-serverless-api-key",
	}[name]
	return v, ok
}

// examples lists the example plans, relative to this package.
func examples(t testing.TB) []string {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("want at least 5 example plans, got %v (%v)", files, err)
	}
	return files
}

func loadExample(t *testing.T, name string) *Plan {
	t.Helper()
	file := filepath.Join("../../examples", name)
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(file, src, exampleEnv)
	if err != nil {
		t.Fatalf("%s:\n%v", name, err)
	}
	return p
}

func TestExamplesParseAndRoundTrip(t *testing.T) {
	for _, file := range examples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			p := loadExample(t, filepath.Base(file))
			out, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(file, out, exampleEnv)
			if err != nil {
				t.Fatalf("reparse of marshaled plan:\n%v\n---\n%s", err, out)
			}
			if !reflect.DeepEqual(p.Engine, q.Engine) {
				t.Errorf("engine config changed by marshal/parse:\n%#v\n%#v", p.Engine, q.Engine)
			}
			if !reflect.DeepEqual(p.Thresholds, q.Thresholds) || !reflect.DeepEqual(p.Regions, q.Regions) {
				t.Errorf("thresholds or regions changed:\n%+v %+v\n%+v %+v", p.Thresholds, p.Regions, q.Thresholds, q.Regions)
			}
		})
	}
}

func TestQuickstartNormalized(t *testing.T) {
	p := loadExample(t, "quickstart.yaml")
	e := p.Engine
	if e.Target != "http://127.0.0.1:8080" || e.Duration != 20*time.Second {
		t.Errorf("target %q duration %v", e.Target, e.Duration)
	}
	if e.Load.Model != engine.ModelOpen || e.Load.Rate != 50 || e.Load.DropAfter != time.Second {
		t.Errorf("load = %+v", e.Load)
	}
	if e.MaxInflight != 64 || e.MaxConns != DefaultMaxConns {
		t.Errorf("max_inflight %d max_conns %d", e.MaxInflight, e.MaxConns)
	}
	if want := []Region{{Name: "local", Generators: 4}}; !reflect.DeepEqual(p.Regions, want) {
		t.Errorf("regions = %+v, want %+v", p.Regions, want)
	}
	if p.Slice != DefaultSlice || p.MemoryMB != DefaultMemoryMB || p.Seed != 42 {
		t.Errorf("slice %v memory %d seed %d", p.Slice, p.MemoryMB, p.Seed)
	}
	if e.Defaults.Timeout != 5*time.Second || e.Defaults.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("defaults = %+v", e.Defaults)
	}
	wantHeaders := []engine.KV{{Name: "Accept", Value: "application/json"}, {Name: "User-Agent", Value: "stampede-quickstart/1.0"}}
	if !reflect.DeepEqual(e.Defaults.Headers, wantHeaders) {
		t.Errorf("headers = %+v", e.Defaults.Headers)
	}
	if len(e.Scenarios) != 2 || e.Scenarios[0].Weight != 3 || e.Scenarios[1].Weight != 1 {
		t.Fatalf("scenarios = %+v", e.Scenarios)
	}
	list := e.Scenarios[0].Steps[1]
	wantQuery := []engine.KV{{Name: "category", Value: "electronics"}, {Name: "limit", Value: "20"}}
	if list.Name != "GET /products" || list.Method != "GET" || list.URL != "/prod/products" || !reflect.DeepEqual(list.Query, wantQuery) {
		t.Errorf("list step = %+v", list)
	}
	search := e.Scenarios[1].Steps[0]
	wantBody := map[string]any{
		"query":   "{{ term }}",
		"filters": map[string]any{"inStock": true, "priceMin": 25, "priceMax": 500},
		"sort":    "relevance",
		"limit":   10,
	}
	if search.Method != "POST" || search.Body == nil || search.Body.Kind != engine.BodyJSON || !reflect.DeepEqual(search.Body.JSON, wantBody) {
		t.Errorf("search body = %#v", search.Body)
	}
	wantTh := []Threshold{
		{Expr: "p99 < 500ms", Metric: MetricP99, Op: "<", Value: 500},
		{Expr: "GET /products/:id: p95 < 300ms", Metric: MetricP95, Step: "GET /products/:id", Op: "<", Value: 300},
		{Expr: "error_rate < 1%", Metric: MetricErrorRate, Op: "<", Value: 0.01},
		{Expr: "rps > 100", Metric: MetricRPS, Op: ">", Value: 100},
	}
	if !reflect.DeepEqual(p.Thresholds, wantTh) {
		t.Errorf("thresholds = %+v", p.Thresholds)
	}
	if len(p.Secrets) != 0 || e.Env != nil {
		t.Errorf("secrets %v env %v", p.Secrets, e.Env)
	}
}

func TestReportJobsPoll(t *testing.T) {
	p := loadExample(t, "report-jobs.yaml")
	sc := p.Engine.Scenarios[0]
	if sc.Weight != 1 || sc.Think != (engine.Think{Kind: engine.ThinkBetween, Min: 2 * time.Second, Max: 5 * time.Second}) {
		t.Errorf("scenario weight %d think %+v", sc.Weight, sc.Think)
	}
	post, poll := sc.Steps[0], sc.Steps[1]
	if !reflect.DeepEqual(post.Capture, []engine.Capture{{Var: "job_id", From: engine.CaptureJSON, Expr: "$.jobId"}}) {
		t.Errorf("capture = %+v", post.Capture)
	}
	if post.Expect == nil || !reflect.DeepEqual(post.Expect.Status, []int{202}) || post.Think.Min != 2*time.Second {
		t.Errorf("post = %+v", post)
	}
	dr := post.Body.JSON.(map[string]any)["dateRange"].(map[string]any)
	if dr["from"] != "2026-03-01" {
		t.Errorf("dateRange.from = %#v, want the string", dr["from"])
	}
	want := &engine.Poll{
		Interval: 2 * time.Second, MaxTries: 5,
		Until: engine.Cond{Path: "$.status", Equals: "completed"},
		While: &engine.Cond{Path: "$.status", In: []any{"queued", "processing"}},
	}
	if !reflect.DeepEqual(poll.Poll, want) {
		t.Errorf("poll = %+v", poll.Poll)
	}
	if !reflect.DeepEqual(p.Secrets, []string{"REPORTS_API_KEY"}) || p.Engine.Env["REPORTS_API_KEY"] != "staging-serverless-api-key" {
		t.Errorf("secrets %v env %v", p.Secrets, p.Engine.Env)
	}
}

func TestAuthenticatedUserSetup(t *testing.T) {
	p := loadExample(t, "authenticated-user.yaml")
	if s := p.Engine.Setup; len(s) != 1 || s[0].Name != "POST /auth/token" || s[0].Capture[0].Var != "token" {
		t.Errorf("plan setup = %+v", s)
	}
	scs := p.Engine.Scenarios
	if len(scs) != 3 {
		t.Fatalf("%d scenarios", len(scs))
	}
	for _, sc := range scs {
		if len(sc.Setup) != 0 {
			t.Errorf("%s has its own setup %+v; the token flow is plan-level", sc.Name, sc.Setup)
		}
		if h := sc.Steps[0].Headers; len(h) != 1 || h[0].Value != "Bearer {{ token }}" {
			t.Errorf("%s headers = %+v", sc.Name, h)
		}
	}
	if !reflect.DeepEqual(p.Engine.Load, engine.Load{Model: engine.ModelClosed, Users: 50, RampUp: 30 * time.Second}) {
		t.Errorf("load = %+v", p.Engine.Load)
	}
}

func TestEdgeRuntimeRegionsAndCookies(t *testing.T) {
	p := loadExample(t, "edge-runtime.yaml")
	want := []Region{{"us-east-1", 2}, {"eu-west-1", 2}, {"ap-southeast-2", 1}}
	if !reflect.DeepEqual(p.Regions, want) {
		t.Errorf("regions = %+v", p.Regions)
	}
	c := p.Engine.Scenarios[2].Steps[0].Cookies
	if !reflect.DeepEqual(c, []engine.KV{{Name: "session_id", Value: "{{ session_id }}"}, {Name: "ab_variant", Value: "{{ variant }}"}}) {
		t.Errorf("cookies = %+v", c)
	}
	if len(p.Engine.Vars) != 4 || p.Engine.Vars[0] != (engine.KV{Name: "session_id", Value: "{{ uuid }}"}) {
		t.Errorf("vars = %+v", p.Engine.Vars)
	}
}

func TestStoreBrowsingStages(t *testing.T) {
	p := loadExample(t, "store-browsing.yaml")
	l := p.Engine.Load
	want := []engine.Stage{{Duration: time.Minute, Target: 25}, {Duration: 3 * time.Minute, Target: 100}}
	if l.Model != engine.ModelClosed || l.Users != 0 || !reflect.DeepEqual(l.Stages, want) {
		t.Errorf("load = %+v", l)
	}
	var weights []int
	for _, sc := range p.Engine.Scenarios {
		weights = append(weights, sc.Weight)
	}
	if !reflect.DeepEqual(weights, []int{2, 5, 4, 3}) {
		t.Errorf("weights = %v", weights)
	}
}
