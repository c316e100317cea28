package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDeploy = flag.Bool("update-deploy", false, "rewrite the deploy/undeploy golden files in testdata/")

// TestDeployDryRunGolden checks the exact commands deploy and undeploy print.
func TestDeployDryRunGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"deploy-dry-run.golden", []string{"deploy", "--regions", "us-east-1,eu-west-1", "--dry-run"}},
		{"deploy-dry-run-options.golden", []string{"deploy", "--regions", "eu-west-1 ap-southeast-2", "--regions", "eu-west-1",
			"--stack-name", "load-test", "--memory", "3538", "--reserved-concurrency", "500", "--max-concurrency", "200",
			"--results-days", "2", "--log-days", "3", "--template", "deploy/eu/template.yaml", "--no-build", "--dry-run"}},
		{"undeploy-dry-run.golden", []string{"undeploy", "--regions", "us-east-1,eu-west-1", "--dry-run"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, stdout, stderr := runCLI(context.Background(), tc.args...)
			if code != ExitPassed || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			checkGolden(t, tc.golden, stdout)
		})
	}
}

// TestDeployWithoutSamPrints: with no sam on PATH, deploy prints the dry
// run's commands and says why.
func TestDeployWithoutSamPrints(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, stdout, stderr := runCLI(context.Background(), "deploy", "--regions", "us-east-1,eu-west-1")
	if code != ExitPassed || !strings.Contains(stderr, "sam not on PATH: printing the commands instead") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	checkGolden(t, "deploy-dry-run.golden", stdout)

	code, stdout, stderr = runCLI(context.Background(), "undeploy", "--regions", "us-east-1,eu-west-1")
	if code != ExitPassed || !strings.Contains(stderr, "sam and aws not on PATH") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	checkGolden(t, "undeploy-dry-run.golden", stdout)
}

// fakeTools puts fake sam and aws scripts first on PATH; every call is
// logged as one line in the returned file. FAIL_REGION makes sam fail there.
func fakeTools(t *testing.T) (log string) {
	t.Helper()
	bin := t.TempDir()
	log = filepath.Join(t.TempDir(), "calls.log")
	sam := `#!/bin/sh
echo "sam $*" >> "$FAKE_LOG"
case "$* " in *"--region $FAIL_REGION "*) echo "Error: deploy failed" >&2; exit 1;; esac
exit 0
`
	aws := `#!/bin/sh
echo "aws $*" >> "$FAKE_LOG"
case "$*" in
*describe-stack-resource*--region\ us-east-1*) echo "stampede-resultsbucket-1a2b3c" ;;
*describe-stack-resource*--region\ eu-west-1*)
  echo "An error occurred (ValidationError) when calling the DescribeStackResource operation: Stack with id stampede does not exist" >&2; exit 255 ;;
*describe-stack-resource*--region\ ap-south-1*)
  echo "An error occurred (ValidationError) when calling the DescribeStackResource operation: Resource ResultsBucket does not exist for stack stampede" >&2; exit 255 ;;
*describe-stack-resource*) echo "AccessDenied" >&2; exit 254 ;;
esac
exit 0
`
	for name, src := range map[string]string{"sam": sam, "aws": aws} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(src), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	t.Setenv("FAKE_LOG", log)
	t.Setenv("FAIL_REGION", "none")
	return log
}

