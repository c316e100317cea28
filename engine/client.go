package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Client defaults.
const (
	// DefaultMaxConns is the connection cap when ClientOptions.MaxConns is 0.
	DefaultMaxConns = 512
	// DefaultMaxBodyBytes is the kept-body cap (bytes) when
	// ClientOptions.MaxBodyBytes is 0.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultDialTimeout bounds connection set-up when
	// ClientOptions.DialTimeout is 0.
	DefaultDialTimeout = 5 * time.Second
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// MaxConns caps open connections (all hosts together).
	MaxConns int
	// Insecure skips TLS verification.
	Insecure bool
	// HTTP2 uses HTTP/2 (ALPN over TLS, prior-knowledge h2c over plain TCP).
	HTTP2 bool
	// MaxRedirects followed per request (0: not followed; the 3xx is the result).
	MaxRedirects int
	// MaxBodyBytes kept in Response.Body when Request.KeepBody is set.
	MaxBodyBytes int64
	// AllowedHosts are the host:port pairs requests and redirects may reach.
	// An entry without a port allows the default ports (80 and 443).
	// Empty allows any host (used only by tests of the client itself).
	AllowedHosts []string
	// DialTimeout bounds connection set-up (default 5s).
	DialTimeout time.Duration
}

// Request is one HTTP request, pre-rendered by the caller. The Client does
// not retain it after Do returns.
type Request struct {
	Method string
	Scheme string // "http" or "https"
	Host   string // host[:port] as in the Host header
	// Target is the request-target: path and query ("/prod/products?limit=20").
	Target []byte
	// Header holds header lines "Name: value\r\n" (no Host, no Content-Length).
	// A "User-Agent: stampede" line is added when it has no User-Agent.
	Header []byte
	// Body is sent with a Content-Length; a nil Body sends none, except
	// for POST, PUT and PATCH, which send "Content-Length: 0".
	Body []byte
	// Timeout bounds the whole exchange, connection wait and redirects
	// included (0: no bound but ctx's deadline). It is enforced to within
	// Timeout/1024 (the deadline is rounded up to that grid, so that
	// back-to-back requests on a connection share one deadline and do not
	// re-arm its timers each time).
	Timeout time.Duration
	// KeepBody keeps up to MaxBodyBytes of the body and the response
	// headers in the Response (for expectations and captures).
	KeepBody bool

	// allowed caches a Client's yes for (Scheme, Host): a reused Request
	// is checked once, not on every Do.
	allowed struct {
		c            *Client
		scheme, host string
	}
}

// Response is the outcome of Do. Reuse one per worker: Do resets it and
// reuses the capacity of Header and Body, so a reused Response costs no
// allocation.
type Response struct {
	Status int
	// Header holds the raw response header lines "Name: value\r\n" of the
	// last hop, chunked trailers appended (only with KeepBody).
	Header []byte
	// Body holds up to MaxBodyBytes (only with KeepBody).
	Body []byte
	// BytesOut and BytesIn count every hop's bytes at the HTTP layer
	// (request line, headers, body; status line, headers, chunk framing,
	// body), before TLS. They are exact for HTTP/1.1 and approximate for
	// HTTP/2 (header fields counted as "Name: value\r\n", not HPACK).
	BytesOut int64 // bytes written
	BytesIn  int64 // bytes read
	// Start is when Do began: the connection wait and the dial count from
	// here.
	Start time.Time
	// Sent is when the request's first byte was written (service time
	// starts); zero if nothing was written.
	Sent time.Time
	// Done is when the last byte of the response was read (or the
	// exchange failed).
	Done time.Time
	// Err is ErrNone on a complete HTTP exchange, whatever the status.
	Err       ErrorClass
	Redirects int
}

// HeaderValue returns the first value of the named response header (case
// insensitive), or "". It needs Request.KeepBody.
func (r *Response) HeaderValue(name string) string {
	h := r.Header
	for len(h) > 0 {
		var line []byte
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			line, h = h, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		i := bytes.IndexByte(line, ':')
		if i > 0 && equalFoldBytes(line[:i], name) {
			return string(trimOWS(line[i+1:]))
		}
	}
	return ""
}

func (r *Response) reset() {
	*r = Response{Header: r.Header[:0], Body: r.Body[:0]}
}

// Client sends HTTP requests for one generator. It is safe for concurrent use
// and never holds more than MaxConns connections (HTTP/1.1). HTTP/2 uses one
// connection per host and waits for free streams.
//
// Cancellation: Do watches each distinct ctx.Done channel with one goroutine
// (started the first time the channel is seen, ended when it closes or the
// Client closes). When the channel closes, every connection serving a
// request of that ctx gets a past deadline, so in-flight requests end at
// once with ErrCanceled. Do allocates nothing for this when workers share
// one run context; a fresh context per request costs a goroutine each.
type Client struct {
	opts    ClientOptions
	policy  hostPolicy
	dialer  net.Dialer
	tlsConf *tls.Config
	pool    pool
	h2      *h2Client // nil unless opts.HTTP2

	watches   sync.Map              // <-chan struct{} → *watch
	lastWatch atomic.Pointer[watch] // the watch found last: workers share one ctx
	closed    atomic.Bool
	closing   chan struct{} // closed by Close
	// closeCtx is cancelled by Close (HTTP/2 requests derive from it).
	closeCtx  context.Context
	closeFunc context.CancelFunc
	closeOnce sync.Once
}

// watch is one watched context's Done channel.
type watch struct{ done <-chan struct{} }

