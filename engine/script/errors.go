package script

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sentinels for errors.Is. Every *Error unwraps to exactly one of them.
var (
	// ErrCompile: the script does not parse or compile, or lacks handle.
	ErrCompile = errors.New("compile error")
	// ErrRuntime: the script threw or called error().
	ErrRuntime = errors.New("script error")
	// ErrTimeout: the run passed its time limit.
	ErrTimeout = errors.New("timeout")
	// ErrMemory: the run allocated past its memory limit.
	ErrMemory = errors.New("memory limit")
	// ErrLimit: the run passed another limit (stack, size of a value).
	ErrLimit = errors.New("limit exceeded")
	// ErrReply: the returned value does not follow the reply grammar.
	ErrReply = errors.New("bad reply")
	// ErrBusy: no run slot was free in time.
	ErrBusy = errors.New("too many runs in flight")
	// ErrPanic: the host panicked while running the script.
	ErrPanic = errors.New("internal panic")
)

// Error is a failure of a script, typed by Kind, with the location in the
// script where it happened when known.
type Error struct {
	// Kind is one of the sentinels above.
	Kind error
	// Script is the script's file name.
	Script string
	// Location is "file:line:column" or "file:line" when known.
	Location string
	// Msg describes the problem in the script's terms.
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	where := e.Script
	if e.Location != "" {
		where = e.Location
	}
	if where == "" {
		return fmt.Sprintf("%v: %s", e.Kind, e.Msg)
	}
	return fmt.Sprintf("%s: %v: %s", where, e.Kind, e.Msg)
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind.
func Errorf(kind error, name, format string, args ...any) *Error {
	return &Error{Kind: kind, Script: name, Msg: Abbrev(fmt.Sprintf(format, args...))}
}

// MaxMessage is the longest error message kept. A script can make an
// engine's message as long as its own values (a regular expression source,
// a thrown string); logs get the start and a note of what was cut.
const MaxMessage = 1000

// Abbrev cuts msg to MaxMessage bytes, on a UTF-8 boundary, and says how
// much was left out.
func Abbrev(msg string) string {
	if len(msg) <= MaxMessage {
		return msg
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", msg[:cut], len(msg)-cut)
}
