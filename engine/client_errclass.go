package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/net/http2"
)

// protocolError is malformed HTTP from the target.
type protocolError string

func (e protocolError) Error() string { return "http: " + string(e) }

// Protocol errors.
const (
	errMalformedStatus protocolError = "malformed status line"
	errMalformedHeader protocolError = "malformed header line"
	errHeaderTooLarge  protocolError = "header section over 64 KiB"
	errBadLength       protocolError = "bad content-length"
	errBadChunk        protocolError = "bad chunk size or framing"
	errBadLocation     protocolError = "bad redirect location"
	errNoH2            protocolError = "server did not negotiate h2"
)

// refusedError is a connection the host policy forbids.
type refusedError string

func (e refusedError) Error() string { return string(e) }

// errLinkLocal refuses a link-local peer (cloud metadata endpoints);
// errRuntimeAPI the Lambda runtime API's address.
const (
	errLinkLocal  refusedError = "link-local address refused"
	errRuntimeAPI refusedError = "lambda runtime api address refused"
)

// closedError is a request cut by Client.Close.
type closedError string

func (e closedError) Error() string { return string(e) }

const errClientClosed closedError = "client closed"

// tlsError is a failed TLS handshake.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return "tls handshake: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// bodyError is a failure while reading a body after the headers.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// classifyErr names why an exchange failed. Precedence: cancellation,
// host policy, DNS, timeout, protocol, TLS, body read, refused, reset.
// An EOF before the status line (on a fresh connection) is a reset.
func classifyErr(err error) ErrorClass {
	if err == nil {
		return ErrNone
	}
	var (
		refused refusedError
		closed  closedError
		dnsErr  *net.DNSError
		proto   protocolError
		body    *bodyError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.As(err, &closed):
		return ErrCanceled
	case errors.As(err, &refused):
		return ErrHostRefused
	case errors.As(err, &dnsErr):
		return ErrDNS
	case isTimeout(err):
		return ErrTimeout
	case errors.As(err, &proto), isH2Protocol(err):
		return ErrProtocol
	case isTLS(err):
		return ErrTLS
	case errors.As(err, &body):
		return ErrBodyRead
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrConnRefused
	case isReset(err):
		return ErrConnReset
	}
	return ErrOther
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLS(err error) bool {
	var (
		hs      *tlsError
		rec     tls.RecordHeaderError
		verify  *tls.CertificateVerificationError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	return errors.As(err, &hs) || errors.As(err, &rec) || errors.As(err, &verify) ||
		errors.As(err, &alert) || errors.As(err, &unknown) || errors.As(err, &host) ||
		errors.As(err, &invalid)
}

func isReset(err error) bool {
	var (
		goAway http2.GoAwayError
		stream http2.StreamError
	)
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &goAway) || errors.As(err, &stream)
}

// isH2Protocol reports HTTP/2 framing errors by the peer.
func isH2Protocol(err error) bool {
	var (
		conn   http2.ConnectionError
		stream http2.StreamError
	)
	if errors.As(err, &conn) {
		return true
	}
	return errors.As(err, &stream) && stream.Code == http2.ErrCodeProtocol
}
