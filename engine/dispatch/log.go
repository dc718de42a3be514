package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Privacy says which personal data may reach the logs.
type Privacy struct {
	// LogBodies logs message bodies. Default false.
	LogBodies bool
	// LogNumbers logs senders' numbers in full. Default false: only their
	// last four digits.
	LogNumbers bool
}

// Mask returns a phone number as it may be logged.
func (p Privacy) Mask(number string) string {
	if p.LogNumbers || len(number) <= 4 {
		return number
	}
	return "…" + number[len(number)-4:]
}

// logAnswer writes the one line each message gets, tagged with tags: Info
// when the script answered, Warn when a script fault was answered safely,
// Error when the host itself failed.
func (d *Dispatcher) logAnswer(tags []slog.Attr, msg *script.Message, a Answer,
	took time.Duration) {
	attrs := append(tags[:len(tags):len(tags)],
		slog.String("from", d.priv.Mask(msg.From)),
		slog.Int("status", a.Status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000))
	if d.priv.LogBodies {
		attrs = append(attrs, slog.String("body", msg.Body))
	}
	if a.Err == nil {
		d.logLine(slog.LevelInfo, "message answered", attrs)
		return
	}
	level := slog.LevelWarn
	if errors.Is(a.Err, script.ErrPanic) {
		level = slog.LevelError
	}
	attrs = append(attrs, slog.String("err", a.Err.Error()))
	var se *script.Error
	if errors.As(a.Err, &se) && se.Location != "" {
		attrs = append(attrs, slog.String("location", se.Location))
	}
	d.logLine(level, "script failed", attrs)
}

// logLine logs one line. Unlike Logger.LogAttrs it records no caller,
// which takes a stack walk per message and which no handler here prints.
func (d *Dispatcher) logLine(level slog.Level, msg string, attrs []slog.Attr) {
	h := d.log.Handler()
	if !h.Enabled(context.Background(), level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(context.Background(), r)
}

// tagged is a handler that adds the same attributes to every record, and
// adds them to its handler only when the first record comes: most runs
// print nothing, and a child handler formats its attributes when made.
type tagged struct {
	h     slog.Handler
	attrs []slog.Attr
	once  sync.Once
	with  slog.Handler
}

// withTags returns h with attrs added to every record.
func withTags(h slog.Handler, attrs []slog.Attr) *tagged {
	return &tagged{h: h, attrs: attrs}
}

// inner returns h with the attributes, made once.
func (t *tagged) inner() slog.Handler {
	t.once.Do(func() { t.with = t.h.WithAttrs(t.attrs) })
	return t.with
}

// Enabled implements slog.Handler.
func (t *tagged) Enabled(ctx context.Context, l slog.Level) bool {
	return t.h.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (t *tagged) Handle(ctx context.Context, r slog.Record) error {
	return t.inner().Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (t *tagged) WithAttrs(attrs []slog.Attr) slog.Handler {
	return t.inner().WithAttrs(attrs)
}

// WithGroup implements slog.Handler.
func (t *tagged) WithGroup(name string) slog.Handler {
	return t.inner().WithGroup(name)
}
