package engine

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// inflate returns the uncompressed inner part (header and payload) of a
// base64 V2 compressed encoding.
func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return inner
}

func packedBuckets(p *hdr.PackedHistogram) [][2]int64 {
	var out [][2]int64
	p.ForEachBucket(func(v, c int64) bool {
		out = append(out, [2]int64{v, c})
		return true
	})
	return out
}

// TestCodecMatchesLibrary checks the pooled codec against hdrhistogram-go:
// the same uncompressed bytes, and each decodes the other's output.
func TestCodecMatchesLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for digits := 1; digits <= 5; digits++ {
		for trial := range 5 {
			p := hdr.NewPacked(histLowestUs, histHighestUs, digits)
			n := []int{0, 1, 10, 1000, 5000}[trial]
			for _, v := range randomValuesUs(r, n) {
				if err := p.RecordValues(v, 1+r.Int64N(1000)); err != nil {
					t.Fatal(err)
				}
			}
			if trial == 1 {
				_ = p.RecordValues(histHighestUs, 1<<40) // top bucket, wide count
			}
			mine := encodeV2(p)
			theirs, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(inflate(t, mine), inflate(t, theirs)) {
				t.Fatalf("digits %d trial %d: payload differs from hdrhistogram-go's", digits, trial)
			}
			back, err := hdr.DecodePacked(mine)
			if err != nil {
				t.Fatalf("library cannot decode ours: %v", err)
			}
			v, err := decodeV2(theirs)
			if err != nil {
				t.Fatalf("cannot decode the library's: %v", err)
			}
			ours := v.packed()
			want := packedBuckets(p)
			if !slices.Equal(packedBuckets(back), want) || !slices.Equal(packedBuckets(ours), want) || ours.TotalCount() != p.TotalCount() {
				t.Fatalf("digits %d trial %d: buckets changed in a round trip", digits, trial)
			}
		}
	}
}

func TestGeometryIndex(t *testing.T) {
	for digits := 1; digits <= 5; digits++ {
		g := geometryFor(digits)
		p := hdr.NewPacked(histLowestUs, histHighestUs, digits)
		for _, v := range []int64{1, 2, 999, 1000, 2047, 2048, 2049, 123456, 99999999, histHighestUs} {
			p.Reset()
			_ = p.RecordValue(v)
			if got, want := g.value(g.index(v)), packedBuckets(p)[0][0]; got != want {
				t.Errorf("digits %d: bucket of %d starts at %d, library says %d", digits, v, got, want)
			}
			if i := g.index(v); i < 0 || i >= g.countsLen {
				t.Errorf("digits %d: index(%d) = %d outside [0, %d)", digits, v, i, g.countsLen)
			}
		}
	}
}

func TestVarint(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 40), 1<<56 - 1, 1 << 56, 1<<63 - 1, -1 << 63} {
		b := appendVarint(nil, v)
		got, n, err := readVarint(b)
		if err != nil || got != v || n != len(b) || n > 9 {
			t.Errorf("varint %d: encoded %x, decoded %d (%d bytes, %v)", v, b, got, n, err)
		}
		if _, _, err := readVarint(b[:len(b)-1]); err == nil {
			t.Errorf("varint %d: truncated encoding accepted", v)
		}
	}
}

func BenchmarkHistogramEncode(b *testing.B) {
	h := NewHistogram()
	for _, v := range randomValuesUs(rand.New(rand.NewPCG(1, 1)), 10000) {
		h.recordUs(v, 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHistogramDecode(b *testing.B) {
	h := NewHistogram()
	for _, v := range randomValuesUs(rand.New(rand.NewPCG(1, 1)), 10000) {
		h.recordUs(v, 1)
	}
	enc, err := h.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHistogram(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "bytes") // after Loop, which resets metrics
}

// FuzzDecodeHistogram checks that the decoder never panics and that what it
// accepts re-encodes to the same buckets.
func FuzzDecodeHistogram(f *testing.F) {
	for _, n := range []int{0, 1, 100} {
		h := NewHistogram()
		for _, v := range randomValuesUs(rand.New(rand.NewPCG(2, 2)), n) {
			h.recordUs(v, 1)
		}
		enc, err := h.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add([]byte("HISTFAAAACR4nJNpmSzMwMDAwQABzFCaEUzDAFMTE5MAUWQAFvIBJQ=="))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeHistogram(data)
		if err != nil {
			return
		}
		enc, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeHistogram(enc)
		if err != nil {
			t.Fatalf("re-encoding not decodable: %v", err)
		}
		if !slices.Equal(packedBuckets(again.p), packedBuckets(h.p)) || again.Count() != h.Count() {
			t.Fatal("buckets changed in a round trip")
		}
	})
}

// TestStep8 checks the eight-at-once step against eight single steps.
func TestStep8(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for range 10000 {
		w := r.Uint64() &^ highBits
		var i, counts int64
		for k := range 8 {
			b := byte(w >> (8 * k))
			counts += step(int64(b>>1)^-int64(b&1), &i)
		}
		if gotSteps, gotCounts := step8(w); gotSteps != i || gotCounts != counts {
			t.Fatalf("step8(%#x) = %d, %d; want %d, %d", w, gotSteps, gotCounts, i, counts)
		}
	}
}

// BenchmarkCheckPayload checks the payloads of a generator result's
// histograms (10s intervals).
func BenchmarkCheckPayload(b *testing.B) {
	var payloads []v2
	w, err := ParseSnapshot(mustJSON(b, generatorResult(10*time.Second, 1)))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	_ = w.w.eachHistogram(func(h *wireHistogram) error {
		payloads = append(payloads, h.v)
		n += len(h.v.payload)
		return nil
	})
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range payloads {
			if _, err := checkPayload(geometryFor(v.digits), v.payload); err != nil {
				b.Fatal(err)
			}
		}
	}
}
