package engine

// Escaping applied to a rendered template value inside a request.
const (
	escNone   = iota
	escQuery  // application/x-www-form-urlencoded (query values, form bodies)
	escHeader // CR and LF removed, so a value cannot add header lines
	escCookie // as escHeader, and ';' removed, so a value cannot add cookies
)

// tmplPart is literal bytes or a template whose output is escaped by esc.
type tmplPart struct {
	lit []byte
	t   *Template
	esc int
}

// tmplSeq is a sequence of literal and template parts rendered in order.
// Static templates are folded into literals at compile time.
type tmplSeq []tmplPart

// lit appends literal text, merging it with a literal before it.
func (q *tmplSeq) lit(s string) {
	if s == "" {
		return
	}
	if n := len(*q); n > 0 && (*q)[n-1].t == nil {
		(*q)[n-1].lit = append((*q)[n-1].lit, s...)
		return
	}
	*q = append(*q, tmplPart{lit: []byte(s)})
}

// tmpl parses src and appends it.
func (q *tmplSeq) tmpl(src string, esc int) error {
	t, err := ParseTemplate(src)
	if err != nil {
		return err
	}
	q.add(t, esc)
	return nil
}

// add appends t, folding it into a literal when it is static.
func (q *tmplSeq) add(t *Template, esc int) {
	if raw, ok := t.Static(); ok {
		q.lit(string(appendEscaped(nil, raw, esc)))
		return
	}
	*q = append(*q, tmplPart{t: t, esc: esc})
}

// static returns the sequence's bytes when no part varies.
func (q tmplSeq) static() ([]byte, bool) {
	switch {
	case len(q) == 0:
		return nil, true
	case len(q) == 1 && q[0].t == nil:
		return q[0].lit, true
	}
	return nil, false
}

// render appends the sequence rendered for sc to dst; scratch is a reusable
// buffer for values that need escaping.
func (q tmplSeq) render(dst []byte, sc *Scope, scratch *[]byte) []byte {
	for i := range q {
		p := &q[i]
		switch {
		case p.t == nil:
			dst = append(dst, p.lit...)
		case p.esc == escNone:
			dst = p.t.Append(dst, sc)
		default:
			*scratch = p.t.Append((*scratch)[:0], sc)
			dst = appendEscaped(dst, *scratch, p.esc)
		}
	}
	return dst
}

// appendEscaped appends v escaped for its place in the request.
func appendEscaped(dst, v []byte, esc int) []byte {
	switch esc {
	case escQuery:
		const hex = "0123456789ABCDEF"
		for _, c := range v {
			switch {
			case urlSafe(c):
				dst = append(dst, c)
			case c == ' ':
				dst = append(dst, '+')
			default:
				dst = append(dst, '%', hex[c>>4], hex[c&15])
			}
		}
		return dst
	case escHeader, escCookie:
		for _, c := range v {
			if c != '\r' && c != '\n' && (esc != escCookie || c != ';') {
				dst = append(dst, c)
			}
		}
		return dst
	}
	return append(dst, v...)
}

// urlSafe reports whether c needs no escaping in a query component.
func urlSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// queryEscape escapes a literal query name.
func queryEscape(s string) string { return string(appendEscaped(nil, []byte(s), escQuery)) }

// renderRequest fills v.req for st from v's scope, reusing v's buffers.
// The Client's cached host check in v.req outlives it.
func (v *vuser) renderRequest(st *stepPlan) {
	if st.static != nil {
		allowed := v.req.allowed
		v.req = *st.static
		v.req.allowed = allowed
		return
	}
	sc, r := &v.scope, &v.req
	r.Method, r.Timeout, r.KeepBody = st.method, st.timeout, st.keepBody
	target := v.target[:0]
	if st.urlT == nil {
		r.Scheme, r.Host = st.scheme, st.host
		target = append(target, st.path...)
	} else {
		v.scratch = st.urlT.Append(v.scratch[:0], sc)
		if isAbsURL(v.scratch) {
			target = v.splitAbsolute(target)
		} else {
			r.Scheme, r.Host = v.run.baseScheme, v.run.baseHost
			target = appendRelative(target, v.run.plan.basePath, v.scratch)
		}
	}
	if len(st.query) > 0 {
		v.query = st.query.render(v.query[:0], sc, &v.scratch)
		target = appendQuery(target, v.query)
	}
	v.target, r.Target = target, target
	v.header = st.header.render(v.header[:0], sc, &v.scratch)
	r.Header = v.header
	r.Body = nil
	if st.hasBody {
		v.body = st.body.render(v.body[:0], sc, &v.scratch)
		r.Body = v.body
	}
}

// splitAbsolute sets the request's scheme and host from the absolute URL in
// v.scratch and appends its request-target to target.
func (v *vuser) splitAbsolute(target []byte) []byte {
	u := v.scratch
	scheme := "http"
	if len(u) > 4 && (u[4] == 's' || u[4] == 'S') {
		scheme = "https"
	}
	u = u[len(scheme)+3:]
	end := len(u)
	for i, c := range u {
		if c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	if host := u[:end]; string(host) != v.lastHost {
		v.lastHost = string(host)
	}
	v.req.Scheme, v.req.Host = scheme, v.lastHost
	rest := u[end:]
	if len(rest) == 0 || rest[0] != '/' {
		target = append(target, '/')
	}
	for i, c := range rest {
		if c == '#' {
			rest = rest[:i]
			break
		}
	}
	return append(target, rest...)
}
