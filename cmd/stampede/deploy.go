package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/orchestrator/awsstack"
)

// Where `stampede deploy` builds the generator: GeneratorCodeDir is the
// CodeUri of template.yaml, relative to the template's directory, and
// sam deploy zips it as it is (no `sam build`).
const (
	GeneratorCodeDir = "dist/lambda/generator"
	GeneratorPackage = "./cmd/generator"
	DefaultTemplate  = "template.yaml"
)

// bucketVar is the shell variable undeploy keeps the results bucket in.
const bucketVar = "BUCKET"

// deployFlags are the flags of deploy and undeploy.
type deployFlags struct {
	regions     []string
	stack       string
	template    string
	dryRun      bool
	noBuild     bool
	memoryMB    int
	maxConc     int
	reserved    int
	resultsDays int
	logDays     int
}

// step is one command of a deploy or undeploy recipe. A dry run prints it
// exactly as a real run executes it.
type step struct {
	env     []string // KEY=VALUE added to the environment
	args    []string // an argument "${BUCKET}" inside is the captured value
	capture string   // shell variable that receives the trimmed stdout
}

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	stackRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	plainRE  = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)
)

// logRetentions are the retention periods (days) template.yaml accepts.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365}

func newDeployCmd() *cobra.Command {
	var fl deployFlags
	cmd := &cobra.Command{
		Use:   "deploy --regions R1,R2",
		Short: "Build the generator once and deploy the stack to every region",
		Long: `deploy cross-compiles cmd/generator for linux/arm64 into ` + GeneratorCodeDir + `/bootstrap,
then runs sam deploy in each region with the same template.yaml.
With --dry-run, or when sam is not on PATH, it prints the exact commands instead.
See docs/aws.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return deploy(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), fl)
		},
	}
	addStackFlags(cmd, &fl)
	f := cmd.Flags()
	f.BoolVar(&fl.noBuild, "no-build", false, "deploy the bootstrap already in "+GeneratorCodeDir+" instead of building it")
	f.IntVar(&fl.memoryMB, "memory", 1769, "generator memory in MB (1769 = one vCPU)")
	f.IntVar(&fl.maxConc, "max-concurrency", 1000, "most generators the SQS event source runs at once (2-1000)")
	f.IntVar(&fl.reserved, "reserved-concurrency", -1, "reserved concurrency of the generator (-1: none)")
	f.IntVar(&fl.resultsDays, "results-days", 7, "days before results under runs/ expire")
	f.IntVar(&fl.logDays, "log-days", 14, "days generator logs are kept")
	return cmd
}

func newUndeployCmd() *cobra.Command {
	var fl deployFlags
	cmd := &cobra.Command{
		Use:   "undeploy --regions R1,R2",
		Short: "Empty the results bucket and delete the stack in every region",
		Long: `undeploy empties each region's results bucket (aws s3 rm --recursive), then
deletes the stack with sam delete. A region without the stack is skipped.
With --dry-run, or when sam or aws is not on PATH, it prints the exact commands instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return undeploy(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), fl)
		},
	}
	addStackFlags(cmd, &fl)
	return cmd
}

func addStackFlags(cmd *cobra.Command, fl *deployFlags) {
	f := cmd.Flags()
	f.StringSliceVar(&fl.regions, "regions", nil, "AWS regions, comma- or space-separated (required)")
	f.StringVar(&fl.stack, "stack-name", awsstack.DefaultStack, "CloudFormation stack name, the same in every region")
	f.StringVar(&fl.template, "template", DefaultTemplate, "the SAM template")
	f.BoolVar(&fl.dryRun, "dry-run", false, "print the commands instead of running them")
}

