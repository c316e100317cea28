package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clientBenchBody is the small response body the benchmark server returns.
const clientBenchBody = "hello, stampede!"

// clientCannedServer answers every request head (requests without a body) with a
// fixed response, allocating nothing per request, so that AllocsPerRun
// sees only the client's allocations.
func clientCannedServer(t testing.TB) string {
	t.Helper()
	reply := []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n%s", len(clientBenchBody), clientBenchBody))
	return clientRawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		matched := 0 // bytes of "\r\n\r\n" matched so far
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			for _, b := range buf[:n] {
				switch {
				case b == "\r\n\r\n"[matched]:
					matched++
				case b == '\r':
					matched = 1
				default:
					matched = 0
				}
				if matched == 4 {
					matched = 0
					if _, err := c.Write(reply); err != nil {
						return
					}
				}
			}
		}
	})
}

func TestClientZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	host := clientCannedServer(t)
	c := newTestClient(t, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := Request{Method: "GET", Scheme: "http", Host: host, Target: []byte("/bench?x=1"),
		Header: []byte("Accept: */*\r\n"), Timeout: 5 * time.Second, KeepBody: true}
	var resp Response
	c.Do(ctx, &req, &resp) // dial, grow buffers
	allocs := testing.AllocsPerRun(500, func() {
		c.Do(ctx, &req, &resp)
		if resp.Err != ErrNone || string(resp.Body) != clientBenchBody {
			t.Fatalf("err %q body %q", resp.Err, resp.Body)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per keep-alive request, want 0", allocs)
	}
}

// TestClientBenchServer is the benchmark's out-of-process server; it runs
// only when BenchmarkClient starts it (STAMPEDE_BENCH_SERVE=1).
func TestClientBenchServer(t *testing.T) {
	if os.Getenv("STAMPEDE_BENCH_SERVE") != "1" {
		t.Skip("benchmark helper")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr())
	go http.Serve(ln, clientBenchHandler())
	io.Copy(io.Discard, os.Stdin) // until the benchmark closes our stdin
	ln.Close()
}

func clientBenchHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, clientBenchBody)
	})
}

// clientBenchTarget returns the benchmark server's host:port. STAMPEDE_BENCH_SERVER
// selects it: empty for an in-process httptest server (its CPU counts in
// req/cpu-s), "sub" for a child process (req/cpu-s is then the client's
// alone), or a host:port on 127.0.0.1 (nginx, say).
func clientBenchTarget(b *testing.B) string {
	switch mode := os.Getenv("STAMPEDE_BENCH_SERVER"); mode {
	case "":
		s := httptest.NewServer(clientBenchHandler())
		b.Cleanup(s.Close)
		return strings.TrimPrefix(s.URL, "http://")
	case "sub":
		cmd := exec.Command(os.Args[0], "-test.run=^TestClientBenchServer$", "-test.v=false")
		cmd.Env = append(os.Environ(), "STAMPEDE_BENCH_SERVE=1")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { stdin.Close(); cmd.Wait() })
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		go io.Copy(io.Discard, stdout)
		return strings.TrimSpace(addr)
	default:
		return mode
	}
}

func clientCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClient compares stampede's HTTP/1.1 client with a tuned net/http
// client, keep-alive, 16 goroutines per CPU. req/cpu-s counts this process's
// CPU time (the server's too when it runs in-process).
func BenchmarkClient(b *testing.B) {
	host := clientBenchTarget(b)
	// run measures newWorker's functions, one per goroutine.
	run := func(b *testing.B, newWorker func() func() bool) {
		b.ReportAllocs()
		b.SetParallelism(16)
		cpu0 := clientCPUTime()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			do := newWorker()
			for pb.Next() {
				if !do() {
					b.Error("request failed")
					return
				}
			}
		})
		b.StopTimer()
		if cpu := clientCPUTime() - cpu0; cpu > 0 {
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/cpu-s")
		}
	}
	b.Run("stampede-h1", func(b *testing.B) {
		c, err := NewClient(ClientOptions{MaxConns: 256})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		run(b, func() func() bool {
			var resp Response
			req := Request{Method: "GET", Scheme: "http", Host: host, Target: []byte("/"), Timeout: 10 * time.Second}
			return func() bool {
				c.Do(ctx, &req, &resp)
				return resp.Err == ErrNone && resp.Status == 200
			}
		})
	})
	b.Run("nethttp-tuned", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, DisableCompression: true}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		url := "http://" + host + "/"
		run(b, func() func() bool {
			req, err := http.NewRequest("GET", url, nil)
			if err != nil {
				b.Fatal(err)
			}
			return func() bool {
				resp, err := client.Do(req)
				if err != nil {
					return false
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode == 200
			}
		})
	})
}

// BenchmarkClientDo is one keep-alive GET at a time against the in-process
// canned server (which allocates nothing): the client's cost per request
// plus a fixed server share, on 1 to 8 connections used in turn.
func BenchmarkClientDo(b *testing.B) {
	host := clientCannedServer(b)
	for _, conns := range []int{1, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			c, err := NewClient(ClientOptions{MaxConns: conns, AllowedHosts: []string{host}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := Request{Method: "GET", Scheme: "http", Host: host, Target: []byte("/bench?x=1"),
				Header: []byte("Accept: */*\r\n"), Timeout: 10 * time.Second}
			resps := make([]Response, conns)
			done := make(chan int, conns)
			for k := range conns { // open the connections
				go func() { c.Do(ctx, &req, &resps[k]); done <- k }()
			}
			for range conns {
				<-done
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := &resps[i%conns]
				c.Do(ctx, &req, r)
				if r.Err != ErrNone || r.Status != 200 {
					b.Fatalf("err %q status %d", r.Err, r.Status)
				}
			}
		})
	}
}
