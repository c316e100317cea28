package engine

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// EnvRuntimeAPI is the variable Lambda sets to its runtime API's host:port
// (127.0.0.1:9001). A generator must never send load there: a request to
// it could end or steal the invocation. A Client refuses to connect to it.
const EnvRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"

// hostPort is a normalized (lower-case host, explicit port) pair.
type hostPort struct{ host, port string }

// hostPolicy decides which hosts requests and redirects may reach. It is
// read-only after newHostPolicy and so safe for concurrent use.
type hostPolicy struct {
	allowed map[hostPort]struct{} // nil: any host
	// denied are addresses never connected to, whatever the plan allows:
	// the Lambda runtime API's (from EnvRuntimeAPI, when set).
	denied []netip.AddrPort
}

// newHostPolicy builds the policy from entries "host", "host:port" or a URL.
// An entry without a port allows ports 80 and 443. The Lambda runtime API's
// address, when this process runs in Lambda, is denied.
func newHostPolicy(hosts []string) (hostPolicy, error) {
	denied := deniedAddrs(os.Getenv(EnvRuntimeAPI))
	if len(hosts) == 0 {
		return hostPolicy{denied: denied}, nil
	}
	p := hostPolicy{allowed: make(map[hostPort]struct{}, 2*len(hosts)), denied: denied}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if strings.Contains(h, "://") {
			u, err := url.Parse(h)
			if err != nil || u.Host == "" {
				return hostPolicy{}, fmt.Errorf("allowed host %q: not a host or URL", h)
			}
			host, port := splitHostPort(u.Host)
			if port == "" {
				port = defaultPort(u.Scheme)
			}
			p.allowed[hostPort{host, port}] = struct{}{}
			continue
		}
		host, port := splitHostPort(h)
		if host == "" {
			return hostPolicy{}, fmt.Errorf("allowed host %q: empty host", h)
		}
		if port == "" {
			p.allowed[hostPort{host, "80"}] = struct{}{}
			p.allowed[hostPort{host, "443"}] = struct{}{}
			continue
		}
		p.allowed[hostPort{host, port}] = struct{}{}
	}
	return p, nil
}

// allows reports whether a request to scheme://hostport may be sent. It
// refuses unknown schemes, link-local IP literals and the denied
// addresses. It does not allocate for lower-case hosts.
func (p *hostPolicy) allows(scheme, hostport string) bool {
	dport := defaultPort(scheme)
	if dport == "" {
		return false
	}
	host, port := splitHostPort(hostport)
	if host == "" {
		return false
	}
	if port == "" {
		port = dport
	}
	if a, err := netip.ParseAddr(host); err == nil && (isLinkLocal(a) || p.isDenied(a, port)) {
		return false
	}
	if p.allowed == nil {
		return true
	}
	if _, ok := p.allowed[hostPort{host, port}]; ok {
		return true
	}
	if lower := strings.ToLower(host); lower != host {
		_, ok := p.allowed[hostPort{lower, port}]
		return ok
	}
	return false
}

// defaultPort is the scheme's port, or "" for a scheme the client does not
// speak.
func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// splitHostPort splits "host:port", "[v6]:port", "host", "[v6]" or a bare
// IPv6 literal without allocating. port is "" when absent.
func splitHostPort(hp string) (host, port string) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", ""
		}
		host = hp[1:end]
		if rest := hp[end+1:]; strings.HasPrefix(rest, ":") {
			port = rest[1:]
		}
		return host, port
	}
	i := strings.LastIndexByte(hp, ':')
	if i < 0 || strings.IndexByte(hp, ':') != i {
		return hp, "" // no port, or a bare IPv6 literal
	}
	return hp[:i], hp[i+1:]
}

// dialAddr is hp with the scheme's default port added when it has none.
func dialAddr(tls bool, hp string) string {
	host, port := splitHostPort(hp)
	if port != "" {
		return hp
	}
	port = "80"
	if tls {
		port = "443"
	}
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// isLinkLocal reports link-local unicast addresses (169.254.0.0/16,
// fe80::/10), where cloud metadata services live.
func isLinkLocal(a netip.Addr) bool {
	return a.Unmap().IsLinkLocalUnicast()
}

// control is a net.Dialer Control function: it refuses to connect to a
// link-local or a denied address, whatever name resolved to it.
func (p *hostPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil
	}
	if isLinkLocal(ap.Addr()) {
		return errLinkLocal
	}
	if p.deniesPort(ap.Addr(), ap.Port()) {
		return errRuntimeAPI
	}
	return nil
}

// isDenied is deniesPort for a port in decimal (as in a URL).
func (p *hostPolicy) isDenied(a netip.Addr, port string) bool {
	if len(p.denied) == 0 {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && p.deniesPort(a, uint16(n))
}

// deniesPort reports whether a:port is a denied address.
func (p *hostPolicy) deniesPort(a netip.Addr, port uint16) bool {
	for _, d := range p.denied {
		if d.Addr() == a.Unmap() && d.Port() == port {
			return true
		}
	}
	return false
}

// deniedAddrs parses the runtime API's "host:port" ("" when not in
// Lambda): an IP literal, or localhost (both loopback addresses).
func deniedAddrs(runtimeAPI string) []netip.AddrPort {
	if runtimeAPI == "" {
		return nil
	}
	if ap, err := netip.ParseAddrPort(runtimeAPI); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}
	}
	host, port := splitHostPort(runtimeAPI)
	ap, err := netip.ParseAddrPort("127.0.0.1:" + port)
	if err != nil || !strings.EqualFold(host, "localhost") {
		return nil
	}
	return []netip.AddrPort{ap, netip.AddrPortFrom(netip.IPv6Loopback(), ap.Port())}
}

// isRedirect reports the statuses Do follows.
func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// redirect moves ex to loc, resolved against the current URL, applying
// the method rules: 303 (and 301/302 of anything but GET and HEAD) become
// GET without a body.
func (ex *exchange) redirect(status int, loc string) error {
	ref, err := url.Parse(loc)
	if err != nil {
		return errBadLocation
	}
	base, err := url.ParseRequestURI(string(ex.target))
	if err != nil || len(ex.target) == 0 {
		base = &url.URL{Path: "/"}
	}
	base.Scheme, base.Host = ex.scheme, ex.host
	u := base.ResolveReference(ref)
	if u.Host == "" {
		return errBadLocation
	}
	ex.scheme, ex.host, ex.target = u.Scheme, u.Host, []byte(u.RequestURI())
	switch {
	case status == 303 && ex.method != "HEAD",
		(status == 301 || status == 302) && ex.method != "GET" && ex.method != "HEAD":
		ex.method, ex.body = "GET", nil
	}
	return nil
}
