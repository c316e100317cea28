package engine

import (
	"testing"
	"time"
)

func TestRenderRequest(t *testing.T) {
	tests := []struct {
		name   string
		step   Step
		scheme string
		host   string
		target string
		header string
		body   string
		static bool
	}{
		{name: "static relative under the target's path",
			step:   Step{Name: "s", URL: "/items", Query: []KV{{"q", "a b&c"}, {"n", "1"}}},
			scheme: "https", host: "api.test:8443", target: "/prod/items?q=a+b%26c&n=1",
			header: "Accept: */*\r\nX-Env: prod\r\n", static: true},
		{name: "step header overrides a default, case-insensitively",
			step:   Step{Name: "s", URL: "items?x=1", Headers: []KV{{"accept", "text/plain"}}, Query: []KV{{"y", "2"}}},
			scheme: "https", host: "api.test:8443", target: "/prod/items?x=1&y=2",
			header: "X-Env: prod\r\naccept: text/plain\r\n", static: true},
		{name: "dynamic path, query, header, cookies and JSON body",
			step: Step{Name: "d", Method: "post", URL: "/users/{{ id }}",
				Query:   []KV{{"tag", "{{ tag }}"}},
				Headers: []KV{{"Authorization", "Bearer {{ token }}"}},
				Cookies: []KV{{"session", "{{ token }}"}, {"lang", "en"}},
				Body:    &Body{Kind: BodyJSON, JSON: map[string]any{"id": "{{ id }}"}}},
			scheme: "https", host: "api.test:8443", target: "/prod/users/42?tag=x%2Fy",
			header: "Accept: */*\r\nX-Env: prod\r\nAuthorization: Bearer t0k\r\nCookie: session=t0k; lang=en\r\nContent-Type: application/json\r\n",
			body:   `{"id":"42"}`},
		{name: "form body, explicit content type header wins",
			step: Step{Name: "f", Method: "POST", URL: "/login", Headers: []KV{{"Content-Type", "text/x-custom"}},
				Body: &Body{Kind: BodyForm, Form: []KV{{"user", "{{ tag }}"}, {"pw", "p&w"}}}},
			scheme: "https", host: "api.test:8443", target: "/prod/login",
			header: "Accept: */*\r\nX-Env: prod\r\nContent-Type: text/x-custom\r\n",
			body:   "user=x%2Fy&pw=p%26w"},
		{name: "dynamic absolute URL",
			step:   Step{Name: "a", URL: "http://{{ host }}/path?q={{ id }}#frag"},
			scheme: "http", host: "other.test:81", target: "/path?q=42",
			header: "Accept: */*\r\nX-Env: prod\r\n"},
		{name: "static absolute URL",
			step:   Step{Name: "a", URL: "https://cdn.test/img.png"},
			scheme: "https", host: "cdn.test", target: "/img.png",
			header: "Accept: */*\r\nX-Env: prod\r\n", static: true},
		{name: "header value cannot inject lines",
			step:   Step{Name: "i", URL: "/", Headers: []KV{{"X-A", "{{ evil }}"}}},
			scheme: "https", host: "api.test:8443", target: "/prod/",
			header: "Accept: */*\r\nX-Env: prod\r\nX-A: aX-B: b\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				Target:    "https://api.test:8443/prod/",
				Scenarios: []Scenario{{Name: "s", Steps: []Step{tt.step}}},
				Load:      Load{Rate: 1},
				Duration:  time.Second,
				Defaults:  Defaults{Headers: []KV{{"Accept", "*/*"}, {"X-Env", "prod"}}},
				Vars: []KV{{"id", "42"}, {"tag", "x/y"}, {"token", "t0k"},
					{"host", "other.test:81"}, {"evil", "a\r\nX-B: b"}},
			}
			r, err := newRunner(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			st := r.plan.scenarios[0].steps[0]
			if got := st.static != nil; got != tt.static {
				t.Errorf("pre-rendered %v; want %v", got, tt.static)
			}
			v := r.newVU(0, 0)
			for range 2 { // the second render reuses the buffers
				v.renderRequest(st)
				q := &v.req
				if q.Scheme != tt.scheme || q.Host != tt.host || string(q.Target) != tt.target {
					t.Errorf("URL %s://%s%s; want %s://%s%s", q.Scheme, q.Host, q.Target, tt.scheme, tt.host, tt.target)
				}
				if string(q.Header) != tt.header {
					t.Errorf("header %q; want %q", q.Header, tt.header)
				}
				if string(q.Body) != tt.body {
					t.Errorf("body %q; want %q", q.Body, tt.body)
				}
			}
		})
	}
}

func TestRenderRequestAllocs(t *testing.T) {
	cfg := Config{
		Target: "http://127.0.0.1:8080",
		Scenarios: []Scenario{{Name: "s", Steps: []Step{{Name: "d", URL: "/users/{{ id }}",
			Query: []KV{{"q", "{{ id }}"}}, Headers: []KV{{"X-Id", "{{ id }}"}}}}}},
		Load: Load{Rate: 1}, Duration: time.Second, Vars: []KV{{"id", "a b"}},
	}
	r, err := newRunner(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, st := r.newVU(0, 0), r.plan.scenarios[0].steps[0]
	v.renderRequest(st)
	if n := testing.AllocsPerRun(100, func() { v.renderRequest(st) }); n != 0 {
		t.Errorf("renderRequest allocates %v times", n)
	}
}
