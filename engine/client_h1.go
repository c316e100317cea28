package engine

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// maxHeaderBytes bounds a response's header section (and a trailer section).
const maxHeaderBytes = 64 << 10

// roundTrip1 sends one hop over HTTP/1.1 and returns the Location to
// follow, if any. A reused connection that fails before any response byte
// (closed by the server while idle) is retried once on a fresh one, for a
// replayable method only: the server may have received the request before
// it dropped the connection, and a POST must not reach it twice. A
// non-replayable request checks first that its pooled connection is still
// open (closedWhileIdle), so that it rarely needs the retry.
func (c *Client) roundTrip1(ex *exchange, resp *Response) (string, error) {
	key := poolKey{tls: ex.scheme == "https", host: ex.host}
	for attempt := 0; ; attempt++ {
		cn, slot, err := c.pool.get(ex.ctx, key, ex.deadline, attempt == 0)
		if err != nil {
			return "", err
		}
		if !slot && !replayable(ex.method) && closedWhileIdle(cn) {
			c.pool.discard(cn)
			continue // to a fresh connection
		}
		if slot {
			if cn, err = c.dial(ex.ctx, key, ex.deadline); err != nil {
				c.pool.release()
				return "", err
			}
			if err = c.pool.add(cn); err != nil {
				c.pool.discard(cn)
				return "", err
			}
		}
		r := cn.do(ex, resp, c.opts.MaxBodyBytes)
		if r.err == nil {
			if r.keepAlive && cn.br.Buffered() == 0 && !cn.aborted.Load() {
				c.pool.put(cn)
			} else {
				c.pool.discard(cn)
			}
			return r.location, nil
		}
		c.pool.discard(cn)
		if slot || attempt > 0 || r.gotBytes || !replayable(ex.method) || isTimeout(r.err) || c.closed.Load() || ex.ctx.Err() != nil {
			return "", r.err
		}
	}
}

