package lambdaharness

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of ServiceOptions.
const (
	DefaultFunction     = "stampede-generator"
	DefaultAccountLimit = 1000
	// DefaultMaxEventAge is how long an asynchronous event may wait for
	// concurrency before it is dropped (template.yaml's
	// MaximumEventAgeInSeconds).
	DefaultMaxEventAge = 300 * time.Second
	// agePoll is how often waiting events are checked for their age.
	agePoll = 50 * time.Millisecond
)

// Throttle reasons the service answers with (the Lambda API's names).
const (
	ReasonReserved = "ReservedFunctionConcurrentInvocationLimitExceeded"
	ReasonAccount  = "ConcurrentInvocationLimitExceeded"
	ReasonRate     = "CallerRateLimitExceeded"
)

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// Function is the one function it serves (DefaultFunction); any other
	// name is ResourceNotFoundException.
	Function string
	// Region is the function's region (AWS_REGION of its emulators).
	Region string
	// Emulators is how many RIE processes run the bootstrap: the
	// function's concurrency without a reservation. 0: none — asynchronous
	// invokes are accepted and wait, and nothing runs (to measure a caller
	// alone).
	Emulators int
	Binaries  Binaries // required when Emulators > 0
	// Timeout and Env are the function's, as in Options.
	Timeout time.Duration
	Env     map[string]string
	// AccountLimit is what GetAccountSettings answers as the account's
	// concurrency (DefaultAccountLimit); all of it is unreserved.
	AccountLimit int
	// MaxEventAge drops asynchronous events that waited longer for
	// concurrency (DefaultMaxEventAge).
	MaxEventAge time.Duration
	// Logf receives the emulators' output (t.Logf when nil).
	Logf func(format string, args ...any)
}

// Invocation is one invocation the service ran (or dropped).
type Invocation struct {
	Payload  []byte
	Async    bool
	Queued   time.Time // when the invoke arrived
	Started  time.Time // zero if it never ran (dropped)
	Ended    time.Time
	Response []byte
	// Err is the invocation's failure (a function error, an emulator
	// error, or "dropped" for an event that aged out); "" on success.
	Err string
}

// Service is a stand-in for the Lambda service of one function, on
// loopback: the real aws-sdk-go-v2 lambda client talks to it through
// AWS_ENDPOINT_URL_LAMBDA (or BaseEndpoint). It serves
//
//   - Invoke (POST /2015-03-31/functions/{name}/invocations):
//     X-Amz-Invocation-Type Event answers 202 at once and queues the
//     event, which runs on the next free emulator as concurrency allows
//     (as Lambda's asynchronous event queue does: a throttled event waits
//     and is retried, up to MaxEventAge, then dropped);
//     RequestResponse (the default) runs on a free emulator and answers
//     200 with the function's response (X-Amz-Function-Error on a
//     function error), or 429 TooManyRequestsException when no
//     concurrency is free — reserved concurrency 0 or exhausted
//     (ReasonReserved), or every emulator busy (ReasonAccount);
//   - PutFunctionConcurrency, GetFunctionConcurrency and
//     DeleteFunctionConcurrency (the reserved concurrency that the kill
//     switch sets to 0), and GetAccountSettings (for the preflight).
//
// ThrottleNext makes the next invokes fail with 429 (ReasonRate), as
// Lambda's invoke-rate quota does. Every emulator serves one invocation at
// a time, as the RIE requires. Counters and Invocations are safe to read
// concurrently. Everything stops in t.Cleanup.
type Service struct {
	URL  string
	opts ServiceOptions

	mu        sync.Mutex
	reserved  *int
	waiting   []*Invocation // asynchronous events not yet started, oldest first
	free      []*emulator
	running   int
	done      []*Invocation
	wake      chan struct{} // capacity 1: something changed
	throttleN int

	accepted, throttled, started, dropped atomic.Int64
}

