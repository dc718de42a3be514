package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads whatever the declared length says, including a wrong or
// unknown one, and passes the size limit's error on.
func TestReadAll(t *testing.T) {
	body := strings.Repeat("To=%2B1&", 100)
	tests := []struct {
		name     string
		declared int64
		limit    int64
		want     string
		tooBig   bool
	}{
		{"exact", int64(len(body)), 4096, body, false},
		{"declared short", 10, 4096, body, false},
		{"declared long", 5000, 8192, body, false},
		{"unknown", -1, 4096, body, false},
		{"declared over the limit", 9000, 4096, body, false},
		{"body over the limit", int64(len(body)), 100, "", true},
		{"unknown and over the limit", -1, 100, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := http.MaxBytesReader(nil, io.NopCloser(iotest.HalfReader(
				strings.NewReader(body))), tt.limit)
			got, err := readAll(r, tt.declared, tt.limit)
			var tooBig *http.MaxBytesError
			if tt.tooBig {
				if !errors.As(err, &tooBig) {
					t.Fatalf("err %v, want the limit's error", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
	if _, err := readAll(iotest.ErrReader(io.ErrUnexpectedEOF), 10, 100); !errors.Is(err,
		io.ErrUnexpectedEOF) {
		t.Errorf("a read error became %v", err)
	}
}
