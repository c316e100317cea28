package engine

import (
	"encoding/json"
	"fmt"
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

// echoKnobs shape the echo server's answers. Each can also be set per
// request with a query parameter: ?delay=20ms&status=503&size=100.
type echoKnobs struct {
	Delay    time.Duration // before answering
	Statuses []int         // status mix, cycled per request (empty: 200)
	BodySize int           // > 0: a body of this many 'x' instead of the echo
}

// echoServer is an httptest server on 127.0.0.1 for engine tests. Besides
// the echo (any path) it serves a token flow and an async job:
//
//	POST /login      {"token":"secret-token"}
//	GET  /me         200 with "Authorization: Bearer secret-token", else 401
//	POST /jobs       {"id":"job-N","status":"pending"}
//	GET  /jobs/{id}  "pending" for the first two polls of a job, then "completed"
//
// It counts requests, in all and per path. Safe for concurrent use.
type echoServer struct {
	*httptest.Server
	knobs    echoKnobs
	requests atomic.Int64

	mu    sync.Mutex
	paths map[string]int64 // requests per "METHOD path"
	users map[string]int64 // requests per X-User header value
	jobs  map[string]int   // polls per job
}

// echoReply is the JSON body of an echo answer.
type echoReply struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// tokenSecret is the token the echo server's /login hands out.
const tokenSecret = "secret-token"

// newEchoServer starts an echo server, closed when the test ends.
func newEchoServer(t testing.TB, knobs echoKnobs) *echoServer {
	t.Helper()
	s := &echoServer{knobs: knobs, paths: map[string]int64{}, users: map[string]int64{}, jobs: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"token": tokenSecret})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tokenSecret {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "no token"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		id := "job-" + strconv.Itoa(len(s.jobs))
		s.jobs[id] = 0
		s.mu.Unlock()
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "status": "pending"})
	})
	mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n, ok := s.jobs[r.PathValue("id")]
		s.jobs[r.PathValue("id")] = n + 1
		s.mu.Unlock()
		switch {
		case !ok:
			writeJSON(w, http.StatusNotFound, map[string]string{"status": "unknown"})
		case n < 2:
			writeJSON(w, http.StatusOK, map[string]string{"status": "pending"})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"status": "completed"})
		}
	})
	mux.HandleFunc("/", s.echo)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1) - 1
		s.mu.Lock()
		s.paths[r.Method+" "+r.URL.Path]++
		if u := r.Header.Get("X-User"); u != "" {
			s.users[u]++
		}
		s.mu.Unlock()
		delay := s.knobs.Delay
		if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil {
			delay = d
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if mix := s.knobs.Statuses; len(mix) > 0 && r.URL.Query().Get("status") == "" {
			if code := mix[n%int64(len(mix))]; code != http.StatusOK {
				writeJSON(w, code, map[string]int{"status": code})
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// echo answers with the request itself (or a sized body).
func (s *echoServer) echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	status := http.StatusOK
	if c, err := strconv.Atoi(q.Get("status")); err == nil {
		status = c
	}
	size := s.knobs.BodySize
	if n, err := strconv.Atoi(q.Get("size")); err == nil {
		size = n
	}
	if size > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Repeat("x", size))
		return
	}
	rep := echoReply{Method: r.Method, Path: r.URL.Path, Query: map[string]string{},
		Headers: map[string]string{}, Body: string(body)}
	for k := range q {
		rep.Query[k] = q.Get(k)
	}
	for k, v := range r.Header {
		rep.Headers[k] = strings.Join(v, ", ")
	}
	writeJSON(w, status, rep)
}

// path returns how many requests reached "METHOD path".
func (s *echoServer) path(key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[key]
}

// userCount returns how many distinct X-User values were seen.
func (s *echoServer) userCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// userRequests returns how many requests carried "X-User: u".
func (s *echoServer) userRequests(u string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[u]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("echo server: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func TestEchoServerKnobs(t *testing.T) {
	s := newEchoServer(t, echoKnobs{Statuses: []int{200, 503}})
	get := func(path string) (int, string) {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/a?x=1"); code != 200 || !strings.Contains(body, `"x":"1"`) {
		t.Errorf("echo: %d %s", code, body)
	}
	if code, _ := get("/a"); code != 503 {
		t.Errorf("second request: %d; want 503 from the mix", code)
	}
	if code, body := get("/a?size=10&status=201"); code != 201 || body != "xxxxxxxxxx" {
		t.Errorf("sized: %d %q", code, body)
	}
	start := time.Now()
	if code, _ := get("/a?delay=30ms&status=200"); code != 200 || time.Since(start) < 30*time.Millisecond {
		t.Errorf("delay: %d after %v", code, time.Since(start))
	}
	if n := s.requests.Load(); n != 4 || s.path("GET /a") != 4 {
		t.Errorf("counted %d, %d; want 4", n, s.path("GET /a"))
	}
}
