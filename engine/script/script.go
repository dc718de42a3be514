// Package script defines what the language adapters share: the message a
// script receives, the context it runs in, the compiled program each adapter
// produces, and the typed errors that every adapter reports alike.
package script

import (
	"context"
	"log/slog"
	"time"
)

// Media is one attachment of an inbound message.
type Media struct {
	URL         string
	ContentType string
}

// Message is an inbound SMS or MMS as a script sees it.
type Message struct {
	From  string
	To    string
	Body  string
	Sid   string
	Media []Media
	// Params is every POSTed parameter, as sent. Scripts see each name
	// once, with its first value (Form.Lookup).
	Params Form
}

// Env is what a run knows about the number it answers for.
type Env struct {
	// Number is the routed number, as matched in the configuration.
	Number string
	// Vars is the number's vars table from the configuration. Scripts get
	// a copy; a run cannot change what the next run sees.
	Vars map[string]any
	// Location is the scripts' time zone; nil means UTC.
	Location *time.Location
	// Logger receives console.log and print output, already tagged with
	// number, script and message_sid.
	Logger *slog.Logger
	// Limits bounds the run.
	Limits Limits
	// Watchdog stops the run when the process heap grows past its memory
	// limit. Nil means the process-wide default watchdog.
	Watchdog Watchdog
}

// Watchdog watches the process heap on behalf of running scripts. The heap
// is shared, so a watchdog can only guess which run grew it; see the
// sandbox package for the heuristic.
type Watchdog interface {
	// Watch registers a run that may allocate limit bytes. stop is called
	// at most once, from another goroutine, with an *Error of kind
	// ErrMemory when the watchdog decides the run must end. The returned
	// func unregisters the run; it must be called when the run is over.
	Watch(limit int64, stop func(*Error)) (done func())
}

// Limits bounds one script run. Zero values mean the defaults below.
type Limits struct {
	// Timeout is the wall-clock budget of one run. Default 2s.
	Timeout time.Duration
	// Memory is what one run may allocate, in bytes. Default 64 MiB.
	Memory int64
	// Output caps console/print output per run, in bytes. Default 16 KiB.
	Output int
}

// Default limits, used where Limits leaves a field at zero.
const (
	DefaultTimeout = 2 * time.Second
	DefaultMemory  = 64 << 20
	DefaultOutput  = 16 << 10
	// MaxSource is the largest script file accepted at load.
	MaxSource = 256 << 10
	// minValueCap is the smallest ValueCap, whatever Memory says, so that
	// a reply of the largest allowed size can always be built.
	minValueCap = 256 << 10
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	return l
}

// ValueCap is the largest single value, in bytes, that one built-in call
// (string repetition, padding, joining, formatting, a buffer) may create:
// a sixteenth of Memory, 4 MiB at the default, and never under 256 KiB.
// Built-ins refuse before allocating, so no one call can take the process
// down; growth across many calls is the watchdog's business.
func (l Limits) ValueCap() int64 {
	return max(l.WithDefaults().Memory/16, minValueCap)
}

// Program is one compiled version of one script. It is safe for concurrent
// use: every Run starts from fresh global state.
type Program interface {
	// Run calls the script's handle(msg, ctx) and returns its result as a
	// plain value tree (nil, string, map[string]any, []any) for the reply
	// grammar to read. Errors are *Error.
	Run(ctx context.Context, msg *Message, env *Env) (any, error)
	// Name is the script's file name as used in logs and errors.
	Name() string
}

// Compiler turns a script source into a Program. Compile fails with an
// *Error of kind ErrCompile that carries the location of the problem.
type Compiler interface {
	Compile(name string, src []byte) (Program, error)
}

// Unsupported stands in the value tree for a returned value that the reply
// grammar cannot take, such as a boolean, a function or a symbol.
type Unsupported struct {
	// Type names the value's type in the script's language.
	Type string
}
