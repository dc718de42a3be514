package dedupe_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/dedupe"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lenStore is a Store that can count its entries.
type lenStore interface {
	dedupe.Store
	Len() (int, error)
}

// kind opens one Store implementation for a test.
type kind struct {
	name string
	open func(t *testing.T, opt dedupe.Options) lenStore
}

// kinds lists every Store implementation, so that each test runs on all.
var kinds = []kind{
	{"mem", func(t *testing.T, opt dedupe.Options) lenStore {
		s := dedupe.NewMem(opt)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"file", func(t *testing.T, opt dedupe.Options) lenStore {
		return openFile(t, t.TempDir(), opt)
	}},
}

// openFile opens a FileStore that is closed when the test ends.
func openFile(t *testing.T, dir string, opt dedupe.Options) *dedupe.FileStore {
	t.Helper()
	s, err := dedupe.OpenFile(dir, opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// put stores an entry with status 200 and the given body.
func put(t *testing.T, s dedupe.Store, key, body string) {
	t.Helper()
	err := s.Put(t.Context(), key, dedupe.Entry{Status: 200, Body: []byte(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// get returns the body stored under key, and whether there is one.
func get(t *testing.T, s dedupe.Store, key string) (string, bool) {
	t.Helper()
	e, found, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return string(e.Body), found
}

// counter is a run func that counts its calls.
type counter struct {
	calls  atomic.Int32
	status int
	body   string
	sleep  time.Duration
}

func (c *counter) run() dedupe.Entry {
	n := c.calls.Add(1)
	time.Sleep(c.sleep)
	status := c.status
	if status == 0 {
		status = 200
	}
	body := c.body
	if body == "" {
		body = "<Response><Message>run " + string(rune('0'+n)) + "</Message></Response>"
	}
	return dedupe.Entry{Status: status, Body: []byte(body)}
}

// logBuffer collects JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records logged at level.
func (b *logBuffer) records(t *testing.T, level string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == level {
			out = append(out, rec)
		}
	}
	return out
}
