package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

func TestClassify(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want ErrorClass
	}{
		{"nil", nil, ErrNone},
		{"ctx canceled", fmt.Errorf("dial: %w", context.Canceled), ErrCanceled},
		{"client closed", errClientClosed, ErrCanceled},
		{"ctx deadline", context.DeadlineExceeded, ErrTimeout},
		{"conn deadline", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, ErrTimeout},
		{"body timeout", &bodyError{os.ErrDeadlineExceeded}, ErrTimeout},
		{"refused", op(syscall.ECONNREFUSED), ErrConnRefused},
		{"reset", op(syscall.ECONNRESET), ErrConnReset},
		{"broken pipe", op(syscall.EPIPE), ErrConnReset},
		{"eof before status", io.EOF, ErrConnReset},
		{"dns", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, ErrDNS},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, ErrDNS},
		{"tls record", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, ErrTLS},
		{"tls unknown ca", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, ErrTLS},
		{"tls hostname", x509.HostnameError{Host: "x"}, ErrTLS},
		{"tls handshake", &tlsError{errors.New("tls: handshake failure")}, ErrTLS},
		{"tls handshake timeout", &tlsError{os.ErrDeadlineExceeded}, ErrTimeout},
		{"body eof", &bodyError{io.ErrUnexpectedEOF}, ErrBodyRead},
		{"body reset", &bodyError{op(syscall.ECONNRESET)}, ErrBodyRead},
		{"bad status", errMalformedStatus, ErrProtocol},
		{"bad chunk", errBadChunk, ErrProtocol},
		{"header too large", errHeaderTooLarge, ErrProtocol},
		{"h2 connection error", http2.ConnectionError(http2.ErrCodeProtocol), ErrProtocol},
		{"h2 stream protocol", http2.StreamError{Code: http2.ErrCodeProtocol}, ErrProtocol},
		{"h2 stream refused", http2.StreamError{Code: http2.ErrCodeRefusedStream}, ErrConnReset},
		{"h2 goaway", http2.GoAwayError{ErrCode: http2.ErrCodeNo}, ErrConnReset},
		{"link-local", &net.OpError{Op: "dial", Err: errLinkLocal}, ErrHostRefused},
		{"unknown", errors.New("something else"), ErrOther},
	}
	for _, tt := range tests {
		if got := classifyErr(tt.err); got != tt.want {
			t.Errorf("%s: classifyErr(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

// clientRawServer accepts connections on 127.0.0.1 and runs serve on each.
func clientRawServer(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// clientReadHead reads one request head (no body) from c.
func clientReadHead(c net.Conn) {
	buf := make([]byte, 4096)
	var got []byte
	for !strings.Contains(string(got), "\r\n\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		got = append(got, buf[:n]...)
	}
}

func clientReplying(reply string) func(net.Conn) {
	return func(c net.Conn) {
		clientReadHead(c)
		io.WriteString(c, reply)
	}
}

func TestClientErrorClasses(t *testing.T) {
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := closedLn.Addr().String()
	closedLn.Close()

	resetAddr := clientRawServer(t, func(c net.Conn) {
		clientReadHead(c)
		c.(*net.TCPConn).SetLinger(0)
	})
	eofAddr := clientRawServer(t, clientReadHead)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	hugeHeader := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n"

	tests := []struct {
		name   string
		scheme string
		host   string
		want   ErrorClass
	}{
		{"refused", "http", refusedAddr, ErrConnRefused},
		{"reset", "http", resetAddr, ErrConnReset},
		{"eof before status", "http", eofAddr, ErrConnReset},
		{"timeout", "http", strings.TrimPrefix(slow.URL, "http://"), ErrTimeout},
		{"garbage", "http", clientRawServer(t, clientReplying("SSH-2.0-OpenSSH\r\n\r\n")), ErrProtocol},
		{"bad header", "http", clientRawServer(t, clientReplying("HTTP/1.1 200 OK\r\nno colon\r\n\r\n")), ErrProtocol},
		{"bad chunk", "http", clientRawServer(t, clientReplying("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")), ErrProtocol},
		{"bad length", "http", clientRawServer(t, clientReplying("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")), ErrProtocol},
		{"huge header", "http", clientRawServer(t, clientReplying(hugeHeader)), ErrProtocol},
		{"short body", "http", clientRawServer(t, clientReplying("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")), ErrBodyRead},
		{"short chunk", "http", clientRawServer(t, clientReplying("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc")), ErrBodyRead},
		{"tls unverified", "https", strings.TrimPrefix(tlsSrv.URL, "https://"), ErrTLS},
		{"tls to plain port", "https", clientPlainServer(t), ErrTLS},
		{"dns", "http", "no-such-host.invalid:80", ErrDNS},
		{"link-local literal", "http", "169.254.169.254", ErrHostRefused},
		{"link-local v6", "http", "[fe80::1]:80", ErrHostRefused},
		{"bad scheme", "ftp", "127.0.0.1:21", ErrHostRefused},
	}
	c := newTestClient(t, ClientOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp := clientDo(c, &Request{Method: "GET", Scheme: tt.scheme, Host: tt.host, Timeout: 300 * time.Millisecond})
			if resp.Err != tt.want {
				t.Errorf("err %q (status %d), want %q", resp.Err, resp.Status, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// clientPlainServer is a plain HTTP server, spoken to with TLS.
func clientPlainServer(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestClientPoolWaitTimeout(t *testing.T) {
	ts := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	})
	c := newTestClient(t, ClientOptions{MaxConns: 1})
	first := make(chan *Response)
	go func() {
		first <- clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), Timeout: 5 * time.Second})
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), Timeout: 50 * time.Millisecond})
	if resp.Err != ErrTimeout {
		t.Errorf("waiting for a connection: err %q, want timeout", resp.Err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("wait took %v, timeout 50ms", d)
	}
	if r := <-first; r.Err != ErrNone {
		t.Errorf("first: %q", r.Err)
	}
	if resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: ts.host(), Timeout: 5 * time.Second}); resp.Err != ErrNone {
		t.Errorf("after the wait: %q", resp.Err)
	}
	if n := ts.newConns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}
