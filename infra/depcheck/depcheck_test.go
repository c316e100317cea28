package depcheck

import (
	"os/exec"
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

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
