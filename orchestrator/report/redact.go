package report

import (
	"cmp"
	"slices"
	"strings"
)

// Redacted replaces a secret value wherever it would appear in a report.
const Redacted = "[redacted]"

// redact replaces every secret value in r's strings (names, keys, reasons)
// with Redacted. Numbers cannot leak a secret and are left alone.
func (r *Report) redact(secrets []string) {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return s == "" })
	if len(secrets) == 0 {
		return
	}
	// Longest first, so that a secret containing another goes whole.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	red := func(s *string) {
		for _, sec := range secrets {
			*s = strings.ReplaceAll(*s, sec, Redacted)
		}
	}
	for _, s := range []*string{&r.RunID, &r.Plan, &r.Target, &r.Started, &r.Stopped} {
		red(s)
	}
	r.ErrorsByClass = redactKeys(r.ErrorsByClass, red)
	for i := range r.Endpoints {
		red(&r.Endpoints[i].Name)
		r.Endpoints[i].ErrorsByClass = redactKeys(r.Endpoints[i].ErrorsByClass, red)
	}
	for i := range r.Workflows {
		red(&r.Workflows[i].Name)
	}
	for i := range r.Regions {
		red(&r.Regions[i].Name)
	}
	for _, ids := range [][]string{r.Shards.Missing, r.Shards.Corrupt} {
		for i := range ids {
			red(&ids[i])
		}
	}
	for i := range r.Thresholds {
		t := &r.Thresholds[i]
		red(&t.Expr)
		red(&t.Step)
		red(&t.Note)
	}
}

// redactKeys returns m with every key passed through red (counts of keys
// that become equal add up).
func redactKeys(m map[string]int64, red func(*string)) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		red(&k)
		out[k] += v
	}
	return out
}
