package localaws

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestFaultProxy checks Every and Once against a real server: every other
// matching request is faulted, a retry of a faulted one goes through, and
// requests no rule matches are forwarded untouched.
func TestFaultProxy(t *testing.T) {
	var served int
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		io.WriteString(w, "from the server")
	}))
	t.Cleanup(backend.Close)
	p, err := StartFaultProxy(backend.URL, Rule{
		Name: "put", Match: S3Op(http.MethodPut, "/runs/"), Every: 2, Once: true, Fault: S3SlowDown(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, p.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var got []int
	for _, body := range []string{"a", "b", "x", "b", "c", "y"} {
		got = append(got, do(http.MethodPut, "/bucket/runs/k", body))
	}
	// Every 2nd matching request is faulted (the 2nd, b, and the 6th, y)
	// but the 4th: b's retry goes through, b was faulted once already.
	want := []int{200, 503, 200, 200, 200, 503}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if do(http.MethodGet, "/bucket/runs/k", "") != 200 || do(http.MethodPut, "/bucket/other", "x") != 200 {
		t.Error("a request no rule matches was not forwarded")
	}
	if p.Faulted("put") != 2 || p.Requests() != 8 || served != 6 {
		t.Errorf("faulted %d, requests %d, served %d; want 2, 8, 6", p.Faulted("put"), p.Requests(), served)
	}
}
