package engine

// ErrorClass names why a request failed at the transport or check level.
// A request with an HTTP status that counts as a failure but no transport
// error has ErrNone and is counted by status code. The values appear in
// reports (errors_by_class) and are stable.
type ErrorClass string

// Error classes.
const (
	ErrNone            ErrorClass = ""
	ErrTimeout         ErrorClass = "timeout"
	ErrConnRefused     ErrorClass = "conn_refused"
	ErrConnReset       ErrorClass = "conn_reset"
	ErrDNS             ErrorClass = "dns"
	ErrTLS             ErrorClass = "tls"
	ErrBodyRead        ErrorClass = "body_read"
	ErrProtocol        ErrorClass = "protocol"       // malformed HTTP from the target
	ErrExpect          ErrorClass = "expect_failed"  // status/body/JSON expectation missed
	ErrCapture         ErrorClass = "capture_failed" // a capture found nothing
	ErrPoll            ErrorClass = "poll_failed"    // polling ran out of tries or hit an unexpected state
	ErrHostRefused     ErrorClass = "host_refused"   // URL or redirect to a host the plan does not allow
	ErrTooManyRedirect ErrorClass = "too_many_redirects"
	ErrCanceled        ErrorClass = "canceled" // the run stopped while the request was in flight
	ErrOther           ErrorClass = "other"
)