// check validates the flags shared by deploy and undeploy and returns the
// regions, split and deduplicated.
func (fl deployFlags) check() ([]string, error) {
	var regions []string
	for _, r := range fl.regions {
		for _, r := range strings.Fields(strings.ReplaceAll(r, ",", " ")) {
			if !regionRE.MatchString(r) {
				return nil, exit(ExitUsage, "--regions: %q is not an AWS region (like us-east-1)", r)
			}
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
	}
	if len(regions) == 0 {
		return nil, exit(ExitUsage, "--regions is required (like --regions us-east-1,eu-west-1)")
	}
	// The function is named STACK-generator: at most 64 characters.
	if !stackRE.MatchString(fl.stack) || len(fl.stack) > 54 {
		return nil, exit(ExitUsage, "--stack-name %q: want a letter, then letters, digits or '-', at most 54 characters", fl.stack)
	}
	return regions, nil
}

// parameters returns the template parameter overrides, checked.
func (fl deployFlags) parameters() (string, error) {
	switch {
	case fl.memoryMB < 128 || fl.memoryMB > 10240:
		return "", exit(ExitUsage, "--memory %d: want 128 to 10240 MB", fl.memoryMB)
	case fl.maxConc < 2 || fl.maxConc > 1000:
		return "", exit(ExitUsage, "--max-concurrency %d: want 2 to 1000", fl.maxConc)
	case fl.reserved == 0 || fl.reserved < -1:
		return "", exit(ExitUsage, "--reserved-concurrency %d: want -1 (none) or a positive count (0 would stop every generator)", fl.reserved)
	case fl.resultsDays < 1:
		return "", exit(ExitUsage, "--results-days %d: want at least 1", fl.resultsDays)
	case !slices.Contains(logRetentions, fl.logDays):
		return "", exit(ExitUsage, "--log-days %d: want one of %v", fl.logDays, logRetentions)
	}
	return fmt.Sprintf("MemorySize=%d ReservedConcurrency=%d MaximumConcurrency=%d ResultsExpirationDays=%d LogRetentionDays=%d",
		fl.memoryMB, fl.reserved, fl.maxConc, fl.resultsDays, fl.logDays), nil
}

// buildStep cross-compiles the generator into GeneratorCodeDir.
func buildStep() step {
	return step{
		env: []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"},
		args: []string{"go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
			"-o", GeneratorCodeDir + "/bootstrap", GeneratorPackage},
	}
}

// deployStep deploys the stack to region.
func deployStep(fl deployFlags, region, params string) step {
	return step{args: []string{"sam", "deploy", "--template-file", filepath.Base(fl.template),
		"--region", region, "--stack-name", fl.stack, "--resolve-s3", "--capabilities", "CAPABILITY_IAM",
		"--no-confirm-changeset", "--no-fail-on-empty-changeset", "--parameter-overrides", params}}
}

// undeploySteps empty the results bucket of region and delete the stack.
func undeploySteps(fl deployFlags, region string) (bucket, empty, del step) {
	bucket = step{capture: bucketVar, args: []string{"aws", "cloudformation", "describe-stack-resource",
		"--region", region, "--stack-name", fl.stack, "--logical-resource-id", "ResultsBucket",
		"--query", "StackResourceDetail.PhysicalResourceId", "--output", "text"}}
	empty = step{args: []string{"aws", "s3", "rm", "s3://${" + bucketVar + "}", "--recursive", "--region", region}}
	del = step{args: []string{"sam", "delete", "--region", region, "--stack-name", fl.stack, "--no-prompts"}}
	return bucket, empty, del
}

// deploy is `stampede deploy`.
func deploy(ctx context.Context, stdout, stderr io.Writer, fl deployFlags) error {
	regions, err := fl.check()
	if err != nil {
		return err
	}
	params, err := fl.parameters()
	if err != nil {
		return err
	}
	dir := filepath.Dir(fl.template)
	var steps []step
	if !fl.noBuild {
		steps = append(steps, buildStep())
	}
	for _, r := range regions {
		steps = append(steps, deployStep(fl, r, params))
	}
	if fl.dryRun || missing(stderr, "sam") {
		fmt.Fprintf(stdout, "# stampede deploy: stack %s to %s\n", fl.stack, strings.Join(regions, ", "))
		printSteps(stdout, dir, steps)
		return nil
	}
	if _, err := os.Stat(fl.template); err != nil {
		return exit(ExitUsage, "template %s: %v (run from the repository root or pass --template)", fl.template, err)
	}
	if !fl.noBuild {
		fmt.Fprintf(stdout, "+ %s\n", steps[0])
		if _, err := steps[0].run(ctx, dir, nil, stdout, stderr); err != nil {
			return exit(ExitInfra, "build the generator: %v", err)
		}
		steps = steps[1:]
	}
	if _, err := os.Stat(filepath.Join(dir, GeneratorCodeDir, "bootstrap")); err != nil {
		return exit(ExitInfra, "no generator to deploy: %v (build it: drop --no-build)", err)
	}
	var failed []string
	for i, s := range steps {
		fmt.Fprintf(stdout, "+ %s\n", s)
		if _, err := s.run(ctx, dir, nil, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "stampede: deploy to %s: %v\n", regions[i], err)
			failed = append(failed, regions[i])
		}
	}
	if len(failed) > 0 {
		return exit(ExitInfra, "deploy failed in %s (see above; the other regions are deployed)", strings.Join(failed, ", "))
	}
	fmt.Fprintf(stdout, "deployed stack %s to %s\n", fl.stack, strings.Join(regions, ", "))
	return nil
}

