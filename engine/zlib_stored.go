package engine

import (
	"encoding/binary"
	"errors"
	"hash/adler32"
)

// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, BTYPE 00)
// carries its data uncompressed. Every inflater reads it; stampede writes
// histograms this way because most of them are a few hundred bytes of small
// varints, for which deflate saves little (about 45%) while inflating
// costs a Huffman table per histogram, the main cost of merging thousands of
// results.

const (
	zlibHeader0, zlibHeader1 = 0x78, 0x01 // deflate, 32K window, no dictionary, fastest
	storedMax                = 0xffff     // largest stored block
)

// storedZlibLen is the length of a stored zlib stream holding n bytes.
func storedZlibLen(n int) int {
	blocks := max(1, (n+storedMax-1)/storedMax)
	return 2 + 5*blocks + n + 4
}

// appendStoredZlib appends data to dst as a zlib stream of stored blocks.
func appendStoredZlib(dst, data []byte) []byte {
	dst = append(dst, zlibHeader0, zlibHeader1)
	rest := data
	for {
		n := min(len(rest), storedMax)
		final := byte(0)
		if n == len(rest) {
			final = 1
		}
		dst = append(dst, final)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(n))
		dst = append(dst, rest[:n]...)
		rest = rest[n:]
		if final == 1 {
			break
		}
	}
	return binary.BigEndian.AppendUint32(dst, adler32.Checksum(data))
}

// readStoredZlib returns the data of a zlib stream made only of stored
// blocks, sharing z's memory when there is one block. ok is false, with no
// error, when the stream holds another kind of block (or a dictionary):
// the caller then inflates it. A stream that is stored but truncated,
// followed by trailing bytes or failing its checksum is an error.
func readStoredZlib(z []byte) (data []byte, ok bool, err error) {
	if len(z) < 2 || z[0]&0x0f != 8 || z[0]>>4 > 7 || (uint16(z[0])<<8|uint16(z[1]))%31 != 0 || z[1]&0x20 != 0 {
		return nil, false, nil
	}
	pos := 2
	for first := true; ; first = false {
		if pos >= len(z) {
			return nil, true, errors.New("truncated stored block")
		}
		hdr := z[pos]
		if hdr>>1&3 != 0 { // not stored
			if first {
				return nil, false, nil
			}
			return nil, true, errors.New("stored block followed by a compressed one")
		}
		if pos+5 > len(z) {
			return nil, true, errors.New("truncated stored block")
		}
		n := int(binary.LittleEndian.Uint16(z[pos+1:]))
		if ^binary.LittleEndian.Uint16(z[pos+3:]) != uint16(n) {
			return nil, true, errors.New("stored block length check fails")
		}
		pos += 5
		if pos+n > len(z) {
			return nil, true, errors.New("truncated stored block")
		}
		if first && hdr&1 == 1 {
			data = z[pos : pos+n] // the only block: no copy
		} else {
			data = append(data, z[pos:pos+n]...)
		}
		pos += n
		if hdr&1 == 1 {
			break
		}
	}
	if len(z)-pos != 4 {
		return nil, true, errors.New("stored stream: missing checksum or trailing data")
	}
	if binary.BigEndian.Uint32(z[pos:]) != adler32.Checksum(data) {
		return nil, true, errors.New("stored stream: checksum mismatch")
	}
	return data, true, nil
}