func calls(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeployRunsSamPerRegion(t *testing.T) {
	log := fakeTools(t)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(tmpl, []byte("Transform: AWS::Serverless-2016-10-31\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--regions", "us-east-1,eu-west-1", "--template", tmpl, "--no-build"}

	// No bootstrap built yet: nothing is deployed.
	code, _, stderr := runCLI(context.Background(), args...)
	if code != ExitInfra || !strings.Contains(stderr, "no generator to deploy") || calls(t, log) != "" {
		t.Fatalf("without bootstrap: exit %d, stderr %q, calls %q", code, stderr, calls(t, log))
	}

	codeDir := filepath.Join(dir, GeneratorCodeDir)
	if err := os.MkdirAll(codeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(codeDir, "bootstrap"), []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAIL_REGION", "us-east-1")
	code, stdout, stderr := runCLI(context.Background(), args...)
	params := " --resolve-s3 --capabilities CAPABILITY_IAM --no-confirm-changeset --no-fail-on-empty-changeset --parameter-overrides MemorySize=1769 ReservedConcurrency=-1 MaximumConcurrency=1000 ResultsExpirationDays=7 LogRetentionDays=14\n"
	want := "sam deploy --template-file template.yaml --region us-east-1 --stack-name stampede" + params +
		"sam deploy --template-file template.yaml --region eu-west-1 --stack-name stampede" + params
	if got := calls(t, log); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	if code != ExitInfra || !strings.Contains(stderr, "deploy failed in us-east-1 (see above") || strings.Contains(stderr, "failed in us-east-1, eu-west-1") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "+ sam deploy --template-file template.yaml --region eu-west-1") {
		t.Errorf("stdout does not echo the commands: %q", stdout)
	}
}

func TestUndeployEmptiesThenDeletes(t *testing.T) {
	log := fakeTools(t)
	code, stdout, stderr := runCLI(context.Background(), "undeploy", "--regions", "us-east-1,eu-west-1,ap-south-1")
	if code != ExitPassed {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	describe := func(r string) string {
		return "aws cloudformation describe-stack-resource --region " + r +
			" --stack-name stampede --logical-resource-id ResultsBucket --query StackResourceDetail.PhysicalResourceId --output text\n"
	}
	want := describe("us-east-1") +
		"aws s3 rm s3://stampede-resultsbucket-1a2b3c --recursive --region us-east-1\n" +
		"sam delete --region us-east-1 --stack-name stampede --no-prompts\n" +
		describe("eu-west-1") +
		describe("ap-south-1") +
		"sam delete --region ap-south-1 --stack-name stampede --no-prompts\n"
	if got := calls(t, log); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	for _, w := range []string{"stack stampede not found in eu-west-1: nothing to delete", "stack stampede in ap-south-1 has no results bucket"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}

	// Any other failure to find the bucket stops that region, not the others.
	code, _, stderr = runCLI(context.Background(), "undeploy", "--regions", "sa-east-1,us-east-1")
	if code != ExitInfra || !strings.Contains(stderr, "undeploy sa-east-1: find the results bucket") ||
		!strings.Contains(calls(t, log), "sam delete --region us-east-1 --stack-name stampede --no-prompts\n") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestDeployFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "--dry-run"}, "--regions is required"},
		{[]string{"deploy", "--regions", "us-east-1,mars", "--dry-run"}, `"mars" is not an AWS region`},
		{[]string{"undeploy", "--regions", "us-east-1", "--stack-name", "9lives", "--dry-run"}, `--stack-name "9lives"`},
		{[]string{"deploy", "--regions", "us-east-1", "--stack-name", strings.Repeat("s", 55), "--dry-run"}, "at most 54 characters"},
		{[]string{"deploy", "--regions", "us-east-1", "--memory", "64", "--dry-run"}, "--memory 64: want 128 to 10240 MB"},
		{[]string{"deploy", "--regions", "us-east-1", "--max-concurrency", "1", "--dry-run"}, "--max-concurrency 1: want 2 to 1000"},
		{[]string{"deploy", "--regions", "us-east-1", "--reserved-concurrency", "0", "--dry-run"}, "0 would stop every generator"},
		{[]string{"deploy", "--regions", "us-east-1", "--results-days", "0", "--dry-run"}, "--results-days 0"},
		{[]string{"deploy", "--regions", "us-east-1", "--log-days", "10", "--dry-run"}, "--log-days 10: want one of"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(context.Background(), tc.args...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// checkGolden compares got with testdata/name (rewritten with -update-deploy).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateDeploy {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestDeploy -update-deploy to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
