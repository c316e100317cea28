package hostiletarget

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Paths: each is one way of failing, except PathOK.
const (
	// PathOK answers 200 with a 2-byte body and keeps the connection.
	PathOK = "/ok"
	// PathReset reads the request and resets the connection (RST).
	PathReset = "/reset"
	// PathClose reads the request and closes the connection, no answer.
	PathClose = "/close"
	// PathHang reads the request and never answers (until the client
	// goes away or the server closes).
	PathHang = "/hang"
	// PathSlow answers 200 after Options.Slow.
	PathSlow = "/slow"
	// PathEndless answers 200 with a chunked body that never ends:
	// Options.EndlessChunk bytes every Options.EndlessEvery.
	PathEndless = "/endless"
	// PathHuge answers 200 with a body of Options.HugeBytes, as fast as
	// the client reads it, and keeps the connection.
	PathHuge = "/huge"
	// PathBadStatus answers "HTTP/1.1 2OO OK".
	PathBadStatus = "/bad-status"
	// PathBadChunk answers a chunked body whose first size is not hex.
	PathBadChunk = "/bad-chunk"
	// PathHeaderFlood answers a header section of Options.FloodBytes.
	PathHeaderFlood = "/header-flood"
)

// Paths lists every path the server knows, PathOK first.
func Paths() []string {
	return []string{PathOK, PathReset, PathClose, PathHang, PathSlow, PathEndless, PathHuge,
		PathBadStatus, PathBadChunk, PathHeaderFlood}
}

// Class is the error class a client should count for a request to path,
// in the names stampede's reports use ("conn_reset", "timeout", "protocol";
// "" for a success), given a request timeout well below Options.Slow.
// Tests compare what a client counted with it.
func Class(path string) string {
	switch path {
	case PathReset, PathClose:
		return "conn_reset"
	case PathHang, PathSlow, PathEndless:
		return "timeout"
	case PathBadStatus, PathBadChunk, PathHeaderFlood:
		return "protocol"
	}
	return ""
}

// Options tune the misbehaviours; zero fields take the defaults.
type Options struct {
	Slow         time.Duration // default 5s
	HugeBytes    int64         // default 64 MiB
	EndlessChunk int           // bytes, default 32 KiB
	EndlessEvery time.Duration // default 5ms
	FloodBytes   int           // default 1 MiB
}

// Defaults of Options.
const (
	DefaultSlow         = 5 * time.Second
	DefaultHugeBytes    = 64 << 20
	DefaultEndlessChunk = 32 << 10
	DefaultEndlessEvery = 5 * time.Millisecond
	DefaultFloodBytes   = 1 << 20
)

const (
	// maxHead bounds a request head the server reads.
	maxHead = 64 << 10
	// maxRequestBody bounds a request body it discards.
	maxRequestBody = 1 << 20
	// writeTimeout bounds each write: a client that stops reading does
	// not hold a connection forever.
	writeTimeout = 10 * time.Second
)

// Server is a running hostile target. Safe for concurrent use.
type Server struct {
	// URL is the plain HTTP endpoint ("http://127.0.0.1:port"); TLSURL the
	// TLS one, whose self-signed certificate no client trusts.
	URL, TLSURL string

	opts    Options
	plain   net.Listener
	secure  net.Listener
	done    chan struct{}
	wg      sync.WaitGroup
	closing sync.Once

	mu     sync.Mutex
	counts map[string]int64 // "http /ok", "https /ok"
	conns  map[net.Conn]struct{}
}

// Start listens on two free ports of 127.0.0.1 (plain and TLS) and serves
// until Close.
func Start(opts Options) (*Server, error) {
	if opts.Slow <= 0 {
		opts.Slow = DefaultSlow
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = DefaultHugeBytes
	}
	if opts.EndlessChunk <= 0 {
		opts.EndlessChunk = DefaultEndlessChunk
	}
	if opts.EndlessEvery <= 0 {
		opts.EndlessEvery = DefaultEndlessEvery
	}
	if opts.FloodBytes <= 0 {
		opts.FloodBytes = DefaultFloodBytes
	}
	cert, err := selfSigned()
	if err != nil {
		return nil, fmt.Errorf("hostile target: %w", err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hostile target: listen: %w", err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		plain.Close()
		return nil, fmt.Errorf("hostile target: listen: %w", err)
	}
	s := &Server{
		URL:    "http://" + plain.Addr().String(),
		TLSURL: "https://" + raw.Addr().String(),
		opts:   opts,
		plain:  plain,
		secure: tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
		done:   make(chan struct{}),
		counts: map[string]int64{},
		conns:  map[net.Conn]struct{}{},
	}
	s.wg.Go(func() { s.accept(s.plain, "http") })
	s.wg.Go(func() { s.accept(s.secure, "https") })
	return s, nil
}

// Close stops both listeners, closes every connection and waits for the
// server's goroutines.
func (s *Server) Close() {
	s.closing.Do(func() {
		close(s.done)
		s.plain.Close()
		s.secure.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
}

// Requests is how many request heads for path the plain listener read.
func (s *Server) Requests(path string) int64 { return s.count("http " + path) }

// TLSRequests is how many request heads for path the TLS listener read
// (after a completed handshake).
func (s *Server) TLSRequests(path string) int64 { return s.count("https " + path) }

func (s *Server) count(key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[key]
}

func (s *Server) accept(ln net.Listener, scheme string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed
		}
		if !s.track(c, true) {
			c.Close()
			return
		}
		s.wg.Go(func() {
			defer s.track(c, false)
			defer c.Close()
			s.serve(c, scheme)
		})
	}
}

// track adds or removes c from the open connections; adding fails once
// the server is closing.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	select {
	case <-s.done:
		return false
	default:
	}
	s.conns[c] = struct{}{}
	return true
}

