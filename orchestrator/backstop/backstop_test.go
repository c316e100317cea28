package backstop_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/infra/lambdaharness"
	"github.com/stampede-load/stampede/infra/localaws"
	"github.com/stampede-load/stampede/orchestrator/backstop"
	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/lambdafunc"
	"github.com/stampede-load/stampede/orchestrator/multistore"
	"github.com/stampede-load/stampede/orchestrator/shard"
)

var _ backstop.Function = (*lambdafunc.Function)(nil)

const runID = "20261203T120000Z-0a0b0c"

// fixture is two regions, each a Lambda stand-in, and a store over two
// regions' directories.
type fixture struct {
	svc     map[string]*lambdaharness.Service
	fns     map[string]*lambdafunc.Function
	store   shard.Store
	dirs    map[string]*dirstore.Store
	targets []backstop.Target
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{svc: map[string]*lambdaharness.Service{}, fns: map[string]*lambdafunc.Function{}, dirs: map[string]*dirstore.Store{}}
	var regions []multistore.Region
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		s := lambdaharness.StartService(t, lambdaharness.ServiceOptions{Region: r})
		f.svc[r] = s
		f.fns[r] = lambdafunc.New(localaws.NewLambdaClient(localaws.Config(context.Background(), t, s.URL)), s.Function())
		f.targets = append(f.targets, backstop.Target{Region: r, Function: s.Function()})
		f.dirs[r] = dirstore.New(t.TempDir())
		regions = append(regions, multistore.Region{Name: r, Store: f.dirs[r]})
	}
	st, err := multistore.New(regions...)
	if err != nil {
		t.Fatal(err)
	}
	f.store = st
	return f
}

func (f *fixture) open(region, function string) backstop.Function {
	if function != f.fns[region].Name() {
		return nil
	}
	return f.fns[region]
}

func (f *fixture) reserved(t *testing.T, region string) string {
	t.Helper()
	n, ok := f.svc[region].Reserved()
	if !ok {
		return "none"
	}
	return strconv.Itoa(n)
}

func TestEngageRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if err := f.fns["eu-west-1"].SetReserved(ctx, 25); err != nil {
		t.Fatal(err)
	}
	if rec, err := backstop.Release(ctx, f.store, runID, f.open); rec != nil || err != nil {
		t.Fatalf("Release before any Engage = %+v, %v; want nothing", rec, err)
	}

	rec, err := backstop.Engage(ctx, f.store, runID, "stampede stop", f.targets, f.open)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if got := f.reserved(t, r); got != "0" {
			t.Errorf("%s after Engage: reserved %s, want 0", r, got)
		}
	}
	if rec.Regions[0].Describe() != "none (unreserved)" || rec.Regions[1].Describe() != "25" || !rec.Regions[0].Throttled {
		t.Errorf("record %+v", rec.Regions)
	}
	// Every region's bucket holds the record.
	for r, st := range f.dirs {
		if _, err := st.Get(ctx, backstop.Key(runID)); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}

	// A second stop keeps what was there before the first.
	rec, err = backstop.Engage(ctx, f.store, runID, "stampede run: interrupted", f.targets, f.open)
	if err != nil || rec.By != "stampede stop" || rec.Regions[1].Describe() != "25" {
		t.Fatalf("second Engage = %+v, %v; want the first record kept", rec, err)
	}

	rec, err = backstop.Release(ctx, f.store, runID, f.open)
	if err != nil || rec.Released == nil {
		t.Fatalf("Release = %+v, %v", rec, err)
	}
	if got := f.reserved(t, "us-east-1"); got != "none" {
		t.Errorf("us-east-1 after Release: reserved %s, want none", got)
	}
	if got := f.reserved(t, "eu-west-1"); got != "25" {
		t.Errorf("eu-west-1 after Release: reserved %s, want 25", got)
	}
	if !strings.Contains(rec.Regions[1].Restored, "restored to 25") || rec.Regions[0].Throttled {
		t.Errorf("record after Release: %+v", rec.Regions)
	}
	stored, err := backstop.Read(ctx, f.store, runID)
	if err != nil || stored.Released == nil {
		t.Errorf("stored record %+v, %v; want it released", stored, err)
	}

	// Releasing again changes nothing, even if someone set 7 meanwhile.
	_ = f.fns["us-east-1"].SetReserved(ctx, 7)
	if rec, err := backstop.Release(ctx, f.store, runID, f.open); err != nil || rec.Released == nil || f.reserved(t, "us-east-1") != "7" {
		t.Errorf("second Release = %+v, %v, reserved %s; want nothing done", rec, err, f.reserved(t, "us-east-1"))
	}
}

func TestEngageLeavesAZeroItDidNotSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_ = f.fns["us-east-1"].SetReserved(ctx, 0)
	if _, err := backstop.Engage(ctx, f.store, runID, "stampede stop", f.targets, f.open); err != nil {
		t.Fatal(err)
	}
	rec, err := backstop.Release(ctx, f.store, runID, f.open)
	if err != nil {
		t.Fatal(err)
	}
	if f.reserved(t, "us-east-1") != "0" || !strings.Contains(rec.Regions[0].Restored, "left at 0") || f.reserved(t, "eu-west-1") != "none" {
		t.Errorf("after Release: us-east-1 %s (%q), eu-west-1 %s", f.reserved(t, "us-east-1"), rec.Regions[0].Restored, f.reserved(t, "eu-west-1"))
	}
}

// TestEngageUnreadable: when a region's setting cannot be read, nothing is
// recorded and no function is throttled.
func TestEngageUnreadable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	targets := append(f.targets[:1:1], backstop.Target{Region: "eu-west-1", Function: "not-deployed"})
	open := func(region, function string) backstop.Function {
		return lambdafunc.New(localaws.NewLambdaClient(localaws.Config(context.Background(), t, f.svc[region].URL)), function)
	}
	_, err := backstop.Engage(context.Background(), f.store, runID, "stampede stop", targets, open)
	if err == nil || !strings.Contains(err.Error(), "backstop not engaged") || !strings.Contains(err.Error(), "eu-west-1") {
		t.Fatalf("Engage = %v, want not engaged, naming eu-west-1", err)
	}
	if got := f.reserved(t, "us-east-1"); got != "none" {
		t.Errorf("us-east-1 reserved %s, want untouched", got)
	}
	if _, err := backstop.Read(context.Background(), f.store, runID); !errors.Is(err, shard.ErrNotFound) {
		t.Errorf("record written anyway: %v", err)
	}
}
