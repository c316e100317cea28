package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2"
)

// h2Client sends requests over HTTP/2 with x/net/http2: ALPN "h2" over TLS,
// prior-knowledge h2c over plain TCP. Each transport keeps one connection
// per host and queues requests for free streams, so MaxConns holds as long
// as there are fewer hosts than MaxConns. Byte counts are approximate (see
// Response).
type h2Client struct {
	tls *http2.Transport
	h2c *http2.Transport
}

func newH2Client(c *Client) *h2Client {
	tlsConf := c.tlsConf.Clone()
	tlsConf.NextProtos = []string{"h2"}
	return &h2Client{
		tls: &http2.Transport{
			TLSClientConfig:            tlsConf,
			DisableCompression:         true,
			StrictMaxConcurrentStreams: true,
			DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
				nc, err := c.dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				tc := tls.Client(nc, cfg)
				if err := tc.HandshakeContext(ctx); err != nil {
					nc.Close()
					return nil, &tlsError{err}
				}
				if tc.ConnectionState().NegotiatedProtocol != http2.NextProtoTLS {
					tc.Close()
					return nil, errNoH2
				}
				return tc, nil
			},
		},
		h2c: &http2.Transport{
			AllowHTTP:                  true,
			DisableCompression:         true,
			StrictMaxConcurrentStreams: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return c.dialer.DialContext(ctx, network, addr)
			},
		},
	}
}

// roundTrip sends one hop over HTTP/2 and returns the Location to follow,
// if any. It allocates (an *http.Request and its header map).
func (h *h2Client) roundTrip(ex *exchange, resp *Response, c *Client) (string, error) {
	ctx, cancel := context.WithCancel(ex.ctx)
	defer cancel()
	if !ex.deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, ex.deadline)
		defer cancel()
	}
	stop := context.AfterFunc(c.closeCtx, cancel)
	defer stop()

	var body io.Reader
	if ex.body != nil {
		body = bytes.NewReader(ex.body)
	}
	target := "/"
	if len(ex.target) > 0 {
		target = string(ex.target)
	}
	hr, err := http.NewRequestWithContext(ctx, ex.method, ex.scheme+"://"+ex.host+target, body)
	if err != nil {
		return "", protocolError("bad request url: " + err.Error())
	}
	if ex.body == nil && (ex.method == "POST" || ex.method == "PUT" || ex.method == "PATCH") {
		hr.Body, hr.ContentLength = http.NoBody, 0
	}
	out := int64(len(ex.method) + 1 + len(target) + len(" HTTP/2\r\nHost: \r\n") + len(ex.host))
	out += int64(len(ex.header)) + 2 + int64(len(ex.body))
	parseHeaderLines(ex.header, hr.Header)
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", "stampede")
		out += int64(len("User-Agent: stampede\r\n"))
	}
	if ex.body != nil {
		out += int64(len("Content-Length: \r\n") + len(strconv.Itoa(len(ex.body))))
	}
	resp.BytesOut += out
	if resp.Redirects == 0 {
		resp.Sent = time.Now()
	}
	tr := h.h2c
	if ex.scheme == "https" {
		tr = h.tls
	}
	hres, err := tr.RoundTrip(hr)
	if err != nil {
		return "", err
	}
	defer hres.Body.Close()
	resp.Status = hres.StatusCode
	in := int64(len("HTTP/2 200\r\n\r\n"))
	resp.Header = resp.Header[:0]
	for name, values := range hres.Header {
		for _, v := range values {
			in += int64(len(name) + len(v) + 4)
			if ex.keepBody {
				resp.Header = append(append(append(append(resp.Header, name...), ": "...), v...), "\r\n"...)
			}
		}
	}
	n, err := readH2Body(hres.Body, ex.keepBody, resp, c.opts.MaxBodyBytes)
	resp.BytesIn += in + n
	if err != nil {
		return "", &bodyError{err}
	}
	resp.Done = time.Now()
	if ex.wantLoc && isRedirect(hres.StatusCode) {
		return hres.Header.Get("Location"), nil
	}
	return "", nil
}

// readH2Body reads body to its end, keeping up to maxBody bytes, and
// returns how many bytes it read.
func readH2Body(body io.Reader, keep bool, resp *Response, maxBody int64) (int64, error) {
	var n int64
	if keep {
		room := maxBody - int64(len(resp.Body))
		if room > 0 {
			buf := bytes.NewBuffer(resp.Body)
			k, err := buf.ReadFrom(io.LimitReader(body, room))
			resp.Body = buf.Bytes()
			n += k
			if err != nil {
				return n, err
			}
		}
	}
	k, err := io.Copy(io.Discard, body)
	return n + k, err
}

// parseHeaderLines adds "Name: value\r\n" lines to h.
func parseHeaderLines(lines []byte, h http.Header) {
	for len(lines) > 0 {
		var line []byte
		if i := bytes.IndexByte(lines, '\n'); i >= 0 {
			line, lines = lines[:i], lines[i+1:]
		} else {
			line, lines = lines, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if i := bytes.IndexByte(line, ':'); i > 0 {
			h.Add(string(trimOWS(line[:i])), string(trimOWS(line[i+1:])))
		}
	}
}

func (h *h2Client) close() {
	h.tls.CloseIdleConnections()
	h.h2c.CloseIdleConnections()
}
