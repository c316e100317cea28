package engine

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clientServer is an httptest server on 127.0.0.1 that counts the bytes it
// reads and writes and the connections it accepts.
type clientServer struct {
	*httptest.Server
	in, out   atomic.Int64
	newConns  atomic.Int64
	inflight  atomic.Int64
	maxInflht atomic.Int64
}

type clientCountListener struct {
	net.Listener
	ts *clientServer
}

func (l clientCountListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &clientServerConn{Conn: c, ts: l.ts}, nil
}

type clientServerConn struct {
	net.Conn
	ts *clientServer
}

func (c *clientServerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.ts.in.Add(int64(n))
	return n, err
}

func (c *clientServerConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.ts.out.Add(int64(n))
	return n, err
}

func newClientServer(t testing.TB, h http.HandlerFunc) *clientServer {
	t.Helper()
	ts := &clientServer{}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.inflight.Add(1)
		defer ts.inflight.Add(-1)
		for m := ts.maxInflht.Load(); n > m && !ts.maxInflht.CompareAndSwap(m, n); m = ts.maxInflht.Load() {
		}
		h(w, r)
	}))
	s.Listener = clientCountListener{Listener: s.Listener, ts: ts}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			ts.newConns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	ts.Server = s
	return ts
}

func (ts *clientServer) host() string { return strings.TrimPrefix(ts.URL, "http://") }

// checkBytes waits until the server's byte counters settle and checks that
// they equal resp's BytesOut (server read) and BytesIn (server wrote).
func (ts *clientServer) checkBytes(t *testing.T, resp *Response) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && (ts.in.Load() != resp.BytesOut || ts.out.Load() != resp.BytesIn) {
		time.Sleep(time.Millisecond)
	}
	if ts.in.Load() != resp.BytesOut || ts.out.Load() != resp.BytesIn {
		t.Errorf("bytes out/in = %d/%d, server read/wrote %d/%d",
			resp.BytesOut, resp.BytesIn, ts.in.Load(), ts.out.Load())
	}
}

func newTestClient(t testing.TB, opts ClientOptions) *Client {
	t.Helper()
	c, err := NewClient(opts)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func clientDo(c *Client, req *Request) *Response {
	var resp Response
	c.Do(context.Background(), req, &resp)
	return &resp
}

func TestClientGetPostBytes(t *testing.T) {
	var seen sync.Map
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.Store(r.Method, fmt.Sprintf("%s %s ua=%q cl=%d x=%q body=%q",
			r.Host, r.URL.RequestURI(), r.UserAgent(), r.ContentLength, r.Header.Get("X-Test"), body))
		io.WriteString(w, "hello")
	})
	c := newTestClient(t, ClientOptions{})
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Method: "GET", Target: []byte("/a?b=1"), Header: []byte("X-Test: yes\r\n")},
			`%s /a?b=1 ua="stampede" cl=0 x="yes" body=""`},
		{Request{Method: "POST", Target: []byte("/p"), Header: []byte("user-agent: me\r\n"), Body: []byte(`{"a":1}`)},
			`%s /p ua="me" cl=7 x="" body="{\"a\":1}"`},
		{Request{Method: "PUT", Target: []byte("/e")},
			`%s /e ua="stampede" cl=0 x="" body=""`},
	}
	for _, tt := range tests {
		t.Run(tt.req.Method, func(t *testing.T) {
			ts.in.Store(0)
			ts.out.Store(0)
			req := tt.req
			req.Scheme, req.Host, req.Timeout = "http", ts.host(), 5*time.Second
			resp := clientDo(c, &req)
			if resp.Err != ErrNone || resp.Status != 200 {
				t.Fatalf("status %d err %q", resp.Status, resp.Err)
			}
			got, _ := seen.Load(req.Method)
			if want := fmt.Sprintf(tt.want, ts.host()); got != want {
				t.Errorf("server saw %s, want %s", got, want)
			}
			ts.checkBytes(t, resp)
			if resp.Sent.IsZero() || resp.Done.Before(resp.Sent) {
				t.Errorf("sent %v done %v", resp.Sent, resp.Done)
			}
		})
	}
	if n := ts.newConns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1 (keep-alive)", n)
	}
}

func TestClientChunkedTrailers(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for i := range 3 {
			fmt.Fprintf(w, "part%d-", i)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "42")
	})
	c := newTestClient(t, ClientOptions{})
	for _, keep := range []bool{true, false} {
		ts.in.Store(0)
		ts.out.Store(0)
		resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), Target: []byte("/"), KeepBody: keep})
		if resp.Err != ErrNone || resp.Status != 200 {
			t.Fatalf("status %d err %q", resp.Status, resp.Err)
		}
		if keep {
			if string(resp.Body) != "part0-part1-part2-" {
				t.Errorf("body %q", resp.Body)
			}
			if v := resp.HeaderValue("x-sum"); v != "42" {
				t.Errorf("trailer X-Sum = %q, headers %q", v, resp.Header)
			}
			if v := resp.HeaderValue("TRANSFER-ENCODING"); v != "chunked" {
				t.Errorf("Transfer-Encoding = %q", v)
			}
		} else if len(resp.Body) != 0 || len(resp.Header) != 0 {
			t.Errorf("kept %q %q without KeepBody", resp.Body, resp.Header)
		}
		ts.checkBytes(t, resp)
	}
	if n := ts.newConns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestClientConnectionClose(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	c := newTestClient(t, ClientOptions{})
	for range 3 {
		resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), KeepBody: true})
		if resp.Err != ErrNone || string(resp.Body) != "bye" {
			t.Fatalf("err %q body %q", resp.Err, resp.Body)
		}
	}
	if n := ts.newConns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

