package plan

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// anyEnv sets every environment variable, so that fuzzed plans are not
// refused for a missing one.
func anyEnv(name string) (string, bool) { return "value-of-" + name, true }

// FuzzParse checks that Parse never panics and that, for input that
// parses, parse → marshal → parse gives the same plan and marshal is stable.
func FuzzParse(f *testing.F) {
	for _, file := range examples(f) {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(head + "scenarios: [{steps: [{get: /}]}]\n"))
	f.Add([]byte(head + "regions: {us-east-1: 2, eu-west-1: 1}\nvars: {a: '1', b: '{{ a }}'}\n" +
		"data: {d: {columns: [x], rows: [['1'], ['2']]}}\n" +
		"scenarios: [{think: {pacing: 1s}, steps: [{post: '/{{ data \"d\" \"x\" }}', json: {n: 1.0, s: '{{ b }}', l: [null, true]}, " +
		"expect: {status: 201, json: [{path: $.a, equals: 1}]}, capture: {c: {regex: 'a(b)'}}, " +
		"poll: {interval: 1s, max_tries: 2, until: {path: $.s, in: [x, 2]}}}]}]\n" +
		"thresholds: [{expr: 'requests >= 10', abort_on_fail: true}]\nbudget: {max_usd: 0.1}\n"))
	f.Add([]byte("target: [\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(checkParse)
}

// checkParse is FuzzParse's property: Parse never panics; every problem it
// reports is located (file:line); what parses marshals, parses again to
// the same plan, and marshals the same.
func checkParse(t *testing.T, src []byte) {
	p, err := Parse("fuzz/plan.yaml", src, anyEnv)
	if err != nil {
		es, ok := err.(Errors)
		if !ok || len(es) == 0 {
			t.Fatalf("error is %T (%v), want Errors", err, err)
		}
		// Every problem is located: "fuzz/plan.yaml:LINE:...".
		for _, e := range es {
			if e.File != "fuzz/plan.yaml" || e.Line < 1 || !strings.HasPrefix(e.Error(), "fuzz/plan.yaml:"+strconv.Itoa(e.Line)+":") {
				t.Fatalf("problem without a file:line: %q (line %d)\n--- input\n%q", e.Error(), e.Line, src)
			}
		}
		return
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	q, err := Parse("fuzz/plan.yaml", out, anyEnv)
	if err != nil {
		t.Fatalf("reparse failed: %v\n--- input\n%s\n--- marshaled\n%s", err, src, out)
	}
	q.Source = p.Source
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("parse/marshal/parse changed the plan\n%#v\n%#v\n--- marshaled\n%s", p.Engine, q.Engine, out)
	}
	again, err := q.Marshal()
	if err != nil || !bytes.Equal(out, again) {
		t.Fatalf("marshal is not stable (%v):\n%s\n---\n%s", err, out, again)
	}
}
