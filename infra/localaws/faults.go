package localaws

import (
	"fmt"
	"net/http"
	"testing"
)

// Faults is a FaultProxy that answers the first requests that match with
// a fault instead of forwarding them, and forwards everything else. Point
// a client at URL to test its retries. Safe for concurrent use.
type Faults struct {
	*FaultProxy
}

// firstN names the rule of a Faults.
const firstN = "first"

// StartFaults starts a proxy to target that answers the first n requests
// with fault. It is stopped when the test ends.
func StartFaults(t testing.TB, target string, n int, fault http.Handler) *Faults {
	return StartFaultsMatching(t, target, n, fault, nil)
}

// StartFaultsMatching is StartFaults counting only the requests for which
// match returns true (all when match is nil) towards the n faulted ones.
func StartFaultsMatching(t testing.TB, target string, n int, fault http.Handler, match func(*http.Request) bool) *Faults {
	t.Helper()
	var rules []Rule
	if n > 0 {
		rules = append(rules, Rule{Name: firstN, Match: match, Limit: n, Fault: fault})
	}
	p, err := StartFaultProxy(target, rules...)
	if err != nil {
		t.Fatalf("localaws: %v", err)
	}
	t.Cleanup(p.Close)
	return &Faults{p}
}

// Faulted is how many requests were answered with the fault.
func (f *Faults) Faulted() int { return f.FaultProxy.Faulted(firstN) }

// S3SlowDown answers as S3 does when a prefix is over its request rate:
// 503 with the SlowDown error code.
func S3SlowDown() http.Handler {
	return S3Error(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
}

// S3InternalError answers as S3 does when it fails: 500 with the
// InternalError code.
func S3InternalError() http.Handler {
	return S3Error(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

// S3Error answers with status and S3's XML error body naming code.
func S3Error(status int, code, msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>FAULT</RequestId></Error>`, code, msg)
	})
}

// SQSThrottled answers as SQS's JSON protocol does when a request is
// throttled: 400 with the RequestThrottled error type.
func SQSThrottled() http.Handler {
	return sqsError(http.StatusBadRequest, "RequestThrottled", "Rate exceeded")
}

// SQSInternalError answers as SQS's JSON protocol does when it fails: 500
// with the InternalError error type.
func SQSInternalError() http.Handler {
	return sqsError(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

// sqsError answers with status and SQS's JSON-protocol error of type typ.
func sqsError(status int, typ, msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-query-error", typ+";Sender")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"%s"}`, typ, msg)
	})
}

// Status answers with the HTTP status code and an empty body.
func Status(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
	})
}
