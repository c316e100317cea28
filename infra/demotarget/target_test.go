package demotarget

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// client talks to a Target served by httptest on 127.0.0.1.
type client struct {
	t   *testing.T
	url string
}

func newServer(t *testing.T, opts Options) (*Target, *client) {
	t.Helper()
	opts.NoDelay = true
	tg := New(opts)
	srv := httptest.NewServer(tg)
	t.Cleanup(srv.Close)
	return tg, &client{t: t, url: srv.URL}
}

// do sends a request and returns the status and the decoded JSON body.
func (c *client) do(method, path, body string, header map[string]string) (int, map[string]any, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func TestPublicRoutes(t *testing.T) {
	_, c := newServer(t, Options{})
	tests := []struct {
		method, path, body string
		status             int
		check              func(t *testing.T, m map[string]any)
	}{
		{"GET", "/prod/health", "", 200, func(t *testing.T, m map[string]any) {
			if m["status"] != "ok" {
				t.Errorf("status = %v", m["status"])
			}
		}},
		{"GET", "/prod/products?category=electronics&limit=20", "", 200, func(t *testing.T, m map[string]any) {
			if m["count"] != 3.0 {
				t.Errorf("count = %v, want 3 electronics", m["count"])
			}
		}},
		{"GET", "/prod/products?limit=2", "", 200, func(t *testing.T, m map[string]any) {
			if m["count"] != 2.0 {
				t.Errorf("count = %v, want 2", m["count"])
			}
		}},
		{"GET", "/prod/products?limit=0", "", 400, nil},
		{"GET", "/prod/products?limit=abc", "", 400, nil},
		{"GET", "/prod/products/sku_1003", "", 200, func(t *testing.T, m map[string]any) {
			if m["name"] != "USB-C Hub" || m["price"] != 34.0 {
				t.Errorf("product = %v", m)
			}
		}},
		{"GET", "/prod/products/sku_9999", "", 404, nil},
		{"POST", "/prod/search", `{"query":"gaming mouse","filters":{"inStock":true,"priceMin":25,"priceMax":500},"limit":10}`, 200, func(t *testing.T, m map[string]any) {
			if m["total"] != 1.0 {
				t.Errorf("total = %v, want 1 (gaming mouse)", m["total"])
			}
		}},
		{"POST", "/prod/search", `{"query":"monitor","filters":{"inStock":true}}`, 200, func(t *testing.T, m map[string]any) {
			if m["total"] != 0.0 {
				t.Errorf("total = %v, want 0 (the monitor is out of stock)", m["total"])
			}
		}},
		{"POST", "/prod/search", `{"sort":"relevance"}`, 400, nil},
		{"POST", "/prod/search", `not json`, 400, nil},
		{"GET", "/prod/search", "", 405, nil},
		{"GET", "/nope", "", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, m, _ := c.do(tt.method, tt.path, tt.body, nil)
			if code != tt.status {
				t.Fatalf("status = %d, want %d", code, tt.status)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestAuthFlow(t *testing.T) {
	_, c := newServer(t, Options{})
	creds := `{"client_id":"load-test-client","client_secret":"s3cret","audience":"serverless-store-api","grant_type":"client_credentials"}`
	code, m, _ := c.do("POST", "/auth/token", creds, nil)
	if code != 200 || m["expires_in"] != 3600.0 {
		t.Fatalf("token: %d %v", code, m)
	}
	token, _ := m["access_token"].(string)
	if token == "" {
		t.Fatal("no access_token")
	}
	bearer := map[string]string{"Authorization": "Bearer " + token}

	code, m, _ = c.do("GET", "/prod/account/profile", "", bearer)
	if code != 200 || m["email"] != "load-test-client@example.com" {
		t.Errorf("profile: %d %v", code, m)
	}
	code, m, _ = c.do("GET", "/prod/account/orders?limit=10", "", bearer)
	if code != 200 || m["count"] != 10.0 {
		t.Errorf("orders: %d %v", code, m)
	}
	code, m, _ = c.do("POST", "/prod/cart/items", `{"productId":"sku_1002","quantity":2,"currency":"USD"}`, bearer)
	if code != 201 || m["lineTotal"] != 179.0 {
		t.Errorf("cart: %d %v", code, m)
	}
	if code, _, _ = c.do("POST", "/prod/cart/items", `{"productId":"sku_0","quantity":2}`, bearer); code != 404 {
		t.Errorf("cart unknown product: %d, want 404", code)
	}
	if code, _, _ = c.do("POST", "/prod/cart/items", `{"productId":"sku_1001","quantity":0}`, bearer); code != 400 {
		t.Errorf("cart quantity 0: %d, want 400", code)
	}

	// Every protected route refuses a missing, forged or foreign token.
	forged := token[:len(token)-2] + "AA"
	other := New(Options{NoDelay: true}).sign("load-test-client", timeNowPlusHour())
	for _, path := range []string{"/prod/account/profile", "/prod/account/orders", "/prod/cart/items"} {
		method := "GET"
		if path == "/prod/cart/items" {
			method = "POST"
		}
		for name, h := range map[string]map[string]string{
			"none":    nil,
			"basic":   {"Authorization": "Basic abc"},
			"forged":  {"Authorization": "Bearer " + forged},
			"foreign": {"Authorization": "Bearer " + other},
		} {
			if code, _, _ := c.do(method, path, `{}`, h); code != 401 {
				t.Errorf("%s %s with %s token: %d, want 401", method, path, name, code)
			}
		}
	}

	if code, m, _ = c.do("POST", "/auth/token", `{"client_id":"x"}`, nil); code != 401 || m["error"] != "invalid_client" {
		t.Errorf("token without secret: %d %v", code, m)
	}
	if code, _, _ = c.do("POST", "/auth/token", `{"client_id":"x","client_secret":"y","grant_type":"password"}`, nil); code != 400 {
		t.Errorf("token with password grant: %d, want 400", code)
	}
}

func TestReportsRoutes(t *testing.T) {
	_, c := newServer(t, Options{})
	code, m, h := c.do("POST", "/prod/reports", `{"reportType":"sales_summary","format":"csv"}`, nil)
	id, _ := m["jobId"].(string)
	if code != 202 || id == "" || m["status"] != JobQueued {
		t.Fatalf("create: %d %v", code, m)
	}
	if h.Get("Location") != "/prod/reports/"+id {
		t.Errorf("Location = %q", h.Get("Location"))
	}
	code, m, _ = c.do("GET", "/prod/reports/"+id, "", nil)
	if code != 200 || m["jobId"] != id || m["status"] != JobQueued {
		t.Errorf("poll: %d %v", code, m)
	}
	if code, _, _ = c.do("GET", "/prod/reports/job_unknown", "", nil); code != 404 {
		t.Errorf("unknown job: %d, want 404", code)
	}
	if code, _, _ = c.do("POST", "/prod/reports", `{"format":"pdf"}`, nil); code != 400 {
		t.Errorf("no reportType: %d, want 400", code)
	}
}

func TestEdgeRoutes(t *testing.T) {
	_, c := newServer(t, Options{})
	hdr := map[string]string{"Cookie": "session_id=abc-123; ab_variant=B", "X-Geo-Country": "JP", "X-Device-Type": "mobile"}

	code, m, h := c.do("GET", "/edge/home", "", hdr)
	v, _ := m["visitor"].(map[string]any)
	if code != 200 || v["variant"] != "B" || v["country"] != "JP" || v["device"] != "mobile" || v["session"] != "abc-123" {
		t.Errorf("home: %d %v", code, m)
	}
	if h.Get("Set-Cookie") != "" {
		t.Errorf("home set a cookie although ab_variant was given: %q", h.Get("Set-Cookie"))
	}
	if _, _, h = c.do("GET", "/edge/home", "", nil); !strings.HasPrefix(h.Get("Set-Cookie"), "ab_variant=A") {
		t.Errorf("home without cookie: Set-Cookie = %q", h.Get("Set-Cookie"))
	}

	code, m, h = c.do("GET", "/edge/content/pricing", "", hdr)
	if code != 200 || m["title"] != "Pricing" {
		t.Errorf("content: %d %v", code, m)
	}
	if xc := h.Get("X-Cache"); xc != "HIT" && xc != "MISS" {
		t.Errorf("X-Cache = %q", xc)
	}
	if code, _, _ = c.do("GET", "/edge/content/unknown-page", "", hdr); code != 404 {
		t.Errorf("unknown slug: %d, want 404", code)
	}

	code, m, _ = c.do("POST", "/edge/track", `{"event":"page_view","path":"/edge/home","metadata":{"campaign":"organic"}}`, hdr)
	if code != 202 || m["variant"] != "B" || m["session"] != "abc-123" || m["event"] != "page_view" {
		t.Errorf("track: %d %v", code, m)
	}
	if code, _, _ = c.do("POST", "/edge/track", `{}`, hdr); code != 400 {
		t.Errorf("track without event: %d, want 400", code)
	}
}

func TestCountsRequests(t *testing.T) {
	tg, c := newServer(t, Options{})
	for range 3 {
		c.do("GET", "/prod/health", "", nil)
	}
	c.do("GET", "/prod/products/sku_1001", "", nil)
	c.do("GET", "/missing", "", nil)
	if got := tg.Requests(); got != 5 {
		t.Errorf("Requests = %d, want 5", got)
	}
	byRoute := map[string]RouteStats{}
	for _, r := range tg.Routes() {
		byRoute[r.Pattern] = r
	}
	if r := byRoute["GET /prod/health"]; r.Requests != 3 || r.ColdStarts != 1 {
		t.Errorf("health: %+v, want 3 requests and 1 cold start", r)
	}
	if r := byRoute["GET /prod/products/{id}"]; r.Requests != 1 || r.ColdStarts != 1 {
		t.Errorf("detail: %+v", r)
	}
	if len(tg.Routes()) != 13 {
		t.Errorf("%d routes, want 13", len(tg.Routes()))
	}
}

func TestBodyTooLarge(t *testing.T) {
	_, c := newServer(t, Options{})
	big := `{"query":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	if code, _, _ := c.do("POST", "/prod/search", big, nil); code != 400 {
		t.Errorf("oversized body: %d, want 400", code)
	}
}
