package engine

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDeniedAddrs(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want []string
	}{
		{"", nil},
		{"127.0.0.1:9001", []string{"127.0.0.1:9001"}},
		{"[::ffff:127.0.0.1]:9001", []string{"127.0.0.1:9001"}},
		{"[::1]:9001", []string{"[::1]:9001"}},
		{"localhost:9001", []string{"127.0.0.1:9001", "[::1]:9001"}},
		{"LOCALHOST:9001", []string{"127.0.0.1:9001", "[::1]:9001"}},
		{"runtime.example:9001", nil}, // not an address Lambda sets
		{"127.0.0.1", nil},
	} {
		var got []string
		for _, ap := range deniedAddrs(tt.env) {
			got = append(got, ap.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("deniedAddrs(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// TestClientRefusesRuntimeAPI runs the client as it runs inside Lambda,
// with AWS_LAMBDA_RUNTIME_API naming a real server: requests to it are
// refused (host_refused) whether the plan names its address or a name
// that resolves to it, even when the plan allows the host, and the server
// sees no connection; another port of the same loopback address works.
func TestClientRefusesRuntimeAPI(t *testing.T) {
	api := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {})
	other := newClientServer(t, func(w http.ResponseWriter, r *http.Request) {})
	t.Setenv(EnvRuntimeAPI, api.host())
	port := api.host()[strings.LastIndexByte(api.host(), ':')+1:]
	c := newTestClient(t, ClientOptions{AllowedHosts: []string{api.host(), "localhost:" + port, other.host()}})
	for _, host := range []string{api.host(), "localhost:" + port, "[::ffff:127.0.0.1]:" + port} {
		resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: host, Timeout: 2 * time.Second})
		if resp.Err != ErrHostRefused {
			t.Errorf("GET http://%s/ with the runtime API at %s: err %q status %d, want host_refused", host, api.host(), resp.Err, resp.Status)
		}
	}
	if n := api.newConns.Load(); n != 0 {
		t.Errorf("the runtime API saw %d connections", n)
	}
	if resp := clientDo(c, &Request{Method: "GET", Scheme: "http", Host: other.host(), Timeout: 2 * time.Second}); resp.Err != ErrNone || resp.Status != 200 {
		t.Errorf("another loopback port: err %q status %d", resp.Err, resp.Status)
	}
	p, err := newHostPolicy(nil)
	if err != nil || len(p.denied) != 1 || p.denied[0] != netip.MustParseAddrPort(api.host()) {
		t.Errorf("open policy denies %v (%v), want the runtime API", p.denied, err)
	}
}
