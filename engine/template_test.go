package engine

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func seededScope(seed uint64) *Scope {
	return &Scope{
		Vars: map[string]string{
			"name": "Ann Lee", "n": "7", "q": "a&b=c/d", "user.id": "u1",
			"quote": "He said \"hi\"\nnew\tline ü \x01",
		},
		Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		Env:  map[string]string{"TOKEN": "s3cr3t"},
		Data: map[string]DataSet{
			"users": {Columns: []string{"email", "pw"}, Rows: [][]string{{"a@x", "1"}, {"b@x", "2"}, {"c@x"}}},
		},
		User:      42,
		Iteration: 3,
		Row:       4,
	}
}

func render(t *testing.T, src string, sc *Scope) string {
	t.Helper()
	tm, err := ParseTemplate(src)
	if err != nil {
		t.Fatalf("ParseTemplate(%q): %v", src, err)
	}
	return string(tm.Append(nil, sc))
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		src    string
		offset int
		msg    string
	}{
		{"a {{ foo 1 }}", 5, `unknown function "foo"`},
		{"x{{ name", 1, `unclosed "{{"`},
		{"{{ name }} {{ user", 11, `unclosed "{{"`},
		{"{{ }}", 0, "empty expression"},
		{"{{", 0, `unclosed "{{"`},
		{"{{ env }}", 3, "env takes 1 argument(s), got 0"},
		{"{{ env NAME }}", 7, "argument 1 of env must be a quoted string"},
		{`{{ env "A" "B" }}`, 11, "env takes 1 argument(s)"},
		{`{{ env "" }}`, 3, "env: empty variable name"},
		{"{{ randomInt 5 3 }}", 3, "min 5 is greater than max 3"},
		{`{{ randomInt "a" 3 }}`, 13, "argument 1 of randomInt must be an integer"},
		{"{{ randomInt 1 }}", 3, "randomInt takes 2 argument(s), got 1"},
		{"{{ randomString -1 }}", 3, "randomString: length -1"},
		{"{{ randomString 100000 }}", 3, "randomString: length 100000"},
		{`{{ "abc }}`, 3, "unterminated string"},
		{`{{ "a\q" }}`, 5, `unknown escape \q`},
		{"{{ name | upper }}", 10, `unknown pipe "upper`},
		{"{{ name | }}", 10, `unknown pipe "}}"`},
		{"{{ name | 3 }}", 10, `unknown pipe "3`},
		{"{{ | json }}", 3, "pipe with nothing before it"},
		{"{{ 99999999999999999999 }}", 3, "out of range"},
		{"{{ name # }}", 8, `unexpected character '#'`},
		{`{{ "a" "b" }}`, 7, "unexpected argument after a literal"},
		{"{{ pick }}", 3, "pick takes at least 1 argument(s)"},
		{"{{ uuid 1 }}", 8, "uuid takes 0 argument(s)"},
		{`{{ data "s" }}`, 3, "data takes 2 argument(s), got 1"},
		{`{{ data "s" c }}`, 12, "argument 2 of data must be a quoted string"},
		{"{{ name | json json }}", 15, `unexpected "json`},
	}
	for _, tt := range tests {
		_, err := ParseTemplate(tt.src)
		var te *TemplateError
		if !errors.As(err, &te) {
			t.Errorf("ParseTemplate(%q) = %v, want a *TemplateError", tt.src, err)
			continue
		}
		if te.Offset != tt.offset || !strings.Contains(te.Msg, tt.msg) {
			t.Errorf("ParseTemplate(%q): offset %d %q, want offset %d containing %q", tt.src, te.Offset, te.Msg, tt.offset, tt.msg)
		}
		if want := "offset " + strconv.Itoa(tt.offset) + ": "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseTemplate(%q).Error() = %q, want prefix %q", tt.src, err, want)
		}
	}
}

