package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// A snapshot's timeline is most of the JSON left once its histograms are
// lifted out (snapshot_lift.go): a hundred or more small objects, each
// costing encoding/json a reflective walk and a map. wireInterval reads the
// exact form json.Marshal writes for an Interval whose histograms were
// lifted, with no reflection; anything else (spaces, another order, an
// unknown field, a number json would refuse) goes to encoding/json, which
// then decides.

// UnmarshalJSON decodes one interval.
func (iv *wireInterval) UnmarshalJSON(data []byte) error {
	if iv.parseLifted(data) {
		return nil
	}
	*iv = wireInterval{}
	type plain wireInterval // without this method
	return json.Unmarshal(data, (*plain)(iv))
}

// parseLifted reads
//
//	{"i":N,"requests":N,"failures":N[,"status":{"C":N,…}][,"errors":{"E":N,…}],"response":R,"service":R}
//
// with R the number of a lifted string, and reports whether data was
// exactly that.
func (iv *wireInterval) parseLifted(data []byte) bool {
	p := liftedReader{data: data}
	var idx int64
	ok := p.lit(`{"i":`) && p.int(&idx) &&
		p.lit(`,"requests":`) && p.int(&iv.Requests) &&
		p.lit(`,"failures":`) && p.int(&iv.Failures)
	if !ok || idx != int64(int(idx)) {
		return false
	}
	iv.Index = int(idx)
	if p.lit(`,"status":{`) {
		iv.Status = map[int]int64{}
		for first := true; !p.lit(`}`); first = false {
			var code, n int64
			if (!first && !p.lit(`,`)) || !p.lit(`"`) || !p.int(&code) || !p.lit(`":`) || !p.int(&n) || code != int64(int(code)) {
				return false
			}
			iv.Status[int(code)] = n
		}
	}
	if p.lit(`,"errors":{`) {
		iv.Errors = map[ErrorClass]int64{}
		for first := true; !p.lit(`}`); first = false {
			var class []byte
			var n int64
			if (!first && !p.lit(`,`)) || !p.str(&class) || !p.lit(`:`) || !p.int(&n) {
				return false
			}
			iv.Errors[ErrorClass(class)] = n
		}
	}
	var resp, svc int64
	ok = p.lit(`,"response":`) && p.int(&resp) && p.lit(`,"service":`) && p.int(&svc) && p.lit(`}`)
	if !ok || len(p.data) != 0 || resp < 1 || svc < 1 || resp != int64(int(resp)) || svc != int64(int(svc)) {
		return false
	}
	iv.Response.ref, iv.Service.ref = int(resp), int(svc)
	return true
}

// liftedReader consumes data from the front.
type liftedReader struct{ data []byte }

// lit consumes s if data starts with it.
func (p *liftedReader) lit(s string) bool {
	if !bytes.HasPrefix(p.data, []byte(s)) {
		return false
	}
	p.data = p.data[len(s):]
	return true
}

// int consumes a JSON integer as json.Marshal writes one: an optional
// minus, then 0 or digits not starting with 0, that fits an int64.
func (p *liftedReader) int(v *int64) bool {
	n := 0
	if n < len(p.data) && p.data[n] == '-' {
		n++
	}
	start := n
	for n < len(p.data) && p.data[n] >= '0' && p.data[n] <= '9' {
		n++
	}
	if n == start || (p.data[start] == '0' && n > start+1) {
		return false
	}
	x, err := strconv.ParseInt(string(p.data[:n]), 10, 64)
	if err != nil {
		return false
	}
	*v, p.data = x, p.data[n:]
	return true
}

// str consumes a JSON string of printable ASCII without escapes.
func (p *liftedReader) str(s *[]byte) bool {
	if len(p.data) == 0 || p.data[0] != '"' {
		return false
	}
	end := bytes.IndexByte(p.data[1:], '"')
	if end < 0 {
		return false
	}
	body := p.data[1 : 1+end]
	for _, c := range body {
		if c == '\\' || c < 0x20 || c >= 0x80 { // json would map bad UTF-8 to U+FFFD
			return false
		}
	}
	*s, p.data = body, p.data[end+2:]
	return true
}
