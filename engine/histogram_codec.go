package engine

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// This file reads and writes the standard HdrHistogram V2 compressed
// encoding (what Java, C and hdrhistogram-go exchange and .hlog lines hold):
//
//	base64( cookie int32 | length int32 | zlib( header[40] | payload ) )
//
// header: cookie, payload length, normalizing offset, significant digits
// (int32 each), lowest and highest trackable value (int64), conversion ratio
// (float64), all big-endian. The payload lists counts in bucket-index order
// as ZigZag LEB128 (at most 9 bytes), a negative value being a run of zeros.
//
// Writing, the zlib stream is made of stored blocks (zlib_stored.go), which
// every inflater reads. Reading, stored streams are read in place and any
// other is inflated through a pooled reader (hdrhistogram-go's DecodePacked
// makes a new one, about 40 KB, per histogram).

const (
	v2Cookie           = 0x1c849303 // hdr.V2EncodingCookieBase
	v2CompressedCookie = 0x1c849304 // hdr.V2CompressedEncodingCookieBase
	v2CookieFlags      = 0x10       // the low nibble carries a word size
	v2HeaderSize       = 40
)

// zlibReaders is a cache of reusable inflaters, not program state: any
// element is as good as a new one.
var zlibReaders sync.Pool // of io.ReadCloser implementing zlib.Resetter

// geometry is the bucket layout of a histogram of stampede's range (lowest
// value 1, so the unit magnitude is 0) at a given precision.
type geometry struct {
	halfMag   uint  // log2 of the sub-bucket half count
	half      int64 // sub-bucket half count
	mask      int64 // sub-bucket count - 1
	countsLen int64 // number of bucket indexes
}

// geometryFor computes the layout for digits (1–5) up to histHighestUs.
func geometryFor(digits int) geometry {
	// Unit resolution up to 2×10^digits, rounded up to a power of two.
	single := int64(2 * math.Pow10(digits))
	countMag := uint(bits.Len64(uint64(single - 1)))
	g := geometry{halfMag: countMag - 1, half: 1 << (countMag - 1), mask: 1<<countMag - 1}
	buckets := int64(1)
	for untrackable := int64(1) << countMag; untrackable <= histHighestUs; untrackable <<= 1 {
		buckets++
	}
	g.countsLen = (buckets + 1) * g.half
	return g
}

// index returns the bucket index of value v (>= 0).
func (g geometry) index(v int64) int64 {
	bucket := int64(bits.Len64(uint64(v|g.mask))) - int64(g.halfMag+1)
	sub := v >> uint(bucket)
	return (bucket+1)<<g.halfMag + sub - g.half
}

// value returns the lowest value of bucket index i.
func (g geometry) value(i int64) int64 {
	bucket := i>>g.halfMag - 1
	sub := i&(g.half-1) + g.half
	if bucket < 0 {
		sub -= g.half
		bucket = 0
	}
	return sub << uint(bucket)
}

// appendVarint appends v as ZigZag LEB128-64b9B.
func appendVarint(buf []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for range 8 {
		if u < 0x80 {
			return append(buf, byte(u))
		}
		buf = append(buf, byte(u)|0x80)
		u >>= 7
	}
	return append(buf, byte(u))
}

// readVarint decodes one ZigZag LEB128-64b9B value and its length.
func readVarint(buf []byte) (int64, int, error) {
	var u uint64
	for i := range 9 {
		if i >= len(buf) {
			return 0, 0, errors.New("truncated varint")
		}
		b := buf[i]
		if i == 8 {
			u |= uint64(b) << 56
			return int64(u>>1) ^ -int64(u&1), 9, nil
		}
		u |= uint64(b&0x7f) << (7 * uint(i))
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), i + 1, nil
		}
	}
	return 0, 0, errors.New("unreachable varint length")
}

// encodeV2 returns p's base64 V2 compressed encoding.
func encodeV2(p *hdr.PackedHistogram) []byte {
	digits := int(p.SignificantFigures())
	g := geometryFor(digits)
	inner := make([]byte, v2HeaderSize, v2HeaderSize+64+4*int(p.Populated()))
	var next int64 // first bucket index not yet written
	p.ForEachBucket(func(v, c int64) bool {
		i := g.index(v)
		switch zeros := i - next; {
		case zeros == 1:
			inner = appendVarint(inner, 0)
		case zeros > 1:
			inner = appendVarint(inner, -zeros)
		}
		inner = appendVarint(inner, c)
		next = i + 1
		return true
	})
	if next == 0 { // empty: a single zero count, as HdrHistogram writes it
		inner = appendVarint(inner, 0)
	}
	binary.BigEndian.PutUint32(inner[0:], v2Cookie|v2CookieFlags)
	binary.BigEndian.PutUint32(inner[4:], uint32(len(inner)-v2HeaderSize))
	binary.BigEndian.PutUint32(inner[8:], 0)
	binary.BigEndian.PutUint32(inner[12:], uint32(digits))
	binary.BigEndian.PutUint64(inner[16:], uint64(histLowestUs))
	binary.BigEndian.PutUint64(inner[24:], uint64(histHighestUs))
	binary.BigEndian.PutUint64(inner[32:], math.Float64bits(1))

	raw := make([]byte, 8, 8+storedZlibLen(len(inner)))
	raw = appendStoredZlib(raw, inner)
	binary.BigEndian.PutUint32(raw[0:], v2CompressedCookie|v2CookieFlags)
	binary.BigEndian.PutUint32(raw[4:], uint32(len(raw)-8))
	out := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(out, raw)
	return out
}

