package lambdaharness

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"testing"
)

// credentialScope finds the region in a SigV4 Authorization header:
// "Credential=AKID/20261203/us-east-1/lambda/aws4_request".
var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/lambda/aws4_request`)

// StartRouter serves several regions' services on one endpoint, until the
// test ends, and returns its URL: each request goes to the service of the
// region its SigV4 signature names. AWS_ENDPOINT_URL_LAMBDA is one URL for
// every region; on AWS each region has its own endpoint, and the same
// function name in each.
func StartRouter(t testing.TB, services ...*Service) string {
	t.Helper()
	proxies := map[string]*httputil.ReverseProxy{}
	for _, s := range services {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatalf("lambdaharness: %v", err)
		}
		proxies[s.opts.Region] = httputil.NewSingleHostReverseProxy(u)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || proxies[m[1]] == nil {
			apiError(w, http.StatusForbidden, "UnrecognizedClientException", "no Lambda stand-in for this request's region", "")
			return
		}
		proxies[m[1]].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Region is the service's region.
func (s *Service) Region() string { return s.opts.Region }
