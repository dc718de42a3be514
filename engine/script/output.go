package script

import (
	"context"
	"log/slog"
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

// Write logs one line at level. Past the cap, one last line says the output
// was truncated, and later lines are dropped.
func (o *Output) Write(level slog.Level, line string) {
	if o.logger == nil || o.truncated {
		return
	}
	if len(line) > o.left {
		line = line[:o.left]
		o.truncated = true
	}
	o.left -= len(line)
	o.logger.Log(context.Background(), level, line, "source", "script")
	if o.truncated {
		o.logger.Log(context.Background(), slog.LevelWarn,
			"script output truncated: the run passed its output cap", "source", "script")
	}
}
