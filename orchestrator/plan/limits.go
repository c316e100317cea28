package plan

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// AllowLarge is the command-line flag that lifts Limits.
const AllowLarge = "--allow-large"

// Limits are the largest plan that runs without AllowLarge: a typo
// (rate: 50000 for 5000, duration: 10h for 10m) must not turn into an
// attack on the target or a large bill. Zero fields are not checked.
type Limits struct {
	// Rate is the highest open-model rate (iterations per second, the whole
	// plan, the peak of rate and every stage target).
	Rate float64
	// Users is the most closed-model virtual users (the whole plan, the
	// peak of users and every stage target).
	Users int
	// Generators is the most generators in all regions together.
	Generators int
	// Duration is the longest test.
	Duration time.Duration
}

// Default limits: a plan above any of them needs AllowLarge.
const (
	DefaultLimitRate       = 10_000
	DefaultLimitUsers      = 10_000
	DefaultLimitGenerators = 100
	DefaultLimitDuration   = time.Hour
)

// DefaultLimits returns the limits a plan stays within unless the command
// line says AllowLarge.
func DefaultLimits() Limits {
	return Limits{Rate: DefaultLimitRate, Users: DefaultLimitUsers, Generators: DefaultLimitGenerators, Duration: DefaultLimitDuration}
}

// CheckLimits returns one Error for every limit p goes beyond (as Errors,
// located at the key that asks for it in p.Source), or nil. It checks p as
// it is, after any command-line override of the generator count.
func (p *Plan) CheckLimits(l Limits) error {
	var errs Errors
	// add locates the problem at the first of paths that the source has.
	add := func(paths [][]string, msg, hint string) {
		e := Error{File: p.File, Line: 1, Col: 1, Path: strings.Join(paths[0], "."), Msg: msg,
			Hint: hint + ", or pass " + AllowLarge + " to run a plan this large"}
		for _, path := range paths {
			if line, col, ok := keyPos(p.Source, path...); ok {
				e.Line, e.Col, e.Path = line, col, strings.Join(path, ".")
				break
			}
		}
		errs = append(errs, e)
	}
	load := p.Engine.Load
	if rate, key := peak(load, load.Rate); load.Model != engine.ModelClosed && l.Rate > 0 && rate > l.Rate {
		add([][]string{{KeyLoad, key}}, fmt.Sprintf("a rate of %s iterations/s is above the %s/s a plan may ask for", num(rate), num(l.Rate)),
			"lower the rate")
	}
	if users, key := peak(load, float64(load.Users)); load.Model == engine.ModelClosed && l.Users > 0 && users > float64(l.Users) {
		add([][]string{{KeyLoad, key}}, fmt.Sprintf("%s virtual users are more than the %d a plan may ask for", num(users), l.Users),
			"lower the users")
	}
	if l.Duration > 0 && p.Engine.Duration > l.Duration {
		add([][]string{{KeyDuration}, {KeyLoad, "stages"}}, fmt.Sprintf("a test of %s is longer than the %s a plan may ask for",
			formatDuration(p.Engine.Duration), formatDuration(l.Duration)), "shorten it")
	}
	gens := 0
	for _, r := range p.Regions {
		gens += r.Generators
	}
	if l.Generators > 0 && gens > l.Generators {
		add([][]string{{KeyGenerators}, {KeyRegions}}, fmt.Sprintf("%d generators in all regions are more than the %d a plan may ask for", gens, l.Generators),
			"use fewer generators")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// peak is the highest of start and the stages' targets, and the load key
// that asks for it ("stages" when a stage does).
func peak(l engine.Load, start float64) (float64, string) {
	v, key := start, "rate"
	if l.Model == engine.ModelClosed {
		key = "users"
	}
	for _, s := range l.Stages {
		if s.Target > v {
			v, key = s.Target, "stages"
		}
	}
	return v, key
}

// num formats a count or rate without a needless fraction.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// keyPos finds the key at path (a chain of mapping keys from the top) in
// src and returns the line and column of the deepest one src has; ok is
// false when src does not even have the first.
func keyPos(src []byte, path ...string) (line, col int, ok bool) {
	var doc yaml.Node
	if yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc) != nil || len(doc.Content) == 0 {
		return 0, 0, false
	}
	n := doc.Content[0]
	for _, key := range path {
		var next *yaml.Node
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, col, next = n.Content[i].Line, n.Content[i].Column, n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		ok, n = true, next
	}
	return line, col, ok
}
