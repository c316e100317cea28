package engine

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseTemplate checks that parsing never panics, that errors are
// *TemplateError inside the source, that rendering never panics, that
// Static agrees with Append, and that a JSON body always renders valid JSON.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{{ name }}", "{{", "}}", "{{ }}", `{{ "{{" }}`, `{{ "a\"b\\" | json }}`,
		`{{ pick "a" 1 name }}`, "{{ randomInt 1 3 }}", "{{ randomInt lo hi }}", "{{ randomString 8 }}",
		"{{ uuid }}{{ now }}{{ unix }}{{ unixMs }}{{ user }}{{ iteration }}", `{{ env "A" }}`,
		`{{ data "users" "email" | urlencode | base64 }}`, "{{ name | json | json }}", "{{ -1 }}",
		"{{ 9223372036854775808 }}", "{{ name \xff }}", "a{{b}}c{{d", `{{ "\`,
	} {
		f.Add(s)
	}
	sc := seededScope(1)
	sc.Vars["lo"], sc.Vars["hi"], sc.Vars["b"] = "-5", "x", "\"\n\xff"
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTemplate(s)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len(s) {
				t.Fatalf("ParseTemplate(%q) = %v: not a *TemplateError inside the source", s, err)
			}
			return
		}
		out := tm.Append(nil, sc)
		if b, static := tm.Static(); static && string(b) != string(out) {
			t.Fatalf("%q: Static %q != Append %q", s, b, out)
		}
		tm.Append(nil, nil)
		jt, err := CompileJSON(map[string]any{"k": s, "l": []any{s, 1.0}})
		if err != nil {
			t.Fatalf("CompileJSON of a valid template %q: %v", s, err)
		}
		if out := jt.Append(nil, sc); !json.Valid(out) {
			t.Fatalf("CompileJSON(%q) rendered invalid JSON %s", s, out)
		}
	})
}

// FuzzParseJSONPath checks that parsing and lookups never panic.
func FuzzParseJSONPath(f *testing.F) {
	for _, s := range []string{"$", "$.a.b", "$.items[-1].id", `$['odd key']`, `$["a\"b"]`, "$[", "$.a[x]"} {
		f.Add(s)
	}
	var doc any
	if err := json.Unmarshal([]byte(`{"a":{"b":[1,{"c":null}]},"items":[{"id":1}]}`), &doc); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseJSONPath(s)
		if err != nil {
			return
		}
		p.Lookup(doc)
	})
}
