package script

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

// The value cap is a sixteenth of the memory limit, with a floor.
func TestValueCap(t *testing.T) {
	tests := []struct {
		memory int64
		want   int64
	}{
		{0, 4 << 20}, {64 << 20, 4 << 20}, {1 << 30, 64 << 20}, {1 << 20, 256 << 10},
	}
	for _, tt := range tests {
		if got := (Limits{Memory: tt.memory}).ValueCap(); got != tt.want {
			t.Errorf("ValueCap at %d = %d, want %d", tt.memory, got, tt.want)
		}
	}
}

// Long messages are cut on a character boundary, saying how much is gone.
func TestAbbrev(t *testing.T) {
	long := strings.Repeat("é", MaxMessage)
	got := Abbrev(long)
	if !utf8.ValidString(got) || len(got) > MaxMessage+40 ||
		!strings.Contains(got, "more bytes") {
		t.Errorf("Abbrev gave %d bytes: %q…", len(got), got[:20])
	}
	if Abbrev("short") != "short" {
		t.Error("a short message changed")
	}
}

// Output stops at its cap, on a character boundary, and says so once.
func TestOutputCap(t *testing.T) {
	var buf bytes.Buffer
	o := NewOutput(slog.New(slog.NewTextHandler(&buf, nil)), 10)
	o.Write(slog.LevelInfo, "ab")
	o.Write(slog.LevelInfo, "ééééééé")
	o.Write(slog.LevelInfo, "dropped")
	if !o.Done() {
		t.Error("not done past the cap")
	}
	logs := buf.String()
	if strings.Count(logs, "truncated") != 1 || strings.Contains(logs, "dropped") ||
		!utf8.ValidString(logs) {
		t.Errorf("log:\n%s", logs)
	}
}
