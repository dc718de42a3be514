// Package luavm runs Lua 5.1 scripts in gopher-lua. A script is compiled
// once per version into a shared FunctionProto; runs borrow an LState from
// a free list shared by all scripts, and every run starts from the
// pristine globals and libraries the state had when it was built.
package luavm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Compiler compiles Lua sources. It implements script.Compiler.
type Compiler struct{}

// Program is one compiled Lua script.
type Program struct {
	name  string
	proto *lua.FunctionProto
}

// Name implements script.Program.
func (p *Program) Name() string { return p.name }

// Compile parses and compiles src once, then runs its top level in a fresh
// state to check that it defines handle.
func (Compiler) Compile(name string, src []byte) (script.Program, error) {
	if err := script.CheckSource(name, src); err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, compileError(name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, compileError(name, err)
	}
	if e := checkConcat(name, proto); e != nil {
		return nil, e
	}
	// gopher-lua gives every call of a vararg function that does not use
	// ... a Lua 5.0 "arg" table. The chunk is such a function, but its
	// "arg" has no name a script could use, so the table, a 32-slot map
	// made for every run, is dropped.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	p := &Program{name: name, proto: proto}
	if err := p.checkHandle(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Program) checkHandle() error {
	ctx, cancel := context.WithTimeout(context.Background(), script.DefaultTimeout)
	defer cancel()
	st := newState(nil)
	defer st.L.Close()
	st.begin(ctx, p.name, nil)
	defer st.release()
	if _, err := st.load(p); err != nil {
		err.Kind = script.ErrCompile
		return err
	}
	return nil
}

var lineCol = regexp.MustCompile(`line:(\d+)\(column:(\d+)\)`)

func compileError(name string, err error) *script.Error {
	e := &script.Error{Kind: script.ErrCompile, Script: name}
	var perr *parse.Error
	var cerr *lua.CompileError
	switch {
	case errors.As(err, &perr):
		e.Location = fmt.Sprintf("%s:%d:%d", name, perr.Pos.Line, perr.Pos.Column)
		e.Msg = perr.Message
		if perr.Token != "" {
			e.Msg += fmt.Sprintf(" near '%s'", perr.Token)
		}
	case errors.As(err, &cerr):
		e.Location = fmt.Sprintf("%s:%d", name, cerr.Line)
		e.Msg = cerr.Message
	default:
		e.Msg = strings.TrimSpace(err.Error())
		if m := lineCol.FindStringSubmatch(e.Msg); m != nil {
			e.Location = fmt.Sprintf("%s:%s:%s", name, m[1], m[2])
		}
	}
	return e
}

// Run implements script.Program on a state from the free list.
func (p *Program) Run(ctx context.Context, msg *script.Message, env *script.Env) (
	any, error) {
	limits := env.Limits.WithDefaults()
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	var st *state
	select {
	case st = <-states:
	default:
		st = newState(p)
	}
	return p.runOn(ctx, st, msg, env)
}

// states holds clean states for any program's next run. A state is not
// tied to a program: every run loads its chunk afresh and every clean run
// restores the pristine globals, so one free list serves every script
// and a server with many scripts keeps as few states as one with one. It
// is a bounded list rather than a sync.Pool, which a garbage collection
// would empty: building a state costs far more than a run.
var states = make(chan *state, 4*runtime.NumCPU())

// runOn runs the script on st. It never panics. The state goes back to
// the free list only after a clean run; after an error, a timeout or a panic it
// is closed, and so is a state that its runs have grown (see maxAdded).
func (p *Program) runOn(ctx context.Context, st *state, msg *script.Message,
	env *script.Env) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, script.Errorf(script.ErrPanic, p.name, "%v", v)
		}
		if st.run != nil {
			if e := st.run.abort.Load(); e != nil && err == nil {
				result, err = nil, e
			}
		}
		st.release()
		if err != nil || !st.end() {
			st.L.Close()
			return
		}
		select {
		case states <- st:
		default:
			st.L.Close()
		}
	}()
	st.begin(ctx, p.name, env)
	handle, serr := st.load(p)
	if serr != nil {
		return nil, serr
	}
	return st.call(handle, msg, env)
}

// maxConcat is the most values one concatenation expression may join.
// gopher-lua joins them in one step, out of reach of the watchdog, so the
// largest string one instruction can make is this many times the largest
// that exists.
//
// TODO(#3): strings grown by '..' are bounded only by the watchdog, which
// reads the heap between instructions; one instruction joining large
// strings can still allocate far past the memory limit before it looks.
const maxConcat = 64

// checkConcat refuses a chunk with a wider concatenation than maxConcat.
func checkConcat(name string, proto *lua.FunctionProto) *script.Error {
	for pc, inst := range proto.Code {
		if int(inst>>26) != lua.OP_CONCAT {
			continue
		}
		b, c := int(inst&0x1ff), int(inst>>9)&0x1ff
		if n := c - b + 1; n > maxConcat {
			e := script.Errorf(script.ErrCompile, name,
				"one expression joins %d values with '..', over the limit of %d; "+
					"use table.concat", n, maxConcat)
			if pc < len(proto.DbgSourcePositions) {
				e.Location = fmt.Sprintf("%s:%d", name, proto.DbgSourcePositions[pc])
			}
			return e
		}
	}
	for _, inner := range proto.FunctionPrototypes {
		if e := checkConcat(name, inner); e != nil {
			return e
		}
	}
	return nil
}
