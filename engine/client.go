package engine

import (
	"context"
	"time"
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
	Header []byte
	Body   []byte
	// Timeout bounds the whole exchange, connection wait included.
	Timeout time.Duration
	// KeepBody keeps up to MaxBodyBytes of the body and the response
	// headers in the Response (for expectations and captures).
	KeepBody bool
}

// Response is the outcome of Do. Reuse one per worker: Do resets it.
type Response struct {
	Status int
	// Header holds the raw response header lines (only with KeepBody).
	Header []byte
	// Body holds up to MaxBodyBytes (only with KeepBody).
	Body     []byte
	BytesOut int64 // bytes written (request line, headers, body)
	BytesIn  int64 // bytes read (status line, headers, body)
	// Sent is when the request's first byte was written (service time starts).
	Sent time.Time
	// Done is when the last byte of the response was read.
	Done time.Time
	// Err is ErrNone on a complete HTTP exchange, whatever the status.
	Err       ErrorClass
	Redirects int
}

// HeaderValue returns the first value of the named response header (case
// insensitive), or "".
func (r *Response) HeaderValue(name string) string {
	panic("engine: HeaderValue not implemented")
}

// Client sends HTTP requests for one generator. It is safe for concurrent use
// and never holds more than MaxConns connections.
type Client struct{}

// NewClient returns a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	panic("engine: NewClient not implemented")
}

// Do sends req and fills resp. A failed exchange is reported in resp.Err,
// never as a Go error.
func (c *Client) Do(ctx context.Context, req *Request, resp *Response) {
	panic("engine: Do not implemented")
}

// Close closes idle connections.
func (c *Client) Close() {}