// NewClient returns a Client. It fails on a malformed AllowedHosts entry.
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	policy, err := newHostPolicy(opts.AllowedHosts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts:   opts,
		policy: policy,
		dialer: net.Dialer{
			Timeout:   opts.DialTimeout,
			KeepAlive: 30 * time.Second,
			Control:   policy.control,
		},
		tlsConf: &tls.Config{
			InsecureSkipVerify: opts.Insecure, //nolint:gosec // the plan asks for it
			ClientSessionCache: tls.NewLRUClientSessionCache(opts.MaxConns),
			NextProtos:         []string{"http/1.1"},
		},
		closing: make(chan struct{}),
	}
	c.closeCtx, c.closeFunc = context.WithCancel(context.Background())
	c.pool.init(opts.MaxConns)
	if opts.HTTP2 {
		c.h2 = newH2Client(c)
	}
	return c, nil
}

// exchange is one hop of a request, as sent.
type exchange struct {
	ctx      context.Context
	watch    *watch
	deadline time.Time
	method   string
	scheme   string
	host     string
	target   []byte
	header   []byte
	body     []byte
	keepBody bool
	wantLoc  bool // report a redirect's Location
}

// Do sends req and fills resp. A failed exchange is reported in resp.Err,
// never as a Go error. Do allocates nothing on a reused HTTP/1.1
// connection when resp is reused.
func (c *Client) Do(ctx context.Context, req *Request, resp *Response) {
	resp.reset()
	resp.Start = time.Now()
	if c.closed.Load() {
		resp.Err = ErrCanceled
		return
	}
	if err := ctx.Err(); err != nil {
		resp.Err = c.classify(ctx, err)
		return
	}
	ex := exchange{
		ctx:      ctx,
		watch:    c.watchFor(ctx),
		method:   req.Method,
		scheme:   req.Scheme,
		host:     req.Host,
		target:   req.Target,
		header:   req.Header,
		body:     req.Body,
		keepBody: req.KeepBody,
		wantLoc:  c.opts.MaxRedirects > 0,
	}
	if ex.method == "" {
		ex.method = "GET"
	}
	if req.Timeout > 0 {
		ex.deadline = timeoutDeadline(resp.Start, req.Timeout)
	}
	if d, ok := ctx.Deadline(); ok && (ex.deadline.IsZero() || d.Before(ex.deadline)) {
		ex.deadline = d
	}
	for hop := 0; ; hop++ {
		if !c.allows(req, hop, ex.scheme, ex.host) {
			resp.Err = ErrHostRefused
			break
		}
		var loc string
		var err error
		if c.h2 != nil {
			loc, err = c.h2.roundTrip(&ex, resp, c)
		} else {
			loc, err = c.roundTrip1(&ex, resp)
		}
		if err != nil {
			resp.Err = c.classify(ctx, err)
			break
		}
		if loc == "" {
			break
		}
		if resp.Redirects >= c.opts.MaxRedirects {
			resp.Err = ErrTooManyRedirect
			break
		}
		resp.Redirects++
		if err := ex.redirect(resp.Status, loc); err != nil {
			resp.Err = classifyErr(err)
			break
		}
	}
	if resp.Done.IsZero() || resp.Err != ErrNone {
		resp.Done = time.Now()
	}
}

// timeoutDeadline is now+timeout rounded up to a multiple of timeout/1024
// (in Unix nanoseconds), keeping now's monotonic reading.
func timeoutDeadline(now time.Time, timeout time.Duration) time.Time {
	d := now.Add(timeout)
	if g := int64(timeout >> 10); g > 1 {
		if r := d.UnixNano() % g; r != 0 {
			d = d.Add(time.Duration(g - r))
		}
	}
	return d
}

// allows applies the host policy to a hop, remembering in req a yes for
// its first hop.
func (c *Client) allows(req *Request, hop int, scheme, host string) bool {
	a := &req.allowed
	if hop == 0 && a.c == c && a.host == host && a.scheme == scheme {
		return true
	}
	if !c.policy.allows(scheme, host) {
		return false
	}
	if hop == 0 {
		a.c, a.scheme, a.host = c, scheme, host
	}
	return true
}

// classify names err, knowing that a closed Client or a done ctx explain
// whatever error the exchange saw.
func (c *Client) classify(ctx context.Context, err error) ErrorClass {
	if c.closed.Load() {
		return ErrCanceled
	}
	switch ctx.Err() {
	case nil:
	case context.DeadlineExceeded:
		return ErrTimeout
	default:
		return ErrCanceled
	}
	return classifyErr(err)
}

// watchFor returns the watch of ctx's Done channel, starting its goroutine
// the first time the channel is seen; nil for a context that is never done.
func (c *Client) watchFor(ctx context.Context) *watch {
	done := ctx.Done()
	if done == nil {
		return nil
	}
	if w := c.lastWatch.Load(); w != nil && w.done == done {
		return w
	}
	if w, ok := c.watches.Load(done); ok {
		c.lastWatch.Store(w.(*watch))
		return w.(*watch)
	}
	w := &watch{done: done}
	if prev, loaded := c.watches.LoadOrStore(done, w); loaded {
		return prev.(*watch)
	}
	go func() {
		select {
		case <-done:
			c.pool.abort(w)
		case <-c.closing:
		}
		c.watches.Delete(done)
	}()
	return w
}

// Close closes every connection, idle or busy, and stops the watchers;
// requests in flight end with ErrCanceled and later Do calls return
// ErrCanceled at once.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.closing)
		c.closeFunc()
		c.pool.close()
		if c.h2 != nil {
			c.h2.close()
		}
	})
}
