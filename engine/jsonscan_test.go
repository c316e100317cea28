package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// treeLookup is the reference: the body decoded whole (with UseNumber,
// refusing trailing data), then JSONPath.Lookup on the tree.
func treeLookup(body []byte, p *JSONPath) (v any, found, isJSON bool) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&doc) != nil {
		return nil, false, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, false
	}
	v, found = p.Lookup(doc)
	return v, found, true
}

// checkSame fails t unless the byte scan and the tree agree on path in body.
func checkSame(t *testing.T, body, path string) {
	t.Helper()
	p, err := ParseJSONPath(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var d Doc
	d.Reset(200, []byte(body), nil)
	gv, gf, gj := d.lookup(p)
	wv, wf, wj := treeLookup([]byte(body), p)
	if gf != wf || gj != wj || !reflect.DeepEqual(gv, wv) {
		t.Errorf("%s in %s: scan (%#v, found %v, json %v), tree (%#v, found %v, json %v)", path, body, gv, gf, gj, wv, wf, wj)
	}
}

func TestLookupRawMatchesTree(t *testing.T) {
	bodies := []string{
		`{"ok":true,"access_token":"abc","items":[{"id":4711,"name":"widget"},{"id":4712}]}`,
		` { "a" : { "b" : [ 1 , 2.5e3 , -0 , "x\"y" , null , false , {"c":[]} ] } } `,
		`{"dup":1,"dup":{"z":2},"dup":"last"}`,
		`{"esc\u0061ped":"v\u00e9","a\"b":1,"caf\u00e9":"\u2603","":"empty key"}`,
		`{"big":12345678901234567890123,"f":1.50,"neg":-12}`,
		`[[1,[2,[3]]],{"k":"]}{["},"tail"]`,
		`"just a string"`, `42`, `null`, `[]`, `{}`,
		`{"a":1} trailing`, `{"a":`, ``, `not json`, `{"a":1,}`,
		"{\"bad utf8\":\"\xff\xfe\"}", "{\"k\xffey\":1}",
	}
	paths := []string{
		"$", "$.ok", "$.access_token", "$.items", "$.items[0].id", "$.items[1].id", "$.items[-1].id",
		"$.items[2]", "$.items[-3]", "$.a.b[3]", "$.a.b[-1].c", "$.a.b[1]", "$.a.b[4]", "$.a.b[6].c",
		"$.dup", "$.dup.z", "$.escaped", "$['a\"b']", "$['café']", "$['']", "$.big", "$.f", "$.neg",
		"$[0][1][1][0]", "$[1].k", "$[-1]", "$[0]", "$.missing", "$.ok.deeper", "$['bad utf8']", "$['k\ufffdey']",
	}
	for _, b := range bodies {
		for _, p := range paths {
			checkSame(t, b, p)
		}
	}
}

// TestLookupRawRandom compares the scan with the tree on random documents
// at every path that exists in them, and at paths one step off.
func TestLookupRawRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		doc := randomJSON(r, 4)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		if n%3 == 0 {
			body = strings.ReplaceAll(body, ",", " ,\n ") // whitespace between tokens
		}
		for _, p := range pathsOf(doc, "$") {
			checkSame(t, body, p)
			checkSame(t, body, p+".nope")
			checkSame(t, body, p+"[0]")
			checkSame(t, body, p+"[-1]")
		}
	}
}

func randomJSON(r *rand.Rand, depth int) any {
	k := r.IntN(7)
	if depth == 0 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		return r.IntN(2000) - 1000
	case 1:
		return []string{"plain", `q"uote`, "back\\slash", "ünï", "</tag>", ""}[r.IntN(6)]
	case 2:
		return r.IntN(2) == 0
	case 3:
		return nil
	case 4, 5:
		m := map[string]any{}
		for i := r.IntN(5); i > 0; i-- {
			m[[]string{"a", "b", "id", "items", "k y", "ä"}[r.IntN(6)]] = randomJSON(r, depth-1)
		}
		return m
	}
	s := make([]any, r.IntN(5))
	for i := range s {
		s[i] = randomJSON(r, depth-1)
	}
	return s
}

// pathsOf lists the paths of v and of everything inside it.
func pathsOf(v any, at string) []string {
	out := []string{at}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out = append(out, pathsOf(e, fmt.Sprintf("%s[%q]", at, k))...)
		}
	case []any:
		for i, e := range x {
			out = append(out, pathsOf(e, fmt.Sprintf("%s[%d]", at, i))...)
			out = append(out, pathsOf(e, fmt.Sprintf("%s[%d]", at, i-len(x)))...)
		}
	}
	return out
}

// FuzzLookupRaw: on any body and path, the scan agrees with the tree (and
// never panics).
func FuzzLookupRaw(f *testing.F) {
	f.Add(`{"items":[{"id":1}]}`, "$.items[0].id")
	f.Add(`{"a":{"a":[1,"]",{"b":null}]}}`, "$.a.a[-1].b")
	f.Add(`[1,2`, "$[1]")
	f.Fuzz(func(t *testing.T, body, path string) {
		if _, err := ParseJSONPath(path); err != nil {
			return
		}
		checkSame(t, body, path)
	})
}
