package engine

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// parsePlain decodes a snapshot's JSON with encoding/json alone: what the
// lifted fast path must agree with.
func parsePlain(data []byte) (*WireSnapshot, error) {
	var ws wireSnapshot
	if err := json.Unmarshal(data, &ws); err != nil {
		return nil, err
	}
	if err := ws.resolve(nil); err != nil {
		return nil, err
	}
	if err := ws.check(); err != nil {
		return nil, err
	}
	return &WireSnapshot{w: ws}, nil
}

// checkSameAsPlain fails unless ParseSnapshot and parsePlain both refuse
// data or both accept it as the same snapshot.
func checkSameAsPlain(t *testing.T, data []byte) {
	t.Helper()
	fast, ferr := ParseSnapshot(data)
	plain, perr := parsePlain(data)
	if (ferr == nil) != (perr == nil) {
		t.Fatalf("ParseSnapshot error %v, plain decode error %v, for %.300s", ferr, perr, data)
	}
	if ferr != nil {
		return
	}
	a, err := json.Marshal(fast.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(plain.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("ParseSnapshot and the plain decode differ:\n%.500s\n%.500s", a, b)
	}
}

func liftSeeds(tb testing.TB) [][]byte {
	r := rand.New(rand.NewPCG(31, 32))
	s := recordAll(stepNames(2), randomSamples(r, 40, 2, 5*time.Second))
	data, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	h := `"` + string(mustEncode(tb, s.Steps["GET /sa"].Response)) + `"`
	var indented bytes.Buffer
	if err := json.Indent(&indented, data, "", "  "); err != nil {
		tb.Fatal(err)
	}
	iv := `{"interval":1000000000,"timeline":[`
	return [][]byte{
		data,
		indented.Bytes(), // the fast path's interval form fails: fallback
		[]byte(strings.Replace(string(data), `"requests"`, `"Requests"`, 1)),
		// A number in a histogram's place, and a long string where only the
		// number could take it.
		[]byte(`{"interval":1000000000,"x":` + h + `,"steps":{"a":{"response":1}}}`),
		[]byte(`{"interval":1000000000,"steps":{"a":{"response":1,"service":` + h + `}}}`),
		[]byte(`{"interval":1000000000,"steps":{"a":{"status":{"200":` + h + `},"response":` + h + `}}}`),
		// Twice the same key: the last wins.
		[]byte(`{"interval":1000000000,"steps":{"a":{"response":` + h + `,"response":` + h + `}}}`),
		[]byte(iv + `{"i":1,"requests":2,"failures":0,"status":{"200":2},"response":` + h + `,"service":` + h + `}]}`),
		[]byte(iv + `{"i":1,"requests":2,"failures":0,"status":{"200":2,"200":1},"response":` + h + `,"service":` + h + `}]}`),
		[]byte(iv + `{"i":01,"requests":2,"failures":0,"response":` + h + `,"service":` + h + `}]}`),
		[]byte(iv + `{"i":1,"requests":2,"failures":0,"errors":{"t\u00e9":1},"response":` + h + `,"service":` + h + `}]}`),
		[]byte(iv + `{"i":1,"requests":2,"failures":0,"response":` + h + `,"service":` + h + `,"extra":` + h + `}]}`),
		[]byte(iv + `{"i":1,"requests":2,"failures":0,"response":` + h[:40] + "\n" + h[40:] + `,"service":` + h + `}]}`),
		[]byte(iv + `null]}`),
	}
}

func mustEncode(tb testing.TB, h *Histogram) []byte {
	b, err := h.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseSnapshotMatchesPlainDecode(t *testing.T) {
	for _, data := range liftSeeds(t) {
		checkSameAsPlain(t, data)
	}
}

// TestParseSnapshotTakesTheFastPath checks that a snapshot as json.Marshal
// writes it decodes without falling back (the fast path is the point).
func TestParseSnapshotTakesTheFastPath(t *testing.T) {
	data, err := json.Marshal(generatorResult(10*time.Second, 2))
	if err != nil {
		t.Fatal(err)
	}
	lifted, strs, ok := liftStrings(data)
	if !ok || len(strs) == 0 || len(lifted) > len(data)/4 {
		t.Fatalf("lifted %d strings, %d of %d bytes left", len(strs), len(lifted), len(data))
	}
	var fast wireSnapshot
	dec := json.NewDecoder(bytes.NewReader(lifted))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fast); err != nil || !atEOF(dec) {
		t.Fatalf("lifted form does not decode: %v", err)
	}
	for _, iv := range fast.Timeline {
		if iv.Response.ref == 0 {
			t.Fatalf("interval %d was not read by parseLifted", iv.Index)
		}
	}
	if err := fast.resolve(strs); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseSnapshot checks that the lifted fast path and encoding/json
// agree on everything.
func FuzzParseSnapshot(f *testing.F) {
	for _, s := range liftSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkSameAsPlain)
}
