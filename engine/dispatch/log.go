package dispatch

import (
	"context"
	"errors"
	"log/slog"
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

// logAnswer writes the one line each message gets: Info when the script
// answered, Warn when a script fault was answered safely, Error when the
// host itself failed.
func (d *Dispatcher) logAnswer(log *slog.Logger, msg *script.Message, a Answer,
	took time.Duration) {
	attrs := []slog.Attr{
		slog.String("from", d.priv.Mask(msg.From)),
		slog.Int("status", a.Status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	}
	if d.priv.LogBodies {
		attrs = append(attrs, slog.String("body", msg.Body))
	}
	if a.Err == nil {
		log.LogAttrs(context.Background(), slog.LevelInfo, "message answered", attrs...)
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
	log.LogAttrs(context.Background(), level, "script failed", attrs...)
}
