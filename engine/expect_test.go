package engine

import (
	"net/http"
	"strings"
	"testing"
)

func doc(status int, body string) *Doc {
	var d Doc
	h := http.Header{"X-Request-Id": {"req-7"}, "Content-Type": {"application/json"}}
	d.Reset(status, []byte(body), h.Get)
	return &d
}

// docJSON is d's whole body as checks see it: the value at "$", or false
// when the body is not one JSON value.
func docJSON(d *Doc) (any, bool) {
	v, _, ok := d.lookup(&JSONPath{src: "$"})
	return v, ok
}

func TestDocJSON(t *testing.T) {
	d := doc(200, `{"a":[1,2]}`)
	v1, ok1 := docJSON(d)
	v2, ok2 := docJSON(d)
	if !ok1 || !ok2 || len(v1.(map[string]any)) != 1 || len(v2.(map[string]any)["a"].([]any)) != 2 {
		t.Fatalf("JSON() = %v %v, %v %v", v1, ok1, v2, ok2)
	}
	for _, body := range []string{"", "not json", `{"a":1} x`, `{"a":`, "<html></html>"} {
		d.Reset(200, []byte(body), nil)
		if v, ok := docJSON(d); ok || v != nil {
			t.Errorf("JSON() of %q = %v, %v; want nil, false", body, v, ok)
		}
	}
	d.Reset(201, []byte(` "s" `), nil)
	if v, ok := docJSON(d); !ok || v != "s" || d.Status() != 201 || d.Header("X") != "" || string(d.Body()) != ` "s" ` {
		t.Errorf("after Reset: JSON %v %v, status %d", v, ok, d.Status())
	}
}

func ptr[T any](v T) *T { return &v }

