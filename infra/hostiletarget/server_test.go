package hostiletarget

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// rawGet sends a GET for path on a fresh connection and returns it.
func rawGet(t *testing.T, s *Server, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET "+path+"?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	return c
}

func TestServerOKKeepsTheConnection(t *testing.T) {
	s := start(t, Options{})
	c := rawGet(t, s, PathOK)
	br := bufio.NewReader(c)
	for i := range 2 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Errorf("response %d: %d %q", i, resp.StatusCode, body)
		}
		if i == 0 {
			io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
		}
	}
	if n := s.Requests(PathOK); n != 2 {
		t.Errorf("Requests(/ok) = %d, want 2 on one connection", n)
	}
}

func TestServerModes(t *testing.T) {
	s := start(t, Options{Slow: 300 * time.Millisecond, HugeBytes: 3<<20 + 7, FloodBytes: 200 << 10})
	t.Run("reset", func(t *testing.T) {
		_, err := io.ReadAll(rawGet(t, s, PathReset))
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("read = %v, want a connection reset", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		b, err := io.ReadAll(rawGet(t, s, PathClose))
		if err != nil || len(b) != 0 {
			t.Errorf("read %q, %v; want EOF and nothing", b, err)
		}
	})
	t.Run("hang", func(t *testing.T) {
		c := rawGet(t, s, PathHang)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		b, err := io.ReadAll(c)
		if !errors.Is(err, os.ErrDeadlineExceeded) || len(b) != 0 {
			t.Errorf("read %q, %v; want nothing until the deadline", b, err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(rawGet(t, s, PathSlow)), nil)
		if err != nil || resp.StatusCode != 200 || time.Since(start) < 300*time.Millisecond {
			t.Errorf("slow answered after %v: %v", time.Since(start), err)
		}
	})
	t.Run("endless", func(t *testing.T) {
		resp, err := http.ReadResponse(bufio.NewReader(rawGet(t, s, PathEndless)), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("endless: %v", err)
		}
		n, err := io.CopyN(io.Discard, resp.Body, 2<<20)
		if n != 2<<20 || err != nil {
			t.Errorf("read %d bytes of the endless body: %v", n, err)
		}
	})
	t.Run("huge", func(t *testing.T) {
		resp, err := http.ReadResponse(bufio.NewReader(rawGet(t, s, PathHuge)), nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if resp.ContentLength != 3<<20+7 || n != 3<<20+7 || err != nil {
			t.Errorf("huge: content-length %d, read %d: %v", resp.ContentLength, n, err)
		}
	})
	t.Run("bad status", func(t *testing.T) {
		line, err := bufio.NewReader(rawGet(t, s, PathBadStatus)).ReadString('\n')
		if err != nil || line != "HTTP/1.1 2OO OK\r\n" {
			t.Errorf("status line %q, %v", line, err)
		}
	})
	t.Run("bad chunk", func(t *testing.T) {
		resp, err := http.ReadResponse(bufio.NewReader(rawGet(t, s, PathBadChunk)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("the bad chunked body read without an error")
		}
	})
	t.Run("header flood", func(t *testing.T) {
		head, err := io.ReadAll(rawGet(t, s, PathHeaderFlood))
		end := strings.Index(string(head), "\r\n\r\n")
		if err != nil || end < 200<<10 {
			t.Errorf("header section of %d bytes (%v), want over 200 KiB", end, err)
		}
	})
	for _, p := range Paths()[1:] {
		if s.Requests(p) != 1 {
			t.Errorf("Requests(%s) = %d, want 1", p, s.Requests(p))
		}
	}
}

func TestServerTLS(t *testing.T) {
	s := start(t, Options{})
	_, err := http.Get(s.TLSURL + PathOK)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET with verification: %v, want an unknown authority", err)
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := insecure.Get(s.TLSURL + PathOK)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET without verification: %v", err)
	}
	resp.Body.Close()
	if s.TLSRequests(PathOK) != 1 || s.Requests(PathOK) != 0 {
		t.Errorf("TLS requests %d, plain %d; want 1 and 0", s.TLSRequests(PathOK), s.Requests(PathOK))
	}
	// TLS spoken to the plain port.
	_, err = tls.Dial("tcp", strings.TrimPrefix(s.URL, "http://"), &tls.Config{InsecureSkipVerify: true})
	var rec tls.RecordHeaderError
	if !errors.As(err, &rec) {
		t.Errorf("TLS to the plain port: %v, want a record header error", err)
	}
}

// TestServerClose checks that Close ends connections stuck in every
// never-ending mode.
func TestServerClose(t *testing.T) {
	s, err := Start(Options{Slow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for _, p := range []string{PathHang, PathSlow, PathEndless, PathOK} {
		conns = append(conns, rawGet(t, s, p))
	}
	for s.Requests(PathHang)+s.Requests(PathSlow)+s.Requests(PathEndless)+s.Requests(PathOK) < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Error("a connection stayed open after Close")
		}
	}
}
