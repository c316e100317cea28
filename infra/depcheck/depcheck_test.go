package depcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/stampede-load/stampede"

// deps returns the transitive non-test imports of the named packages.
func deps(t *testing.T, pkgs ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range pkgs {
		cmd := exec.Command("go", append([]string{"list", "-deps"}, p)...)
		b, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("go list -deps %s: %v\n%s", p, err, stderr)
		}
		out[p] = strings.Fields(string(b))
	}
	return out
}

func isStd(pkg string) bool {
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".")
}

func TestEngineImportsOnlyStdlibHDRAndXNet(t *testing.T) {
	allowed := []string{
		"github.com/HdrHistogram/hdrhistogram-go",
		"golang.org/x/net/",
		"golang.org/x/text/", // needed by x/net's idna
		module + "/engine",
	}
	for pkg, list := range deps(t, module+"/engine") {
		for _, d := range list {
			if isStd(d) || hasPrefix(d, allowed) {
				continue
			}
			t.Errorf("%s imports %s: the engine may use only the standard library, hdrhistogram-go and x/net", pkg, d)
		}
	}
}

func TestFunctionsStayThin(t *testing.T) {
	forbidden := []string{
		module + "/orchestrator/plan",
		module + "/orchestrator/report",
		"github.com/aws/aws-sdk-go-v2",
		"github.com/aws/aws-lambda-go/lambda",
		"gopkg.in/yaml",
		"github.com/spf13/cobra",
	}
	for pkg, list := range deps(t, module+"/functions/...") {
		for _, d := range list {
			if d == module+"/orchestrator" || hasPrefix(d, forbidden) {
				t.Errorf("%s imports %s: functions depend only on the engine and the shard protocol", pkg, d)
			}
		}
	}
}

func TestOnlyCmdStartsLambda(t *testing.T) {
	for pkg, list := range deps(t, module+"/engine", module+"/orchestrator/...", module+"/functions/...") {
		for _, d := range list {
			if d == "github.com/aws/aws-lambda-go/lambda" {
				t.Errorf("%s imports %s: only cmd/ calls lambda.Start", pkg, d)
			}
		}
	}
}

// awsAdapters are the only packages outside cmd/ and infra/ that may import
// the AWS SDK themselves; everything else reaches AWS through the small
// interfaces their users define.
var awsAdapters = []string{
	module + "/orchestrator/awsstack",          // CloudFormation outputs, preflight
	module + "/orchestrator/internal/awsretry", // the adapters' retryer and attempt counter
	module + "/orchestrator/lambdafunc",        // async invokes, reserved concurrency
	module + "/orchestrator/s3store",
	module + "/orchestrator/sqsqueue",
}

func TestOnlyAdaptersImportAWSSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}",
		module+"/engine/...", module+"/orchestrator/...", module+"/functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	found := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/aws/aws-sdk-go-v2") || strings.HasPrefix(imp, "github.com/aws/smithy-go") {
				found[fields[0]] = true
				if !slices.Contains(awsAdapters, fields[0]) {
					t.Errorf("%s imports %s: only the AWS adapters (%v) may", fields[0], imp, awsAdapters)
				}
			}
		}
	}
	for _, a := range awsAdapters {
		if !found[a] {
			t.Errorf("%s no longer imports the AWS SDK: drop it from awsAdapters", a)
		}
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