// serve answers the requests of one connection until a mode ends it.
func (s *Server) serve(c net.Conn, scheme string) {
	br := bufio.NewReaderSize(c, 4096)
	for {
		if scheme == "http" {
			if b, err := br.Peek(1); err == nil && b[0] == 0x16 {
				// A TLS ClientHello on the plain port.
				s.write(c, "HTTP/1.0 400 Bad Request\r\nConnection: close\r\nContent-Length: 16\r\n\r\nplain HTTP port\n")
				return
			}
		}
		path, err := readHead(br)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.counts[scheme+" "+path]++
		s.mu.Unlock()
		if !s.answer(c, path) {
			return
		}
	}
}

// answer misbehaves as path says and reports whether the connection may
// serve another request.
func (s *Server) answer(c net.Conn, path string) bool {
	switch path {
	case PathOK:
		return s.write(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
	case PathReset:
		reset(c)
		return false
	case PathClose:
		return false
	case PathHang:
		// Read (and drop) until the client or the server gives up.
		_, _ = io.Copy(io.Discard, c)
		return false
	case PathSlow:
		t := time.NewTimer(s.opts.Slow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
			return false
		}
		return s.write(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
	case PathEndless:
		s.endless(c)
		return false
	case PathHuge:
		return s.huge(c)
	case PathBadStatus:
		s.write(c, "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
		return false
	case PathBadChunk:
		s.write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
		return false
	case PathHeaderFlood:
		s.flood(c)
		return false
	}
	return s.write(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
}

// write writes msg within writeTimeout and reports success.
func (s *Server) write(c net.Conn, msg string) bool {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := io.WriteString(c, msg)
	return err == nil
}

func (s *Server) endless(c net.Conn) {
	if !s.write(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n") {
		return
	}
	chunk := []byte(strconv.FormatInt(int64(s.opts.EndlessChunk), 16) + "\r\n")
	chunk = append(chunk, bytes.Repeat([]byte("e"), s.opts.EndlessChunk)...)
	chunk = append(chunk, "\r\n"...)
	tick := time.NewTicker(s.opts.EndlessEvery)
	defer tick.Stop()
	for {
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.Write(chunk); err != nil {
			return
		}
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
	}
}

func (s *Server) huge(c net.Conn) bool {
	if !s.write(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "+
		strconv.FormatInt(s.opts.HugeBytes, 10)+"\r\n\r\n") {
		return false
	}
	buf := bytes.Repeat([]byte("h"), 64<<10)
	for left := s.opts.HugeBytes; left > 0; {
		n := min(left, int64(len(buf)))
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.Write(buf[:n]); err != nil {
			return false
		}
		left -= n
	}
	return true
}

func (s *Server) flood(c net.Conn) {
	if !s.write(c, "HTTP/1.1 200 OK\r\n") {
		return
	}
	line := "X-Flood: " + string(bytes.Repeat([]byte("f"), 1000)) + "\r\n"
	for sent := 0; sent < s.opts.FloodBytes; sent += len(line) {
		if !s.write(c, line) {
			return
		}
	}
	s.write(c, "Content-Length: 0\r\n\r\n")
}

// reset closes c with an RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// errHead is a request head the server does not accept.
var errHead = errors.New("bad request head")

// readHead reads one request head and discards its body (up to
// maxRequestBody); it returns the request's path (no query).
func readHead(br *bufio.Reader) (path string, err error) {
	total, length := 0, int64(0)
	for i := 0; ; i++ {
		line, err := br.ReadSlice('\n')
		total += len(line)
		if err != nil || total > maxHead {
			return "", errHead
		}
		line = bytes.TrimRight(line, "\r\n")
		if i == 0 {
			f := bytes.Fields(line)
			if len(f) != 3 || !bytes.HasPrefix(f[2], []byte("HTTP/1.")) {
				return "", errHead
			}
			target := f[1]
			if q := bytes.IndexAny(target, "?#"); q >= 0 {
				target = target[:q]
			}
			path = string(target)
			continue
		}
		if len(line) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64); err != nil || length < 0 || length > maxRequestBody {
				return "", errHead
			}
		}
	}
	if _, err := br.Discard(int(length)); err != nil {
		return "", errHead
	}
	return path, nil
}
