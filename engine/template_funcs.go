package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// segKind says what a template segment renders.
type segKind uint8

const (
	segLit  segKind = iota // literal bytes
	segVar                 // a variable
	segCall                // a function call or a literal argument
)

// fnID names a template function; fnNone is a literal argument (args[0]).
type fnID uint8

const (
	fnNone fnID = iota
	fnEnv
	fnPick
	fnRandomInt
	fnRandomString
	fnUUID
	fnNow
	fnUnix
	fnUnixMs
	fnUser
	fnIteration
	fnData
)

// argKind is how an argument is written.
type argKind uint8

const (
	argStr argKind = iota // "quoted"
	argInt                // 42
	argVar                // name
)

type arg struct {
	kind argKind
	s    string // the string, or the variable name
	n    int64
}

// pipe is a transformation of an expression's output.
type pipe uint8

const (
	pipeURL pipe = iota + 1
	pipeJSON
	pipeBase64
)

var pipeNames = map[string]pipe{"urlencode": pipeURL, "json": pipeJSON, "base64": pipeBase64}

// argRule says which arguments a function takes.
type argRule uint8

const (
	anyArg argRule = iota // string, integer or variable
	intArg                // integer or variable
	strArg                // quoted string only
)

// funcSpec describes a template function. typed functions yield numbers.
type funcSpec struct {
	id      fnID
	minArgs int
	maxArgs int // -1: no limit
	rule    argRule
	typed   bool
}

// maxRandomString bounds {{ randomString n }} (bytes).
const maxRandomString = 1 << 16

var funcSpecs = map[string]funcSpec{
	"env":          {id: fnEnv, minArgs: 1, maxArgs: 1, rule: strArg},
	"pick":         {id: fnPick, minArgs: 1, maxArgs: -1, rule: anyArg},
	"randomInt":    {id: fnRandomInt, minArgs: 2, maxArgs: 2, rule: intArg, typed: true},
	"randomString": {id: fnRandomString, minArgs: 1, maxArgs: 1, rule: intArg},
	"uuid":         {id: fnUUID},
	"now":          {id: fnNow},
	"unix":         {id: fnUnix, typed: true},
	"unixMs":       {id: fnUnixMs, typed: true},
	"user":         {id: fnUser, typed: true},
	"iteration":    {id: fnIteration, typed: true},
	"data":         {id: fnData, minArgs: 2, maxArgs: 2, rule: strArg},
}

// segment is one compiled part of a template.
type segment struct {
	kind  segKind
	lit   []byte // segLit
	name  string // segVar: the variable
	fn    fnID   // segCall
	args  []arg
	pipes []pipe
	typed bool // yields a number (a call to a typed function, no pipes)
}

// constant reports whether sg renders the same bytes in every scope.
func (sg *segment) constant() bool { return sg.kind == segCall && sg.fn == fnNone }

// render appends sg's output, pipes applied, to dst.
func (sg *segment) render(dst []byte, sc *Scope) []byte {
	start := len(dst)
	dst = sg.value(dst, sc)
	for _, p := range sg.pipes {
		end := len(dst)
		raw := dst[start:end]
		if !p.needed(raw) {
			continue
		}
		// Encode after the raw output, then move it down over it. If
		// append reallocates, raw still reads the old array.
		dst = p.apply(dst, raw)
		n := copy(dst[start:], dst[end:])
		dst = dst[:start+n]
	}
	return dst
}

// value appends sg's raw output (before pipes) to dst.
func (sg *segment) value(dst []byte, sc *Scope) []byte {
	if sg.kind == segVar {
		return append(dst, sc.Vars[sg.name]...)
	}
	switch sg.fn {
	case fnNone:
		return sg.args[0].appendTo(dst, sc)
	case fnEnv:
		return append(dst, sc.Env[sg.args[0].s]...)
	case fnPick:
		return sg.args[randN(sc, uint64(len(sg.args)))].appendTo(dst, sc)
	case fnRandomInt:
		return strconv.AppendInt(dst, randomInt(sc, sg.args[0].int(sc), sg.args[1].int(sc)), 10)
	case fnRandomString:
		return appendRandomString(dst, sc, sg.args[0].int(sc))
	case fnUUID:
		return appendUUID(dst, sc)
	case fnNow:
		return time.Now().UTC().AppendFormat(dst, time.RFC3339)
	case fnUnix:
		return strconv.AppendInt(dst, time.Now().Unix(), 10)
	case fnUnixMs:
		return strconv.AppendInt(dst, time.Now().UnixMilli(), 10)
	case fnUser:
		return strconv.AppendInt(dst, int64(sc.User), 10)
	case fnIteration:
		return strconv.AppendInt(dst, int64(sc.Iteration), 10)
	case fnData:
		return append(dst, dataCell(sc, sg.args[0].s, sg.args[1].s)...)
	}
	return dst
}

func (a *arg) appendTo(dst []byte, sc *Scope) []byte {
	switch a.kind {
	case argInt:
		return strconv.AppendInt(dst, a.n, 10)
	case argVar:
		return append(dst, sc.Vars[a.s]...)
	}
	return append(dst, a.s...)
}