// v2 is a checked V2 histogram: its precision, its payload (the counts in
// bucket-index order, ZigZag LEB128, every index and the total in range) and
// its total count.
type v2 struct {
	digits  int
	payload []byte
	total   int64
}

// decodeV2 parses a base64 V2 compressed encoding of stampede's geometry
// (lowest 1, highest histHighestUs, 1–5 digits) and checks it. It bounds
// every length by the geometry before reading, so hostile input cannot make
// it allocate much more than its own size.
func decodeV2(b []byte) (v2, error) {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(raw, b)
	if err != nil {
		return v2{}, err
	}
	return parseV2(raw[:n])
}

// parseV2 checks a V2 compressed encoding (after base64). The payload it
// returns may share raw's memory.
func parseV2(raw []byte) (v2, error) {
	if len(raw) < 8 {
		return v2{}, fmt.Errorf("%d bytes, too short", len(raw))
	}
	if c := binary.BigEndian.Uint32(raw); c&^0xf0 != v2CompressedCookie {
		return v2{}, fmt.Errorf("cookie %#x is not V2 compressed", c)
	}
	clen := int64(binary.BigEndian.Uint32(raw[4:]))
	if clen > int64(len(raw)-8) {
		return v2{}, fmt.Errorf("compressed length %d exceeds the %d bytes present", clen, len(raw)-8)
	}
	inner, err := inflateV2(raw[8 : 8+clen])
	if err != nil {
		return v2{}, err
	}
	digits, g, payloadLen, err := checkHeader(inner)
	if err != nil {
		return v2{}, err
	}
	if int64(len(inner)-v2HeaderSize) != payloadLen {
		return v2{}, fmt.Errorf("payload is %d bytes, header gives %d", len(inner)-v2HeaderSize, payloadLen)
	}
	h := v2{digits: digits, payload: inner[v2HeaderSize:]}
	if h.total, err = checkPayload(g, h.payload); err != nil {
		return v2{}, err
	}
	return h, nil
}

// inflateV2 returns the uncompressed header and payload of a V2 zlib
// stream. A stream of stored blocks (what encodeV2 writes) is read in place;
// any other is inflated, reading at most the largest valid size plus one
// byte so that memory grows with the data present.
func inflateV2(z []byte) ([]byte, error) {
	if inner, ok, err := readStoredZlib(z); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("zlib: %w", err)
		}
		return inner, nil
	}
	r, err := zlibReader(z)
	if err != nil {
		return nil, err
	}
	defer zlibReaders.Put(r)
	var h [v2HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	_, _, payloadLen, err := checkHeader(h[:])
	if err != nil {
		return nil, err
	}
	// Reading to EOF also verifies the checksum.
	inner := bytes.NewBuffer(append(make([]byte, 0, v2HeaderSize+min(payloadLen, 4*int64(len(z)))), h[:]...))
	if _, err := io.Copy(inner, io.LimitReader(r, payloadLen+1)); err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	return inner.Bytes(), nil
}

// zlibReader returns a pooled zlib reader reset to read raw.
func zlibReader(raw []byte) (io.ReadCloser, error) {
	if z, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := z.(zlib.Resetter).Reset(bytes.NewReader(raw), nil); err != nil {
			zlibReaders.Put(z)
			return nil, fmt.Errorf("zlib: %w", err)
		}
		return z, nil
	}
	z, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	return z, nil
}