// replayable reports the methods that may be sent again when a reused
// connection fails before the response (as net/http does).
func replayable(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// result is what one exchange on a connection produced.
type result struct {
	location  string // set for a redirect to follow
	keepAlive bool
	gotBytes  bool // some response byte arrived
	err       error
}

// do runs one exchange on cn and accounts its bytes in resp.
func (cn *conn) do(ex *exchange, resp *Response, maxBody int64) (r result) {
	cn.watch.Store(ex.watch)
	defer cn.watch.Store(nil)
	cn.setDeadline(ex.deadline)
	if ex.watch != nil {
		select {
		case <-ex.watch.done:
			return result{err: ex.ctx.Err()}
		default:
		}
	}
	in0, out0 := cn.cnt.in, cn.cnt.out
	if resp.Redirects == 0 {
		resp.Sent = time.Now()
	}
	r.err = cn.writeRequest(ex)
	if r.err == nil {
		r.err = cn.readResponse(ex, resp, maxBody, &r)
	}
	resp.BytesOut += cn.cnt.out - out0
	resp.BytesIn += cn.cnt.in - int64(cn.br.Buffered()) - in0
	r.gotBytes = cn.cnt.in > in0
	if r.err == nil {
		resp.Done = time.Now()
	}
	return r
}

// setDeadline sets t (zero: none) on the connection unless it is the
// deadline already set.
func (cn *conn) setDeadline(t time.Time) {
	ns := int64(-1) // no deadline
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	if cn.deadline == ns {
		return
	}
	cn.nc.SetDeadline(t)
	cn.deadline = ns
}

// writeRequest writes the request line, Host, the caller's header lines,
// User-Agent (unless given), Content-Length and the body in one flush.
func (cn *conn) writeRequest(ex *exchange) error {
	bw := cn.bw
	bw.WriteString(ex.method)
	bw.WriteByte(' ')
	if len(ex.target) == 0 {
		bw.WriteByte('/')
	} else {
		bw.Write(ex.target)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(ex.host)
	bw.WriteString("\r\n")
	bw.Write(ex.header)
	if !hasHeader(ex.header, "user-agent:") {
		bw.WriteString("User-Agent: stampede\r\n")
	}
	if ex.body != nil || ex.method == "POST" || ex.method == "PUT" || ex.method == "PATCH" {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(cn.num[:0], int64(len(ex.body)), 10))
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
	bw.Write(ex.body)
	return bw.Flush()
}

// hasHeader reports whether a header line starts with prefix (lower-case
// "name:"), ignoring case.
func hasHeader(header []byte, prefix string) bool {
	for len(header) >= len(prefix) {
		if equalFoldBytes(header[:len(prefix)], prefix) {
			return true
		}
		i := bytes.IndexByte(header, '\n')
		if i < 0 {
			return false
		}
		header = header[i+1:]
	}
	return false
}

// respMeta is what the status line and headers say about the body.
type respMeta struct {
	minor     byte  // HTTP/1.x minor version
	length    int64 // Content-Length, -1 if none
	chunked   bool
	close     bool // Connection: close
	keepAlive bool // Connection: keep-alive (HTTP/1.0)
	otherTE   bool // a transfer coding other than chunked: read to EOF
}

// readResponse reads the status line, headers and body, skipping 1xx
// interim responses.
func (cn *conn) readResponse(ex *exchange, resp *Response, maxBody int64, r *result) error {
	var m respMeta
	for {
		m = respMeta{length: -1}
		done, err := cn.readHeadBuffered(ex, resp, &m, r)
		if err != nil {
			return err
		}
		if !done {
			m, r.location = respMeta{length: -1}, ""
			status, minor, err := cn.readStatus()
			if err != nil {
				return err
			}
			resp.Status, m.minor = status, minor
			resp.Header = resp.Header[:0]
			if err := cn.readHeaders(ex, resp, &m, r); err != nil {
				return err
			}
		}
		if resp.Status >= 200 || resp.Status == 101 {
			break
		}
	}
	r.keepAlive = !m.close && (m.minor >= 1 || m.keepAlive) && resp.Status != 101
	status := resp.Status
	var err error
	switch {
	case ex.method == "HEAD" || status == 204 || status == 304 || status < 200:
	case m.chunked:
		err = cn.readChunked(ex, resp, maxBody)
	case m.length >= 0 && !m.otherTE:
		err = cn.readBody(m.length, ex.keepBody, resp, maxBody)
	default:
		r.keepAlive = false
		err = cn.readToEOF(ex.keepBody, resp, maxBody)
	}
	if err != nil {
		var pe protocolError
		if !errors.As(err, &pe) {
			err = &bodyError{err}
		}
		return err
	}
	if r.location != "" && !isRedirect(status) {
		r.location = ""
	}
	return nil
}

var endOfHead = []byte("\r\n\r\n")

// readHeadBuffered is readStatus and readHeaders at once for the common
// case: a final (not 1xx) response whose whole head, CRLF-terminated, is
// in the read buffer after at most one read. It parses the lines in place
// rather than one buffered read each. It reports false, having consumed
// nothing, when the head is not all there, is an interim response or ends
// with a bare LF: the line-by-line path takes over.
func (cn *conn) readHeadBuffered(ex *exchange, resp *Response, m *respMeta, r *result) (bool, error) {
	if cn.br.Buffered() == 0 {
		if _, err := cn.br.Peek(1); err != nil {
			if err == io.EOF {
				return false, nil // the line reader reports EOF as it always has
			}
			return true, err
		}
	}
	buf, _ := cn.br.Peek(cn.br.Buffered())
	end := bytes.Index(buf, endOfHead)
	if end < 0 {
		return false, nil
	}
	head := buf[:end+2] // lines, each ending in CRLF
	i := bytes.IndexByte(head, '\n')
	status, minor, err := parseStatus(trimCR(head[:i]))
	if err != nil {
		return true, err
	}
	if status < 200 && status != 101 {
		return false, nil
	}
	resp.Status, m.minor = status, minor
	resp.Header = resp.Header[:0]
	for head = head[i+1:]; len(head) > 0; {
		i := bytes.IndexByte(head, '\n')
		line := trimCR(head[:i])
		head = head[i+1:]
		if len(line) == 0 {
			return false, nil // a bare LF empty line ended the head first
		}
		if err := headerLine(ex, resp, m, r, line); err != nil {
			return true, err
		}
	}
	cn.br.Discard(end + len(endOfHead))
	return true, nil
}

// trimCR drops one trailing CR.
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// readStatus reads and parses the status line.
func (cn *conn) readStatus() (status int, minor byte, err error) {
	total := 0
	line, err := cn.readLine(&total)
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(line)
}

// parseStatus parses "HTTP/1.x SSS[ reason]".
func parseStatus(line []byte) (status int, minor byte, err error) {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, 0, errMalformedStatus
	}
	minor = line[7] - '0'
	if minor > 9 {
		return 0, 0, errMalformedStatus
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, 0, errMalformedStatus
		}
		status = status*10 + int(d-'0')
	}
	if status < 100 {
		return 0, 0, errMalformedStatus
	}
	return status, minor, nil
}

