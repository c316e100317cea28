package engine

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// rawPair dials a 127.0.0.1 listener and returns the client side wrapped by
// rawIO and the accepted server side.
func rawPair(t *testing.T) (*rawTCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	rc, ok := rawIO(nc).(*rawTCPConn)
	if !ok {
		t.Fatal("rawIO did not wrap a TCP connection")
	}
	t.Cleanup(func() { rc.Close(); srv.Close() })
	return rc, srv.(*net.TCPConn)
}

// TestRawIOBytes: a write larger than the socket buffers completes (the
// callback waits on EAGAIN and resumes where it stopped), both directions
// carry the exact bytes, and the peer's close reads as io.EOF.
func TestRawIOBytes(t *testing.T) {
	c, srv := rawPair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(srv, int64(len(big))))
		got <- b
		srv.Write([]byte("reply"))
		srv.Close()
	}()
	n, err := c.Write(big)
	if err != nil || n != len(big) {
		t.Fatalf("Write: %d, %v; want %d", n, err, len(big))
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("server read %d bytes, not the %d written", len(b), len(big))
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "reply" {
		t.Fatalf("ReadAll: %q, %v", b, err)
	}
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF: %d, %v", n, err)
	}
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty Read: %d, %v", n, err)
	}
}

// TestRawIOErrors: deadlines, resets and a local close surface as the
// errors the classifier knows.
func TestRawIOErrors(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		c, _ := rawPair(t)
		c.SetReadDeadline(time.Now().Add(-time.Second))
		_, err := c.Read(make([]byte, 8))
		if !errors.Is(err, os.ErrDeadlineExceeded) || classifyErr(err) != ErrTimeout {
			t.Fatalf("Read past deadline: %v (%s)", err, classifyErr(err))
		}
	})
	t.Run("reset", func(t *testing.T) {
		c, srv := rawPair(t)
		srv.SetLinger(0) // close sends RST
		srv.Close()
		var err error
		for err == nil { // the RST may land after a write or two
			_, err = c.Write([]byte("x"))
			if err == nil {
				_, err = c.Read(make([]byte, 8))
			}
		}
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) && err != io.EOF {
			t.Fatalf("after reset: %v", err)
		}
		if classifyErr(err) != ErrConnReset {
			t.Fatalf("after reset: %v classified %s", err, classifyErr(err))
		}
		var op *net.OpError
		if errors.Is(err, syscall.ECONNRESET) && !errors.As(err, &op) {
			t.Fatalf("reset error %T is not a *net.OpError", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		c, _ := rawPair(t)
		done := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 8)) // parks: the peer sends nothing
			done <- err
		}()
		c.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read on a closed connection: %v", err)
		}
	})
}

// TestRawIOZeroAllocs: a write and a read allocate nothing.
func TestRawIOZeroAllocs(t *testing.T) {
	c, srv := rawPair(t)
	msg := []byte("ping")
	go io.Copy(srv, srv) // echo
	buf := make([]byte, len(msg))
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per write and read; want 0", allocs)
	}
}