// checkHeader validates the inner header (at least its 40 bytes) and returns
// the precision, the layout and the payload length.
func checkHeader(h []byte) (int, geometry, int64, error) {
	if len(h) < v2HeaderSize {
		return 0, geometry{}, 0, fmt.Errorf("inner header is %d bytes, want %d", len(h), v2HeaderSize)
	}
	if c := binary.BigEndian.Uint32(h); c&^0xf0 != v2Cookie {
		return 0, geometry{}, 0, fmt.Errorf("inner cookie %#x is not V2", c)
	}
	payloadLen := int64(int32(binary.BigEndian.Uint32(h[4:])))
	digits := int32(binary.BigEndian.Uint32(h[12:]))
	low := int64(binary.BigEndian.Uint64(h[16:]))
	high := int64(binary.BigEndian.Uint64(h[24:]))
	if low != histLowestUs || high != histHighestUs || digits < 1 || digits > 5 {
		return 0, geometry{}, 0, fmt.Errorf("geometry [%d, %d] µs with %d digits, want [%d, %d] with 1-5", low, high, digits, histLowestUs, histHighestUs)
	}
	g := geometryFor(int(digits))
	if payloadLen < 0 || payloadLen > 9*g.countsLen {
		return 0, geometry{}, 0, fmt.Errorf("payload length %d out of range", payloadLen)
	}
	return int(digits), g, payloadLen, nil
}

// checkPayload checks that a V2 payload stays within g's buckets and that
// its counts sum to an int64, and returns that sum.
func checkPayload(g geometry, payload []byte) (int64, error) {
	var i, total int64
	for pos := 0; pos < len(payload); {
		if pos+8 <= len(payload) {
			if w := binary.LittleEndian.Uint64(payload[pos:]); w&highBits == 0 {
				steps, counts := step8(w)
				i += steps
				total += counts
				pos += 8
				continue
			}
		}
		if b := payload[pos]; b < 0x80 {
			// One byte, |c| < 64: neither i nor total can overflow before
			// the end, where i <= countsLen shows that every count and
			// run stayed within the buckets (i never decreases).
			c := int64(b>>1) ^ -int64(b&1)
			total += step(c, &i)
			pos++
			continue
		}
		c, n, err := readVarint(payload[pos:])
		if err != nil {
			return 0, err
		}
		pos += n
		if c < 0 {
			if c == math.MinInt64 || -c > g.countsLen-i {
				return 0, fmt.Errorf("zero run of %d at index %d overflows %d buckets", -c, i, g.countsLen)
			}
			i -= c
			continue
		}
		if i >= g.countsLen {
			return 0, fmt.Errorf("count at index %d beyond %d buckets", i, g.countsLen)
		}
		if c > math.MaxInt64-total {
			return 0, errors.New("counts overflow the total")
		}
		total += c
		i++
	}
	if i > g.countsLen {
		return 0, fmt.Errorf("counts run to index %d, beyond %d buckets", i, g.countsLen)
	}
	return total, nil
}

const (
	highBits = 0x8080808080808080
	lowBits  = 0x0101010101010101
	low7     = 0x7f7f7f7f7f7f7f7f
	evenByte = 0x00ff00ff00ff00ff
)

// step8 is step for eight one-byte values at once, packed in w (no high
// bit set): it returns the sum of their index advances and of their
// counts. Each byte b is a count b/2 (b even) or a run of b/2+1 zeros.
func step8(w uint64) (steps, counts int64) {
	run := (w & lowBits) * 0xff // 0xff in the lanes of runs
	half := w >> 1 & low7       // b/2 in each lane
	return sum8(lowBits + half&run), sum8(half &^ run)
}

// sum8 adds the eight bytes of x (each at most 64).
func sum8(x uint64) int64 {
	pairs := x&evenByte + x>>8&evenByte // four 16-bit lanes
	return int64(pairs * 0x0001000100010001 >> 48)
}

// step advances the bucket index *i past one payload value c (a count, or
// a run of -c zeros) and returns the count, 0 for a run. It has no branch:
// counts and runs alternate at random, and a mispredicted branch would cost
// more than the whole step.
func step(c int64, i *int64) int64 {
	neg := c >> 63 // -1 for a run, 0 for a count
	*i += -c&neg + 1 + neg
	return c &^ neg
}

// forEach calls fn with the bucket index and count of every non-zero count
// of h's payload, in index order.
func (h v2) forEach(fn func(i, c int64)) {
	var i int64
	for pos := 0; pos < len(h.payload); {
		var c int64
		c, pos = nextCount(h.payload, pos)
		switch {
		case c < 0:
			i -= c
		case c > 0:
			fn(i, c)
			i++
		default:
			i++
		}
	}
}

// nextCount reads the varint of a checked payload at pos and returns it and
// the position after it. Most counts and zero runs fit one byte.
func nextCount(payload []byte, pos int) (int64, int) {
	if b := payload[pos]; b < 0x80 {
		return int64(b>>1) ^ -int64(b&1), pos + 1
	}
	c, n, _ := readVarint(payload[pos:])
	return c, pos + n
}

// packed builds a PackedHistogram from h (in index order: each bucket is
// appended).
func (h v2) packed() *hdr.PackedHistogram {
	p := hdr.NewPacked(histLowestUs, histHighestUs, h.digits)
	g := geometryFor(h.digits)
	h.forEach(func(i, c int64) { _ = p.RecordValues(g.value(i), c) }) // in range: checked
	return p
}
