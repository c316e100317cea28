//go:build unix

package engine

import (
	"crypto/tls"
	"syscall"
)

// idleCheck peeks at one connection's socket; a conn makes it on first
// use, so that later checks allocate nothing.
type idleCheck struct {
	rc     syscall.RawConn // nil: the socket cannot be peeked at
	tls    bool
	closed bool
	buf    [1]byte
	peek   func(fd uintptr) bool // c.peekFD
}

// closedWhileIdle reports whether the server closed cn while it sat idle
// in the pool: its FIN or RST (or, over plain TCP, bytes nobody asked for)
// wait on the socket. It peeks without blocking and consumes nothing. Over
// TLS, waiting bytes may be a session ticket and do not count.
func closedWhileIdle(cn *conn) bool {
	c := cn.idle
	if c == nil {
		c = &idleCheck{}
		c.peek = c.peekFD
		nc := cn.nc
		if tc, ok := nc.(*tls.Conn); ok {
			nc, c.tls = tc.NetConn(), true
		}
		if sc, ok := nc.(syscall.Conn); ok {
			c.rc, _ = sc.SyscallConn()
		}
		cn.idle = c
	}
	if c.rc == nil {
		return false
	}
	c.closed = false
	err := c.rc.Read(c.peek)
	return c.closed || err != nil
}

func (c *idleCheck) peekFD(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), c.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
	case err != nil, n == 0:
		c.closed = true // reset, or end of stream
	default:
		c.closed = !c.tls
	}
	return true // done: never wait for the socket to become readable
}
