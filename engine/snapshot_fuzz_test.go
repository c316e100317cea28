package engine

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzDecodeSnapshot checks that DecodeSnapshot never panics, that what it
// accepts survives merging, and that encode → decode is stable.
func FuzzDecodeSnapshot(f *testing.F) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 3, 50} {
		s := recordAll(stepNames(2), randomSamples(r, n, 2, 5*time.Second))
		data, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"interval":1000000000,"steps":{"a":{"requests":1,"status":{"200":1}}},"timeline":[{"i":3,"requests":1}]}`))
	f.Add([]byte(`{"interval":5,"epoch":"2026-01-01T00:00:00Z","timeline":[{"i":599},{"i":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSnapshot(data)
		if err != nil {
			return
		}
		acc := NewSnapshot(testEpoch, time.Second)
		acc.Merge(s)
		acc.Merge(s.Clone())
		_ = acc.Total()
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal accepted snapshot: %v", err)
		}
		again, err := DecodeSnapshot(out)
		if err != nil {
			t.Fatalf("re-encoded snapshot rejected: %v", err)
		}
		out2, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("encode → decode not stable:\n%s\n%s", out, out2)
		}
	})
}
