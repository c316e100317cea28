package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Connection buffer sizes, in bytes.
const (
	readBufSize  = 16 << 10
	writeBufSize = 4 << 10
)

// poolKey names the connections that can serve a request: same scheme,
// same Host (as the caller wrote it).
type poolKey struct {
	tls  bool
	host string
}

// conn is one HTTP/1.1 connection. Only the goroutine that took it from the
// pool uses it, except for abort, which may set its deadline at any time.
type conn struct {
	nc    net.Conn // a *tls.Conn for https
	cnt   countingConn
	br    *bufio.Reader
	bw    *bufio.Writer
	key   poolKey
	watch atomic.Pointer[watch] // the watch of the request in flight
	// deadline is the deadline last set on nc, in Unix nanoseconds (-1:
	// none), so that a request with the same deadline as the previous one
	// does not set it again. Only the owner uses it.
	deadline int64
	// aborted is set by abort (which gave nc a past deadline): the
	// connection is not reused.
	aborted atomic.Bool
	line    []byte     // header lines longer than br's buffer
	num     [20]byte   // scratch for Content-Length
	idle    *idleCheck // made by closedWhileIdle on first use
}

// countingConn counts the bytes that cross it (HTTP bytes, under bufio and
// above TLS).
type countingConn struct {
	net.Conn
	in, out int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in += int64(n)
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out += int64(n)
	return n, err
}

// pool holds the idle connections per poolKey (LIFO stacks) and caps open
// connections at max. A request that finds neither an idle connection nor
// a free slot waits in FIFO order for a connection handed over by put or a
// slot freed by discard. It is safe for concurrent use.
type pool struct {
	mu      sync.Mutex
	max     int
	open    int // connections open or being dialed
	idle    map[poolKey]*idleStack
	last    *idleStack         // the stack used last: most runs talk to one host
	all     map[*conn]struct{} // open connections, idle or busy
	waiters []*waiter
	closed  bool
}

// waiter receives either a connection for its key or nil: a slot to dial.
// Grants are sent under pool.mu; ch has room for one, and is closed when
// the pool closes.
type waiter struct {
	key poolKey
	ch  chan *conn
}

func (p *pool) init(maxConns int) {
	p.max = maxConns
	p.idle = make(map[poolKey]*idleStack)
	p.all = make(map[*conn]struct{})
}

// get returns an idle connection for key (when allowIdle), or nil and
// slot=true: the caller may dial one and must add or release it. It waits
// until deadline (zero: no bound) or ctx is done.
func (p *pool) get(ctx context.Context, key poolKey, deadline time.Time, allowIdle bool) (cn *conn, slot bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errClientClosed
	}
	if allowIdle {
		if s := p.stack(key, false); s != nil && len(s.conns) > 0 {
			cn = s.pop()
			p.mu.Unlock()
			return cn, false, nil
		}
	}
	if p.open < p.max {
		p.open++
		p.mu.Unlock()
		return nil, true, nil
	}
	if victim := p.evictLocked(); victim != nil {
		p.mu.Unlock()
		victim.nc.Close() // its slot passes to the caller
		return nil, true, nil
	}
	w := &waiter{key: key, ch: make(chan *conn, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	return p.wait(ctx, w, deadline)
}

// wait blocks for w's grant; on timeout or cancellation it hands back
// whatever was granted meanwhile.
func (p *pool) wait(ctx context.Context, w *waiter, deadline time.Time) (*conn, bool, error) {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case cn, ok := <-w.ch:
		if !ok {
			return nil, false, errClientClosed
		}
		return cn, cn == nil, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = os.ErrDeadlineExceeded
	}
	p.mu.Lock()
	for i, o := range p.waiters {
		if o == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.mu.Unlock()
			return nil, false, err
		}
	}
	p.mu.Unlock()
	// Granted meanwhile: the grant is already in w.ch (sent under mu).
	if cn, ok := <-w.ch; ok {
		if cn != nil {
			p.put(cn)
		} else {
			p.release()
		}
	}
	return nil, false, err
}

// evictLocked removes one idle connection of any key and returns it.
func (p *pool) evictLocked() *conn {
	for _, s := range p.idle {
		if len(s.conns) == 0 {
			continue
		}
		c := s.conns
		cn := c[0]
		copy(c, c[1:])
		c[len(c)-1] = nil
		s.conns = c[:len(c)-1]
		delete(p.all, cn)
		return cn
	}
	return nil
}

