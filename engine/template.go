package engine

import "math/rand/v2"

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

func (e *TemplateError) Error() string { return e.Msg }

// Template is a compiled template string. Safe for concurrent use.
type Template struct{}

// ParseTemplate compiles s.
func ParseTemplate(s string) (*Template, error) { panic("not implemented") }

// CompileJSON compiles a JSON body value (see Body.JSON).
func CompileJSON(v any) (*Template, error) { panic("not implemented") }

// Static reports whether t renders the same bytes every time, and those bytes.
func (t *Template) Static() ([]byte, bool) { panic("not implemented") }

// Vars lists the variable names t reads ({{ name }}), for plan validation.
func (t *Template) Vars() []string { panic("not implemented") }

// EnvRefs lists the environment variables t reads ({{ env "NAME" }}).
func (t *Template) EnvRefs() []string { panic("not implemented") }

// Append renders t into dst.
func (t *Template) Append(dst []byte, sc *Scope) []byte { panic("not implemented") }

// Doc is a response body decoded as JSON on first use. Reset it per response.
type Doc struct{}

// Reset points d at a new response.
func (d *Doc) Reset(status int, body []byte, header func(name string) string) {
	panic("not implemented")
}

// Checker evaluates a step's Expect.
type Checker struct{}

// CompileExpect compiles e (nil: status 200–399 passes).
func CompileExpect(e *Expect) (*Checker, error) { panic("not implemented") }

// Check reports whether the response meets the expectation. When it does
// not, class is ErrNone if only the status code missed (the failure is then
// counted by status) and ErrExpect if a body or JSON condition missed.
func (c *Checker) Check(d *Doc) (ok bool, class ErrorClass) { panic("not implemented") }

// CondEval evaluates a Cond.
type CondEval struct{}

// CompileCond compiles c.
func CompileCond(c Cond) (*CondEval, error) { panic("not implemented") }

// Eval reports whether the condition holds on d's JSON body.
func (c *CondEval) Eval(d *Doc) bool { panic("not implemented") }

// Extractor runs a Capture.
type Extractor struct{}

// CompileCapture compiles c.
func CompileCapture(c Capture) (*Extractor, error) { panic("not implemented") }

// Extract returns the captured value, or false when nothing matched.
func (x *Extractor) Extract(d *Doc) (string, bool) { panic("not implemented") }
