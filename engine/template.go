package engine

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Scope is what templates read: one virtual user's state. It is owned by
// that virtual user and not safe for concurrent use.
type Scope struct {
	Vars      map[string]string
	Rand      *rand.Rand
	Env       map[string]string
	Data      map[string]DataSet
	User      int // the virtual user's number within the whole plan
	Iteration int
	// Row is the data row this user reads (User mod len(Rows) unless Random).
	Row int
}

// TemplateError locates a problem in a template source.
type TemplateError struct {
	Offset int // byte offset in the source
	Msg    string
}

// Error gives the message with its byte offset ("offset 7: unknown function "foo"").
func (e *TemplateError) Error() string { return "offset " + strconv.Itoa(e.Offset) + ": " + e.Msg }

// Template is a compiled template string. Safe for concurrent use.
//
// The language: literal text with expressions between "{{" and "}}". A lone
// "}}" outside an expression is literal text; write a literal "{{" as
// {{ "{{" }}. Inside an expression:
//
//	{{ name }}                 the virtual user's variable (missing: "")
//	{{ env "NAME" }}           an environment variable of the plan (Scope.Env)
//	{{ pick "a" "b" 3 name }}  one argument, chosen uniformly at random
//	{{ randomInt 1 3 }}        an integer in [min, max], both inclusive
//	{{ randomString 8 }}       n random characters from [a-z0-9]
//	{{ uuid }}                 a version 4 UUID drawn from Scope.Rand
//	{{ now }}                  the current time, RFC 3339, UTC, seconds
//	{{ unix }} {{ unixMs }}    the current Unix time in seconds, milliseconds
//	{{ user }}                 the virtual user's number in the whole plan
//	{{ iteration }}            the virtual user's iteration number
//	{{ data "set" "column" }}  a column of the user's row of a CSV data set
//	                           (row Scope.Row mod the row count, or a random
//	                           row when the set is Random)
//	{{ "text" }} {{ 42 }}      a literal (strings take \" \\ \n \t \r escapes)
//
// An expression may end in pipes, applied left to right: "| urlencode"
// (percent-encodes all but [A-Za-z0-9-._~]), "| json" (JSON string escaping,
// without the quotes) and "| base64" (standard, padded). Arguments are
// quoted strings, integers or bare variable names (letters, digits, '_' and
// '.', not starting with a digit); env and data take quoted strings only.
// A function name wins over a variable of the same name. A variable read
// where an integer is wanted counts as 0 unless it holds one.
//
// Literal parts render without allocating; so do variables and integers.
type Template struct {
	segs   []segment
	vars   []string
	envs   []string
	static bool
}

