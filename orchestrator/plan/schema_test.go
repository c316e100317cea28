package plan

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestSchemaMatchesParser keeps docs/plan.schema.json in step with the
// keys the parser accepts.
func TestSchemaMatchesParser(t *testing.T) {
	b, err := os.ReadFile("../../docs/plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
	}
	var s struct {
		Schema string `json:"$schema"`
		object
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("docs/plan.schema.json is not valid JSON: %v", err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", s.Schema)
	}
	check := func(name string, o object, want []string) {
		t.Helper()
		got := make([]string, 0, len(o.Properties))
		for k := range o.Properties {
			got = append(got, k)
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %v, parser keys %v", name, got, want)
		}
		if o.AdditionalProperties == nil || *o.AdditionalProperties {
			t.Errorf("%s: additionalProperties must be false (unknown keys are errors)", name)
		}
	}
	check("top level", s.object, TopLevelKeys())
	defs := map[string][]string{
		"load": loadKeys, "defaults": defaultsKeys, "scenario": scenarioKeys, "step": stepKeys,
		"expect": expectKeys, "cond": condKeys, "poll": pollKeys,
	}
	for name, want := range defs {
		var o object
		if err := json.Unmarshal(s.Defs[name], &o); err != nil || o.Properties == nil {
			t.Errorf("$defs.%s missing or not an object schema (%v)", name, err)
			continue
		}
		check("$defs."+name, o, want)
	}
}
