package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNewHandlerNeedsBucket(t *testing.T) {
	_, err := newHandler(context.Background(), env(nil))
	if err == nil || !strings.Contains(err.Error(), EnvBucket) {
		t.Fatalf("newHandler without %s: error %v, want one naming it", EnvBucket, err)
	}
}

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	h, err := newHandler(context.Background(), env(map[string]string{EnvBucket: "results"}))
	if err != nil {
		t.Fatal(err)
	}
	if h.Store == nil || h.Tasks != nil {
		t.Fatalf("handler store %v, burst queue %v: want a store and no burst queue", h.Store, h.Tasks)
	}
	h, err = newHandler(context.Background(), env(map[string]string{EnvBucket: "results", EnvBurstQueue: "http://127.0.0.1:1/000000000000/burst"}))
	if err != nil || h.Tasks == nil {
		t.Fatalf("with %s: handler %+v, %v; want a burst queue", EnvBurstQueue, h, err)
	}
}

func TestS3ClientPathStyle(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1"}
	for _, tt := range []struct {
		vars map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{EnvEndpointS3: "http://127.0.0.1:9000"}, true},
	} {
		if got := newS3Client(cfg, env(tt.vars)).Options().UsePathStyle; got != tt.want {
			t.Errorf("env %v: UsePathStyle = %v, want %v", tt.vars, got, tt.want)
		}
	}
}

// TestBuilds builds the bootstrap for Lambda (linux/arm64, no RPC; the
// deploy also strips it) and for this machine (what the emulator tests run).
func TestBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	for _, target := range []struct{ goos, goarch string }{
		{"linux", "arm64"},
		{runtime.GOOS, runtime.GOARCH},
	} {
		t.Run(target.goos+"-"+target.goarch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bootstrap")
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, ".")
			cmd.Env = append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, b)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() < 1<<20 {
				t.Errorf("bootstrap is %d bytes: too small to be the generator", fi.Size())
			}
		})
	}
}
