package dirstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// tempPrefix starts the names of files being written; List skips them and
// no key segment may start with it.
const tempPrefix = ".tmp-"

// Store is a shard.Store on a directory. Writes are atomic: a reader sees
// the old object, the new one or none, never a partial one. Safe for
// concurrent use, also by several processes on the same directory.
type Store struct {
	root string
}

var _ shard.Store = (*Store)(nil)

// New returns a Store rooted at root (created on first write).
func New(root string) *Store { return &Store{root: root} }

// Root is the directory the store writes under.
func (s *Store) Root() string { return s.root }

// path maps a key to its file, refusing keys that could escape the root.
func (s *Store) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) {
		return "", fmt.Errorf("invalid key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, tempPrefix) {
			return "", fmt.Errorf("invalid key %q", key)
		}
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// writeTemp writes data to a new temporary file next to path and returns
// its name.
func writeTemp(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Put writes key (temporary file, then rename).
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	path, err := s.path(key)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Create writes key only if it does not exist. It links a complete
// temporary file to the key's name: link(2) fails when the name exists
// (the same exclusivity as O_EXCL) and readers never see a partial file.
func (s *Store) Create(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	path, err := s.path(key)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", key, shard.ErrExists)
		}
		return fmt.Errorf("create %s: %w", key, err)
	}
	return nil
}

// Get reads key; shard.ErrNotFound when it does not exist.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	path, err := s.path(key)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, shard.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return data, nil
}

// List returns every key that starts with prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	// Walk the deepest directory the prefix names in full.
	dir := ""
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		dir = prefix[:i]
	}
	if strings.Contains(dir, "..") || strings.HasPrefix(dir, "/") {
		return nil, fmt.Errorf("list: invalid prefix %q", prefix)
	}
	start := filepath.Join(s.root, filepath.FromSlash(dir))
	var keys []string
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking, or no such directory
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, path)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}
