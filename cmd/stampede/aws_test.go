package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/awsstack"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

func TestBackendFlagsCheck(t *testing.T) {
	for _, tt := range []struct {
		fl   awsFlags
		want string // "" valid, else part of the error
	}{
		{awsFlags{backend: "local", dispatch: "sqs"}, ""},
		{awsFlags{backend: "aws", dispatch: "sqs", config: "x.yaml", lead: time.Second}, ""},
		{awsFlags{backend: "aws", dispatch: "burst"}, ""},
		{awsFlags{backend: "lambda", dispatch: "sqs"}, `--backend "lambda": want local or aws`},
		{awsFlags{backend: "local", dispatch: "sqs", config: "x.yaml"}, "add --backend aws"},
		{awsFlags{backend: "aws", dispatch: "sqs", lead: -time.Second}, "--lead -1s"},
		{awsFlags{backend: "aws", dispatch: "invoke"}, `--dispatch "invoke": want sqs or burst`},
		{awsFlags{backend: "local", dispatch: "burst"}, "--dispatch burst is for the aws backend"},
	} {
		err := tt.fl.check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v, want valid", tt.fl, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want %q", tt.fl, err, tt.want)
		}
	}
}

func TestLeadFor(t *testing.T) {
	p := &plan.Plan{Regions: []plan.Region{{Name: "us-east-1", Generators: 1000}}}
	for _, tt := range []struct {
		fl   awsFlags
		want time.Duration
	}{
		{awsFlags{backend: "local", dispatch: "sqs"}, 0},
		{awsFlags{backend: "aws", dispatch: "sqs"}, orchestrator.LeadAWS(p)},
		{awsFlags{backend: "aws", dispatch: "burst"}, 15 * time.Second},
		{awsFlags{backend: "aws", dispatch: "burst", lead: 40 * time.Second}, 40 * time.Second},
	} {
		if got := tt.fl.leadFor(p); got != tt.want {
			t.Errorf("%+v: lead %v, want %v", tt.fl, got, tt.want)
		}
	}
}

func TestRunBackendUsageErrors(t *testing.T) {
	dir := t.TempDir()
	p := writePlan(t, dir, "p.yaml", goodPlan)
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("us-east-1:\n  bucket: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "gcp"}, `--backend "gcp"`},
		{[]string{"--aws-config", bad}, "add --backend aws"},
		{[]string{"--backend", "aws", "--aws-config", bad, "--yes"}, "queue_url is missing"},
		{[]string{"--dispatch", "burst"}, "--dispatch burst is for the aws backend"},
	} {
		code, _, errs := runCLI(context.Background(), append([]string{"run", p, "--store", dir}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(errs, tt.want) {
			t.Errorf("run %v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, ExitUsage, tt.want)
		}
	}
}

func TestPrintAWSPlan(t *testing.T) {
	p := &plan.Plan{Regions: []plan.Region{{Name: "us-east-1", Generators: 3}, {Name: "eu-west-1", Generators: 1}}}
	eps := map[string]awsstack.Endpoints{
		"us-east-1": {QueueURL: "https://sqs/q1", Bucket: "b1", FunctionName: "gen"},
		"eu-west-1": {QueueURL: "https://sqs/q2", Bucket: "b2"},
	}
	var b bytes.Buffer
	printAWSPlan(&b, p, eps, 2, orchestrator.DispatchSQS)
	want := []string{
		"aws backend: 4 generators in 2 regions, 2 time slices each (8 tasks)",
		"us-east-1         3 generators  queue https://sqs/q1  bucket b1, function gen",
		"eu-west-1         1 generators  queue https://sqs/q2  bucket b2",
	}
	for _, w := range want {
		if !strings.Contains(b.String(), w) {
			t.Errorf("plan print lacks %q:\n%s", w, b.String())
		}
	}
}
