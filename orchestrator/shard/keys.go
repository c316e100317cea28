package shard

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Key prefixes and names below "runs/<run-id>/".
const (
	RunsPrefix      = "runs/"
	ManifestName    = "manifest.json"
	StopName        = "stop"
	LeasesDir       = "leases"
	CheckpointsDir  = "checkpoints"
	ResultsDir      = "results"
	resultExtension = ".json"
)

// RunPrefix is the prefix of every key of run runID: "runs/<run-id>/".
func RunPrefix(runID string) string { return RunsPrefix + runID + "/" }

// ManifestKey is where the run's manifest lives.
func ManifestKey(runID string) string { return RunPrefix(runID) + ManifestName }

// StopKey is the stop marker: generators stop when it exists.
func StopKey(runID string) string { return RunPrefix(runID) + StopName }

// LeasesPrefix, CheckpointsPrefix and ResultsPrefix are the prefixes to
// List for a run's leases, checkpoints and final results.
func LeasesPrefix(runID string) string      { return RunPrefix(runID) + LeasesDir + "/" }
func CheckpointsPrefix(runID string) string { return RunPrefix(runID) + CheckpointsDir + "/" }
func ResultsPrefix(runID string) string     { return RunPrefix(runID) + ResultsDir + "/" }

// LeaseKey is the object a generator creates (exclusively) to take a task.
func LeaseKey(runID, region, taskID string) string {
	return LeasesPrefix(runID) + spread(region, taskID)
}

// CheckpointKey holds a task's latest cumulative snapshot while it runs.
func CheckpointKey(runID, region, taskID string) string {
	return CheckpointsPrefix(runID) + spread(region, taskID) + resultExtension
}

// ResultKey holds a task's final result.
func ResultKey(runID, region, taskID string) string {
	return ResultsPrefix(runID) + spread(region, taskID) + resultExtension
}

// spread returns "<hh>/<region>/<task-id>".
func spread(region, taskID string) string {
	return Hash(taskID) + "/" + region + "/" + taskID
}

// Hash is the 2-hex-digit prefix that spreads a task's keys.
func Hash(taskID string) string {
	h := fnv.New32a()
	h.Write([]byte(taskID))
	return fmt.Sprintf("%02x", h.Sum32()&0xff)
}

// ParseResultKey, ParseCheckpointKey and ParseLeaseKey split a key of run
// runID into region and task id. They report false for a key that does not
// have the shape ResultKey, CheckpointKey or LeaseKey build (a wrong hash
// included): such an object is foreign to the run.
func ParseResultKey(runID, key string) (region, taskID string, ok bool) {
	return parseKey(ResultsPrefix(runID), resultExtension, key)
}

func ParseCheckpointKey(runID, key string) (region, taskID string, ok bool) {
	return parseKey(CheckpointsPrefix(runID), resultExtension, key)
}

func ParseLeaseKey(runID, key string) (region, taskID string, ok bool) {
	return parseKey(LeasesPrefix(runID), "", key)
}

func parseKey(prefix, suffix, key string) (region, taskID string, ok bool) {
	rest, found := strings.CutPrefix(key, prefix)
	if !found {
		return "", "", false
	}
	if rest, found = strings.CutSuffix(rest, suffix); !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !ValidName(parts[1]) || !ValidName(parts[2]) || parts[0] != Hash(parts[2]) {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// ValidName reports whether s may be one segment of a key (a run id, a
// region, a task id): 1–128 letters, digits, '.', '_' or '-', and not "."
// or "..".
func ValidName(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// TaskID names generator g's task for slice s: "g0007-s02".
func TaskID(generator, slice int) string {
	return fmt.Sprintf("g%04d-s%02d", generator, slice)
}
