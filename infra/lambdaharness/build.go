package lambdaharness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Runtime Interface Emulator that Builds installs.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEPackage = RIEModule + "/cmd/aws-lambda-rie"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	// GeneratorPackage is the bootstrap's package, relative to the module root.
	GeneratorPackage = "./cmd/generator"
)

// buildTimeout bounds one go build or go install (the RIE's first install
// downloads its modules).
const buildTimeout = 5 * time.Minute

// Binaries are the paths of the two executables a Fleet runs.
type Binaries struct {
	Bootstrap string // the generator, built for this machine
	RIE       string // aws-lambda-rie
}

// Builds builds the Binaries once and hands the same paths to every later
// caller. The zero value is ready to use; safe for concurrent use. Dir, if
// set before first use, is the cache directory (default: the user cache
// directory's stampede/lambdaharness, else the temp directory's).
type Builds struct {
	Dir string

	once sync.Once
	bins Binaries
	err  error
}

// Binaries returns the built binaries, building them on the first call; a
// build failure fails t with the fix.
func (b *Builds) Binaries(t testing.TB) Binaries {
	t.Helper()
	b.once.Do(func() { b.bins, b.err = b.build() })
	if b.err != nil {
		t.Fatalf("lambdaharness: %v", b.err)
	}
	return b.bins
}

func (b *Builds) build() (Binaries, error) {
	dir := b.Dir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "stampede", "lambdaharness")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("cache directory: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	rie, err := installRIE(ctx, dir)
	if err != nil {
		return Binaries{}, err
	}
	boot, err := buildBootstrap(ctx, dir)
	if err != nil {
		return Binaries{}, err
	}
	return Binaries{Bootstrap: boot, RIE: rie}, nil
}

// installRIE installs the emulator into dir/rie-<version>/ unless it is
// there already. It installs into a fresh directory and renames the binary
// into place, so that concurrent test processes never see half a file.
func installRIE(ctx context.Context, dir string) (string, error) {
	final := filepath.Join(dir, "rie-"+RIEVersion, "aws-lambda-rie")
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() {
		return final, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", fmt.Errorf("install the lambda runtime interface emulator: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".rie-")
	if err != nil {
		return "", fmt.Errorf("install the lambda runtime interface emulator: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", RIEPackage+"@"+RIEVersion)
	cmd.Dir = tmp // outside any module: @version installs ignore go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0")
	if err := run(cmd); err != nil {
		return "", fmt.Errorf("install the lambda runtime interface emulator: %w\n"+
			"fix: it builds from the Go module proxy; run `go install %s@%s` once with network access "+
			"(or fill the module cache with `go mod download %s@%s`)", err, RIEPackage, RIEVersion, RIEModule, RIEVersion)
	}
	if err := os.Rename(filepath.Join(tmp, "aws-lambda-rie"), final); err != nil {
		return "", fmt.Errorf("install the lambda runtime interface emulator: %w", err)
	}
	return final, nil
}

// buildBootstrap builds the generator for this machine into dir/bootstrap
// (through a temporary name and a rename: a running copy keeps its file).
func buildBootstrap(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".bootstrap-")
	if err != nil {
		return "", fmt.Errorf("build bootstrap: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", tmp, GeneratorPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := run(cmd); err != nil {
		return "", fmt.Errorf("build bootstrap (go build -tags lambda.norpc %s in %s): %w", GeneratorPackage, root, err)
	}
	// One bootstrap per checkout: test processes of two checkouts (git
	// worktrees of different branches) must not run each other's build.
	final := filepath.Join(dir, "bootstrap-"+checkoutTag(root))
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("build bootstrap: %w", err)
	}
	return final, nil
}

// checkoutTag names a checkout's files in the shared cache directory.
func checkoutTag(root string) string {
	sum := sha256.Sum256([]byte(root))
	return hex.EncodeToString(sum[:6])
}

// moduleRoot is the directory of the main module's go.mod, as the go
// command sees it from the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root (go env GOMOD): %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find the module root: not inside the stampede module")
	}
	return filepath.Dir(gomod), nil
}

// run runs cmd and returns an error carrying its output.
func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
