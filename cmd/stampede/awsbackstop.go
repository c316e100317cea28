package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/backstop"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

// backstopTimeout bounds engaging or releasing the backstop in every
// region.
const backstopTimeout = 30 * time.Second

// killSwitch is the backstop of one aws run: on Ctrl-C or an abort it sets
// every region's generator function to reserved concurrency 0 (besides the
// stop marker the orchestrator writes), and when the run ends it restores
// what was there before — also after a `stampede stop` from elsewhere,
// which engages it through the same record. Safe for concurrent use.
type killSwitch struct {
	store   shard.Store // the run's store over every region's bucket
	targets []backstop.Target
	missing []string // regions whose function is unknown: no backstop there
	open    backstop.Opener
	w       io.Writer
	hint    string // how to release by hand, RUN_ID for the run: see releaseCommand

	once sync.Once
	wg   sync.WaitGroup
}

// killSwitch returns the run's kill switch, printing on w; its store is
// set by the caller. flags are the stack flags of its release command.
func (env *awsEnv) killSwitch(w io.Writer, flags string) *killSwitch {
	k := &killSwitch{open: env.lambdaOpener(), w: w}
	var addrs []string
	for _, r := range env.regions {
		ep := env.eps[r]
		addrs = append(addrs, s3Scheme+ep.Bucket+"/"+shard.RunsPrefix+"RUN_ID")
		if ep.FunctionName == "" {
			k.missing = append(k.missing, r)
			continue
		}
		k.targets = append(k.targets, backstop.Target{Region: r, Function: ep.FunctionName})
	}
	k.hint = "stampede stop --release " + strings.Join(addrs, " ") + flags
	if len(k.missing) > 0 {
		fmt.Fprintf(w, "kill switch: no backstop in %s (the function is unknown: add function: to --aws-config); the stop marker still stops the generators there\n",
			strings.Join(k.missing, ", "))
	}
	return k
}

// releaseCommand is the command that releases runID's backstop by hand.
func (k *killSwitch) releaseCommand(runID string) string {
	return strings.ReplaceAll(k.hint, "RUN_ID", runID)
}

// lambdaOpener opens functions through env's Lambda client of each region
// (AWS_ENDPOINT_URL_LAMBDA points it elsewhere).
func (env *awsEnv) lambdaOpener() backstop.Opener {
	var (
		mu      sync.Mutex
		clients = map[string]*lambda.Client{}
	)
	return func(region, function string) backstop.Function {
		mu.Lock()
		c := clients[region]
		if c == nil {
			c = lambda.NewFromConfig(env.regionConfig(region))
			clients[region] = c
		}
		mu.Unlock()
		return lambdafunc.New(c, function)
	}
}

// arm engages the backstop for runID when ctx is done (Ctrl-C). disarm
// stops watching and waits for an engage under way.
func (k *killSwitch) arm(ctx context.Context, runID string) (disarm func()) {
	if k == nil {
		return func() {}
	}
	stop := make(chan struct{})
	k.wg.Go(func() {
		select {
		case <-ctx.Done():
			k.engage(runID, "stampede run: interrupted")
		case <-stop:
		}
	})
	return func() {
		close(stop)
		k.wg.Wait()
	}
}

// abort wraps an abort check: when it stops the run, the backstop engages
// too (in the background: the watch goes on).
func (k *killSwitch) abort(runID string, check func(p orchestrator.Progress) string) func(p orchestrator.Progress) string {
	if k == nil || check == nil {
		return check
	}
	return func(p orchestrator.Progress) string {
		reason := check(p)
		if reason != "" {
			k.wg.Go(func() { k.engage(runID, "stampede run: "+reason) })
		}
		return reason
	}
}

// engage throttles every target once and prints what it did.
func (k *killSwitch) engage(runID, by string) {
	k.once.Do(func() {
		if len(k.targets) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), backstopTimeout)
		defer cancel()
		rec, err := backstop.Engage(ctx, k.store, runID, by, k.targets, k.open)
		printEngaged(k.w, rec, err, "it is restored when this run ends; if this process dies first: "+k.releaseCommand(runID))
	})
}

// release restores what any engage recorded for runID (this process's, or
// a `stampede stop` from elsewhere) and prints it.
func (k *killSwitch) release(runID string) error {
	if k == nil || len(k.targets) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), backstopTimeout)
	defer cancel()
	since := time.Now()
	rec, err := backstop.Release(ctx, k.store, runID, k.open)
	printReleased(k.w, rec, err, since, k.releaseCommand(runID))
	return err
}

// printEngaged says what Engage did, region by region, and how it is
// undone.
func printEngaged(w io.Writer, rec *backstop.Record, err error, undo string) {
	if rec == nil {
		fmt.Fprintf(w, "kill switch: %v\n  the stop marker alone stops the running generators; no function was throttled\n", err)
		return
	}
	fmt.Fprintln(w, "kill switch: reserved concurrency of the generator function set to 0, so that no new invocation starts:")
	for _, s := range rec.Regions {
		state := "throttled (was " + s.Describe() + ")"
		if !s.Throttled {
			state = "NOT throttled: " + s.Error
		}
		fmt.Fprintf(w, "  %-14s %-28s %s\n", s.Region, s.Function, state)
	}
	fmt.Fprintf(w, "  %s\n", undo)
}

// printReleased says what a Release called at since did; nothing when the
// backstop was never engaged for the run.
func printReleased(w io.Writer, rec *backstop.Record, err error, since time.Time, retry string) {
	if rec == nil && err == nil {
		return
	}
	if rec == nil {
		fmt.Fprintf(w, "kill switch: release failed: %v\n  retry with: %s\n", err, retry)
		return
	}
	if rec.Released != nil && rec.Released.Before(since) {
		fmt.Fprintf(w, "kill switch: released already at %s (nothing to do)\n", rec.Released.Format(time.RFC3339))
		return
	}
	fmt.Fprintln(w, "kill switch released: reserved concurrency of the generator function restored:")
	for _, s := range rec.Regions {
		state := s.Restored
		if s.Error != "" {
			state = "NOT restored (still throttled): " + s.Error
		}
		fmt.Fprintf(w, "  %-14s %-28s %s\n", s.Region, s.Function, state)
	}
	if err != nil {
		fmt.Fprintf(w, "  retry with: %s\n", retry)
	}
}
