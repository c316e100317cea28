package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestJSONPathLookup(t *testing.T) {
	var doc any
	src := `{"a":{"b":"c"},"items":[{"id":1},{"id":2},{"id":3}],"odd key":{"x.y":true},
		"n":null,"arr":[[1,2],[3]],"it's":"q","":{"empty":1}}`
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		want  any
		found bool
	}{
		{"$.a.b", "c", true},
		{"$.a", map[string]any{"b": "c"}, true},
		{"$.items[0].id", 1.0, true},
		{"$.items[2].id", 3.0, true},
		{"$.items[-1].id", 3.0, true},
		{"$.items[-3].id", 1.0, true},
		{"$.items[3]", nil, false},
		{"$.items[-4]", nil, false},
		{"$['odd key']['x.y']", true, true},
		{`$["odd key"]["x.y"]`, true, true},
		{`$['it\'s']`, "q", true},
		{"$[''].empty", 1.0, true},
		{"$.n", nil, true},
		{"$.arr[0][1]", 2.0, true},
		{"$.arr[1][0]", 3.0, true},
		{"$.a.x", nil, false},
		{"$.a.b.c", nil, false},
		{"$.a[0]", nil, false},
		{"$.items.id", nil, false},
		{"$.missing[0]", nil, false},
	}
	for _, tt := range tests {
		p, err := ParseJSONPath(tt.path)
		if err != nil {
			t.Fatalf("ParseJSONPath(%q): %v", tt.path, err)
		}
		got, found := p.Lookup(doc)
		if found != tt.found || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Lookup = %v, %v; want %v, %v", tt.path, got, found, tt.want, tt.found)
		}
		if p.String() != tt.path {
			t.Errorf("String() = %q, want %q", p.String(), tt.path)
		}
	}
	root, _ := ParseJSONPath("$")
	if got, ok := root.Lookup(doc); !ok || !reflect.DeepEqual(got, doc) {
		t.Errorf("$ did not return the whole document")
	}
}

func TestParseJSONPathErrors(t *testing.T) {
	tests := []struct {
		path string
		off  string
		msg  string
	}{
		{"", "offset 0", `must start with "$"`},
		{"a.b", "offset 0", `must start with "$"`},
		{"$.", "offset 1", "empty member name"},
		{"$.a..b", "offset 3", "empty member name"},
		{"$.a[", "offset 3", `unclosed "["`},
		{"$[x]", "offset 2", "is not an index"},
		{"$[]", "offset 2", "is not an index"},
		{"$['a", "offset 2", "unterminated quoted name"},
		{"$['a'x]", "offset 5", `want "]"`},
		{"$a", "offset 1", "unexpected 'a'"},
		{"$.a]", "", ""}, // "]" is part of a member name: allowed
	}
	for _, tt := range tests {
		_, err := ParseJSONPath(tt.path)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("ParseJSONPath(%q): %v", tt.path, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.off+": ") || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseJSONPath(%q) = %v, want %s and %q", tt.path, err, tt.off, tt.msg)
		}
	}
}