// StartService starts the service (and its emulators) until the test ends.
func StartService(t testing.TB, opts ServiceOptions) *Service {
	t.Helper()
	if opts.Function == "" {
		opts.Function = DefaultFunction
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountLimit <= 0 {
		opts.AccountLimit = DefaultAccountLimit
	}
	if opts.MaxEventAge <= 0 {
		opts.MaxEventAge = DefaultMaxEventAge
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s := &Service{opts: opts, wake: make(chan struct{}, 1)}
	if opts.Emulators > 0 {
		s.free = startEmulators(t, opts.Emulators, opts.Region+"/svc", opts.Binaries,
			processEnv(opts.Region, opts.Timeout, opts.Env), opts.Timeout, opts.Logf)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		s.invoke(ctx, w, r)
	})
	mux.HandleFunc("GET /2019-09-30/functions/{name}/concurrency", s.getConcurrency)
	mux.HandleFunc("PUT /2017-10-31/functions/{name}/concurrency", s.putConcurrency)
	mux.HandleFunc("DELETE /2017-10-31/functions/{name}/concurrency", s.deleteConcurrency)
	mux.HandleFunc("GET /2016-08-19/account-settings", s.accountSettings)
	mux.HandleFunc("GET /2016-08-19/account-settings/", s.accountSettings)
	srv := httptest.NewServer(mux)
	s.URL = srv.URL
	wg.Go(func() { s.dispatch(ctx, &wg) })
	// Registered after startEmulators' cleanup, so it runs first: the
	// server and the dispatcher stop, invocations under way are abandoned,
	// then the emulators stop.
	t.Cleanup(func() {
		cancel()
		srv.Close()
		wg.Wait()
	})
	return s
}

// Function is the name of the function the service serves.
func (s *Service) Function() string { return s.opts.Function }

// Accepted counts asynchronous invokes answered 202; Throttled invokes
// answered 429; Started invocations that began on an emulator; Dropped
// asynchronous events that aged out before concurrency was free.
func (s *Service) Accepted() int  { return int(s.accepted.Load()) }
func (s *Service) Throttled() int { return int(s.throttled.Load()) }
func (s *Service) Started() int   { return int(s.started.Load()) }
func (s *Service) Dropped() int   { return int(s.dropped.Load()) }

// Waiting is how many asynchronous events wait for concurrency; Running
// how many invocations run now.
func (s *Service) Waiting() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.waiting) }
func (s *Service) Running() int { s.mu.Lock(); defer s.mu.Unlock(); return s.running }

// Reserved is the function's reserved concurrency, if it has one.
func (s *Service) Reserved() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reserved == nil {
		return 0, false
	}
	return *s.reserved, true
}

// Invocations returns the invocations that ended (ran or were dropped), in
// the order they ended.
func (s *Service) Invocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Invocation, len(s.done))
	for i, inv := range s.done {
		out[i] = *inv
	}
	return out
}

// ThrottleNext answers the next n invokes 429 TooManyRequestsException
// (ReasonRate), whatever the concurrency.
func (s *Service) ThrottleNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleN = n
}

// invoke serves the Invoke API.
func (s *Service) invoke(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if !s.known(w, r) {
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "read payload: "+err.Error(), "")
		return
	}
	inv := &Invocation{Payload: payload, Queued: time.Now()}
	typ := r.Header.Get("X-Amz-Invocation-Type")
	s.mu.Lock()
	if s.throttleN > 0 {
		s.throttleN--
		s.mu.Unlock()
		s.throttle(w, ReasonRate)
		return
	}
	switch typ {
	case "Event":
		inv.Async = true
		s.waiting = append(s.waiting, inv)
		s.mu.Unlock()
		s.accepted.Add(1)
		s.signal()
		w.WriteHeader(http.StatusAccepted)
		return
	case "", "RequestResponse":
	default:
		s.mu.Unlock()
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "unsupported invocation type "+typ, "")
		return
	}
	e, reason := s.takeLocked()
	s.mu.Unlock()
	if e == nil {
		s.throttle(w, reason)
		return
	}
	s.run(ctx, e, inv) // srv.Close in Cleanup waits for it
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if inv.Err != "" && inv.Response == nil {
		apiError(w, http.StatusBadGateway, "ServiceException", inv.Err, "")
		return
	}
	if inv.Err != "" {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(inv.Response)
}

// takeLocked takes a free emulator if concurrency allows one more
// invocation, else says why not. s.mu is held.
func (s *Service) takeLocked() (*emulator, string) {
	if s.reserved != nil && s.running >= *s.reserved {
		return nil, ReasonReserved
	}
	if len(s.free) == 0 {
		return nil, ReasonAccount
	}
	e := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	s.running++
	return e, ""
}