// readHeaders reads header lines up to the empty line, keeping them in
// resp.Header when ex.keepBody and noting what frames the body.
func (cn *conn) readHeaders(ex *exchange, resp *Response, m *respMeta, r *result) error {
	total := 0
	for {
		line, err := cn.readLine(&total)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if err := headerLine(ex, resp, m, r, line); err != nil {
			return err
		}
	}
}

// headerLine takes one header line (without its line end), keeping it in
// resp.Header when ex.keepBody and noting what frames the body.
func headerLine(ex *exchange, resp *Response, m *respMeta, r *result, line []byte) error {
	if ex.keepBody {
		resp.Header = append(append(resp.Header, line...), '\r', '\n')
	}
	if line[0] == ' ' || line[0] == '\t' {
		return nil // obsolete line folding: a continued value
	}
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return errMalformedHeader
	}
	name, value := line[:i], trimOWS(line[i+1:])
	switch {
	case equalFoldBytes(name, "content-length"):
		n, ok := parseDecimal(value)
		if !ok || (m.length >= 0 && m.length != n) {
			return errBadLength
		}
		m.length = n
	case equalFoldBytes(name, "transfer-encoding"):
		m.chunked = hasToken(value, "chunked")
		m.otherTE = !m.chunked
	case equalFoldBytes(name, "connection"):
		m.close = m.close || hasToken(value, "close")
		// keep-alive matters to HTTP/1.0 only (1.1 keeps alive anyway).
		m.keepAlive = m.minor == 0 && hasToken(value, "keep-alive")
	case equalFoldBytes(name, "location"):
		if ex.wantLoc && isRedirect(resp.Status) {
			r.location = string(value)
		}
	}
	return nil
}

// readLine returns the next line without its CRLF (or LF), valid until the
// next read. total accumulates the section's size against maxHeaderBytes.
func (cn *conn) readLine(total *int) ([]byte, error) {
	line, err := cn.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		cn.line = append(cn.line[:0], line...)
		for err == bufio.ErrBufferFull && len(cn.line) <= maxHeaderBytes {
			line, err = cn.br.ReadSlice('\n')
			cn.line = append(cn.line, line...)
		}
		line = cn.line
	}
	*total += len(line)
	if *total > maxHeaderBytes {
		return nil, errHeaderTooLarge
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, nil
}

// readBody reads n body bytes, keeping what fits under maxBody.
func (cn *conn) readBody(n int64, keep bool, resp *Response, maxBody int64) error {
	if keep {
		if room := maxBody - int64(len(resp.Body)); room > 0 {
			k := int(min(n, room))
			old := len(resp.Body)
			resp.Body = growLen(resp.Body, k)
			got, err := io.ReadFull(cn.br, resp.Body[old:])
			resp.Body = resp.Body[:old+got]
			if err != nil {
				return unexpected(err)
			}
			n -= int64(k)
		}
	}
	for n > 0 {
		d, err := cn.br.Discard(int(min(n, 1<<30)))
		n -= int64(d)
		if err != nil {
			return unexpected(err)
		}
	}
	return nil
}

// readChunked reads a chunked body and its trailers (appended to
// resp.Header when kept).
func (cn *conn) readChunked(ex *exchange, resp *Response, maxBody int64) error {
	for {
		total := 0
		line, err := cn.readLine(&total)
		if err != nil {
			return unexpected(err)
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseHex(trimOWS(line))
		if !ok {
			return errBadChunk
		}
		if size == 0 {
			break
		}
		if err := cn.readBody(size, ex.keepBody, resp, maxBody); err != nil {
			return err
		}
		if line, err = cn.readLine(&total); err != nil {
			return unexpected(err)
		}
		if len(line) != 0 {
			return errBadChunk
		}
	}
	total := 0
	for {
		line, err := cn.readLine(&total)
		if err != nil {
			return unexpected(err)
		}
		if len(line) == 0 {
			return nil
		}
		if ex.keepBody {
			resp.Header = append(append(resp.Header, line...), '\r', '\n')
		}
	}
}

// readToEOF reads a body delimited by the connection's end, keeping what
// fits under maxBody.
func (cn *conn) readToEOF(keep bool, resp *Response, maxBody int64) error {
	for keep && int64(len(resp.Body)) < maxBody {
		if len(resp.Body) == cap(resp.Body) {
			step := min(maxBody-int64(len(resp.Body)), int64(max(readBufSize, len(resp.Body))))
			resp.Body = growLen(resp.Body, int(step))[:len(resp.Body)]
		}
		end := int(min(int64(cap(resp.Body)), maxBody))
		n, err := cn.br.Read(resp.Body[len(resp.Body):end])
		resp.Body = resp.Body[:len(resp.Body)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	_, err := cn.br.Discard(1 << 62)
	if err == io.EOF {
		return nil
	}
	return err
}
