package demotarget

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func timeNowPlusHour() time.Time { return time.Now().Add(time.Hour) }

// serve calls tg directly (inside a synctest bubble time is fake).
func serve(tg *Target, method, path, body string, header map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	tg.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec, m
}

func TestJobProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{NoDelay: true, JobTime: 3 * time.Second})
		_, m := serve(tg, "POST", "/prod/reports", `{"reportType":"sales_summary"}`, nil)
		id := m["jobId"].(string)
		want := []struct {
			after time.Duration
			state string
		}{
			{0, JobQueued},
			{999 * time.Millisecond, JobQueued},
			{time.Millisecond, JobProcessing}, // 1s: a third of 3s
			{1999 * time.Millisecond, JobProcessing},
			{time.Millisecond, JobCompleted}, // 3s
			{time.Minute, JobCompleted},
		}
		for _, w := range want {
			time.Sleep(w.after)
			rec, m := serve(tg, "GET", "/prod/reports/"+id, "", nil)
			if rec.Code != 200 || m["status"] != w.state {
				t.Fatalf("at +%v: %d %v, want %s", w.after, rec.Code, m, w.state)
			}
		}
		if _, m := serve(tg, "GET", "/prod/reports/"+id, "", nil); m["downloadUrl"] != "/prod/reports/"+id+"/download.pdf" {
			t.Errorf("downloadUrl = %v", m["downloadUrl"])
		}
	})
}

func TestJobRandomTimeWithinOneToThreeSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{NoDelay: true})
		var ids []string
		for range 20 {
			_, m := serve(tg, "POST", "/prod/reports", `{"reportType":"x"}`, nil)
			ids = append(ids, m["jobId"].(string))
		}
		check := func(state string) {
			for _, id := range ids {
				if _, m := serve(tg, "GET", "/prod/reports/"+id, "", nil); m["status"] != state {
					t.Fatalf("job %s: %v, want %s", id, m["status"], state)
				}
			}
		}
		time.Sleep(330 * time.Millisecond)
		check(JobQueued)
		time.Sleep(3 * time.Second)
		check(JobCompleted)
	})
}

func TestJobTableBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{NoDelay: true, MaxJobs: 3, JobTTL: time.Minute})
		var ids []string
		for range 5 {
			_, m := serve(tg, "POST", "/prod/reports", `{"reportType":"x"}`, nil)
			ids = append(ids, m["jobId"].(string))
		}
		if n := tg.jobs.len(); n != 3 {
			t.Fatalf("%d jobs kept, want 3", n)
		}
		for i, id := range ids {
			rec, _ := serve(tg, "GET", "/prod/reports/"+id, "", nil)
			if want := map[bool]int{true: 404, false: 200}[i < 2]; rec.Code != want {
				t.Errorf("job %d: %d, want %d", i, rec.Code, want)
			}
		}
		time.Sleep(2 * time.Minute)
		serve(tg, "POST", "/prod/reports", `{"reportType":"x"}`, nil)
		if n := tg.jobs.len(); n != 1 {
			t.Errorf("%d jobs after expiry, want 1", n)
		}
	})
}

func TestTokenExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{NoDelay: true})
		_, m := serve(tg, "POST", "/auth/token", `{"client_id":"c","client_secret":"s"}`, nil)
		bearer := map[string]string{"Authorization": "Bearer " + m["access_token"].(string)}
		time.Sleep(TokenLifetime - time.Second)
		if rec, _ := serve(tg, "GET", "/prod/account/profile", "", bearer); rec.Code != 200 {
			t.Errorf("before expiry: %d", rec.Code)
		}
		time.Sleep(time.Second)
		if rec, _ := serve(tg, "GET", "/prod/account/profile", "", bearer); rec.Code != 401 {
			t.Errorf("after expiry: %d, want 401", rec.Code)
		}
	})
}

func TestThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{NoDelay: true, RateLimit: 10, Burst: 5})
		count := func(n int) (ok, throttled int) {
			for range n {
				rec, _ := serve(tg, "GET", "/prod/health", "", nil)
				switch rec.Code {
				case 200:
					ok++
				case 429:
					throttled++
					if rec.Header().Get("Retry-After") != "1" {
						t.Errorf("429 without Retry-After")
					}
				}
			}
			return ok, throttled
		}
		if ok, th := count(10); ok != 5 || th != 5 {
			t.Errorf("burst: %d ok, %d throttled; want 5, 5", ok, th)
		}
		time.Sleep(300 * time.Millisecond) // 3 tokens
		if ok, th := count(4); ok != 3 || th != 1 {
			t.Errorf("after 300ms: %d ok, %d throttled; want 3, 1", ok, th)
		}
		time.Sleep(10 * time.Second) // capped at the burst
		if ok, th := count(7); ok != 5 || th != 2 {
			t.Errorf("after 10s: %d ok, %d throttled; want 5, 2", ok, th)
		}
		if tg.Requests() != 21 {
			t.Errorf("Requests = %d, want 21 (throttled ones count)", tg.Requests())
		}
	})
}

func TestColdStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{ColdStart: 100 * time.Millisecond, IdleTimeout: time.Minute})
		timed := func(path string) (time.Duration, bool) {
			start := time.Now()
			rec, _ := serve(tg, "GET", path, "", nil)
			return time.Since(start), rec.Header().Get(HeaderColdStart) == "true"
		}
		// First request: cold, 50–150ms of start plus 0.5–30ms of service.
		if d, cold := timed("/prod/health"); !cold || d < 50*time.Millisecond || d > 180*time.Millisecond {
			t.Errorf("first request: %v cold=%v", d, cold)
		}
		if d, cold := timed("/prod/health"); cold || d > 30*time.Millisecond || d < 500*time.Microsecond {
			t.Errorf("warm request: %v cold=%v", d, cold)
		}
		// Three at once need two more instances.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { serve(tg, "GET", "/prod/health", "", nil) })
		}
		wg.Wait()
		if got := tg.Routes()[0].ColdStarts; got != 3 {
			t.Errorf("cold starts after a burst of 3: %d, want 3", got)
		}
		// Idle for longer than IdleTimeout: cold again.
		time.Sleep(2 * time.Minute)
		if _, cold := timed("/prod/health"); !cold {
			t.Error("request after idle period was warm")
		}
	})
}

func TestSearchIsSlower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{})
		serve(tg, "POST", "/prod/search", `{"query":"hub"}`, nil) // cold starts
		serve(tg, "GET", "/prod/health", "", nil)
		var search, health time.Duration
		for range 20 {
			start := time.Now()
			serve(tg, "POST", "/prod/search", `{"query":"hub"}`, nil)
			search += time.Since(start)
			start = time.Now()
			serve(tg, "GET", "/prod/health", "", nil)
			health += time.Since(start)
		}
		if search < 4*health {
			t.Errorf("search took %v in all, health %v: want search much slower", search, health)
		}
	})
}

func TestClientGoneStopsDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := New(Options{ColdStart: time.Hour})
		req := httptest.NewRequest("GET", "/prod/health", nil)
		ctx, cancel := contextWithCancel(req)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { tg.ServeHTTP(rec, req.WithContext(ctx)); close(done) }()
		time.Sleep(time.Second)
		cancel()
		<-done
		if rec.Body.Len() != 0 {
			t.Errorf("wrote a body to a gone client: %q", rec.Body.String())
		}
	})
}

var _ http.Handler = (*Target)(nil)

func contextWithCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(r.Context())
}
