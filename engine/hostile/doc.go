// Package hostile proves the sandbox. It has no code of its own: its tests
// run the scripts in testdata/hostile, each written to crash, hang, starve
// or escape the server, through the real dispatcher, and check that every
// one is stopped with the kind of error its header names, within its time
// limit, and that healthy scripts answer normally right after.
package hostile
