package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Run runs the suite. newStore returns an empty store (or one whose keys
// under "runs/" do not collide with those the suite writes: every subtest
// uses its own run prefix).
func Run(t *testing.T, newStore func(t *testing.T) shard.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s shard.Store, prefix string)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"Create", testCreate},
		{"CreateRace", testCreateRace},
		{"List", testList},
		{"ListMany", testListMany},
		{"Large", testLarge},
		{"ConcurrentPut", testConcurrentPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("runs/storetest-%d-%s/", time.Now().UnixNano(), tt.name)
			tt.fn(t, newStore(t), prefix)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func testGetMissing(t *testing.T, s shard.Store, p string) {
	_, err := s.Get(ctx(t), p+"missing.json")
	if !errors.Is(err, shard.ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
}

func testPutGet(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	key := p + "results/ab/us-east-1/g0001-s00.json"
	for _, want := range [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2,"b":[1,2,3]}`), {}} {
		if err := s.Put(c, key, want); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := s.Get(c, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Get = %q, want %q", got, want)
		}
	}
}

func testCreate(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	key := p + "leases/ab/us-east-1/g0001-s00"
	if err := s.Create(c, key, []byte("first")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Create(c, key, []byte("second")); !errors.Is(err, shard.ErrExists) {
		t.Fatalf("second Create error = %v, want ErrExists", err)
	}
	got, err := s.Get(c, key)
	if err != nil || string(got) != "first" {
		t.Fatalf("Get = %q, %v; want \"first\"", got, err)
	}
}

func testCreateRace(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	const n = 32
	key := p + "leases/00/local/g0000-s00"
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Create(c, key, fmt.Appendf(nil, "winner %d", i))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Create succeeded for both %d and %d", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, shard.ErrExists):
			t.Fatalf("Create %d: %v, want ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no Create succeeded")
	}
	got, err := s.Get(c, key)
	if err != nil || string(got) != fmt.Sprintf("winner %d", winner) {
		t.Fatalf("Get = %q, %v; want the winner's (%d) body", got, err, winner)
	}
}

func testList(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	// Chosen so that a per-directory walk and a byte-wise sort disagree.
	keys := []string{
		p + "a/b", p + "a-c", p + "a/bc/d", p + "ab", p + "a.d/e", p + "b", p + "a/c/d/e/f.json",
	}
	other := "runs/other-" + p[len("runs/"):] + "x"
	for i, k := range rand.Perm(len(keys)) {
		if err := s.Put(c, keys[k], []byte{byte(i)}); err != nil {
			t.Fatalf("Put %s: %v", keys[k], err)
		}
	}
	if err := s.Put(c, other, nil); err != nil {
		t.Fatalf("Put %s: %v", other, err)
	}
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{p, keys},
		{p + "a/", []string{p + "a/b", p + "a/bc/d", p + "a/c/d/e/f.json"}},
		{p + "a", []string{p + "a-c", p + "a.d/e", p + "a/b", p + "a/bc/d", p + "a/c/d/e/f.json", p + "ab"}},
		{p + "a/b", []string{p + "a/b", p + "a/bc/d"}},
		{p + "zz/", nil},
		{p + "nothing", nil},
	} {
		want := slices.Clone(tt.want)
		slices.Sort(want)
		got, err := s.List(c, tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("List(%q) =\n%q\nwant\n%q", tt.prefix, got, want)
		}
	}
}

func testListMany(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	const n = 1500 // more than one S3 page
	want := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		want[i] = fmt.Sprintf("%sresults/%02x/r/g%04d-s00.json", p, i%256, i)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := s.Put(c, want[i], []byte("x")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Put: %v", err)
	}
	slices.Sort(want)
	got, err := s.List(c, p+"results/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List returned %d keys, want %d (sorted, all)", len(got), len(want))
	}
}

func testLarge(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	data := make([]byte, 6<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	key := p + "results/00/r/g0000-s00.json"
	if err := s.Put(c, key, data); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(c, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, not the %d put", len(got), len(data))
	}
}

// testConcurrentPut checks that a reader sees a whole object, old or new.
func testConcurrentPut(t *testing.T, s shard.Store, p string) {
	c := ctx(t)
	key := p + "checkpoints/00/r/g0000-s00.json"
	body := func(i int) []byte { return bytes.Repeat([]byte{'a' + byte(i%26)}, 64<<10) }
	if err := s.Put(c, key, body(0)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if err := s.Put(c, key, body(w*10+i)); err != nil {
					t.Errorf("Put: %v", err)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				got, err := s.Get(c, key)
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				if len(got) != 64<<10 || !bytes.Equal(got, bytes.Repeat(got[:1], len(got))) {
					t.Errorf("Get saw a partial object (%d bytes)", len(got))
					return
				}
			}
		})
	}
	wg.Wait()
}
