package plan

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// setupScenario is the scope.scenario of the plan-level setup's steps.
const setupScenario = -2

// scope says which variables a template may read.
type scope struct {
	// scenario whose captures are visible; -1: any scenario's (defaults);
	// setupScenario: the plan-level setup's own.
	scenario int
	// vars is how many plan vars are visible (the first vars); -1: all.
	vars int
	// noCaptures: no capture is visible (plan vars run before any request).
	noCaptures bool
}

// tmplUse is one compiled template, kept for the cross-checks.
type tmplUse struct {
	node *yaml.Node
	path string
	src  string
	vars []string
	env  []string
	sc   scope
}

// urlUse is one step URL, kept for the host check.
type urlUse struct {
	node *yaml.Node
	path string
	url  string
}

// template compiles src (the text of n) and records what it reads. A
// syntax error is located at its column when the scalar is on one line.
func (p *parser) template(n *yaml.Node, path, src string, sc scope) {
	t, err := engine.ParseTemplate(src)
	if err != nil {
		e := Error{File: p.file, Line: n.Line, Col: n.Column, Path: path, Msg: "template: " + err.Error()}
		var te *engine.TemplateError
		if errors.As(err, &te) {
			e.Msg = "template: " + te.Msg
			e.Col = templateColumn(n, src, te.Offset)
		}
		p.add(e)
		return
	}
	p.uses = append(p.uses, tmplUse{node: n, path: path, src: src, vars: t.Vars(), env: t.EnvRefs(), sc: sc})
}

// templateColumn maps a byte offset in a scalar's value to a column. It is
// exact for plain and simple quoted scalars on one line; otherwise it gives
// the scalar's own column.
func templateColumn(n *yaml.Node, src string, off int) int {
	if n.Line == 0 || strings.Contains(src, "\n") || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Column
	}
	quote := 0
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if strings.ContainsAny(src, "\"\\\t") {
			return n.Column // escapes shift the columns
		}
		quote = 1
	case n.Style&yaml.SingleQuotedStyle != 0:
		if strings.Contains(src, "'") {
			return n.Column
		}
		quote = 1
	}
	off = max(0, min(off, len(src)))
	return n.Column + quote + utf8.RuneCountInString(src[:off])
}

// kvs reads an ordered mapping of names to template values (headers,
// query, cookies, form). checkName, if set, vets each name.
func (p *parser) kvs(n *yaml.Node, path string, sc scope, checkName func(string) (string, string)) []engine.KV {
	keys, vals, _ := p.pairs(n, path)
	var out []engine.KV
	for i, k := range keys {
		at := join(path, k.Value)
		if checkName != nil {
			if msg, hint := checkName(k.Value); msg != "" {
				p.at(k, at, hint, "%s", msg)
				continue
			}
		}
		v := ""
		if !isNull(vals[i]) {
			var ok bool
			if v, ok = p.str(vals[i], at); !ok {
				continue
			}
		}
		p.template(vals[i], at, v, sc)
		out = append(out, engine.KV{Name: k.Value, Value: v})
	}
	return out
}

// isToken reports whether s is an HTTP token (RFC 9110), as header and
// cookie names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func checkHeaderName(s string) (string, string) {
	if !isToken(s) {
		return "\"" + clip(s) + "\" is not a valid header name", "use letters, digits and -"
	}
	return "", ""
}

func checkCookieName(s string) (string, string) {
	if !isToken(s) {
		return "\"" + clip(s) + "\" is not a valid cookie name", "use letters, digits, - and _"
	}
	return "", ""
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// checkVarName vets a variable name (vars, captures).
func checkVarName(s string) (string, string) {
	switch {
	case !varName.MatchString(s):
		return "\"" + clip(s) + "\" is not a valid variable name", "use letters, digits, _ and ., not starting with a digit"
	case !engine.IsVarName(s):
		return "\"" + s + "\" is a template function's name", "rename the variable: {{ " + s + " }} calls the function"
	}
	return "", ""
}

// isIdent reports whether s is a plain name: letters, digits and _, not
// starting with a digit.
func isIdent(s string) bool {
	return s != "" && strings.IndexByte(s, '.') < 0 && varName.MatchString(s)
}

// dataRef finds {{ data "set" "column" }} calls in a template's source.
var dataRef = regexp.MustCompile(`\bdata\s+"((?:[^"\\]|\\.)*)"\s+"((?:[^"\\]|\\.)*)"`)

// dataRefs lists the (set, column) pairs src reads, looking only inside
// {{ }} expressions.
func dataRefs(src string) [][2]string {
	var out [][2]string
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			return out
		}
		for _, m := range dataRef.FindAllStringSubmatch(src[i:i+j], -1) {
			out = append(out, [2]string{unescape(m[1]), unescape(m[2])})
		}
		src = src[i+j:]
	}
}

// unescape undoes the template language's string escapes.
func unescape(s string) string {
	r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\t`, "\t", `\r`, "\r")
	return r.Replace(s)
}