// idleStack is one poolKey's idle connections, most recently used last.
type idleStack struct {
	key   poolKey
	conns []*conn
}

func (s *idleStack) pop() *conn {
	n := len(s.conns) - 1
	cn := s.conns[n]
	s.conns[n] = nil
	s.conns = s.conns[:n]
	return cn
}

// stack returns key's idle stack (made if create), checking the one used
// last before the map; p.mu held.
func (p *pool) stack(key poolKey, create bool) *idleStack {
	if s := p.last; s != nil && s.key == key {
		return s
	}
	s := p.idle[key]
	if s == nil {
		if !create {
			return nil
		}
		s = &idleStack{key: key}
		p.idle[key] = s
	}
	p.last = s
	return s
}

// add registers a freshly dialed connection (which holds a slot). It fails
// when the pool closed during the dial.
func (p *pool) add(cn *conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClientClosed
	}
	p.all[cn] = struct{}{}
	return nil
}

// put returns a healthy keep-alive connection: to a waiter for its key,
// else (closing it) as a slot to the first waiter, else to the idle stack.
func (p *pool) put(cn *conn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		cn.nc.Close()
		return
	}
	if len(p.waiters) > 0 {
		for i, w := range p.waiters {
			if w.key == cn.key {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				w.ch <- cn
				p.mu.Unlock()
				return
			}
		}
		w := p.waiters[0]
		p.waiters = append(p.waiters[:0], p.waiters[1:]...)
		delete(p.all, cn)
		w.ch <- nil
		p.mu.Unlock()
		cn.nc.Close()
		return
	}
	s := p.stack(cn.key, true)
	s.conns = append(s.conns, cn)
	p.mu.Unlock()
}

// discard closes a connection that cannot be reused and frees its slot.
func (p *pool) discard(cn *conn) {
	cn.nc.Close()
	p.mu.Lock()
	delete(p.all, cn)
	p.releaseLocked()
	p.mu.Unlock()
}

// release frees a slot that holds no connection (a failed dial).
func (p *pool) release() {
	p.mu.Lock()
	p.releaseLocked()
	p.mu.Unlock()
}

func (p *pool) releaseLocked() {
	if len(p.waiters) > 0 && !p.closed {
		w := p.waiters[0]
		p.waiters = append(p.waiters[:0], p.waiters[1:]...)
		w.ch <- nil
		return
	}
	p.open--
}

// abort gives a past deadline to every connection serving a request
// watched by w, so that its reads and writes fail at once.
func (p *pool) abort(w *watch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for cn := range p.all {
		if cn.watch.Load() == w {
			cn.aborted.Store(true)
			cn.nc.SetDeadline(time.Unix(1, 0))
		}
	}
}

// close closes every connection and wakes every waiter.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	all := p.all
	p.all = map[*conn]struct{}{}
	p.idle = map[poolKey]*idleStack{}
	p.last = nil
	for _, w := range p.waiters {
		close(w.ch)
	}
	p.waiters = nil
	p.mu.Unlock()
	for cn := range all {
		cn.nc.Close()
	}
}

// dial opens a connection for key, with a TLS handshake for https, within
// deadline and ctx.
func (c *Client) dial(ctx context.Context, key poolKey, deadline time.Time) (*conn, error) {
	d := c.dialer
	if !deadline.IsZero() {
		d.Deadline = deadline
	}
	nc, err := d.DialContext(ctx, "tcp", dialAddr(key.tls, key.host))
	if err != nil {
		return nil, err
	}
	nc = rawIO(nc)
	if key.tls {
		cfg := c.tlsConf.Clone()
		cfg.ServerName, _ = splitHostPort(key.host)
		if !deadline.IsZero() {
			nc.SetDeadline(deadline)
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, &tlsError{err}
		}
		nc = tc
	}
	cn := &conn{nc: nc, key: key, deadline: -1}
	cn.cnt.Conn = nc
	cn.br = bufio.NewReaderSize(&cn.cnt, readBufSize)
	cn.bw = bufio.NewWriterSize(&cn.cnt, writeBufSize)
	return cn, nil
}
