package script

import (
	"context"
	"log/slog"
	"unicode/utf8"
)

// Output forwards a script's console or print lines to the host logger and
// caps how much one run may write. It is used by one run at a time.
type Output struct {
	logger    *slog.Logger
	left      int
	truncated bool
}

// NewOutput returns an Output writing to logger, allowing limit bytes.
func NewOutput(logger *slog.Logger, limit int) *Output {
	return &Output{logger: logger, left: limit}
}

// Done reports whether nothing more will be written, so that callers can
// skip turning values into text.
func (o *Output) Done() bool { return o.logger == nil || o.truncated }

// Write logs one line at level. Past the cap, one last line says the output
// was truncated, and later lines are dropped.
func (o *Output) Write(level slog.Level, line string) {
	if o.logger == nil || o.truncated {
		return
	}
	if len(line) > o.left {
		cut := o.left
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut]
		o.truncated = true
	}
	o.left -= len(line)
	o.logger.Log(context.Background(), level, line, "source", "script")
	if o.truncated {
		o.logger.Log(context.Background(), slog.LevelWarn,
			"script output truncated: the run passed its output cap", "source", "script")
	}
}
