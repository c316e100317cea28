package engine

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// dense is a Sum's histogram: one count per bucket index of stampede's
// geometry at one precision (23,552 counts at 3 digits, 3,328 at 2), so
// that adding a bucket is an array increment. It is not safe for
// concurrent use.
type dense struct {
	digits int
	g      geometry
	counts []int64 // len g.countsLen+1: the last is a sink that stays 0
	total  int64
}

func newDense(digits int) *dense {
	g := geometryFor(digits)
	return &dense{digits: digits, g: g, counts: make([]int64, g.countsLen+1)}
}

// addV2 adds a checked V2 histogram and returns how many values were
// dropped: all of v's if they would take the total past MaxInt64 (each
// count is at most the total, so none can overflow then). Buckets of
// another precision are added at their lowest value.
func (d *dense) addV2(v v2) int64 {
	if v.total > math.MaxInt64-d.total {
		return v.total
	}
	d.total += v.total
	if v.digits == d.digits { // the usual case, unrolled from forEach
		counts, p := d.counts, v.payload
		var i int64
		for pos := 0; pos < len(p); {
			if b := p[pos]; b < 0x80 {
				// As checkPayload: a run adds 0 at i, which can then be
				// countsLen, the spare slot.
				c := int64(b>>1) ^ -int64(b&1)
				at := i
				counts[at] += step(c, &i)
				pos++
				continue
			}
			var c int64
			c, pos = nextCount(p, pos)
			if c < 0 {
				i -= c
				continue
			}
			counts[i] += c
			i++
		}
		return 0
	}
	src := geometryFor(v.digits)
	v.forEach(func(i, c int64) { d.counts[d.g.index(src.value(i))] += c })
	return 0
}

// addPacked adds a sparse histogram of stampede's geometry, as addV2 does.
func (d *dense) addPacked(p *hdr.PackedHistogram) int64 {
	if p.TotalCount() > math.MaxInt64-d.total {
		return p.TotalCount()
	}
	d.total += p.TotalCount()
	p.ForEachBucket(func(v, c int64) bool {
		d.counts[d.g.index(v)] += c
		return true
	})
	return 0
}

// packed returns a sparse copy of d.
func (d *dense) packed() *hdr.PackedHistogram {
	p := hdr.NewPacked(histLowestUs, histHighestUs, d.digits)
	for i, c := range d.counts[:d.g.countsLen] {
		if c > 0 {
			_ = p.RecordValues(d.g.value(int64(i)), c) // in order: appended
		}
	}
	return p
}
