package localaws

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Rule says which requests a FaultProxy answers with a fault.
type Rule struct {
	// Name labels the rule in Faulted.
	Name string
	// Match selects the requests the rule applies to (nil: all).
	Match func(*http.Request) bool
	// Every faults every Every-th matching request (0 or 1: each one).
	Every int
	// Once faults a request at most once: a retry (the same method, path,
	// operation and body) then goes through, so that a client that retries
	// always succeeds, however its attempts interleave with others'.
	Once bool
	// Limit is how many requests the rule faults at most (0: no limit).
	Limit int
	// Fault writes the answer.
	Fault http.Handler
}

// FaultProxy is a reverse proxy on 127.0.0.1 in front of an AWS-compatible
// server: requests that a rule selects are answered with its fault, the
// rest are forwarded. Point a client at URL to test its retries. Safe for
// concurrent use.
type FaultProxy struct {
	// URL is the proxy's endpoint: point SDK clients at it.
	URL string

	srv   *http.Server
	ln    net.Listener
	proxy *httputil.ReverseProxy

	mu       sync.Mutex
	rules    []Rule
	seen     []int             // matching requests per rule
	hits     []int             // faults per rule (for Limit)
	faulted  map[string]int    // faults per rule name
	done     map[[32]byte]bool // requests faulted already (Once rules)
	requests int
}

// StartFaultProxy starts a proxy to target that applies rules (the first
// that faults a request wins).
func StartFaultProxy(target string, rules ...Rule) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("fault proxy: target %q is not a URL", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fault proxy: %w", err)
	}
	p := &FaultProxy{
		URL:     "http://" + ln.Addr().String(),
		ln:      ln,
		proxy:   httputil.NewSingleHostReverseProxy(u),
		faulted: map[string]int{},
		done:    map[[32]byte]bool{},
	}
	// A client that gives up on a request (a poll cut short) is no news.
	p.proxy.ErrorLog = log.New(io.Discard, "", 0)
	p.SetRules(rules...)
	p.srv = &http.Server{Handler: p, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// SetRules replaces the rules (their counts and limits start again;
// Faulted keeps the totals).
func (p *FaultProxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = rules
	p.seen = make([]int, len(rules))
	p.hits = make([]int, len(rules))
}

// Close stops the proxy.
func (p *FaultProxy) Close() { p.srv.Close() }

// ServeHTTP faults or forwards r.
func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if fault := p.pick(r, body); fault != nil {
		fault.ServeHTTP(w, r)
		return
	}
	p.proxy.ServeHTTP(w, r)
}

// pick counts r and returns the fault to answer it with, or nil.
func (p *FaultProxy) pick(r *http.Request, body []byte) http.Handler {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	for i, rule := range p.rules {
		if rule.Match != nil && !rule.Match(r) {
			continue
		}
		p.seen[i]++
		if every := max(rule.Every, 1); p.seen[i]%every != 0 || (rule.Limit > 0 && p.hits[i] >= rule.Limit) {
			continue
		}
		if rule.Once {
			id := requestID(r, body)
			if p.done[id] {
				continue
			}
			p.done[id] = true
		}
		p.hits[i]++
		p.faulted[rule.Name]++
		return rule.Fault
	}
	return nil
}

// requestID identifies a request across its retries.
func requestID(r *http.Request, body []byte) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s %s %s\n", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Amz-Target"))
	h.Write(body)
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// Faulted is how many requests the named rule answered with its fault.
func (p *FaultProxy) Faulted(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faulted[name]
}

// Requests is how many requests reached the proxy, faulted ones included.
func (p *FaultProxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// SQSOp matches an SQS JSON-protocol request for the operation
// ("SendMessageBatch", "ReceiveMessage", "DeleteMessage").
func SQSOp(op string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get("X-Amz-Target") == "AmazonSQS."+op }
}

// S3Op matches S3 requests by method whose path contains part (a key
// fragment such as "/results/"; "" for any).
func S3Op(method, part string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == method && strings.Contains(r.URL.Path, part) }
}

// S3List matches S3 ListObjectsV2 requests.
func S3List(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2"
}
