package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("2s").
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: use a form such as 500ms, 2s or 24h", b)
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Size is a byte count written as "64MiB", "512KiB", "1GiB" or plain bytes.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, mult = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return fmt.Errorf("size %q: use a form such as 64KiB or 64MiB", b)
	}
	*s = Size(n * mult)
	return nil
}

// Rate is a number of events allowed per period.
type Rate struct {
	N      int
	Period time.Duration
}

// ParseRate reads "10/minute", "1/second" or "100/hour".
func ParseRate(s string) (Rate, error) {
	num, unit, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n < 1 {
		return Rate{}, fmt.Errorf("%q is not N/second, N/minute or N/hour", s)
	}
	periods := map[string]time.Duration{
		"second": time.Second, "minute": time.Minute, "hour": time.Hour,
	}
	p, ok := periods[strings.TrimSpace(unit)]
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/second, N/minute or N/hour", s)
	}
	return Rate{N: n, Period: p}, nil
}
