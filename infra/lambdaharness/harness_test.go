package lambdaharness

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestQueueARN(t *testing.T) {
	for _, tt := range []struct{ region, url, want string }{
		{"us-east-1", "http://127.0.0.1:4566/000000000000/tasks-1a2b", "arn:aws:sqs:us-east-1:000000000000:tasks-1a2b"},
		{"eu-west-1", "https://sqs.eu-west-1.amazonaws.com/123/q", "arn:aws:sqs:eu-west-1:000000000000:q"},
	} {
		if got := queueARN(tt.region, tt.url); got != tt.want {
			t.Errorf("queueARN(%q, %q) = %q, want %q", tt.region, tt.url, got, tt.want)
		}
	}
}

func TestProcessEnv(t *testing.T) {
	t.Setenv("AWS_PROFILE", "developer") // must not leak into the function
	env := processEnv("eu-west-1", 90*time.Second, map[string]string{"BUCKET": "results"})
	for _, want := range []string{"AWS_REGION=eu-west-1", "AWS_LAMBDA_FUNCTION_TIMEOUT=90", "BUCKET=results"} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %s: %q", want, env)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_PROFILE=") {
			t.Errorf("env has %s", kv)
		}
	}
	if env := processEnv("r", 300*time.Millisecond, nil); !slices.Contains(env, "AWS_LAMBDA_FUNCTION_TIMEOUT=1") {
		t.Errorf("a sub-second timeout is not rounded up to 1s: %q", env)
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := &lineWriter{prefix: "rie-0: ", logf: func(f string, a ...any) { got = append(got, fmt.Sprintf(f, a...)) }}
	for _, chunk := range []string{"first li", "ne\nsecond\nthi", "rd", "\n"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	want := []string{"rie-0: first line", "rie-0: second", "rie-0: third"}
	if !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
	got = nil
	w.Write([]byte(strings.Repeat("x", maxLine+1)))
	if len(got) != 1 || len(got[0]) != len("rie-0: ")+maxLine+1 {
		t.Errorf("a runaway line was not passed on whole: %d lines", len(got))
	}
}

func TestFreePortsDistinct(t *testing.T) {
	addrs, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("%s is not on loopback", a)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(addrs)))) != 3 {
		t.Errorf("ports not distinct: %q", addrs)
	}
}
