package luavm

import (
	"context"
	"log/slog"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Sizes of a state's stacks. The registry may grow to the cap, so that a
// script can build and unpack a few thousand values (case L3), and no more.
const (
	callStackSize   = 200
	registrySize    = 1024
	registryMaxSize = 256 * 1024
)

// removed names the base functions a script must not reach: they load code
// or files, run the whole process's GC, swap environments, or print to the
// process's stdout.
var removed = []string{
	"dofile", "loadfile", "load", "loadstring", "require", "module",
	"collectgarbage", "getfenv", "setfenv", "newproxy", "print", "_printregs",
}

// state is one LState with what a run needs, and the snapshot that undoes a
// run's changes to globals and libraries.
type state struct {
	L    *lua.LState
	snap []tableSnap
	env  *lua.LTable
	ctx  context.Context
	name string
	loc  *time.Location
	out  *script.Output
	t0   time.Time
}

// tableSnap is the content and metatable of one shared table.
type tableSnap struct {
	t    *lua.LTable
	vals map[lua.LValue]lua.LValue
	meta lua.LValue
}

func newState(_ *Program) *state {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    callStackSize,
		RegistrySize:     registrySize,
		RegistryMaxSize:  registryMaxSize,
		RegistryGrowStep: 1024,
	})
	st := &state{L: L}
	st.openLibs()
	st.env = L.G.Global
	st.takeSnapshot()
	return st
}

func (st *state) openLibs() {
	L := st.L
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range removed {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("print", L.NewFunction(st.print))
	os := L.NewTable()
	os.RawSetString("time", L.NewFunction(st.osTime))
	os.RawSetString("date", L.NewFunction(st.osDate))
	os.RawSetString("clock", L.NewFunction(st.osClock))
	g.RawSetString("os", os)
	g.RawSetString("utf8", openUTF8(L))
}

// takeSnapshot records the globals, every library table and the string
// metatable as they are before any script ran.
func (st *state) takeSnapshot() {
	L := st.L
	tables := []*lua.LTable{st.env}
	st.env.ForEach(func(_, v lua.LValue) {
		if t, ok := v.(*lua.LTable); ok && t != st.env {
			tables = append(tables, t)
		}
	})
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		tables = append(tables, mt)
	}
	for _, t := range tables {
		s := tableSnap{t: t, meta: L.GetMetatable(t), vals: map[lua.LValue]lua.LValue{}}
		t.ForEach(func(k, v lua.LValue) { s.vals[k] = v })
		st.snap = append(st.snap, s)
	}
}

// restore undoes every change a run made to the snapshot's tables: keys
// added are removed, keys changed or removed get their first value back,
// metatables are reset.
func (st *state) restore() {
	L := st.L
	var extra []lua.LValue
	for _, s := range st.snap {
		extra, live := extra[:0], 0
		s.t.ForEach(func(k, v lua.LValue) {
			live++
			if old, ok := s.vals[k]; !ok || old != v {
				extra = append(extra, k)
			}
		})
		for _, k := range extra {
			s.t.RawSet(k, lua.LNil)
		}
		if len(extra) > 0 || live != len(s.vals) {
			for k, v := range s.vals {
				if s.t.RawGet(k) != v {
					s.t.RawSet(k, v)
				}
			}
		}
		if L.GetMetatable(s.t) != s.meta {
			L.SetMetatable(s.t, s.meta)
		}
	}
	L.Env = st.env
	L.G.Global = st.env
	L.SetTop(0)
}

// begin prepares the state for one run under ctx.
func (st *state) begin(ctx context.Context, name string, env *script.Env) {
	st.ctx, st.name, st.loc, st.t0 = ctx, name, time.UTC, time.Now()
	var logger *slog.Logger
	limit := 0
	if env != nil {
		logger, limit = env.Logger, env.Limits.WithDefaults().Output
		if env.Location != nil {
			st.loc = env.Location
		}
	}
	st.out = script.NewOutput(logger, limit)
	st.L.SetContext(ctx)
}

// end clears what the run left so that the state can serve the next one.
func (st *state) end() {
	st.L.RemoveContext()
	st.restore()
	st.ctx, st.out = nil, nil
}

// load runs the chunk's top level and finds handle: the global of that name
// or the function the chunk returns.
func (st *state) load(p *Program) (*lua.LFunction, *script.Error) {
	L := st.L
	L.Push(L.NewFunctionFromProto(p.proto))
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, st.luaError(err)
	}
	ret := L.Get(-1)
	L.Pop(1)
	if fn, ok := L.GetGlobal("handle").(*lua.LFunction); ok {
		return fn, nil
	}
	if fn, ok := ret.(*lua.LFunction); ok {
		return fn, nil
	}
	return nil, script.Errorf(script.ErrCompile, st.name,
		"the script defines no function handle(msg, ctx) and returns none")
}

// call runs handle(msg, ctx) and converts its result.
func (st *state) call(fn *lua.LFunction, msg *script.Message, env *script.Env) (
	any, error) {
	L := st.L
	L.Push(fn)
	L.Push(st.message(msg))
	L.Push(st.context(env))
	if err := L.PCall(2, 1, nil); err != nil {
		return nil, st.luaError(err)
	}
	ret := L.Get(-1)
	L.Pop(1)
	return st.export(ret, 0)
}

// luaError turns what gopher-lua returned into a typed script error.
func (st *state) luaError(err error) *script.Error {
	if st.ctx != nil && st.ctx.Err() != nil {
		return script.Errorf(script.ErrTimeout, st.name, "the run passed its time limit")
	}
	e := &script.Error{Kind: script.ErrRuntime, Script: st.name}
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		e.Msg = err.Error()
		return e
	}
	if se, ok := apiErr.Object.(*lua.LUserData); ok {
		if inner, ok := se.Value.(*script.Error); ok {
			return inner
		}
	}
	msg := apiErr.Object.String()
	if apiErr.Type == lua.ApiErrorPanic {
		e.Kind = script.ErrPanic
		msg, _, _ = strings.Cut(msg, "\n")
	}
	prefix := st.name + ":"
	if rest, ok := strings.CutPrefix(msg, prefix); ok {
		line, text, found := strings.Cut(rest, ":")
		if found && line != "" && strings.Trim(line, "0123456789") == "" {
			e.Location = prefix + line
			msg = strings.TrimSpace(text)
		}
	}
	if strings.Contains(msg, "stack overflow") {
		e.Kind = script.ErrLimit
	}
	e.Msg = msg
	return e
}
