// Package luavm runs Lua 5.1 scripts in gopher-lua. A script is compiled
// once per version into a shared FunctionProto; runs borrow an LState from
// the program's pool and every run starts from the pristine globals and
// libraries the state had when it was built.
package luavm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Compiler compiles Lua sources. It implements script.Compiler.
type Compiler struct{}

// Program is one compiled Lua script and its pool of states.
type Program struct {
	name  string
	proto *lua.FunctionProto
	pool  sync.Pool
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

// Run implements script.Program. A state is returned to the pool only
// after a clean run; after an error, a timeout or a panic it is closed.
func (p *Program) Run(ctx context.Context, msg *script.Message, env *script.Env) (
	result any, err error) {
	limits := env.Limits.WithDefaults()
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	st, _ := p.pool.Get().(*state)
	if st == nil {
		st = newState(p)
	}
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, script.Errorf(script.ErrPanic, p.name, "%v", v)
		}
		if err != nil {
			st.L.Close()
			return
		}
		st.end()
		p.pool.Put(st)
	}()
	st.begin(ctx, p.name, env)
	handle, serr := st.load(p)
	if serr != nil {
		return nil, serr
	}
	return st.call(handle, msg, env)
}
