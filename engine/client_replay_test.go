package engine

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientReplaysOnlyIdempotent uses a server that answers the first
// request of each connection and reads the second, then drops the
// connection without an answer (as a crashing backend does). A GET is sent
// again on a fresh connection and succeeds; a POST is not: the server got
// it once, and the client reports the reset instead of sending it twice.
func TestClientReplaysOnlyIdempotent(t *testing.T) {
	for _, tt := range []struct {
		method string
		want   ErrorClass
		heads  int64 // request heads the server reads in all
	}{
		{"GET", ErrNone, 3},
		{"POST", ErrConnReset, 2},
		{"PUT", ErrConnReset, 2},
	} {
		t.Run(tt.method, func(t *testing.T) {
			var heads atomic.Int64
			host := clientRawServer(t, func(c net.Conn) {
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					if !readHeadAndBody(br) {
						return
					}
					heads.Add(1)
					if i == 1 {
						return // read the second request, drop the connection
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			c := newTestClient(t, ClientOptions{})
			req := &Request{Method: tt.method, Scheme: "http", Host: host, Body: []byte("x"), Timeout: 2 * time.Second}
			if resp := clientDo(c, req); resp.Err != ErrNone {
				t.Fatalf("first: %q", resp.Err)
			}
			if resp := clientDo(c, req); resp.Err != tt.want {
				t.Errorf("second: err %q status %d, want %q", resp.Err, resp.Status, tt.want)
			}
			time.Sleep(20 * time.Millisecond) // let the server count a retry
			if n := heads.Load(); n != tt.heads {
				t.Errorf("the server read %d requests, want %d", n, tt.heads)
			}
		})
	}
}

// readHeadAndBody reads one request head and a 1-byte body if it has a
// Content-Length; false at the connection's end.
func readHeadAndBody(br *bufio.Reader) bool {
	body := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		if len(line) > 15 && (line[:15] == "Content-Length:" || line[:15] == "content-length:") {
			body = line[15:] != " 0\r\n"
		}
		if line == "\r\n" {
			break
		}
	}
	if body {
		_, err := br.ReadByte()
		return err == nil
	}
	return true
}

// TestClientZeroAllocsPOST checks that the open-connection check of a
// non-replayable request on a kept-alive connection allocates nothing.
func TestClientZeroAllocsPOST(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	host := clientCannedServer(t)
	c := newTestClient(t, ClientOptions{})
	ctx := context.Background()
	req := Request{Method: "POST", Scheme: "http", Host: host, Target: []byte("/p"), Timeout: 5 * time.Second}
	var resp Response
	c.Do(ctx, &req, &resp) // dial, grow buffers, make the idle check
	allocs := testing.AllocsPerRun(500, func() {
		c.Do(ctx, &req, &resp)
		if resp.Err != ErrNone {
			t.Fatalf("err %q", resp.Err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per kept-alive POST, want 0", allocs)
	}
}