func TestTemplateRender(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", ""},
		{"plain", "plain"},
		{"hello {{ name }}!", "hello Ann Lee!"},
		{"{{name}}", "Ann Lee"},
		{"{{\tname\n}}", "Ann Lee"},
		{"{{ missing }}", ""},
		{"{{ user.id }}", "u1"},
		{`{{ env "TOKEN" }}`, "s3cr3t"},
		{`{{ env "NOPE" }}`, ""},
		{"{{ user }}-{{ iteration }}", "42-3"},
		{`{{ data "users" "email" }}`, "b@x"}, // row 4 mod 3
		{`{{ data "users" "pw" }}`, "2"},
		{`{{ data "users" "nope" }}`, ""},
		{`{{ data "nope" "email" }}`, ""},
		{`{{ "{{" }} x }}`, "{{ x }}"},
		{"a }} b } {", "a }} b } {"},
		{"{{ 42 }}{{ -7 }}", "42-7"},
		{`{{ "say \"hi\" \\ \t" }}`, "say \"hi\" \\ \t"},
		{"{{ name | urlencode }}", "Ann%20Lee"},
		{"{{ q | urlencode }}", "a%26b%3Dc%2Fd"},
		{"{{ n | urlencode }}", "7"},
		{`{{ "a\"b\n" | json }}`, `a\"b\n`},
		{"{{ quote | json }}", `He said \"hi\"\nnew\tline ü \u0001`},
		{"{{ name | base64 }}", "QW5uIExlZQ=="},
		{"{{ name | base64 | urlencode }}", "QW5uIExlZQ%3D%3D"},
		{"{{ user | base64 }}", "NDI="},
		{"{{ randomInt n n }}", "7"},
		{"{{ randomInt 5 5 }}", "5"},
		{"{{ randomInt -3 -3 }}", "-3"},
		{"{{ randomInt name 0 }}", "0"}, // a non-integer variable counts as 0
		{"{{ pick name }}", "Ann Lee"},
		{"{{ pick 9 }}", "9"},
		{"{{ randomString 0 }}", ""},
		{`[{"a":1}]`, `[{"a":1}]`},
	}
	for _, tt := range tests {
		if got := render(t, tt.src, seededScope(1)); got != tt.want {
			t.Errorf("render(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestTemplateRandomFunctions(t *testing.T) {
	sc := seededScope(7)
	counts := map[string]int{}
	ri, _ := ParseTemplate("{{ randomInt 1 3 }}")
	pk, _ := ParseTemplate(`{{ pick "a" "b" "c" }}`)
	for range 3000 {
		counts["int"+string(ri.Append(nil, sc))]++
		counts["pick"+string(pk.Append(nil, sc))]++
	}
	for _, k := range []string{"int1", "int2", "int3", "picka", "pickb", "pickc"} {
		if c := counts[k]; c < 800 || c > 1200 {
			t.Errorf("%s drawn %d times in 3000, want about 1000 (counts %v)", k, c, counts)
		}
	}
	if len(counts) != 6 {
		t.Errorf("unexpected values drawn: %v", counts)
	}

	rs := regexp.MustCompile(`^[a-z0-9]{8}$`)
	uv4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		if s := render(t, "{{ randomString 8 }}", sc); !rs.MatchString(s) {
			t.Errorf("randomString 8 = %q", s)
		}
		u := render(t, "{{ uuid }}", sc)
		if !uv4.MatchString(u) || seen[u] {
			t.Errorf("uuid = %q (seen before: %v)", u, seen[u])
		}
		seen[u] = true
	}
	full := render(t, "{{ randomInt -9223372036854775808 9223372036854775807 }}", sc)
	if _, err := strconv.ParseInt(full, 10, 64); err != nil {
		t.Errorf("full-range randomInt = %q: %v", full, err)
	}
}

func TestTemplateReproducible(t *testing.T) {
	src := `{{ uuid }} {{ randomString 12 }} {{ randomInt 0 1000000 }} {{ pick "x" "y" "z" "w" }}`
	a, b := render(t, src, seededScope(99)), render(t, src, seededScope(99))
	if a != b {
		t.Errorf("same seed, different output:\n%s\n%s", a, b)
	}
	if c := render(t, src, seededScope(100)); c == a {
		t.Errorf("different seeds, same output %q", a)
	}
	if s := render(t, src, &Scope{}); len(s) < 36+1+12 { // no Rand: global source
		t.Errorf("render without Rand = %q", s)
	}
}

func TestTemplateDataRandomRow(t *testing.T) {
	sc := seededScope(3)
	ds := sc.Data["users"]
	ds.Random = true
	sc.Data["users"] = ds
	seen := map[string]int{}
	for range 300 {
		seen[render(t, `{{ data "users" "email" }}`, sc)]++
	}
	if len(seen) != 3 || seen["a@x"] == 0 || seen["b@x"] == 0 || seen["c@x"] == 0 {
		t.Errorf("random rows drawn: %v, want all of a@x b@x c@x", seen)
	}
	sc.Data["users"] = DataSet{Columns: []string{"email", "pw"}, Rows: [][]string{{"a@x", "1"}, {"c@x"}}}
	sc.Row = -1 // rows wrap for any row number
	if got := render(t, `{{ data "users" "pw" }}`, sc); got != "" {
		t.Errorf("short row: pw = %q, want empty", got)
	}
}

func TestTemplateTime(t *testing.T) {
	before := time.Now()
	now, err := time.Parse(time.RFC3339, render(t, "{{ now }}", nil))
	if err != nil || now.Before(before.Truncate(time.Second)) || now.After(time.Now()) {
		t.Errorf("now = %v (%v), want between %v and now", now, err, before)
	}
	if !strings.HasSuffix(render(t, "{{ now }}", nil), "Z") {
		t.Error("now is not UTC")
	}
	unix, _ := strconv.ParseInt(render(t, "{{ unix }}", nil), 10, 64)
	ms, _ := strconv.ParseInt(render(t, "{{ unixMs }}", nil), 10, 64)
	if d := unix - before.Unix(); d < 0 || d > 2 {
		t.Errorf("unix = %d, want about %d", unix, before.Unix())
	}
	if d := ms - before.UnixMilli(); d < 0 || d > 2000 {
		t.Errorf("unixMs = %d, want about %d", ms, before.UnixMilli())
	}
}

func TestTemplateStaticVarsEnvRefs(t *testing.T) {
	tests := []struct {
		src        string
		static     bool
		bytes      string
		vars, envs []string
	}{
		{"abc", true, "abc", nil, nil},
		{"", true, "", nil, nil},
		{`a{{ "{{" }}b`, true, "a{{b", nil, nil},
		{`{{ "a b" | urlencode }}`, true, "a%20b", nil, nil},
		{"{{ a }}{{ b }}{{ a }}", false, "", []string{"a", "b"}, nil},
		{`{{ pick x "y" z }}`, false, "", []string{"x", "z"}, nil},
		{"{{ randomInt lo 10 }}", false, "", []string{"lo"}, nil},
		{`{{ env "A" }}{{ env "B" }}{{ env "A" }}`, false, "", nil, []string{"A", "B"}},
		{"{{ user }}", false, "", nil, nil},
	}
	for _, tt := range tests {
		tm, err := ParseTemplate(tt.src)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", tt.src, err)
		}
		b, static := tm.Static()
		if static != tt.static || string(b) != tt.bytes {
			t.Errorf("%q.Static() = %q, %v; want %q, %v", tt.src, b, static, tt.bytes, tt.static)
		}
		if static && string(tm.Append(nil, nil)) != string(b) {
			t.Errorf("%q: Append differs from Static bytes", tt.src)
		}
		if !slices.Equal(tm.Vars(), tt.vars) || !slices.Equal(tm.EnvRefs(), tt.envs) {
			t.Errorf("%q: Vars %v EnvRefs %v, want %v %v", tt.src, tm.Vars(), tm.EnvRefs(), tt.vars, tt.envs)
		}
	}
}