// undeploy is `stampede undeploy`.
func undeploy(ctx context.Context, stdout, stderr io.Writer, fl deployFlags) error {
	regions, err := fl.check()
	if err != nil {
		return err
	}
	dir := filepath.Dir(fl.template)
	if fl.dryRun || missing(stderr, "sam", "aws") {
		fmt.Fprintf(stdout, "# stampede undeploy: stack %s from %s\n", fl.stack, strings.Join(regions, ", "))
		var steps []step
		for _, r := range regions {
			b, e, d := undeploySteps(fl, r)
			steps = append(steps, b, e, d)
		}
		printSteps(stdout, dir, steps)
		return nil
	}
	var failed []string
	for _, r := range regions {
		if err := undeployRegion(ctx, stdout, stderr, dir, fl, r); err != nil {
			fmt.Fprintf(stderr, "stampede: undeploy %s: %v\n", r, err)
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		return exit(ExitInfra, "undeploy failed in %s", strings.Join(failed, ", "))
	}
	fmt.Fprintf(stdout, "removed stack %s from %s\n", fl.stack, strings.Join(regions, ", "))
	return nil
}

// undeployRegion empties the bucket and deletes the stack in region r.
func undeployRegion(ctx context.Context, stdout, stderr io.Writer, dir string, fl deployFlags, r string) error {
	bucket, empty, del := undeploySteps(fl, r)
	fmt.Fprintf(stdout, "+ %s\n", bucket)
	var errOut bytes.Buffer
	name, err := bucket.run(ctx, dir, nil, nil, io.MultiWriter(stderr, &errOut))
	switch {
	case err != nil && strings.Contains(errOut.String(), "Resource ResultsBucket does not exist"):
		fmt.Fprintf(stdout, "stack %s in %s has no results bucket: nothing to empty\n", fl.stack, r)
	case err != nil && strings.Contains(errOut.String(), "does not exist"):
		fmt.Fprintf(stdout, "stack %s not found in %s: nothing to delete\n", fl.stack, r)
		return nil
	case err != nil:
		return fmt.Errorf("find the results bucket: %w", err)
	case name == "" || name == "None":
		fmt.Fprintf(stdout, "stack %s in %s has no results bucket: nothing to empty\n", fl.stack, r)
	default:
		fmt.Fprintf(stdout, "+ %s\n", empty)
		if _, err := empty.run(ctx, dir, map[string]string{bucketVar: name}, stdout, stderr); err != nil {
			return fmt.Errorf("empty bucket %s: %w", name, err)
		}
	}
	fmt.Fprintf(stdout, "+ %s\n", del)
	if _, err := del.run(ctx, dir, nil, stdout, stderr); err != nil {
		return fmt.Errorf("delete stack %s: %w", fl.stack, err)
	}
	return nil
}

// missing reports whether any of the tools is not on PATH, saying so on
// stderr: the commands are then printed instead of run.
func missing(stderr io.Writer, tools ...string) bool {
	var absent []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			absent = append(absent, t)
		}
	}
	if len(absent) == 0 {
		return false
	}
	fmt.Fprintf(stderr, "stampede: %s not on PATH: printing the commands instead of running them (install the AWS SAM CLI and the AWS CLI, see docs/aws.md)\n",
		strings.Join(absent, " and "))
	return true
}

// printSteps writes steps as a shell script (run in dir).
func printSteps(w io.Writer, dir string, steps []step) {
	if dir != "." {
		fmt.Fprintf(w, "cd %s\n", quote(dir))
	}
	for _, s := range steps {
		fmt.Fprintln(w, s)
	}
}

// String is the step as one shell command line.
func (s step) String() string {
	parts := slices.Clone(s.env)
	for _, a := range s.args {
		parts = append(parts, quote(a))
	}
	line := strings.Join(parts, " ")
	if s.capture != "" {
		return s.capture + "=$(" + line + ")"
	}
	return line
}

// run executes the step in dir with vars substituted for ${NAME}. With a
// capture, stdout is returned trimmed instead of written to stdout.
func (s step) run(ctx context.Context, dir string, vars map[string]string, stdout, stderr io.Writer) (string, error) {
	args := slices.Clone(s.args)
	for i, a := range args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "${"+k+"}", v)
		}
		args[i] = a
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), s.env...)
	var out bytes.Buffer
	cmd.Stdout = stdout
	if s.capture != "" {
		cmd.Stdout = &out
	}
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", args[0]+" "+args[1], err)
	}
	return strings.TrimSpace(out.String()), nil
}

// quote returns a as a shell word: as it is when plain, double-quoted when
// it expands a captured ${VAR}, else single-quoted.
func quote(a string) string {
	switch {
	case plainRE.MatchString(a):
		return a
	case strings.Contains(a, "${") && !strings.ContainsAny(a, "\"`\\ "):
		return `"` + a + `"`
	default:
		return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
}
