package engine

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/rand/v2"
	"testing"
)

// TestStoredZlibRoundTrip checks the stored writer against compress/zlib
// both ways, for one block, several and none.
func TestStoredZlibRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 100, storedMax, storedMax + 1, 3*storedMax + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		ours := appendStoredZlib(nil, data)
		if len(ours) != storedZlibLen(n) {
			t.Errorf("%d bytes: stream of %d, storedZlibLen says %d", n, len(ours), storedZlibLen(n))
		}
		zr, err := zlib.NewReader(bytes.NewReader(ours))
		if err != nil {
			t.Fatal(err)
		}
		if back, err := io.ReadAll(zr); err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%d bytes: compress/zlib reads %d bytes, %v", n, len(back), err)
		}
		if back, ok, err := readStoredZlib(ours); !ok || err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%d bytes: readStoredZlib = %d bytes, %v, %v", n, len(back), ok, err)
		}
		// compress/zlib's own stored streams end with an empty final block.
		var theirs bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&theirs, zlib.NoCompression)
		zw.Write(data)
		zw.Close()
		if back, ok, err := readStoredZlib(theirs.Bytes()); !ok || err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%d bytes: compress/zlib's stored stream: %d bytes, %v, %v", n, len(back), ok, err)
		}
	}
}

func TestReadStoredZlibRefuses(t *testing.T) {
	good := appendStoredZlib(nil, []byte("payload of a histogram"))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	for name, z := range map[string][]byte{
		"bad checksum":    flip(len(good) - 1),
		"bad length":      flip(4),
		"truncated":       good[:len(good)-6],
		"trailing data":   append(bytes.Clone(good), 0),
		"no final block":  append([]byte{0x78, 0x01, 0, 0, 0, 0xff, 0xff}, good[len(good)-4:]...),
		"stored then not": {0x78, 0x01, 0, 0, 0, 0xff, 0xff, 0x03, 0x00},
	} {
		if _, ok, err := readStoredZlib(z); !ok || err == nil {
			t.Errorf("%s: readStoredZlib = %v, %v; want an error", name, ok, err)
		}
	}
	var deflated bytes.Buffer
	zw := zlib.NewWriter(&deflated)
	zw.Write(bytes.Repeat([]byte("abc"), 100))
	zw.Close()
	for name, z := range map[string][]byte{"deflated": deflated.Bytes(), "not zlib": []byte("xy"), "empty": nil} {
		if _, ok, err := readStoredZlib(z); ok || err != nil {
			t.Errorf("%s: readStoredZlib = %v, %v; want it left to the inflater", name, ok, err)
		}
	}
}
