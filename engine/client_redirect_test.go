package engine

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClientRedirects(t *testing.T) {
	other := newClientServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") })
	var lastMethod, lastBody atomic.Value
	var ts *clientServer
	ts = newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lastMethod.Store(r.Method)
		lastBody.Store(string(b))
		switch {
		case r.URL.Path == "/final":
			io.WriteString(w, "final")
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case r.URL.Path == "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case r.URL.Path == "/abs":
			w.Header().Set("Location", ts.URL+"/final")
			w.WriteHeader(http.StatusMovedPermanently)
		case strings.HasPrefix(r.URL.Path, "/code/"):
			var code int
			fmt.Sscanf(r.URL.Path, "/code/%d", &code)
			w.Header().Set("Location", "../final")
			w.WriteHeader(code)
		}
	})
	allowed := []string{ts.host()}
	tests := []struct {
		name, method, path string
		body               []byte
		max                int
		hosts              []string
		wantStatus         int
		wantErr            ErrorClass
		wantRedirects      int
		wantMethod         string
		wantBody           string
	}{
		{"not followed", "GET", "/code/302", nil, 0, allowed, 302, ErrNone, 0, "GET", ""},
		{"relative", "GET", "/code/302", nil, 3, allowed, 200, ErrNone, 1, "GET", ""},
		{"absolute", "GET", "/abs", nil, 3, allowed, 200, ErrNone, 1, "GET", ""},
		{"303 post to get", "POST", "/code/303", []byte("data"), 3, allowed, 200, ErrNone, 1, "GET", ""},
		{"302 post to get", "POST", "/code/302", []byte("data"), 3, allowed, 200, ErrNone, 1, "GET", ""},
		{"307 keeps post", "POST", "/code/307", []byte("data"), 3, allowed, 200, ErrNone, 1, "POST", "data"},
		{"308 keeps put", "PUT", "/code/308", []byte("data"), 3, allowed, 200, ErrNone, 1, "PUT", "data"},
		{"too many", "GET", "/loop", nil, 3, allowed, 302, ErrTooManyRedirect, 3, "GET", ""},
		{"refused host", "GET", "/away", nil, 3, allowed, 302, ErrHostRefused, 1, "GET", ""},
		{"allowed other host", "GET", "/away", nil, 3, []string{ts.host(), other.host()}, 200, ErrNone, 1, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, ClientOptions{MaxRedirects: tt.max, AllowedHosts: tt.hosts})
			ts.in.Store(0)
			ts.out.Store(0)
			other.in.Store(0)
			other.out.Store(0)
			resp := clientDo(c, &Request{Method: tt.method, Scheme: "http", Host: ts.host(), Target: []byte(tt.path), Body: tt.body, Timeout: 5 * time.Second})
			if resp.Status != tt.wantStatus || resp.Err != tt.wantErr || resp.Redirects != tt.wantRedirects {
				t.Errorf("status %d err %q redirects %d, want %d %q %d",
					resp.Status, resp.Err, resp.Redirects, tt.wantStatus, tt.wantErr, tt.wantRedirects)
			}
			if tt.wantMethod != "" && (lastMethod.Load() != tt.wantMethod || lastBody.Load() != tt.wantBody) {
				t.Errorf("last hop %v %q, want %s %q", lastMethod.Load(), lastBody.Load(), tt.wantMethod, tt.wantBody)
			}
			in, out := ts.in.Load()+other.in.Load(), ts.out.Load()+other.out.Load()
			if tt.wantErr == ErrNone && (in != resp.BytesOut || out != resp.BytesIn) {
				time.Sleep(20 * time.Millisecond) // server write counters may lag
				in, out = ts.in.Load()+other.in.Load(), ts.out.Load()+other.out.Load()
			}
			if tt.wantErr == ErrNone && (in != resp.BytesOut || out != resp.BytesIn) {
				t.Errorf("bytes out/in %d/%d, servers saw %d/%d", resp.BytesOut, resp.BytesIn, in, out)
			}
		})
	}
}

func TestClientHostPolicy(t *testing.T) {
	p, err := newHostPolicy([]string{"api.example.com", "Svc.Example.com:8443", "127.0.0.1:9000", "https://secure.example.com", "[::1]:8080"})
	if err != nil {
		t.Fatal(err)
	}
	any, _ := newHostPolicy(nil)
	tests := []struct {
		scheme, host  string
		want, wantAny bool
	}{
		{"http", "api.example.com", true, true},
		{"https", "api.example.com", true, true},
		{"http", "api.example.com:80", true, true},
		{"https", "api.example.com:443", true, true},
		{"http", "api.example.com:8080", false, true},
		{"https", "API.Example.COM", true, true},
		{"https", "svc.example.com:8443", true, true},
		{"https", "svc.example.com", false, true},
		{"http", "127.0.0.1:9000", true, true},
		{"http", "127.0.0.1:9001", false, true},
		{"https", "secure.example.com", true, true},
		{"http", "secure.example.com", false, true},
		{"http", "[::1]:8080", true, true},
		{"http", "evil.example.com", false, true},
		{"http", "169.254.169.254", false, false},
		{"http", "169.254.169.254:80", false, false},
		{"http", "[fe80::1%25eth0]:80", false, false},
		{"http", "[::ffff:169.254.1.1]:80", false, false},
		{"ftp", "api.example.com", false, false},
		{"http", "", false, false},
	}
	for _, tt := range tests {
		if got := p.allows(tt.scheme, tt.host); got != tt.want {
			t.Errorf("allows(%s, %s) = %v, want %v", tt.scheme, tt.host, got, tt.want)
		}
		if got := any.allows(tt.scheme, tt.host); got != tt.wantAny {
			t.Errorf("open policy: allows(%s, %s) = %v, want %v", tt.scheme, tt.host, got, tt.wantAny)
		}
	}
}

