package samtemplate

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// transformScript is the python3 program that prints the CloudFormation JSON
// of a SAM template (see transform.py).
//
//go:embed transform.py
var transformScript string

// Lint runs `cfn-lint paths...` (one process for all: it takes seconds to
// start) and returns its findings, each naming its file, as an error. A
// missing cfn-lint is an error too, with the fix.
func Lint(ctx context.Context, paths ...string) error {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		return errors.New("cfn-lint not found on PATH: install it with `pip install cfn-lint` (it brings aws-sam-translator)")
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, paths...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cfn-lint %s: %w\n%s", strings.Join(paths, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Transform turns the SAM template at path into CloudFormation JSON with
// python3 and aws-sam-translator, offline. A local CodeUri is replaced by a
// placeholder S3 object, as `sam deploy` does when it uploads the code.
func Transform(ctx context.Context, path string) ([]byte, error) {
	bin, err := exec.LookPath("python3")
	if err != nil {
		return nil, errors.New("python3 not found on PATH: install Python 3 and `pip install aws-sam-translator`")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-", path)
	cmd.Stdin = strings.NewReader(transformScript)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "No module named") {
			msg += " (fix: `pip install aws-sam-translator`)"
		}
		return nil, fmt.Errorf("sam transform %s: %w\n%s", path, err, msg)
	}
	return stdout.Bytes(), nil
}