func TestClientNoBodyStatuses(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.WriteHeader(304)
		default:
			w.Header().Set("Content-Length", "1000")
			if r.Method != "HEAD" {
				w.Write(make([]byte, 1000))
			}
		}
	})
	c := newTestClient(t, ClientOptions{})
	for _, tt := range []struct {
		method, path string
		status       int
	}{{"HEAD", "/", 200}, {"GET", "/204", 204}, {"GET", "/304", 304}, {"GET", "/", 200}, {"HEAD", "/", 200}} {
		ts.in.Store(0)
		ts.out.Store(0)
		resp := clientDo(c, &Request{Method: tt.method, Scheme: "http", Host: ts.host(), Target: []byte(tt.path), Timeout: 2 * time.Second})
		if resp.Err != ErrNone || resp.Status != tt.status {
			t.Fatalf("%s %s: status %d err %q", tt.method, tt.path, resp.Status, resp.Err)
		}
		ts.checkBytes(t, resp)
	}
	if n := ts.newConns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestClientKeepBodyCap(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/x-digits")
		if r.URL.Path == "/eof" { // no length: delimited by close
			w.Header().Set("Connection", "close")
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, body)
	})
	c := newTestClient(t, ClientOptions{MaxBodyBytes: 100})
	for _, path := range []string{"/", "/eof"} {
		ts.in.Store(0)
		ts.out.Store(0)
		resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), Target: []byte(path), KeepBody: true})
		if resp.Err != ErrNone {
			t.Fatalf("%s: err %q", path, resp.Err)
		}
		if string(resp.Body) != body[:100] {
			t.Errorf("%s: kept %d bytes %q", path, len(resp.Body), resp.Body)
		}
		if v := resp.HeaderValue("content-type"); v != "text/x-digits" {
			t.Errorf("%s: content-type %q", path, v)
		}
		if resp.BytesIn < int64(len(body)) {
			t.Errorf("%s: BytesIn %d below the body's %d", path, resp.BytesIn, len(body))
		}
		ts.checkBytes(t, resp)
	}
}

func TestClientMaxConns(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		io.WriteString(w, "ok")
	})
	c := newTestClient(t, ClientOptions{MaxConns: 4})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 50 {
		wg.Go(func() {
			var resp Response
			for range 4 {
				c.Do(context.Background(), &Request{Method: "GET", Scheme: "http", Host: ts.host(), Timeout: 10 * time.Second}, &resp)
				if resp.Err != ErrNone || resp.Status != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d requests failed", n)
	}
	if n := ts.newConns.Load(); n > 4 || n < 1 {
		t.Errorf("server saw %d connections, want 1..4", n)
	}
	if n := ts.maxInflht.Load(); n > 4 {
		t.Errorf("server saw %d concurrent requests, cap 4", n)
	}
}

func TestClientRetriesStaleConn(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	c := newTestClient(t, ClientOptions{})
	req := &Request{Method: "POST", Scheme: "http", Host: ts.host(), Body: []byte("x")}
	if resp := clientDo(c, req); resp.Err != ErrNone {
		t.Fatalf("first: %q", resp.Err)
	}
	ts.CloseClientConnections()
	time.Sleep(10 * time.Millisecond)
	if resp := clientDo(c, req); resp.Err != ErrNone || resp.Status != 200 {
		t.Fatalf("after the server closed the idle connection: status %d err %q", resp.Status, resp.Err)
	}
	if n := ts.newConns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestClientCancel(t *testing.T) {
	release := make(chan struct{})
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := newTestClient(t, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ends := make(chan time.Time, 3)
	for range 3 {
		wg.Go(func() {
			var resp Response
			c.Do(ctx, &Request{Method: "GET", Scheme: "http", Host: ts.host()}, &resp)
			if resp.Err != ErrCanceled {
				t.Errorf("err %q, want canceled", resp.Err)
			}
			ends <- time.Now()
		})
	}
	time.Sleep(50 * time.Millisecond)
	cancelled := time.Now()
	cancel()
	wg.Wait()
	close(ends)
	for end := range ends {
		if d := end.Sub(cancelled); d > 100*time.Millisecond {
			t.Errorf("request ended %v after cancel", d)
		}
	}
	var resp Response
	c.Do(ctx, &Request{Method: "GET", Scheme: "http", Host: ts.host()}, &resp)
	if resp.Err != ErrCanceled {
		t.Errorf("Do on a done ctx: %q", resp.Err)
	}
}

func TestClientClose(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
	})
	c := newTestClient(t, ClientOptions{})
	if resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host()}); resp.Err != ErrNone {
		t.Fatalf("err %q", resp.Err)
	}
	done := make(chan *Response)
	go func() {
		done <- clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), Target: []byte("/slow")})
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	c.Close()
	if resp := <-done; resp.Err != ErrCanceled || time.Since(start) > 100*time.Millisecond {
		t.Errorf("in flight at Close: err %q after %v", resp.Err, time.Since(start))
	}
	if resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host()}); resp.Err != ErrCanceled {
		t.Errorf("after Close: err %q", resp.Err)
	}
}

func TestClientHeaderValue(t *testing.T) {
	r := Response{Header: []byte("Content-Type: text/plain\r\nX-Id:  7 \r\nx-id: 8\r\nBad line\r\n")}
	for _, tt := range []struct{ name, want string }{
		{"content-type", "text/plain"}, {"X-ID", "7"}, {"missing", ""}, {"Bad line", ""},
	} {
		if got := r.HeaderValue(tt.name); got != tt.want {
			t.Errorf("HeaderValue(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
