package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// head is a valid plan's first three lines; cases add their own below it.
const head = "target: http://127.0.0.1:8080\nduration: 10s\nload: {rate: 5}\n"

func noEnv(string) (string, bool) { return "", false }

// parseErrs parses src as dir/plan.yaml and returns the error lines.
func parseErrs(t *testing.T, dir, src string) []string {
	t.Helper()
	_, err := Parse(filepath.Join(dir, "plan.yaml"), []byte(src), noEnv)
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	if strings.Count(err.Error(), "\n") != len(es)-1 {
		t.Errorf("Error() should print one line per problem:\n%s", err)
	}
	lines := strings.Split(err.Error(), "\n")
	for i := range lines {
		lines[i] = strings.TrimPrefix(lines[i], filepath.Join(dir, "plan.yaml")+":")
	}
	return lines
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"bad method", head + "scenarios:\n  - steps:\n      - method: GRT\n        url: /x\n",
			[]string{`6:17: scenarios[0].steps[0].method: "GRT" is not an HTTP method (hint: use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)`}},
		{"unknown step key", head + "scenarios:\n  - steps:\n      - get: /x\n        timout: 1s\n",
			[]string{`7:9: scenarios[0].steps[0].timout: unknown key "timout" (hint: did you mean "timeout"?)`}},
		{"unknown top key without a close match", head + "scenarios: [{steps: [{get: /}]}]\nfoo: 1\n",
			[]string{`5:1: foo: unknown key "foo" (hint: valid keys here: name, description, target, allowed_hosts, duration, load, generators, regions, slice, memory_mb, seed, defaults, vars, data, setup, scenarios, thresholds, budget)`}},
		{"missing required", "load: {rate: 5}\n",
			[]string{
				`1:1: target: is required (hint: the base URL of the system under test, e.g. target: http://127.0.0.1:8080)`,
				`1:1: duration: is required (hint: how long the test runs, e.g. duration: 2m)`,
				`1:1: scenarios: is required (hint: list what virtual users do, e.g. scenarios: [{name: browse, steps: [{get: /}]}])`,
			}},
		{"duration without unit", "target: http://127.0.0.1:8080\nduration: 90\nload: {rate: 5}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`2:11: duration: duration "90" has no unit (hint: write 90s or 90ms)`}},
		{"stages longer than the test", "target: http://127.0.0.1:8080\nduration: 1m\nload: {stages: [{duration: 2m, target: 5}]}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`2:11: duration: the load stages last 2m, longer than the test's 1m (hint: lengthen the test or shorten the stages)`}},
		{"ramp_up with stages", "target: http://127.0.0.1:8080\nduration: 1m\nload: {model: closed, ramp_up: 10s, stages: [{duration: 10s, target: 5}]}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`3:23: load.ramp_up: ramp_up cannot go with stages (hint: ramp with a first stage instead, e.g. {duration: 30s, target: 100})`}},
		{"closed key in open model", "target: http://127.0.0.1:8080\nduration: 1m\nload: {rate: 5, users: 3}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`3:17: load.users: users is for the closed model (hint: add model: closed, or use rate for the open model)`}},
		{"release_tick too fine", "target: http://127.0.0.1:8080\nduration: 1m\nload: {rate: 5, release_tick: 10us}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`3:31: load.release_tick: 10µs is outside 50µs to 50ms (hint: the default, 500µs, releases arrivals within half a millisecond; 5ms costs well under half its CPU at 1,000 iterations/s)`}},
		{"release_tick in the closed model", "target: http://127.0.0.1:8080\nduration: 1m\nload: {model: closed, users: 3, release_tick: 5ms}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`3:33: load.release_tick: release_tick is for the open model (hint: the closed model uses users, ramp_up and stages)`}},
		{"zero load", "target: http://127.0.0.1:8080\nduration: 1m\nload: {rate: 0}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`3:7: load: the load is 0 throughout: nothing would run (hint: raise the rate, the users or a stage target)`}},
		{"slice too long", head + "slice: 15m\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`4:8: slice: 15m is longer than 14m (hint: a Lambda runs at most 15 minutes; use 14m or less)`}},
		{"bad region", head + "regions: [us-east-1, moon]\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`4:22: regions[1]: "moon" is not a region (hint: use an AWS region name such as us-east-1 or eu-west-1, or "local")`}},
		{"generators with a region map", head + "generators: 2\nregions: {us-east-1: 3}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`4:1: generators: generators cannot go with a map of regions (hint: give each region its count in the regions map)`}},
		{"target not http", "target: 127.0.0.1:8080\nduration: 10s\nload: {rate: 5}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{`1:9: target: "127.0.0.1:8080" is not an absolute http(s) URL (hint: write an absolute URL such as http://127.0.0.1:8080)`}},
		{"host not allowed", head + "scenarios: [{steps: [{get: 'https://cdn.example.com/a'}]}]\n",
			[]string{`4:28: scenarios[0].steps[0].get: host "cdn.example.com" is neither the target's nor in allowed_hosts (hint: add it to allowed_hosts, or use a path relative to target)`}},
		{"allowed host", head + "allowed_hosts: [cdn.example.com]\nscenarios: [{steps: [{get: 'https://cdn.example.com/a'}, {get: 'http://127.0.0.1:8080/b'}]}]\n", nil},
		{"status out of range", head + "scenarios: [{steps: [{get: /, expect: {status: [200, 99]}}]}]\n",
			[]string{`4:54: scenarios[0].steps[0].expect.status[1]: 99 is out of range (want 100 to 599)`}},
		{"weights all zero", head + "scenarios: [{weight: 0, steps: [{get: /}]}]\n",
			[]string{`4:12: scenarios: every scenario has weight 0: nothing would run (hint: give at least one scenario a weight above 0)`}},
		{"template syntax error column", head + "scenarios:\n  - steps:\n      - get: /a/{{ bogus 1 }}\n      - get: '/a/{{ pick }}'\n",
			[]string{
				`6:20: scenarios[0].steps[0].get: template: unknown function "bogus"`,
				`7:21: scenarios[0].steps[1].get: template: pick takes at least 1 argument(s)`,
			}},
		{"undefined variable", head + "scenarios:\n  - steps:\n      - get: /a/{{ tokn }}\n        capture: {token: {json: $.t}}\n",
			[]string{`6:14: scenarios[0].steps[0].get: undefined variable "tokn" (hint: did you mean "token"?)`}},
		{"capture of another scenario", head + "scenarios:\n  - steps: [{get: '/{{ token }}'}]\n  - steps: [{get: /, capture: {token: {json: $.t}}}]\n",
			[]string{`5:19: scenarios[0].steps[0].get: undefined variable "token" (hint: define it under vars, capture it in a step of this scenario, or read a data column with {{ data "set" "column" }})`}},
		{"missing env", head + "scenarios: [{steps: [{get: /, headers: {X-Key: '{{ env \"API_KEY\" }}'}}]}]\n",
			[]string{`4:48: scenarios[0].steps[0].headers.X-Key: environment variable "API_KEY" is not set (hint: export API_KEY=... before running)`}},
		{"bad json path", head + "scenarios: [{steps: [{get: /, capture: {x: {json: 'a..b'}}}]}]\n",
			nil}, // filled in below from the engine's own message
		{"bad regex", head + "scenarios: [{steps: [{get: /, capture: {x: {regex: '(('}}}]}]\n",
			nil},
		{"poll without until", head + "scenarios: [{steps: [{get: /, poll: {interval: 1s, max_tries: 3}}]}]\n",
			[]string{`4:37: scenarios[0].steps[0].poll.until: is required (hint: e.g. until: {path: $.status, equals: completed})`}},
		{"two bodies", head + "scenarios: [{steps: [{post: /, json: {a: 1}, body: x}]}]\n",
			[]string{`4:46: scenarios[0].steps[0].body: a step has one body: both json and body given (hint: keep one of them)`}},
		{"threshold unknown metric", head + "scenarios: [{steps: [{get: /}]}]\nthresholds: [p98 < 1s]\n",
			[]string{`5:14: thresholds[0]: unknown metric "p98" (hint: did you mean "p90"?)`}},
		{"threshold unknown step", head + "scenarios: [{steps: [{name: GET /products, get: /p}]}]\nthresholds: ['GET /product: p95 < 1s']\n",
			[]string{`5:14: thresholds[0]: no step is named "GET /product" (hint: did you mean "GET /products"?)`}},
		{"threshold unit", head + "scenarios: [{steps: [{get: /}]}]\nthresholds: [p95 < 300, error_rate < 0.01]\n",
			[]string{
				`5:14: thresholds[0]: p95 needs a time unit, got "300" (hint: write 300ms or 300s)`,
				`5:25: thresholds[1]: error_rate needs a percentage, got "0.01" (hint: write 0.01%)`,
			}},
		{"duplicate key", head + "scenarios: [{steps: [{get: /}]}]\nduration: 5s\n",
			[]string{`5:1: duration: duplicate key (first at line 2) (hint: remove one of them)`}},
		{"yaml syntax", "target: [\n", []string{`1: invalid YAML: did not find expected node content`}},
		{"empty", "", []string{`1: the plan is empty (hint: start from examples/quickstart.yaml)`}},
		{"only a comment", "# nothing\n", []string{`1: the plan is empty (hint: start from examples/quickstart.yaml)`}},
		{"control character", head + "name: a\x01b\n", []string{`4:8: invalid YAML: control characters are not allowed`}},
		{"bad utf-8", head + "name: caf\xe9\n", []string{`4:10: invalid YAML: incomplete UTF-8 octet sequence`}},
		{"two documents", head + "scenarios: [{steps: [{get: /}]}]\n---\nname: x\n",
			[]string{`5:1: a plan file holds one YAML document (hint: remove the second "---" or split the file)`}},
		{"function name as a variable", head + "vars: {uuid: x, 9lives: y}\nscenarios: [{steps: [{get: /}]}]\n",
			[]string{
				`4:8: vars.uuid: "uuid" is a template function's name (hint: rename the variable: {{ uuid }} calls the function)`,
				`4:17: vars.9lives: "9lives" is not a valid variable name (hint: use letters, digits, _ and ., not starting with a digit)`,
			}},
		{"var used before defined and capture in vars", head + "vars: {a: '{{ b }}', b: x, c: '{{ tok }}'}\nscenarios: [{steps: [{get: /, capture: {tok: {json: $.t}}}]}]\n",
			[]string{
				`4:11: vars.a: variable "b" is used before it is defined (hint: vars are evaluated in order: move b above this one)`,
				`4:31: vars.c: variable "tok" is captured by a step, not defined under vars (hint: vars are evaluated before any request; use the capture in a step)`,
			}},
		{"top level list", "- a\n", []string{`1:1: want a mapping, got a list`}},
		{"alias cycle", head + "scenarios: [{steps: [{post: /, json: &j [1, *j]}]}]\n",
			[]string{`4:45: alias *j refers to itself (hint: an alias cannot refer to a node that contains it)`}},
		{"alias bomb", head + "x1: &a [1,1,1,1,1,1,1,1,1,1]\nx2: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx3: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
			"x4: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nx5: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nx6: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
			"scenarios: [{steps: [{post: /, json: *f}]}]\n",
			[]string{`1: the plan is too large: its aliases expand to more than 1000000 nodes (hint: write the values out instead of nesting aliases)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrs(t, t.TempDir(), tt.src)
			if tt.want == nil && (tt.name == "bad json path" || tt.name == "bad regex") {
				if len(got) != 1 || !strings.HasPrefix(got[0], "4:") || !strings.Contains(got[0], "capture.x.") {
					t.Errorf("got %q, want one error on the capture's expression", got)
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestEveryProblemAtOnce checks that one parse reports all problems, in
// file order, each once.
func TestEveryProblemAtOnce(t *testing.T) {
	src := `name: many problems
target: http://127.0.0.1:8080
duration: 1m
load:
  rate: fast
  max_conns: 2000
memory_mb: 64
defaults:
  insecure: true
scenarios:
  - name: browse
    think: {between: [3s, 1s]}
    steps:
      - method: GRT
        url: products
      - get: /x
        post: /y
  - name: browse
    steps: []
thresholds:
  - p99 < 1
budget: {max_usd: -5}
`
	want := []string{
		`5:9: load.rate: "fast" is not a rate (hint: write a number of iterations per second (50), or 50/s, 3000/m, 10/h)`,
		`6:14: load.max_conns: 2000 is out of range (want 1 to 900)`,
		`7:12: memory_mb: 64 is out of range (want 128 to 10240)`,
		`9:3: defaults.insecure: unknown key "insecure" (hint: valid keys here: headers, timeout, insecure_tls, max_redirects, http2, max_body_bytes)`,
		`12:22: scenarios[0].think.between: [3s, 1s] is not a range (hint: write [min, max] with 0 <= min <= max)`,
		`14:17: scenarios[0].steps[0].method: "GRT" is not an HTTP method (hint: use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)`,
		`15:14: scenarios[0].steps[0].url: "products" is not a path or an http(s) URL (hint: start a path with /, or give an absolute http(s) URL)`,
		`17:9: scenarios[0].steps[1].post: a step makes one request: both get and post given (hint: split them into separate steps)`,
		`18:5: scenarios[1].name: duplicate scenario name "browse" (hint: give each scenario its own name)`,
		`19:12: scenarios[1].steps: list at least one step`,
		`21:5: thresholds[0]: p99 needs a time unit, got "1" (hint: write 1ms or 1s)`,
		`22:19: budget.max_usd: must be above 0`,
	}
	got := parseErrs(t, t.TempDir(), src)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "plan.yaml", Line: 14, Col: 7, Path: "scenarios[1].steps[0].method", Msg: `"GRT" is not an HTTP method`, Hint: "use GET"},
			`plan.yaml:14:7: scenarios[1].steps[0].method: "GRT" is not an HTTP method (hint: use GET)`},
		{Error{File: "plan.yaml", Line: 3, Msg: "invalid YAML: x"}, "plan.yaml:3: invalid YAML: x"},
		{Error{File: "plan.yaml", Msg: "the plan is empty"}, "plan.yaml: the plan is empty"},
		{Error{Msg: "m", Path: "p"}, "p: m"},
		{Error{Msg: "unknown key", Path: "a\nb"}, `a\nb: unknown key`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := TopLevelKeys()
	tests := map[string]string{
		"scenario":   `did you mean "scenarios"?`,
		"treshholds": `did you mean "thresholds"?`,
		"memory":     "",
		"taget":      `did you mean "target"?`,
		"Duration":   `did you mean "duration"?`,
		"zzzzzz":     "",
	}
	for word, want := range tests {
		if got := suggest(word, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestDataFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("users.csv", "\xef\xbb\xbfemail,password\na@x.io,p1\nb@x.io,p2\n")
	write("ragged.csv", "email,password\na@x.io,p1\nb@x.io\n")
	write("header.csv", "email,email\na,b\n")
	write("empty.csv", "")
	src := head + `data:
  users: {file: users.csv, random: true}
  ragged: ragged.csv
  header: {file: header.csv}
  empty: {file: empty.csv}
  missing: {file: missing.csv}
scenarios:
  - steps:
      - get: '/{{ data "users" "email" }}/{{ data "users" "mail" }}/{{ data "nope" "x" }}'
`
	want := []string{
		`6:11: data.ragged: data file "ragged.csv": line 3: the columns are not consistent (the header has a different number of fields)`,
		`7:18: data.header.file: data file "header.csv": column "email" appears twice`,
		`8:17: data.empty.file: data file "empty.csv": the file is empty (the first row must name the columns)`,
		`9:19: data.missing.file: cannot read data file "missing.csv": no such file or directory (hint: data files are read relative to the plan's directory)`,
		`12:14: scenarios[0].steps[0].get: data set "users" has no column "mail" (hint: its columns are email, password)`,
		`12:14: scenarios[0].steps[0].get: data set "nope" is not defined (hint: declare it under data:, e.g. data: {nope: {file: nope.csv}})`,
	}
	got := parseErrs(t, dir, src)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
