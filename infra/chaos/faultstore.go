package chaos

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// ErrInjected is the error a FaultStore returns for a fault.
var ErrInjected = errors.New("chaos: injected store fault")

// Store operations a StoreRule may select.
const (
	OpPut    = "put"
	OpCreate = "create"
	OpGet    = "get"
	OpList   = "list"
)

// StoreRule selects store calls to fail.
type StoreRule struct {
	Name string
	Op   string // OpPut, OpCreate, OpGet or OpList
	// Key selects the keys (or List prefixes) that contain it ("" for all).
	Key string
	// Every fails every Every-th matching call (0 or 1: each one).
	Every int
	// Once fails each key at most once (the caller's retry succeeds).
	Once bool
}

// FaultStore wraps a shard.Store and fails the calls its rules select
// with ErrInjected, as a flaky or dead S3 would. Safe for concurrent use.
type FaultStore struct {
	shard.Store

	mu      sync.Mutex
	rules   []StoreRule
	seen    []int
	done    map[string]bool // rule/op/key failed already (Once rules)
	faulted map[string]int
}

// NewFaultStore wraps s with rules.
func NewFaultStore(s shard.Store, rules ...StoreRule) *FaultStore {
	return &FaultStore{Store: s, rules: rules, seen: make([]int, len(rules)), done: map[string]bool{}, faulted: map[string]int{}}
}

// AddRule adds a rule from now on (a dead generator: every write fails).
func (f *FaultStore) AddRule(r StoreRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, r)
	f.seen = append(f.seen, 0)
}

// Faulted is how many calls the named rule failed.
func (f *FaultStore) Faulted(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faulted[name]
}

func (f *FaultStore) fail(op, key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.Op != op || !strings.Contains(key, r.Key) {
			continue
		}
		f.seen[i]++
		if f.seen[i]%max(r.Every, 1) != 0 {
			continue
		}
		if r.Once {
			id := r.Name + "\x00" + op + "\x00" + key
			if f.done[id] {
				continue
			}
			f.done[id] = true
		}
		f.faulted[r.Name]++
		return true
	}
	return false
}

// Put fails or writes.
func (f *FaultStore) Put(ctx context.Context, key string, data []byte) error {
	if f.fail(OpPut, key) {
		return ErrInjected
	}
	return f.Store.Put(ctx, key, data)
}

// Create fails or creates.
func (f *FaultStore) Create(ctx context.Context, key string, data []byte) error {
	if f.fail(OpCreate, key) {
		return ErrInjected
	}
	return f.Store.Create(ctx, key, data)
}

// Get fails or reads.
func (f *FaultStore) Get(ctx context.Context, key string) ([]byte, error) {
	if f.fail(OpGet, key) {
		return nil, ErrInjected
	}
	return f.Store.Get(ctx, key)
}

// List fails or lists.
func (f *FaultStore) List(ctx context.Context, prefix string) ([]string, error) {
	if f.fail(OpList, prefix) {
		return nil, ErrInjected
	}
	return f.Store.List(ctx, prefix)
}
