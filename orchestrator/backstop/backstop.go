package backstop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stampede-load/stampede/orchestrator/shard"
)

// Function is one region's generator function, as the backstop sees it.
// Implementations are safe for concurrent use.
type Function interface {
	// Reserved returns the reserved concurrency, false when there is none.
	Reserved(ctx context.Context) (int, bool, error)
	SetReserved(ctx context.Context, n int) error
	DeleteReserved(ctx context.Context) error
}

// Opener returns the Function called function in region.
type Opener func(region, function string) Function

// Target is one region's generator function.
type Target struct {
	Region   string `json:"region"`
	Function string `json:"function"`
}

// Record is what Engage did, as stored at Key(runID).
type Record struct {
	RunID   string    `json:"run_id"`
	By      string    `json:"by"` // who engaged it, and why
	Engaged time.Time `json:"engaged"`
	// Released is when Release restored the settings (nil: not yet).
	Released *time.Time    `json:"released,omitempty"`
	Regions  []RegionState `json:"regions"`
}

// RegionState is one region's function and what the backstop did to it.
type RegionState struct {
	Target
	// Before is the reserved concurrency before Engage (nil: none).
	Before *int `json:"before"`
	// Throttled is true once the reserved concurrency was set to 0.
	Throttled bool `json:"throttled"`
	// Restored says what Release did ("" before it ran).
	Restored string `json:"restored,omitempty"`
	// Error is the last failure in this region ("" if none).
	Error string `json:"error,omitempty"`
}

// Name is the backstop record's object name under the run's prefix.
const Name = "backstop.json"

// Key is where run runID's backstop record lives (a run-level key: every
// region's bucket holds it).
func Key(runID string) string { return shard.RunPrefix(runID) + Name }

// Describe says what Before was, for people: "none (unreserved)" or "25".
func (s RegionState) Describe() string {
	if s.Before == nil {
		return "none (unreserved)"
	}
	return fmt.Sprint(*s.Before)
}

// Engage throttles every target's function to reserved concurrency 0,
// after recording its current setting. If run runID has an unreleased
// record already, its settings are kept (they are the ones to restore) and
// its functions throttled again. Nothing is throttled unless the record is
// stored. It returns the record and every region's failure, joined.
func Engage(ctx context.Context, store shard.Store, runID, by string, targets []Target, open Opener) (*Record, error) {
	rec, err := Read(ctx, store, runID)
	if err != nil && !errors.Is(err, shard.ErrNotFound) {
		return nil, fmt.Errorf("backstop: %w", err)
	}
	if rec == nil || rec.Released != nil {
		rec = &Record{RunID: runID, By: by, Engaged: time.Now().UTC(), Regions: make([]RegionState, len(targets))}
		var errs []error
		for i, t := range targets {
			rec.Regions[i].Target = t
			n, set, err := open(t.Region, t.Function).Reserved(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", t.Region, err))
				continue
			}
			if set {
				rec.Regions[i].Before = &n
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("backstop not engaged: the current settings could not be read: %w", err)
		}
		if err := write(ctx, store, rec); err != nil {
			return nil, fmt.Errorf("backstop not engaged: %w", err)
		}
	}
	err = each(rec, func(s *RegionState) error {
		if err := open(s.Region, s.Function).SetReserved(ctx, 0); err != nil {
			return err
		}
		s.Throttled = true
		return nil
	})
	if werr := write(ctx, store, rec); werr != nil {
		err = errors.Join(err, werr)
	}
	return rec, err
}

// Release restores what Engage recorded for run runID: each function's
// previous reserved concurrency, or none. A function that was at 0 before
// is left at 0. It returns the record (nil when the backstop was never
// engaged for the run), with Restored saying what was done per region; a
// record released already is returned as it is.
func Release(ctx context.Context, store shard.Store, runID string, open Opener) (*Record, error) {
	rec, err := Read(ctx, store, runID)
	if errors.Is(err, shard.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backstop: %w", err)
	}
	if rec.Released != nil {
		return rec, nil
	}
	err = each(rec, func(s *RegionState) error {
		fn := open(s.Region, s.Function)
		switch {
		case s.Before == nil:
			if err := fn.DeleteReserved(ctx); err != nil {
				return err
			}
			s.Restored = "reservation removed (unreserved again, as before)"
		case *s.Before == 0:
			s.Restored = "left at 0: it was 0 before the stop (not the backstop's doing)"
		default:
			if err := fn.SetReserved(ctx, *s.Before); err != nil {
				return err
			}
			s.Restored = fmt.Sprintf("restored to %d", *s.Before)
		}
		s.Throttled = false
		return nil
	})
	if err == nil {
		now := time.Now().UTC()
		rec.Released = &now
	}
	if werr := write(ctx, store, rec); werr != nil {
		err = errors.Join(err, werr)
	}
	return rec, err
}

// Read returns run runID's backstop record; shard.ErrNotFound (wrapped)
// when there is none.
func Read(ctx context.Context, store shard.Store, runID string) (*Record, error) {
	data, err := store.Get(ctx, Key(runID))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Key(runID), err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("decode %s: %w", Key(runID), err)
	}
	return &rec, nil
}

func write(ctx context.Context, store shard.Store, rec *Record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", Key(rec.RunID), err)
	}
	if err := store.Put(ctx, Key(rec.RunID), data); err != nil {
		return fmt.Errorf("record the settings in %s: %w", Key(rec.RunID), err)
	}
	return nil
}

// each runs fn for every region concurrently; a failure is kept in the
// region's Error and returned, joined and named by region.
func each(rec *Record, fn func(s *RegionState) error) error {
	errs := make([]error, len(rec.Regions))
	var wg sync.WaitGroup
	for i := range rec.Regions {
		wg.Go(func() {
			s := &rec.Regions[i]
			s.Error = ""
			if err := fn(s); err != nil {
				s.Error = err.Error()
				errs[i] = fmt.Errorf("%s: %s: %w", s.Region, s.Function, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
