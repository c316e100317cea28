package generator_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the functions and the shard protocol thin: no
// orchestrator, no plan package, no AWS SDK.
func TestDependencies(t *testing.T) {
	const mod = "github.com/stampede-load/stampede/"
	allowed := map[string]bool{
		mod + "engine":                        true,
		mod + "orchestrator/shard":            true,
		mod + "orchestrator/memqueue":         true,
		mod + "functions/generator":           true,
		mod + "functions/local":               true,
		"github.com/aws/aws-lambda-go/events": true,
	}
	for _, pkg := range []string{"../generator", "../local", "../../orchestrator/shard", "../../orchestrator/memqueue"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if (strings.HasPrefix(dep, mod) || strings.Contains(dep, "aws")) && !allowed[dep] {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