// ParseTemplate compiles s. Errors are *TemplateError.
func ParseTemplate(s string) (*Template, error) {
	var b tbuilder
	if err := b.parse(s, false); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// Static reports whether t renders the same bytes every time, and those bytes.
// The bytes belong to t: do not modify them.
func (t *Template) Static() ([]byte, bool) {
	if !t.static {
		return nil, false
	}
	if len(t.segs) == 0 {
		return []byte{}, true
	}
	return t.segs[0].lit, true
}

// Vars lists the variable names t reads ({{ name }}), for plan validation,
// each once, in order of first use.
func (t *Template) Vars() []string { return append([]string(nil), t.vars...) }

// EnvRefs lists the environment variables t reads ({{ env "NAME" }}), each
// once, in order of first use.
func (t *Template) EnvRefs() []string { return append([]string(nil), t.envs...) }

// Append renders t into dst and returns the extended slice. A nil sc is an
// empty scope.
func (t *Template) Append(dst []byte, sc *Scope) []byte {
	if sc == nil {
		sc = &Scope{}
	}
	for i := range t.segs {
		sg := &t.segs[i]
		if sg.kind == segLit {
			dst = append(dst, sg.lit...)
			continue
		}
		dst = sg.render(dst, sc)
	}
	return dst
}

// String renders t with an empty scope, for debugging.
func (t *Template) String() string { return string(t.Append(nil, nil)) }

// tbuilder accumulates segments, merging adjacent literals, and the names
// the template reads.
type tbuilder struct {
	segs []segment
	vars []string
	envs []string
}

func (b *tbuilder) addLit(p []byte) {
	if len(p) == 0 {
		return
	}
	if n := len(b.segs); n > 0 && b.segs[n-1].kind == segLit {
		b.segs[n-1].lit = append(b.segs[n-1].lit, p...)
		return
	}
	b.segs = append(b.segs, segment{kind: segLit, lit: append([]byte(nil), p...)})
}

func (b *tbuilder) addSeg(sg segment) {
	if sg.constant() {
		// A literal with pipes: render it now.
		b.addLit(sg.render(nil, &Scope{}))
		return
	}
	b.segs = append(b.segs, sg)
	if sg.kind == segVar {
		b.vars = addName(b.vars, sg.name)
	}
	for _, a := range sg.args {
		if a.kind == argVar {
			b.vars = addName(b.vars, a.s)
		}
	}
	if sg.fn == fnEnv {
		b.envs = addName(b.envs, sg.args[0].s)
	}
}

func addName(list []string, name string) []string {
	for _, n := range list {
		if n == name {
			return list
		}
	}
	return append(list, name)
}

func (b *tbuilder) finish() *Template {
	t := &Template{segs: b.segs, vars: b.vars, envs: b.envs}
	t.static = len(t.segs) == 0 || (len(t.segs) == 1 && t.segs[0].kind == segLit)
	return t
}

// parse appends the segments of template s. With jsonString set, literal
// parts are JSON-escaped and every expression gets a final json pipe.
func (b *tbuilder) parse(s string, jsonString bool) error {
	i := 0
	for i < len(s) {
		j := indexOpen(s, i)
		if j < 0 {
			j = len(s)
		}
		b.addText(s[i:j], jsonString)
		if j == len(s) {
			break
		}
		p := exprParser{src: s, pos: j + 2, start: j}
		sg, err := p.parseExpr()
		if err != nil {
			return err
		}
		if jsonString {
			sg.pipes = append(sg.pipes, pipeJSON)
		}
		b.addSeg(sg)
		i = p.pos
	}
	return nil
}

func (b *tbuilder) addText(text string, jsonString bool) {
	if jsonString {
		b.addLit(appendJSONEscape(nil, []byte(text)))
		return
	}
	b.addLit([]byte(text))
}

func indexOpen(s string, from int) int {
	for k := from; k+1 < len(s); k++ {
		if s[k] == '{' && s[k+1] == '{' {
			return k
		}
	}
	return -1
}

// tmplErr builds a *TemplateError.
func tmplErr(off int, format string, args ...any) error {
	return &TemplateError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// exprParser parses one expression; pos starts after "{{" and ends after "}}".
type exprParser struct {
	src   string
	pos   int
	start int // offset of the "{{"
}

type tokKind uint8

const (
	tokClose tokKind = iota // }}
	tokPipe                 // |
	tokIdent
	tokStr
	tokInt
)

type token struct {
	kind tokKind
	off  int
	s    string // identifier or unquoted string
	n    int64
}

func (t token) isArg() bool { return t.kind == tokIdent || t.kind == tokStr || t.kind == tokInt }

func (t token) arg() arg {
	switch t.kind {
	case tokInt:
		return arg{kind: argInt, n: t.n}
	case tokIdent:
		return arg{kind: argVar, s: t.s}
	}
	return arg{kind: argStr, s: t.s}
}

func (p *exprParser) parseExpr() (segment, error) {
	var sg segment
	head, err := p.next()
	if err != nil {
		return sg, err
	}
	switch head.kind {
	case tokClose:
		return sg, tmplErr(p.start, "empty expression")
	case tokPipe:
		return sg, tmplErr(head.off, "pipe with nothing before it")
	}
	tok, err := p.next()
	if err != nil {
		return sg, err
	}
	switch head.kind {
	case tokStr, tokInt:
		sg = segment{kind: segCall, fn: fnNone, args: []arg{head.arg()}}
		if tok.isArg() {
			return sg, tmplErr(tok.off, "unexpected argument after a literal")
		}
	case tokIdent:
		spec, isFunc := funcSpecs[head.s]
		if !isFunc {
			if tok.isArg() {
				return sg, tmplErr(head.off, "unknown function %q", head.s)
			}
			sg = segment{kind: segVar, name: head.s}
			break
		}
		sg = segment{kind: segCall, fn: spec.id, typed: spec.typed}
		for ; tok.isArg(); tok, err = p.next() {
			if err := checkArg(head.s, spec, len(sg.args)+1, tok); err != nil {
				return sg, err
			}
			sg.args = append(sg.args, tok.arg())
		}
		if err != nil {
			return sg, err
		}
		if err := checkCall(head, spec, sg.args); err != nil {
			return sg, err
		}
	}
	return sg, p.parsePipes(&sg, tok)
}

// parsePipes reads "| name" pipes up to "}}"; tok is the token after the call.
func (p *exprParser) parsePipes(sg *segment, tok token) error {
	for tok.kind == tokPipe {
		name, err := p.next()
		if err != nil {
			return err
		}
		pp, ok := pipeNames[name.s]
		if name.kind != tokIdent || !ok {
			return tmplErr(name.off, "unknown pipe %q (want urlencode, json or base64)", p.text(name))
		}
		sg.pipes = append(sg.pipes, pp)
		sg.typed = false
		if tok, err = p.next(); err != nil {
			return err
		}
	}
	if tok.kind != tokClose {
		return tmplErr(tok.off, "unexpected %q, want \"|\" or \"}}\"", p.text(tok))
	}
	return nil
}

// text is a short excerpt of the source at tok, for messages.
func (p *exprParser) text(tok token) string {
	end := min(tok.off+12, p.pos, len(p.src))
	return p.src[tok.off:max(end, tok.off)]
}

func checkArg(fn string, spec funcSpec, i int, tok token) error {
	if spec.maxArgs >= 0 && i > spec.maxArgs {
		return tmplErr(tok.off, "%s takes %d argument(s)", fn, spec.maxArgs)
	}
	switch {
	case spec.rule == strArg && tok.kind != tokStr:
		return tmplErr(tok.off, "argument %d of %s must be a quoted string", i, fn)
	case spec.rule == intArg && tok.kind == tokStr:
		return tmplErr(tok.off, "argument %d of %s must be an integer or a variable", i, fn)
	}
	return nil
}

func checkCall(head token, spec funcSpec, args []arg) error {
	if len(args) < spec.minArgs {
		if spec.maxArgs == spec.minArgs {
			return tmplErr(head.off, "%s takes %d argument(s), got %d", head.s, spec.minArgs, len(args))
		}
		return tmplErr(head.off, "%s takes at least %d argument(s)", head.s, spec.minArgs)
	}
	switch spec.id {
	case fnRandomInt:
		if args[0].kind == argInt && args[1].kind == argInt && args[0].n > args[1].n {
			return tmplErr(head.off, "randomInt: min %d is greater than max %d", args[0].n, args[1].n)
		}
	case fnRandomString:
		if args[0].kind == argInt && (args[0].n < 0 || args[0].n > maxRandomString) {
			return tmplErr(head.off, "randomString: length %d is not in [0, %d]", args[0].n, maxRandomString)
		}
	case fnEnv:
		if args[0].s == "" {
			return tmplErr(head.off, "env: empty variable name")
		}
	}
	return nil
}

// next reads a token; running out of input is an unclosed "{{".
func (p *exprParser) next() (token, error) {
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	if p.pos >= len(s) {
		return token{}, tmplErr(p.start, "unclosed \"{{\"")
	}
	off := p.pos
	c := s[off]
	switch {
	case c == '}' && off+1 < len(s) && s[off+1] == '}':
		p.pos += 2
		return token{kind: tokClose, off: off}, nil
	case c == '|':
		p.pos++
		return token{kind: tokPipe, off: off}, nil
	case c == '"':
		return p.str()
	case isDigit(c) || c == '-' && off+1 < len(s) && isDigit(s[off+1]):
		p.pos++
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
		}
		n, err := strconv.ParseInt(s[off:p.pos], 10, 64)
		if err != nil {
			return token{}, tmplErr(off, "integer %s out of range", s[off:p.pos])
		}
		return token{kind: tokInt, off: off, n: n}, nil
	case isIdentStart(c):
		for p.pos < len(s) && isIdentChar(s[p.pos]) {
			p.pos++
		}
		return token{kind: tokIdent, off: off, s: s[off:p.pos]}, nil
	}
	return token{}, tmplErr(off, "unexpected character %q", rune(c))
}

// str reads a quoted string at p.pos.
func (p *exprParser) str() (token, error) {
	s, off := p.src, p.pos
	var buf []byte
	for i := off + 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			p.pos = i + 1
			if buf == nil {
				return token{kind: tokStr, off: off, s: s[off+1 : i]}, nil
			}
			return token{kind: tokStr, off: off, s: string(buf)}, nil
		case '\\':
			if i+1 >= len(s) {
				return token{}, tmplErr(off, "unterminated string")
			}
			if buf == nil {
				buf = append([]byte{}, s[off+1:i]...)
			}
			i++
			e, ok := unescape(s[i])
			if !ok {
				return token{}, tmplErr(i-1, "unknown escape \\%c in string", s[i])
			}
			buf = append(buf, e)
		default:
			if buf != nil {
				buf = append(buf, c)
			}
		}
	}
	return token{}, tmplErr(off, "unterminated string")
}

func unescape(c byte) (byte, bool) {
	switch c {
	case '"', '\\':
		return c, true
	case 'n':
		return '\n', true
	case 't':
		return '\t', true
	case 'r':
		return '\r', true
	}
	return 0, false
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '.' }

// IsVarName reports whether s can be read as {{ s }}: a letter or '_',
// then letters, digits, '_' or '.'; not a function name.
func IsVarName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	_, isFunc := funcSpecs[s]
	return !isFunc
}
