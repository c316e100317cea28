package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stampede-load/stampede/orchestrator/awsstack"
	"github.com/stampede-load/stampede/orchestrator/backstop"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// stopAWSRun is `stampede stop` (and `--release`) of a run stored in S3:
// it finds every region of the run and its stack, writes the stop marker
// into every region's bucket and engages the backstop, or releases it.
// given is the store over the buckets the command line named.
func stopAWSRun(ctx context.Context, stdout io.Writer, given shard.Store, runID string, args []string, fl stopFlags) error {
	m, err := readManifest(ctx, given, runID)
	if err != nil {
		return exit(ExitUsage, "no run %s in %s: %v", runID, strings.Join(args, " "), err)
	}
	if !fl.backstop && !fl.release {
		return stopRun(ctx, stdout, given, runID, fl.reason)
	}
	env, err := resolveRun(ctx, m, fl)
	if err != nil {
		if fl.release {
			return exit(ExitInfra, "release run %s: %v", runID, err)
		}
		// Stopping matters more than the backstop: write the marker anyway.
		if serr := stopRun(ctx, stdout, given, runID, fl.reason); serr != nil {
			return serr
		}
		return exit(ExitInfra, "kill switch not engaged: %v (the stop marker went only to %s)", err, strings.Join(args, " "))
	}
	full, _, err := env.store()
	if err != nil {
		return err
	}
	k := env.killSwitch(stdout, releaseFlags(fl))
	k.store = full
	undo := k.releaseCommand(runID)
	if fl.release {
		since := time.Now()
		rec, err := backstop.Release(ctx, full, runID, k.open)
		printReleased(stdout, rec, err, since, undo)
		if rec == nil && err == nil {
			fmt.Fprintf(stdout, "run %s: the kill switch was never engaged: nothing to release\n", runID)
		}
		if err != nil {
			return exit(ExitInfra, "release run %s: %v", runID, err)
		}
		return nil
	}
	if err := stopRun(ctx, stdout, full, runID, fl.reason); err != nil {
		return err
	}
	if n := len(env.regions); n > len(args) {
		fmt.Fprintf(stdout, "  (in all %d regions' buckets, found from the stack: %s)\n", n, strings.Join(env.regions, ", "))
	}
	if done, err := runFinished(ctx, full, runID, m); err == nil && done {
		fmt.Fprintf(stdout, "run %s has finished already: no function throttled\n", runID)
		return nil
	}
	rec, err := backstop.Engage(ctx, full, runID, "stampede stop: "+fl.reason, k.targets, k.open)
	printEngaged(stdout, rec, err, "the run's `stampede run` restores it when the run ends; if that process is gone: "+undo)
	if err != nil {
		return exit(ExitInfra, "kill switch: %v", err)
	}
	return nil
}

// releaseFlags are the flags a `stampede stop --release` needs to find the
// same stacks again.
func releaseFlags(fl stopFlags) string {
	var b strings.Builder
	if fl.config != "" {
		b.WriteString(" --aws-config " + fl.config)
	}
	if fl.stack != awsstack.DefaultStack {
		b.WriteString(" --stack " + fl.stack)
	}
	if fl.s3o.Region != "" {
		b.WriteString(" --region " + fl.s3o.Region)
	}
	return b.String()
}

// resolveRun finds the endpoints of every region of the run m describes,
// from --aws-config or the stack's outputs.
func resolveRun(ctx context.Context, m *shard.Manifest, fl stopFlags) (*awsEnv, error) {
	env := &awsEnv{}
	for _, r := range m.Regions {
		env.regions = append(env.regions, r.Name)
	}
	if len(env.regions) == 0 {
		return nil, errors.New("the run's manifest names no regions")
	}
	overrides, err := loadOverrides(fl.config)
	if err != nil {
		return nil, err
	}
	if env.cfg, err = config.LoadDefaultConfig(ctx, config.WithRegion(fl.s3o.clientRegion())); err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if env.eps, err = awsstack.Resolve(ctx, env.cfg, env.regions, fl.stack, overrides); err != nil {
		return nil, err
	}
	return env, nil
}

// readManifest reads and decodes run runID's manifest.
func readManifest(ctx context.Context, st shard.Store, runID string) (*shard.Manifest, error) {
	data, err := st.Get(ctx, shard.ManifestKey(runID))
	if err != nil {
		return nil, err
	}
	return shard.DecodeManifest(data)
}

// runFinished reports whether every task of the run has a final result:
// nothing is left to stop.
func runFinished(ctx context.Context, st shard.Store, runID string, m *shard.Manifest) (bool, error) {
	keys, err := st.List(ctx, shard.ResultsPrefix(runID))
	if err != nil {
		return false, err
	}
	return len(keys) >= len(m.Tasks), nil
}