func TestTemplateAppendAllocs(t *testing.T) {
	for _, src := range []string{
		"GET /static/path",
		"/users/{{ name }}/orders/{{ n }}",
		"{{ user }}-{{ iteration }}-{{ randomInt 1 100 }}-{{ pick \"a\" b }}",
		`{{ quote | json }} {{ q | urlencode }} {{ name | base64 }}`,
		`{{ uuid }} {{ randomString 16 }} {{ data "users" "email" }} {{ env "TOKEN" }}`,
	} {
		tm, err := ParseTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		sc := seededScope(1)
		buf := make([]byte, 0, 1024)
		if n := testing.AllocsPerRun(100, func() { buf = tm.Append(buf[:0], sc) }); n != 0 {
			t.Errorf("Append(%q) allocates %v times per run, want 0", src, n)
		}
	}
}

func TestTemplateCompileJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"sorted keys", map[string]any{"b": 1.0, "a": "x", "c": nil}, `{"a":"x","b":1,"c":null}`},
		{"numbers", []any{1.5, 2.0, 1e21, int(3), int64(-4), uint64(18446744073709551615), json.Number("6.25e2"), true, false},
			`[1.5,2,1e+21,3,-4,18446744073709551615,6.25e2,true,false]`},
		{"empty", map[string]any{"a": []any{}, "b": map[string]any{}}, `{"a":[],"b":{}}`},
		{"typed unquoted", map[string]any{"id": "{{ user }}", "it": "{{iteration}}", "n": "{{ randomInt 5 5 }}"},
			`{"id":42,"it":3,"n":5}`},
		{"text around a number is a string", map[string]any{"s": "id-{{ user }}", "t": " {{ user }}"}, `{"s":"id-42","t":" 42"}`},
		{"pipe makes a string", map[string]any{"q": "{{ user | base64 }}"}, `{"q":"NDI="}`},
		{"variables are strings", map[string]any{"n": "{{ n }}", "name": "{{ name }}"}, `{"n":"7","name":"Ann Lee"}`},
		{"escaped variable", map[string]any{"q": "{{ quote }}!"}, `{"q":"He said \"hi\"\nnew\tline ü \u0001!"}`},
		{"escaped literal", map[string]any{"l": "line\n\"q\" \\ é"}, `{"l":"line\n\"q\" \\ é"}`},
		{"escaped key", map[string]any{"a\"b": 1}, `{"a\"b":1}`},
		{"literal braces", map[string]any{"t": `{{ "{{" }}x}}`}, `{"t":"{{x}}"}`},
		{"nested", map[string]any{"user": map[string]any{"email": `{{ data "users" "email" }}`, "tags": []any{"{{ pick \"a\" }}"}}},
			`{"user":{"email":"b@x","tags":["a"]}}`},
	}
	for _, tt := range tests {
		tm, err := CompileJSON(tt.v)
		if err != nil {
			t.Fatalf("%s: CompileJSON: %v", tt.name, err)
		}
		got := tm.Append(nil, seededScope(1))
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: invalid JSON %s", tt.name, got)
		}
	}
}