func TestCondEval(t *testing.T) {
	body := `{"status":"completed","code":200,"ratio":0.5,"ok":true,"none":null,
		"items":[{"id":1}],"obj":{"b":[1,"x"],"a":2}}`
	tests := []struct {
		name string
		body string
		cond Cond
		want bool
	}{
		{"equals string", body, Cond{Path: "$.status", Equals: "completed"}, true},
		{"equals string miss", body, Cond{Path: "$.status", Equals: "pending"}, false},
		{"yaml int equals json number", body, Cond{Path: "$.code", Equals: 200}, true},
		{"int64 equals", body, Cond{Path: "$.code", Equals: int64(200)}, true},
		{"float equals", body, Cond{Path: "$.ratio", Equals: 0.5}, true},
		{"number is not a string", body, Cond{Path: "$.code", Equals: "200"}, false},
		{"bool", body, Cond{Path: "$.ok", Equals: true}, true},
		{"bool miss", body, Cond{Path: "$.ok", Equals: false}, false},
		{"deep array", body, Cond{Path: "$.items", Equals: []any{map[string]any{"id": 1}}}, true},
		{"deep object", body, Cond{Path: "$.obj", Equals: map[string]any{"a": 2, "b": []any{1.0, "x"}}}, true},
		{"deep object miss", body, Cond{Path: "$.obj", Equals: map[string]any{"a": 2}}, false},
		{"equals missing path", body, Cond{Path: "$.nope", Equals: "x"}, false},
		{"in", body, Cond{Path: "$.status", In: []any{"pending", "completed"}}, true},
		{"in numbers", body, Cond{Path: "$.code", In: []any{201, 200}}, true},
		{"in miss", body, Cond{Path: "$.status", In: []any{"pending", "failed"}}, false},
		{"in null", body, Cond{Path: "$.none", In: []any{nil}}, true},
		{"exists", body, Cond{Path: "$.items[0].id", Exists: ptr(true)}, true},
		{"exists null", body, Cond{Path: "$.none", Exists: ptr(true)}, true},
		{"exists miss", body, Cond{Path: "$.items[1]", Exists: ptr(true)}, false},
		{"not exists", body, Cond{Path: "$.items[1]", Exists: ptr(false)}, true},
		{"not exists miss", body, Cond{Path: "$.status", Exists: ptr(false)}, false},
		{"not json: false", "oops", Cond{Path: "$.x", Exists: ptr(false)}, false},
		{"not json: equals", "oops", Cond{Path: "$", Equals: "oops"}, false},
	}
	for _, tt := range tests {
		ce, err := CompileCond(tt.cond)
		if err != nil {
			t.Fatalf("%s: CompileCond: %v", tt.name, err)
		}
		if got := ce.Eval(doc(200, tt.body)); got != tt.want {
			t.Errorf("%s: Eval = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCompileCondErrors(t *testing.T) {
	tests := []struct {
		cond Cond
		msg  string
	}{
		{Cond{Path: "$.a"}, "set exactly one"},
		{Cond{Path: "$.a", Equals: 1, In: []any{1}}, "set exactly one"},
		{Cond{Path: "$.a", Equals: 1, Exists: ptr(true)}, "set exactly one"},
		{Cond{Path: "$.a", In: []any{1}, Exists: ptr(false)}, "set exactly one"},
		{Cond{Path: "a", Exists: ptr(true)}, "must start with"},
		{Cond{Path: "$.a", Equals: struct{}{}}, "unsupported value"},
	}
	for _, tt := range tests {
		if _, err := CompileCond(tt.cond); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("CompileCond(%+v) = %v, want error containing %q", tt.cond, err, tt.msg)
		}
	}
}

func TestCheckerExpectClasses(t *testing.T) {
	job := &Expect{Status: []int{200, 202}, BodyContains: "job", JSON: []Cond{{Path: "$.state", In: []any{"queued", "done"}}}}
	tests := []struct {
		name   string
		expect *Expect
		status int
		body   string
		ok     bool
		class  ErrorClass
	}{
		{"nil 200", nil, 200, "", true, ErrNone},
		{"nil 399", nil, 399, "", true, ErrNone},
		{"nil 404", nil, 404, "", false, ErrNone},
		{"nil 199", nil, 199, "", false, ErrNone},
		{"empty status 302", &Expect{}, 302, "", true, ErrNone},
		{"status list miss", &Expect{Status: []int{201}}, 200, "", false, ErrNone},
		{"status list hit", &Expect{Status: []int{201}}, 201, "", true, ErrNone},
		{"status list 404 accepted", &Expect{Status: []int{404}}, 404, "", true, ErrNone},
		{"all hold", job, 202, `{"job":1,"state":"queued"}`, true, ErrNone},
		{"body_contains miss", job, 200, `{"state":"done"}`, false, ErrExpect},
		{"json miss", job, 200, `{"job":1,"state":"failed"}`, false, ErrExpect},
		{"json not json", job, 200, `job: not json`, false, ErrExpect},
		{"status and body miss", job, 500, `oops`, false, ErrNone},
	}
	for _, tt := range tests {
		c, err := CompileExpect(tt.expect)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if ok, class := c.Check(doc(tt.status, tt.body)); ok != tt.ok || class != tt.class {
			t.Errorf("%s: Check = %v, %q; want %v, %q", tt.name, ok, class, tt.ok, tt.class)
		}
	}
}

func TestCompileExpectErrors(t *testing.T) {
	_, err := CompileExpect(&Expect{Status: []int{42, 200}, JSON: []Cond{{Path: "$.a", Equals: 1}, {Path: "$.b"}}})
	if err == nil || !strings.Contains(err.Error(), "status 42") || !strings.Contains(err.Error(), "json[1]: condition on $.b") {
		t.Errorf("CompileExpect = %v, want both problems", err)
	}
}

func TestCaptureExtract(t *testing.T) {
	body := `{"token":"abc.def","id":12345678901234567890,"half":1.5,"k":1e3,"two":2.0,"small":1e-7,
		"ok":true,"none":null,"obj":{"b":[1,2],"a":"<&>"},"arr":["x",1]}`
	tests := []struct {
		cap  Capture
		body string
		want string
		ok   bool
	}{
		{Capture{Var: "t", From: CaptureJSON, Expr: "$.token"}, body, "abc.def", true},
		{Capture{Var: "t", Expr: "$.token"}, body, "abc.def", true}, // From defaults to json
		{Capture{Var: "id", From: CaptureJSON, Expr: "$.id"}, body, "12345678901234567890", true},
		{Capture{Var: "h", From: CaptureJSON, Expr: "$.half"}, body, "1.5", true},
		{Capture{Var: "k", From: CaptureJSON, Expr: "$.k"}, body, "1000", true},
		{Capture{Var: "k", From: CaptureJSON, Expr: "$.two"}, body, "2", true},
		{Capture{Var: "k", From: CaptureJSON, Expr: "$.small"}, body, "1e-07", true},
		{Capture{Var: "b", From: CaptureJSON, Expr: "$.ok"}, body, "true", true},
		{Capture{Var: "o", From: CaptureJSON, Expr: "$.obj"}, body, `{"a":"<&>","b":[1,2]}`, true},
		{Capture{Var: "a", From: CaptureJSON, Expr: "$.arr"}, body, `["x",1]`, true},
		{Capture{Var: "n", From: CaptureJSON, Expr: "$.none"}, body, "", false},
		{Capture{Var: "m", From: CaptureJSON, Expr: "$.missing"}, body, "", false},
		{Capture{Var: "m", From: CaptureJSON, Expr: "$.token"}, "<html>", "", false},
		{Capture{Var: "r", From: CaptureHeader, Expr: "X-Request-Id"}, body, "req-7", true},
		{Capture{Var: "r", From: CaptureHeader, Expr: "x-request-id"}, body, "req-7", true},
		{Capture{Var: "r", From: CaptureHeader, Expr: "X-Missing"}, body, "", false},
		{Capture{Var: "g", From: CaptureRegex, Expr: `"token":"([^"]+)"`}, body, "abc.def", true},
		{Capture{Var: "g", From: CaptureRegex, Expr: `\d{5}`}, body, "12345", true},
		{Capture{Var: "g", From: CaptureRegex, Expr: `tok(xx)?en`}, body, "token", true},
		{Capture{Var: "g", From: CaptureRegex, Expr: `csrf=(\w+)`}, body, "", false},
	}
	for _, tt := range tests {
		x, err := CompileCapture(tt.cap)
		if err != nil {
			t.Fatalf("CompileCapture(%+v): %v", tt.cap, err)
		}
		if got, ok := x.Extract(doc(200, tt.body)); got != tt.want || ok != tt.ok {
			t.Errorf("%s %s: Extract = %q, %v; want %q, %v", tt.cap.From, tt.cap.Expr, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCompileCaptureErrors(t *testing.T) {
	tests := []struct {
		cap Capture
		msg string
	}{
		{Capture{Var: "", From: CaptureJSON, Expr: "$.a"}, "capture var"},
		{Capture{Var: "user", From: CaptureJSON, Expr: "$.a"}, "not a function name"},
		{Capture{Var: "1x", From: CaptureJSON, Expr: "$.a"}, "capture var"},
		{Capture{Var: "a-b", From: CaptureJSON, Expr: "$.a"}, "capture var"},
		{Capture{Var: "v", From: "cookie", Expr: "sid"}, `unknown source "cookie"`},
		{Capture{Var: "v", Expr: "sid"}, `unknown source ""`},
		{Capture{Var: "v", From: CaptureRegex, Expr: "(a"}, "capture v: error parsing regexp"},
		{Capture{Var: "v", From: CaptureJSON, Expr: "$..a"}, "offset 1"},
		{Capture{Var: "v", From: CaptureHeader}, "empty header name"},
	}
	for _, tt := range tests {
		if _, err := CompileCapture(tt.cap); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("CompileCapture(%+v) = %v, want error containing %q", tt.cap, err, tt.msg)
		}
	}
}
