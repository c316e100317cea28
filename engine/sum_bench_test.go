package engine

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

// generatorResult is one generator's snapshot of a 10-minute test at 100
// requests/s over 10 endpoints (60,000 requests), with the latencies of
// the orchestrator's fleet benchmark: endpoint k log-normal around
// (4+3k) ms (σ 0.35), 1% of requests 3–10× slower, 0.3% failing with 503,
// up to 200µs of scheduling delay.
func generatorResult(interval time.Duration, seed uint64) *Snapshot {
	rng := rand.New(rand.NewPCG(seed, 7))
	const lanes, rate = 4, 100
	rec := NewRecorder(stepNames(10), nil, testEpoch, interval, lanes)
	for i := range 600 * rate {
		k := i % 10
		svc := float64(4+3*k) * float64(time.Millisecond) * math.Exp(0.35*rng.NormFloat64())
		if rng.IntN(100) == 0 {
			svc *= 3 + 7*rng.Float64()
		}
		s := Sample{Step: k, At: time.Duration(i) * time.Second / rate, Service: time.Duration(svc),
			Response: time.Duration(svc) + time.Duration(rng.IntN(200))*time.Microsecond,
			Status:   200, BytesOut: 120, BytesIn: 2048}
		if rng.IntN(1000) < 3 {
			s.Status, s.Failed = 503, true
		}
		rec.IterationStarted(i%lanes, time.Duration(rng.IntN(300))*time.Microsecond)
		rec.Record(i%lanes, &s)
		rec.IterationDone(i%lanes, !s.Failed)
	}
	return rec.Snapshot()
}

var histogramField = regexp.MustCompile(`"(response|service|time|lateness)":"([^"]+)"`)

// deflated rewrites every histogram of a snapshot's JSON with its zlib
// stream deflated at level (as hdrhistogram-go and the Java library write
// it) instead of stored.
func deflated(tb testing.TB, data []byte, level int) []byte {
	return histogramField.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := histogramField.FindSubmatch(m)
		raw, err := base64.StdEncoding.DecodeString(string(sub[2]))
		if err != nil {
			tb.Fatal(err)
		}
		inner, _, err := readStoredZlib(raw[8:])
		if err != nil {
			tb.Fatal(err)
		}
		var z bytes.Buffer
		z.Write(raw[:8])
		w, err := zlib.NewWriterLevel(&z, level)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(inner)
		w.Close()
		out := z.Bytes()
		binary.BigEndian.PutUint32(out[4:], uint32(len(out)-8))
		return fmt.Appendf(nil, `"%s":"%s"`, sub[1], base64.StdEncoding.EncodeToString(out))
	})
}

// BenchmarkAddResult decodes one generator's result and adds it to a
// running total, as the orchestrator does for each generator: through
// DecodeSnapshot and Snapshot.Merge (merge) or ParseSnapshot and Sum.Add
// (sum), for timelines of 2s, 5s and 10s intervals (300, 120 and 60 for
// the 10 minutes), histograms stored or deflated.
func BenchmarkAddResult(b *testing.B) {
	for _, iv := range []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second} {
		stored, err := json.Marshal(generatorResult(iv, 1))
		if err != nil {
			b.Fatal(err)
		}
		for _, enc := range []struct {
			name string
			data []byte
		}{{"stored", stored}, {"deflated", deflated(b, stored, zlib.BestSpeed)}} {
			b.Run(fmt.Sprintf("interval=%v/histograms=%s/path=merge", iv, enc.name), func(b *testing.B) {
				total := NewSnapshot(testEpoch, iv)
				b.ReportAllocs()
				for b.Loop() {
					s, err := DecodeSnapshot(enc.data)
					if err != nil {
						b.Fatal(err)
					}
					total.Merge(s)
				}
				b.ReportMetric(float64(len(enc.data)), "bytes") // after Loop, which resets metrics
			})
			b.Run(fmt.Sprintf("interval=%v/histograms=%s/path=sum", iv, enc.name), func(b *testing.B) {
				total := NewSum(testEpoch, iv)
				b.ReportAllocs()
				for b.Loop() {
					w, err := ParseSnapshot(enc.data)
					if err != nil {
						b.Fatal(err)
					}
					total.Add(w)
				}
				b.ReportMetric(float64(len(enc.data)), "bytes")
			})
		}
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
