package plan

import (
	"math"
	"time"

	"gopkg.in/yaml.v3"
)

// parseRegions reads generators and regions.
func (p *parser) parseRegions(f *fields) {
	gens := int64(DefaultGenerators)
	if n := f.get(KeyGenerators); n != nil {
		gens, _ = p.integer(n, KeyGenerators, 1, MaxGenerators)
	}
	n := f.get(KeyRegions)
	if n == nil {
		p.plan.Regions = []Region{{Name: DefaultRegion, Generators: int(max(gens, 1))}}
		return
	}
	seen := map[string]bool{}
	add := func(k *yaml.Node, at string, count int) {
		name, ok := p.str(k, at)
		switch {
		case !ok:
		case name != DefaultRegion && !regionPattern.MatchString(name):
			p.at(k, at, "use an AWS region name such as us-east-1 or eu-west-1, or \"local\"", "%q is not a region", clip(name))
		case seen[name]:
			p.at(k, at, "", "region %q is listed twice", name)
		default:
			seen[name] = true
			p.plan.Regions = append(p.plan.Regions, Region{Name: name, Generators: count})
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		if g := f.get(KeyGenerators); g != nil {
			p.at(f.keys[KeyGenerators], KeyGenerators, "give each region its count in the regions map", "generators cannot go with a map of regions")
		}
		keys, vals, _ := p.pairs(n, KeyRegions)
		for i, k := range keys {
			at := join(KeyRegions, k.Value)
			if c, ok := p.integer(vals[i], at, 1, MaxGenerators); ok {
				add(k, at, int(c))
			}
		}
	default:
		items, _ := p.list(n, KeyRegions)
		for i, it := range items {
			add(it, index(KeyRegions, i), int(max(gens, 1)))
		}
	}
	if len(p.plan.Regions) == 0 && n.Kind != yaml.ScalarNode && len(n.Content) == 0 {
		p.at(n, KeyRegions, "leave regions out to run locally", "list at least one region")
	}
}

// parseRun reads slice, memory_mb and seed.
func (p *parser) parseRun(f *fields) {
	pl := p.plan
	pl.Slice, pl.MemoryMB = DefaultSlice, DefaultMemoryMB
	if n := f.get(KeySlice); n != nil {
		if d, ok := p.positive(n, KeySlice); ok {
			if d > MaxSlice {
				p.at(n, KeySlice, "a Lambda runs at most 15 minutes; use 14m or less", "%s is longer than %s", formatDuration(d), formatDuration(MaxSlice))
			} else if d < time.Second {
				p.at(n, KeySlice, "", "%s is too short (at least 1s)", formatDuration(d))
			} else {
				pl.Slice = d
			}
		}
	}
	if n := f.get(KeyMemoryMB); n != nil {
		if m, ok := p.integer(n, KeyMemoryMB, MinMemoryMB, MaxMemoryMB); ok {
			pl.MemoryMB = int(m)
		}
	}
	if n := f.get(KeySeed); n != nil {
		var s uint64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != tagInt || n.Decode(&s) != nil {
			p.at(n, KeySeed, "", "want a whole number >= 0, got %s", describe(n))
		}
		pl.Seed = s
	}
}

// parseBudget reads budget: {max_usd: N}.
func (p *parser) parseBudget(n *yaml.Node, path string) {
	f := p.mapping(n, path, []string{"max_usd"})
	if f == nil {
		return
	}
	m := f.get("max_usd")
	if m == nil {
		p.at(n, f.at("max_usd"), "e.g. budget: {max_usd: 5}", "is required")
		return
	}
	if v, ok := p.number(m, f.at("max_usd")); ok {
		if v <= 0 || v > math.MaxFloat32 {
			p.at(m, f.at("max_usd"), "", "must be above 0")
			return
		}
		p.plan.Budget.MaxUSD = v
	}
}
