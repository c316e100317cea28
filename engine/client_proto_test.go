package engine

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClientHTTP10KeepAlive(t *testing.T) {
	for _, tt := range []struct {
		name      string
		reply     string
		wantConns int64
	}{
		{"1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1},
		{"1.1 keeps", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1},
		{"1.1 close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var conns atomic.Int64
			host := clientRawServer(t, func(c net.Conn) {
				conns.Add(1)
				for {
					clientReadHead(c)
					if _, err := io.WriteString(c, tt.reply); err != nil {
						return
					}
					if strings.Contains(tt.reply, "close") {
						return
					}
				}
			})
			c := newTestClient(t, ClientOptions{})
			for range 3 {
				resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: host, KeepBody: true, Timeout: 2 * time.Second})
				if resp.Err != ErrNone || string(resp.Body) != "ok" || resp.BytesIn != int64(len(tt.reply)) {
					t.Fatalf("err %q body %q bytes in %d, want %d", resp.Err, resp.Body, resp.BytesIn, len(tt.reply))
				}
			}
			if n := conns.Load(); n != tt.wantConns {
				t.Errorf("%d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

func TestClientInterimAndUnknownLength(t *testing.T) {
	reply := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil close"
	host := clientRawServer(t, clientReplying(reply))
	c := newTestClient(t, ClientOptions{})
	resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: host, KeepBody: true, Timeout: 2 * time.Second})
	if resp.Err != ErrNone || resp.Status != 200 || string(resp.Body) != "until close" ||
		resp.HeaderValue("X-A") != "1" || resp.BytesIn != int64(len(reply)) {
		t.Errorf("err %q status %d body %q header %q bytes in %d (want %d)",
			resp.Err, resp.Status, resp.Body, resp.Header, resp.BytesIn, len(reply))
	}
}

func TestClientTLSResumption(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprintf(w, "resumed=%v", r.TLS.DidResume)
	}))
	defer s.Close()
	c := newTestClient(t, ClientOptions{Insecure: true})
	host := strings.TrimPrefix(s.URL, "https://")
	var got []string
	for range 2 {
		resp := clientDo(c, &Request{Method: "GET", Scheme: "https", Host: host, KeepBody: true, Timeout: 5 * time.Second})
		if resp.Err != ErrNone {
			t.Fatalf("err %q", resp.Err)
		}
		got = append(got, string(resp.Body))
	}
	if got[0] != "resumed=false" || got[1] != "resumed=true" {
		t.Errorf("got %q, want a resumed second session", got)
	}
}

func TestClientParsers(t *testing.T) {
	for _, tt := range []struct {
		in      string
		dec     int64
		decOK   bool
		hex     int64
		hexOK   bool
		chunked bool
	}{
		{"0", 0, true, 0, true, false},
		{"1a", 0, false, 26, true, false},
		{"FF", 0, false, 255, true, false},
		{"123", 123, true, 0x123, true, false},
		{"", 0, false, 0, false, false},
		{"-1", 0, false, 0, false, false},
		{"1 2", 0, false, 0, false, false},
		{"9999999999999999999", 0, false, 0, false, false},
		{"gzip, Chunked", 0, false, 0, false, true},
		{"chunked", 0, false, 0, false, true},
		{"xchunked", 0, false, 0, false, false},
	} {
		if n, ok := parseDecimal([]byte(tt.in)); n != tt.dec || ok != tt.decOK {
			t.Errorf("parseDecimal(%q) = %d, %v", tt.in, n, ok)
		}
		if n, ok := parseHex([]byte(tt.in)); n != tt.hex || ok != tt.hexOK {
			t.Errorf("parseHex(%q) = %d, %v", tt.in, n, ok)
		}
		if got := hasToken([]byte(tt.in), "chunked"); got != tt.chunked {
			t.Errorf("hasToken(%q, chunked) = %v", tt.in, got)
		}
	}
	for _, tt := range []struct{ in, host, port string }{
		{"a.com", "a.com", ""}, {"a.com:8080", "a.com", "8080"}, {"[::1]:80", "::1", "80"},
		{"[::1]", "::1", ""}, {"::1", "::1", ""}, {"[bad", "", ""},
	} {
		if h, p := splitHostPort(tt.in); h != tt.host || p != tt.port {
			t.Errorf("splitHostPort(%q) = %q, %q", tt.in, h, p)
		}
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"Content-Length", "content-length", true}, {"X-1", "x-1", true}, {"ab", "abc", false}, {"[", "{", false}} {
		if got := equalFoldBytes([]byte(tt.a), tt.b); got != tt.want {
			t.Errorf("equalFoldBytes(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	if got := hasHeader([]byte("Accept: x\r\nUSER-AGENT: me\r\n"), "user-agent:"); !got {
		t.Error("hasHeader missed USER-AGENT")
	}
	if got := hasHeader([]byte("X-User-Agent: me\r\n"), "user-agent:"); got {
		t.Error("hasHeader matched inside a name")
	}
}
