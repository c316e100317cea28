package engine

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawTCPConn is a TCP connection whose Read and Write issue the read and
// write system calls with syscall.RawSyscall from inside the RawConn
// callbacks, instead of through net.Conn. The socket is non-blocking, so a
// call returns at once (EAGAIN parks the goroutine on the netpoller as
// usual, deadlines included); what is saved is the scheduler's
// entersyscall/exitsyscall around every call, which wakes the runtime's
// sysmon thread each time the process was idle and lets sysmon hand the P
// to another thread during a slow loopback write. At 1,000 req/s that is
// most of the process's context switches (docs/benchmarks.md).
//
// One goroutine may read while another writes (HTTP/2); each direction has
// its own state and callback, made once, so Read and Write do not allocate.
type rawTCPConn struct {
	*net.TCPConn
	rc syscall.RawConn

	rbuf    []byte
	rn      int
	rerr    syscall.Errno
	readFn  func(fd uintptr) bool
	wbuf    []byte
	wn      int
	werr    syscall.Errno
	writeFn func(fd uintptr) bool
}

// rawIO wraps a dialed TCP connection; any other net.Conn is returned as is.
func rawIO(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	c := &rawTCPConn{TCPConn: tc, rc: rc}
	c.readFn = c.doRead
	c.writeFn = c.doWrite
	return c
}

func (c *rawTCPConn) doRead(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(c.rbuf))), uintptr(len(c.rbuf)))
		switch errno {
		case 0:
			c.rn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait for readability
		}
		c.rerr = errno
		return true
	}
}

func (c *rawTCPConn) doWrite(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		p := c.wbuf[c.wn:]
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		switch errno {
		case 0:
			c.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false // wait for room in the socket buffer
		default:
			c.werr = errno
			return true
		}
	}
	return true
}

func (c *rawTCPConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rbuf, c.rn, c.rerr = p, 0, 0
	err := c.rc.Read(c.readFn)
	c.rbuf = nil
	switch {
	case err != nil:
		return 0, err // closed, or the deadline passed (a net.Error)
	case c.rerr != 0:
		return 0, c.opError("read", c.rerr)
	case c.rn == 0:
		return 0, io.EOF
	}
	return c.rn, nil
}

func (c *rawTCPConn) Write(p []byte) (int, error) {
	c.wbuf, c.wn, c.werr = p, 0, 0
	err := c.rc.Write(c.writeFn)
	c.wbuf = nil
	switch {
	case err != nil:
		return c.wn, err
	case c.werr != 0:
		return c.wn, c.opError("write", c.werr)
	}
	return c.wn, nil
}

// opError wraps a failed call as net.Conn's Read and Write do.
func (c *rawTCPConn) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}
