package multistore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Region is one region's store.
type Region struct {
	Name  string
	Store shard.Store
}

// Store routes keys to per-region stores (see the package doc). Safe for
// concurrent use when the stores underneath are.
type Store struct {
	regions []Region // regions[0] is home
	byName  map[string]shard.Store
}

var _ shard.Store = (*Store)(nil)

// New returns a Store over regions; the first is the home region (it
// answers Get and decides Create for run-level keys). Names must be
// distinct and valid key segments, stores non-nil.
func New(regions ...Region) (*Store, error) {
	if len(regions) == 0 {
		return nil, errors.New("multistore: no regions")
	}
	s := &Store{regions: slices.Clone(regions), byName: make(map[string]shard.Store, len(regions))}
	for _, r := range regions {
		switch {
		case !shard.ValidName(r.Name):
			return nil, fmt.Errorf("multistore: invalid region name %q", r.Name)
		case r.Store == nil:
			return nil, fmt.Errorf("multistore: region %s has no store", r.Name)
		case s.byName[r.Name] != nil:
			return nil, fmt.Errorf("multistore: region %s given twice", r.Name)
		}
		s.byName[r.Name] = r.Store
	}
	return s, nil
}

// Regions returns the region names, home first.
func (s *Store) Regions() []string {
	names := make([]string, len(s.regions))
	for i, r := range s.regions {
		names[i] = r.Name
	}
	return names
}

// RegionOf returns the region a key belongs to, or "" for a run-level key
// (or a region key of a region s does not know).
func (s *Store) RegionOf(key string) string {
	region := KeyRegion(key)
	if s.byName[region] == nil {
		return ""
	}
	return region
}

// KeyRegion returns the region of a lease, checkpoint or result key, and ""
// for any other key.
func KeyRegion(key string) string {
	rest, ok := strings.CutPrefix(key, shard.RunsPrefix)
	if !ok {
		return ""
	}
	runID, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	for _, parse := range []func(runID, key string) (string, string, bool){
		shard.ParseResultKey, shard.ParseCheckpointKey, shard.ParseLeaseKey,
	} {
		if region, _, ok := parse(runID, key); ok {
			return region
		}
	}
	return ""
}

// Put writes key to its region's store, or to every store for a run-level key.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if r := s.RegionOf(key); r != "" {
		if err := s.byName[r].Put(ctx, key, data); err != nil {
			return fmt.Errorf("region %s: %w", r, err)
		}
		return nil
	}
	return s.each(func(r Region) error { return r.Store.Put(ctx, key, data) })
}

// Create creates key in its region's store. A run-level key is created in
// the home store (which decides: ErrExists there is the answer), then put
// to every other store.
func (s *Store) Create(ctx context.Context, key string, data []byte) error {
	if r := s.RegionOf(key); r != "" {
		if err := s.byName[r].Create(ctx, key, data); err != nil {
			return fmt.Errorf("region %s: %w", r, err)
		}
		return nil
	}
	home := s.regions[0]
	if err := home.Store.Create(ctx, key, data); err != nil {
		return fmt.Errorf("region %s: %w", home.Name, err)
	}
	return s.each(func(r Region) error {
		if r.Name == home.Name {
			return nil
		}
		return r.Store.Put(ctx, key, data)
	})
}

// Get reads key from its region's store, or from the home store for a
// run-level key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	name := s.RegionOf(key)
	if name == "" {
		name = s.regions[0].Name
	}
	data, err := s.byName[name].Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("region %s: %w", name, err)
	}
	return data, nil
}

// List merges the keys under prefix of every store, sorted, each once.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	lists := make([][]string, len(s.regions))
	err := s.eachIndexed(func(i int, r Region) error {
		keys, err := r.Store.List(ctx, prefix)
		lists[i] = keys
		return err
	})
	if err != nil {
		return nil, err
	}
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

// each runs fn for every region concurrently and joins the errors, each
// naming its region.
func (s *Store) each(fn func(r Region) error) error {
	return s.eachIndexed(func(_ int, r Region) error { return fn(r) })
}

func (s *Store) eachIndexed(fn func(i int, r Region) error) error {
	errs := make([]error, len(s.regions))
	var wg sync.WaitGroup
	for i, r := range s.regions {
		wg.Go(func() {
			if err := fn(i, r); err != nil {
				errs[i] = fmt.Errorf("region %s: %w", r.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
