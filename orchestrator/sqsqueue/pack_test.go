package sqsqueue

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestPack(t *testing.T) {
	sized := func(sizes ...int) [][]byte {
		out := make([][]byte, len(sizes))
		for i, n := range sizes {
			out[i] = bytes.Repeat([]byte("x"), n)
		}
		return out
	}
	ones := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = 1
		}
		return s
	}
	for _, tt := range []struct {
		name   string
		bodies [][]byte
		want   [][]int
	}{
		{"none", nil, nil},
		{"one", sized(1), [][]int{{0}}},
		{"ten", sized(ones(10)...), [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}},
		{"eleven", sized(ones(11)...), [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10}}},
		{"25", sized(ones(25)...), [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, {20, 21, 22, 23, 24}}},
		{"two halves fit", sized(MaxBatchBytes/2, MaxBatchBytes/2), [][]int{{0, 1}}},
		{"one byte over", sized(MaxBatchBytes/2, MaxBatchBytes/2+1), [][]int{{0}, {1}}},
		{"max alone", sized(1, MaxBodyBytes, 1), [][]int{{0}, {1}, {2}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := pack(tt.bodies)
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("pack = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckBody(t *testing.T) {
	for _, tt := range []struct {
		name string
		body []byte
		want string // substring of the error; "" for none
	}{
		{"json", []byte(`{"id":"g0001-s00"}`), ""},
		{"max", bytes.Repeat([]byte("a"), MaxBodyBytes), ""},
		{"empty", nil, "empty"},
		{"over", bytes.Repeat([]byte("a"), MaxBodyBytes+1), "1048577 bytes, over the SQS limit of 1048576 bytes"},
		{"binary", []byte{0xff, 0xfe}, "UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkBody(tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkBody = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkBody = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