func TestTemplateCompileJSONRoundTrip(t *testing.T) {
	tm, err := CompileJSON(map[string]any{"v": "{{ v }}", "e": `{{ env "K" }}`, "u": "{{ unixMs }}"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tm.Vars(), []string{"v"}) || !slices.Equal(tm.EnvRefs(), []string{"K"}) {
		t.Errorf("Vars %v EnvRefs %v", tm.Vars(), tm.EnvRefs())
	}
	if _, static := tm.Static(); static {
		t.Error("template with expressions reported static")
	}
	for _, v := range []string{"plain", "\"\\\n\r\t\x00\x1f\x7f", "ünïcødé ✓ 🚀", "\u2028<&>", "bad \xff\xfe utf8"} {
		sc := &Scope{Vars: map[string]string{"v": v}, Env: map[string]string{"K": v}}
		out := tm.Append(nil, sc)
		var back struct {
			V, E string
			U    float64
		}
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: %s: %v", v, out, err)
		}
		want := string([]rune(v)) // each invalid byte becomes U+FFFD
		if back.V != want || back.E != want || back.U < 1e12 {
			t.Errorf("%q: decoded %+v from %s", v, back, out)
		}
	}
	st, err := CompileJSON(map[string]any{"a": []any{"x", 1.0}})
	if err != nil {
		t.Fatal(err)
	}
	if b, static := st.Static(); !static || string(b) != `{"a":["x",1]}` {
		t.Errorf("Static() = %s, %v", b, static)
	}
}

func TestTemplateCompileJSONErrors(t *testing.T) {
	tests := []struct {
		v   any
		msg string
	}{
		{map[string]any{"a": map[string]any{"b": "{{ nope 1 }}"}}, `$.a.b: offset 3: unknown function "nope"`},
		{[]any{1.0, "{{ x"}, `$[1]: offset 0: unclosed "{{"`},
		{map[string]any{"f": math.NaN()}, "$.f: NaN is not a JSON number"},
		{map[string]any{"f": math.Inf(1)}, "$.f: +Inf is not a JSON number"},
		{map[string]any{"s": struct{}{}}, "$.s: unsupported JSON value of type struct {}"},
		{json.Number("0x10"), `$: "0x10" is not a JSON number`},
	}
	for _, tt := range tests {
		_, err := CompileJSON(tt.v)
		if err == nil || err.Error() != tt.msg {
			t.Errorf("CompileJSON(%v) = %v, want %q", tt.v, err, tt.msg)
		}
	}
	_, err := CompileJSON(map[string]any{"a": "{{ }}"})
	var te *TemplateError
	if !errors.As(err, &te) || te.Offset != 0 {
		t.Errorf("CompileJSON error %v is not a *TemplateError at offset 0", err)
	}
}
