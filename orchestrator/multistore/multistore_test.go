package multistore_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stampede-load/stampede/orchestrator/dirstore"
	"github.com/stampede-load/stampede/orchestrator/multistore"
	"github.com/stampede-load/stampede/orchestrator/shard"
	"github.com/stampede-load/stampede/orchestrator/storetest"
)

func newStores(t *testing.T, names ...string) (*multistore.Store, map[string]*dirstore.Store) {
	t.Helper()
	dirs := map[string]*dirstore.Store{}
	var regions []multistore.Region
	for _, n := range names {
		dirs[n] = dirstore.New(filepath.Join(t.TempDir(), n))
		regions = append(regions, multistore.Region{Name: n, Store: dirs[n]})
	}
	s, err := multistore.New(regions...)
	if err != nil {
		t.Fatal(err)
	}
	return s, dirs
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) shard.Store {
		s, _ := newStores(t, "us-east-1", "eu-west-1")
		return s
	})
}

// has reports whether store d holds key.
func has(t *testing.T, d shard.Store, key string) bool {
	t.Helper()
	_, err := d.Get(context.Background(), key)
	if err != nil && !errors.Is(err, shard.ErrNotFound) {
		t.Fatalf("Get %s: %v", key, err)
	}
	return err == nil
}

func TestRouting(t *testing.T) {
	ctx := context.Background()
	s, dirs := newStores(t, "us-east-1", "eu-west-1")
	const run = "20261125T000000Z-abc123"
	us, eu := dirs["us-east-1"], dirs["eu-west-1"]

	regional := []struct {
		key, region string
	}{
		{shard.ResultKey(run, "us-east-1", shard.TaskID(0, 0)), "us-east-1"},
		{shard.ResultKey(run, "eu-west-1", shard.TaskID(0, 0)), "eu-west-1"},
		{shard.CheckpointKey(run, "eu-west-1", shard.TaskID(3, 1)), "eu-west-1"},
		{shard.LeaseKey(run, "us-east-1", shard.TaskID(2, 0)), "us-east-1"},
	}
	for _, tt := range regional {
		if got := multistore.KeyRegion(tt.key); got != tt.region {
			t.Errorf("KeyRegion(%s) = %q, want %q", tt.key, got, tt.region)
		}
		if err := s.Put(ctx, tt.key, []byte(tt.region)); err != nil {
			t.Fatal(err)
		}
		if !has(t, dirs[tt.region], tt.key) {
			t.Errorf("%s not in its region %s", tt.key, tt.region)
		}
		for name, d := range dirs {
			if name != tt.region && has(t, d, tt.key) {
				t.Errorf("%s also written to region %s", tt.key, name)
			}
		}
		got, err := s.Get(ctx, tt.key)
		if err != nil || string(got) != tt.region {
			t.Errorf("Get(%s) = %q, %v; want %q", tt.key, got, err, tt.region)
		}
	}

	// A lease written by a generator straight into its region's bucket is
	// seen through the multistore, and Create there answers ErrExists.
	lease := shard.LeaseKey(run, "eu-west-1", shard.TaskID(1, 0))
	if err := eu.Create(ctx, lease, []byte("gen")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, lease, []byte("again")); !errors.Is(err, shard.ErrExists) {
		t.Errorf("Create of a lease taken in eu-west-1: %v, want ErrExists", err)
	}

	// Run-level keys go everywhere and are read from the home region.
	for _, key := range []string{shard.ManifestKey(run), shard.StopKey(run)} {
		if got := multistore.KeyRegion(key); got != "" {
			t.Errorf("KeyRegion(%s) = %q, want run-level", key, got)
		}
		if err := s.Put(ctx, key, []byte("all")); err != nil {
			t.Fatal(err)
		}
		if !has(t, us, key) || !has(t, eu, key) {
			t.Errorf("run-level %s not in every region", key)
		}
	}
	if err := us.Put(ctx, shard.StopKey(run), []byte("home")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, shard.StopKey(run)); err != nil || string(got) != "home" {
		t.Errorf("Get(stop) = %q, %v; want the home region's %q", got, err, "home")
	}

	// A run-level Create decided by home, copied to the others.
	marker := shard.RunPrefix(run) + "marker"
	if err := s.Create(ctx, marker, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if !has(t, eu, marker) {
		t.Error("run-level Create not copied to eu-west-1")
	}
	if err := s.Create(ctx, marker, []byte("y")); !errors.Is(err, shard.ErrExists) {
		t.Errorf("second run-level Create: %v, want ErrExists", err)
	}

	// List merges both regions, each key once.
	got, err := s.List(ctx, shard.ResultsPrefix(run))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{regional[0].key, regional[1].key}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("List(results) = %q, want %q", got, want)
	}
	all, err := s.List(ctx, shard.RunPrefix(run))
	if err != nil {
		t.Fatal(err)
	}
	// 4 regional keys, the eu lease, the manifest, the stop marker, marker.
	if len(all) != 8 {
		t.Errorf("List(run) = %d keys %q, want 8", len(all), all)
	}
}

func TestUnknownRegionGoesEverywhere(t *testing.T) {
	ctx := context.Background()
	s, dirs := newStores(t, "us-east-1", "eu-west-1")
	key := shard.ResultKey("r1", "ap-south-1", shard.TaskID(0, 0))
	if s.RegionOf(key) != "" {
		t.Fatalf("RegionOf(%s) = %q, want run-level", key, s.RegionOf(key))
	}
	if err := s.Put(ctx, key, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for name, d := range dirs {
		if !has(t, d, key) {
			t.Errorf("unknown-region key not written to %s", name)
		}
	}
}

func TestNewRejects(t *testing.T) {
	d := dirstore.New(t.TempDir())
	for _, tt := range []struct {
		name    string
		regions []multistore.Region
	}{
		{"none", nil},
		{"bad name", []multistore.Region{{Name: "a/b", Store: d}}},
		{"nil store", []multistore.Region{{Name: "us-east-1"}}},
		{"twice", []multistore.Region{{Name: "us-east-1", Store: d}, {Name: "us-east-1", Store: d}}},
	} {
		if _, err := multistore.New(tt.regions...); err == nil {
			t.Errorf("%s: New succeeded, want an error", tt.name)
		}
	}
}
