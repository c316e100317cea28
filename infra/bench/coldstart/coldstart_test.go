package coldstart

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/infra/lambdaharness"
)

// initReport is the emulator's line for the end of the init phase.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// emptyEvent is an SQS event with no records: the handler returns at once,
// so that the first invocation's time is the cold start.
const emptyEvent = `{"Records":[]}`

// BenchmarkColdStart reports the bootstrap's size for linux/arm64 and for
// this machine (bootstrap-arm64-bytes, bootstrap-bytes), the arm64 one's
// deployment package (zip-arm64-bytes: the zip that sam deploy uploads and
// Lambda fetches at a cold start), and per cold
// start of this machine's build under a fresh emulator: the emulator's
// init duration (init-ms) and the time from sending the first invocation
// to its response (first-invoke-ms, which includes the init: the emulator
// starts the bootstrap on the first invocation).
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	arm := build(b, dir, "linux", "arm64")
	host := build(b, dir, runtime.GOOS, runtime.GOARCH)
	var builds lambdaharness.Builds
	rie := builds.Binaries(b).RIE
	var initMs, firstMs float64
	for b.Loop() {
		i, f := coldStart(b, rie, host)
		initMs += i
		firstMs += f
	}
	b.ReportMetric(float64(size(b, arm)), "bootstrap-arm64-bytes")
	b.ReportMetric(float64(zipped(b, arm)), "zip-arm64-bytes")
	b.ReportMetric(float64(size(b, host)), "bootstrap-bytes")
	b.ReportMetric(initMs/float64(b.N), "init-ms")
	b.ReportMetric(firstMs/float64(b.N), "first-invoke-ms")
}

// build compiles the bootstrap for goos/goarch as cmd/stampede's deploy
// step does and returns its path.
func build(b *testing.B, dir, goos, goarch string) string {
	out := filepath.Join(dir, "bootstrap-"+goos+"-"+goarch)
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, lambdaharness.GeneratorPackage)
	cmd.Dir = moduleRoot(b)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build bootstrap for %s/%s: %v\n%s", goos, goarch, err, msg)
	}
	return out
}

func moduleRoot(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func size(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// zipped is the size of a zip holding path as "bootstrap", deflated as
// sam deploy zips a code directory.
func zipped(b *testing.B, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	return buf.Len()
}

// coldStart runs one emulator with the bootstrap, invokes it once and
// returns the emulator's init duration and the first invocation's time,
// in milliseconds (ns/op is the whole cycle: start, invoke, stop).
func coldStart(b *testing.B, rie, bootstrap string) (initMs, firstMs float64) {
	invoke, api := freeAddr(b), freeAddr(b)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", invoke, "--runtime-api-address", api, bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=cold", "AWS_SECRET_ACCESS_KEY=start",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=60", "BUCKET=results"}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", rie, err)
	}
	reported := make(chan float64, 1)
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := initReport.FindStringSubmatch(sc.Text()); m != nil {
				ms, _ := strconv.ParseFloat(m[1], 64)
				reported <- ms
			}
		}
	}()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		pw.Close()
	}()
	waitListening(b, invoke)

	start := time.Now()
	resp, err := http.Post("http://"+invoke+lambdaharness.InvokePath, "application/json", strings.NewReader(emptyEvent))
	if err != nil {
		b.Fatalf("invoke: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	firstMs = float64(time.Since(start)) / float64(time.Millisecond)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("batchItemFailures")) {
		b.Fatalf("invoke: status %d: %s", resp.StatusCode, body)
	}
	select {
	case initMs = <-reported:
	case <-time.After(5 * time.Second):
		b.Fatalf("no INIT REPORT from the emulator:\n%s", log.String())
	}
	return initMs, firstMs
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitListening dials addr until it answers (the emulator listens within
// a few ms).
func waitListening(b *testing.B, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var d net.Dialer
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal(fmt.Errorf("emulator not listening on %s", addr))
}