func TestClientRefuseLinkLocal(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		refuse bool
	}{
		{"169.254.169.254:80", true}, {"[fe80::1]:443", true}, {"127.0.0.1:80", false},
		{"10.0.0.1:80", false}, {"[::1]:80", false},
	} {
		if err := (&hostPolicy{}).control("tcp4", tt.addr, nil); (err != nil) != tt.refuse {
			t.Errorf("control(%s) = %v, want refused %v", tt.addr, err, tt.refuse)
		}
	}
}

func TestClientHTTPS(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.Proto, r.Host)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused h2 handshake
	s.StartTLS()
	defer s.Close()
	host := strings.TrimPrefix(s.URL, "https://")
	for _, h2 := range []bool{false, true} {
		c := newTestClient(t, ClientOptions{Insecure: true, HTTP2: h2})
		resp := clientDo(c, &Request{Method: "GET", Scheme: "https", Host: host, KeepBody: true, Timeout: 5 * time.Second})
		if h2 { // httptest.NewTLSServer offers only http/1.1 in ALPN
			if resp.Err != ErrTLS {
				t.Errorf("h2 to an h1-only server: err %q, want tls", resp.Err)
			}
			continue
		}
		want := "HTTP/1.1 " + host
		if resp.Err != ErrNone || string(resp.Body) != want {
			t.Errorf("err %q body %q, want %q", resp.Err, resp.Body, want)
		}
		if resp.BytesIn <= int64(len(want)) || resp.BytesOut == 0 {
			t.Errorf("bytes out/in %d/%d", resp.BytesOut, resp.BytesIn)
		}
		// A second request resumes nothing new: the connection is reused.
		if resp := clientDo(c, &Request{Method: "GET", Scheme: "https", Host: host, Timeout: 5 * time.Second}); resp.Err != ErrNone {
			t.Errorf("second request: %q", resp.Err)
		}
	}
}

func TestClientHTTP2(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Proto", r.Proto)
		fmt.Fprintf(w, "%s %s %s ua=%s x=%s body=%s", r.Proto, r.Method, r.URL.RequestURI(), r.UserAgent(), r.Header.Get("X-Test"), b)
	})
	tlsSrv := httptest.NewUnstartedServer(handler)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	h2cSrv := httptest.NewUnstartedServer(handler)
	h2cSrv.Config.Protocols = new(http.Protocols)
	h2cSrv.Config.Protocols.SetUnencryptedHTTP2(true)
	h2cSrv.Start()
	defer h2cSrv.Close()

	for _, tt := range []struct{ scheme, url string }{{"https", tlsSrv.URL}, {"http", h2cSrv.URL}} {
		t.Run(tt.scheme, func(t *testing.T) {
			host := strings.TrimPrefix(tt.url, tt.scheme+"://")
			c := newTestClient(t, ClientOptions{Insecure: true, HTTP2: true, MaxRedirects: 2, AllowedHosts: []string{host}})
			resp := clientDo(c, &Request{Method: "POST", Scheme: tt.scheme, Host: host, Target: []byte("/q?a=1"),
				Header: []byte("X-Test: h2\r\n"), Body: []byte("payload"), KeepBody: true, Timeout: 5 * time.Second})
			want := "HTTP/2.0 POST /q?a=1 ua=stampede x=h2 body=payload"
			if resp.Err != ErrNone || resp.Status != 200 || string(resp.Body) != want {
				t.Fatalf("status %d err %q body %q, want %q", resp.Status, resp.Err, resp.Body, want)
			}
			if v := resp.HeaderValue("x-proto"); v != "HTTP/2.0" {
				t.Errorf("X-Proto %q", v)
			}
			if resp.BytesIn < int64(len(want)) || resp.BytesOut < int64(len("payload")) || resp.Sent.IsZero() {
				t.Errorf("bytes out/in %d/%d sent %v", resp.BytesOut, resp.BytesIn, resp.Sent)
			}
			resp = clientDo(c, &Request{Method: "GET", Scheme: tt.scheme, Host: "127.0.0.2:1", Timeout: time.Second})
			if resp.Err != ErrHostRefused {
				t.Errorf("refused host: %q", resp.Err)
			}
		})
	}
}