// dispatch starts waiting asynchronous events as concurrency frees up, and
// drops those older than MaxEventAge, until ctx ends.
func (s *Service) dispatch(ctx context.Context, wg *sync.WaitGroup) {
	tick := time.NewTicker(agePoll)
	defer tick.Stop()
	for {
		s.mu.Lock()
		for len(s.waiting) > 0 {
			inv := s.waiting[0]
			if time.Since(inv.Queued) > s.opts.MaxEventAge {
				s.waiting = s.waiting[1:]
				inv.Err = "dropped: waited longer than the maximum event age"
				s.done = append(s.done, inv)
				s.dropped.Add(1)
				continue
			}
			e, _ := s.takeLocked()
			if e == nil {
				break
			}
			s.waiting = s.waiting[1:]
			wg.Go(func() { s.run(ctx, e, inv) })
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// run runs inv on e (taken by takeLocked) and gives e back.
func (s *Service) run(ctx context.Context, e *emulator, inv *Invocation) {
	s.started.Add(1)
	inv.Started = time.Now()
	resp, fnErr, err := e.invokeRaw(ctx, inv.Payload)
	inv.Ended = time.Now()
	inv.Response, inv.Err = resp, fnErr
	if err != nil {
		inv.Err = err.Error()
	}
	s.mu.Lock()
	s.running--
	s.free = append(s.free, e)
	s.done = append(s.done, inv)
	s.mu.Unlock()
	s.signal()
}

func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// throttle answers 429 TooManyRequestsException for reason.
func (s *Service) throttle(w http.ResponseWriter, reason string) {
	s.throttled.Add(1)
	w.Header().Set("Retry-After", "1")
	apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.", reason)
}

func (s *Service) getConcurrency(w http.ResponseWriter, r *http.Request) {
	if !s.known(w, r) {
		return
	}
	s.mu.Lock()
	body := map[string]int{}
	if s.reserved != nil {
		body["ReservedConcurrentExecutions"] = *s.reserved
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Service) putConcurrency(w http.ResponseWriter, r *http.Request) {
	if !s.known(w, r) {
		return
	}
	var in struct{ ReservedConcurrentExecutions *int }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ReservedConcurrentExecutions == nil || *in.ReservedConcurrentExecutions < 0 {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "ReservedConcurrentExecutions must be a number of at least 0", "")
		return
	}
	n := *in.ReservedConcurrentExecutions
	s.mu.Lock()
	s.reserved = &n
	s.mu.Unlock()
	s.signal()
	writeJSON(w, http.StatusOK, map[string]int{"ReservedConcurrentExecutions": n})
}

func (s *Service) deleteConcurrency(w http.ResponseWriter, r *http.Request) {
	if !s.known(w, r) {
		return
	}
	s.mu.Lock()
	s.reserved = nil
	s.mu.Unlock()
	s.signal()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) accountSettings(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"AccountLimit": map[string]any{
			"ConcurrentExecutions":           s.opts.AccountLimit,
			"UnreservedConcurrentExecutions": s.opts.AccountLimit,
			"CodeSizeUnzipped":               262144000,
			"CodeSizeZipped":                 52428800,
			"TotalCodeSize":                  80530636800,
		},
		"AccountUsage": map[string]any{"FunctionCount": 1, "TotalCodeSize": 1},
	})
}

// known answers 404 ResourceNotFoundException unless the request's
// function is the service's, by name, ARN or partial ARN.
func (s *Service) known(w http.ResponseWriter, r *http.Request) bool {
	if functionName(r.PathValue("name")) == s.opts.Function {
		return true
	}
	apiError(w, http.StatusNotFound, "ResourceNotFoundException",
		"Function not found: arn:aws:lambda:"+s.opts.Region+":000000000000:function:"+r.PathValue("name"), "")
	return false
}

// functionName is the name in a function name, ARN
// (arn:aws:lambda:R:A:function:NAME[:qualifier]) or partial ARN
// (A:function:NAME).
func functionName(s string) string {
	if _, rest, ok := strings.Cut(s, ":function:"); ok {
		name, _, _ := strings.Cut(rest, ":")
		return name
	}
	return s
}

// apiError writes a Lambda REST-JSON error: the type in X-Amzn-ErrorType,
// as the SDK reads it.
func apiError(w http.ResponseWriter, status int, typ, msg, reason string) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	body := map[string]string{"Type": "User", "message": msg}
	if reason != "" {
		body["Reason"] = reason
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