// int is a's integer value; a variable that holds no integer counts as 0.
func (a *arg) int(sc *Scope) int64 {
	if a.kind != argVar {
		return a.n
	}
	n, err := strconv.ParseInt(sc.Vars[a.s], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// randN returns a uniform number in [0, n), n > 0, from sc.Rand (or the
// global source when the scope has none).
func randN(sc *Scope, n uint64) uint64 {
	if sc.Rand == nil {
		return rand.Uint64N(n)
	}
	return sc.Rand.Uint64N(n)
}

func rand64(sc *Scope) uint64 {
	if sc.Rand == nil {
		return rand.Uint64()
	}
	return sc.Rand.Uint64()
}

// randomInt returns a uniform integer in [lo, hi] (swapped if reversed).
func randomInt(sc *Scope, lo, hi int64) int64 {
	if lo > hi {
		lo, hi = hi, lo
	}
	span := uint64(hi-lo) + 1
	if span == 0 { // the whole int64 range
		return int64(rand64(sc))
	}
	return lo + int64(randN(sc, span))
}

const randomAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func appendRandomString(dst []byte, sc *Scope, n int64) []byte {
	n = min(max(n, 0), maxRandomString)
	for range n {
		dst = append(dst, randomAlphabet[randN(sc, uint64(len(randomAlphabet)))])
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a version 4 (random) UUID in its 36-character form.
func appendUUID(dst []byte, sc *Scope) []byte {
	var u [16]byte
	hi, lo := rand64(sc), rand64(sc)
	for i := range 8 {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return dst
}

// dataCell returns column col of the scope's row of data set name ("" when
// the set, the column or the cell is missing).
func dataCell(sc *Scope, name, col string) string {
	ds, ok := sc.Data[name]
	if !ok || len(ds.Rows) == 0 {
		return ""
	}
	ci := -1
	for i, c := range ds.Columns {
		if c == col {
			ci = i
			break
		}
	}
	if ci < 0 {
		return ""
	}
	n := len(ds.Rows)
	r := (sc.Row%n + n) % n
	if ds.Random {
		r = int(randN(sc, uint64(n)))
	}
	if row := ds.Rows[r]; ci < len(row) {
		return row[ci]
	}
	return ""
}

// needed reports whether p changes raw.
func (p pipe) needed(raw []byte) bool {
	switch p {
	case pipeURL:
		for _, c := range raw {
			if !unreserved(c) {
				return true
			}
		}
		return false
	case pipeJSON:
		for _, c := range raw {
			if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				return true
			}
		}
		return false
	}
	return len(raw) > 0
}

// apply appends p's encoding of raw to dst.
func (p pipe) apply(dst, raw []byte) []byte {
	switch p {
	case pipeURL:
		for _, c := range raw {
			if unreserved(c) {
				dst = append(dst, c)
			} else {
				dst = append(dst, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0x0f])
			}
		}
		return dst
	case pipeJSON:
		return appendJSONEscape(dst, raw)
	}
	return base64.StdEncoding.AppendEncode(dst, raw)
}

// unreserved reports whether c passes through URL encoding (RFC 3986).
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// CompileJSON compiles a JSON body value (see Body.JSON): a decoded JSON
// value of maps with string keys, slices, strings, numbers (float64, ints,
// json.Number), bools and nil. It renders compact JSON with map keys sorted.
// Strings are templates whose output is JSON-escaped; a string that is one
// expression yielding a number (randomInt, unix, unixMs, user, iteration,
// no pipes) renders unquoted. Everything else is rendered at compile time.
// Errors name the JSON path of the bad value ("$.items[2].id: ...").
func CompileJSON(v any) (*Template, error) {
	var b tbuilder
	if err := b.json(v, "$"); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

func (b *tbuilder) json(v any, path string) error {
	switch x := v.(type) {
	case nil:
		b.addLit([]byte("null"))
	case bool:
		b.addLit(strconv.AppendBool(nil, x))
	case string:
		return b.jsonString(x, path)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: %v is not a JSON number", path, x)
		}
		p, _ := json.Marshal(x) // cannot fail: finite
		b.addLit(p)
	case int:
		b.addLit(strconv.AppendInt(nil, int64(x), 10))
	case int64:
		b.addLit(strconv.AppendInt(nil, x, 10))
	case uint64:
		b.addLit(strconv.AppendUint(nil, x, 10))
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil || !json.Valid([]byte(x)) {
			return fmt.Errorf("%s: %q is not a JSON number", path, string(x))
		}
		b.addLit([]byte(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.addLit([]byte{'{'})
		for i, k := range keys {
			if i > 0 {
				b.addLit([]byte{','})
			}
			key := append(appendJSONEscape([]byte{'"'}, []byte(k)), '"', ':')
			b.addLit(key)
			if err := b.json(x[k], path+"."+k); err != nil {
				return err
			}
		}
		b.addLit([]byte{'}'})
	case []any:
		b.addLit([]byte{'['})
		for i, e := range x {
			if i > 0 {
				b.addLit([]byte{','})
			}
			if err := b.json(e, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		b.addLit([]byte{']'})
	default:
		return fmt.Errorf("%s: unsupported JSON value of type %T", path, v)
	}
	return nil
}

// jsonString adds a string template: quoted and escaped, or unquoted when it
// is a single number-valued expression.
func (b *tbuilder) jsonString(s, path string) error {
	var sub tbuilder
	if err := sub.parse(s, false); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(sub.segs) == 1 && sub.segs[0].typed {
		b.addSeg(sub.segs[0])
		return nil
	}
	b.addLit([]byte{'"'})
	for _, sg := range sub.segs {
		if sg.kind == segLit {
			b.addLit(appendJSONEscape(nil, sg.lit))
			continue
		}
		sg.pipes = append(slices.Clip(sg.pipes), pipeJSON)
		b.addSeg(sg)
	}
	b.addLit([]byte{'"'})
	return nil
}

// appendJSONEscape appends src escaped for the inside of a JSON string
// (no quotes). Invalid UTF-8 becomes U+FFFD.
func appendJSONEscape(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0f])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, src[i:i+size]...)
		}
		i += size
	}
	return dst
}
