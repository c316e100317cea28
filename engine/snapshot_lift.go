package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// encoding/json scans every byte of its input through a state machine
// (about 200 MB/s here), and nine tenths of a snapshot's JSON are the
// base64 of its histograms. ParseSnapshot therefore lifts the long string
// values out first (a search from quote to quote), replacing each by its
// number, lets encoding/json decode what is left, and then decodes each
// histogram's string from where it was lifted.
//
// The fast path accepts exactly what the plain decode accepts: unknown
// fields are refused (they could hide a lifted string), and every lifted
// string must be taken back by exactly one histogram (a number written in
// a histogram's place, or a long string anywhere else, breaks that). On
// any failure ParseSnapshot decodes the original as it is, which gives the
// error, or the result, the plain decoder gives.

// liftMin is the length from which a string value is lifted: every
// histogram's is longer (an empty one encodes to 80 characters), and no
// other string value of a snapshot comes near it.
const liftMin = 64

// liftStrings returns data with every string value of at least liftMin
// bytes and without escapes replaced by its number in strs, counting from
// 1, and those strings' contents (sharing data's memory). ok is false when
// a string does not end.
func liftStrings(data []byte) (lifted []byte, strs [][]byte, ok bool) {
	lifted = make([]byte, 0, len(data)/8)
	for {
		q := bytes.IndexByte(data, '"')
		if q < 0 {
			return append(lifted, data...), strs, true
		}
		end := stringEnd(data, q)
		if end < 0 {
			return nil, nil, false
		}
		s := data[q+1 : end]
		if len(s) < liftMin || isKey(data[end+1:]) || bytes.IndexByte(s, '\\') >= 0 {
			lifted = append(lifted, data[:end+1]...)
		} else {
			strs = append(strs, s)
			lifted = strconv.AppendInt(append(lifted, data[:q]...), int64(len(strs)), 10)
		}
		data = data[end+1:]
	}
}

// stringEnd returns the index of the quote that closes the string opening
// at data[q], or -1.
func stringEnd(data []byte, q int) int {
	for i := q + 1; ; {
		e := bytes.IndexByte(data[i:], '"')
		if e < 0 {
			return -1
		}
		i += e
		escapes := 0
		for k := i - 1; k > q && data[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			return i
		}
		i++
	}
}

// isKey reports whether what follows a string makes it an object key.
func isKey(rest []byte) bool {
	for _, c := range rest {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

// parseWire decodes a snapshot's JSON into w, lifting its histograms out
// first, or as it is if that fails.
func parseWire(data []byte, w *wireSnapshot) error {
	if lifted, strs, ok := liftStrings(data); ok && len(strs) > 0 {
		var fast wireSnapshot
		dec := json.NewDecoder(bytes.NewReader(lifted))
		dec.DisallowUnknownFields()
		if dec.Decode(&fast) == nil && atEOF(dec) && fast.resolve(strs) == nil {
			*w = fast
			return nil
		}
	}
	if err := json.Unmarshal(data, w); err != nil {
		return err
	}
	return w.resolve(nil)
}

func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

// resolve decodes each histogram that holds the number of a lifted string
// from that string, into one shared buffer, and checks that every string
// was taken exactly once. With strs nil it only refuses numbers.
func (w *wireSnapshot) resolve(strs [][]byte) error {
	size := 0
	for _, s := range strs {
		size += base64.StdEncoding.DecodedLen(len(s))
	}
	buf := make([]byte, size)
	taken := 0
	err := w.eachHistogram(func(h *wireHistogram) error {
		if h.ref == 0 {
			return nil
		}
		if h.ref > len(strs) || strs[h.ref-1] == nil {
			return errors.New("decode histogram: a number, not a string")
		}
		s := strs[h.ref-1]
		strs[h.ref-1] = nil
		taken++
		// base64 skips line breaks, which a JSON string cannot hold.
		if bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
			return errors.New("decode histogram: line break in a string")
		}
		n, err := base64.StdEncoding.Decode(buf, s)
		if err != nil {
			return fmt.Errorf("decode histogram: %w", err)
		}
		v, err := parseV2(buf[:n:n])
		if err != nil {
			return fmt.Errorf("decode histogram: %w", err)
		}
		buf = buf[n:]
		h.v, h.ok, h.ref = v, true, 0
		return nil
	})
	if err == nil && taken != len(strs) {
		err = errors.New("a long string outside the histograms")
	}
	return err
}

// eachHistogram calls fn on every histogram of w until it fails.
func (w *wireSnapshot) eachHistogram(fn func(*wireHistogram) error) error {
	var err error
	add := func(hs ...*wireHistogram) {
		for _, h := range hs {
			if err == nil {
				err = fn(h)
			}
		}
	}
	for _, st := range w.Steps {
		if st != nil {
			add(&st.Response, &st.Service)
		}
	}
	for _, wf := range w.Workflows {
		if wf != nil {
			add(&wf.Time)
		}
	}
	add(&w.Iterations.Lateness)
	for _, iv := range w.Timeline {
		if iv != nil {
			add(&iv.Response, &iv.Service)
		}
	}
	return err
}
