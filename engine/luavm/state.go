package luavm

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lamlhost/lamlhost/engine/sandbox"
	"github.com/lamlhost/lamlhost/engine/script"
)

// Sizes of a state's stacks. The call stack keeps gopher-lua's default,
// which stops deep recursion cleanly. The registry (the value stack) may
// grow to the cap, so that a script can build and unpack some thousands
// of values (case L3), and no more: gopher-lua grows it by a fixed step,
// copying it every time, so a large cap makes one unpack({}, 1, 2^31)
// copy for seconds before it overflows.
const (
	registrySize     = 1024
	registryMaxSize  = 64 * 1024
	registryGrowStep = 4096
)

// maxArrayIndex lowers gopher-lua's MaxArrayIndex (64M): a table's array
// part grows up to the index assigned, so `t[67108863] = 1` allocated a
// gigabyte in one instruction. Integer keys past it live in the hash part.
//
// TODO(#3): `t[4194303] = 1` still allocates 64 MiB in one instruction,
// before the watchdog can look; gopher-lua offers no hook on table writes.
const maxArrayIndex = 1 << 22

func init() {
	// A process-wide setting of gopher-lua, read on every table write;
	// set before any state exists.
	lua.MaxArrayIndex = maxArrayIndex
}

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
	L        *lua.LState
	snap     []tableSnap
	env      *lua.LTable
	ctx      context.Context
	run      *control
	name     string
	loc      *time.Location
	out      *script.Output
	t0       time.Time
	valueCap int64
	ticks    uint32
	extra    []lua.LValue
	seen     map[lua.LValue]struct{}
	seenLen  int // bytes of the string keys in seen
	lazy     lazyFields
	// globalsMeta is the locked metatable of every run's globals.
	globalsMeta *lua.LTable
	// stringMeta is the metatable of strings, and anyFunction a function
	// that names the type of functions to resetTypeMetatables.
	stringMeta  *lua.LTable
	anyFunction *lua.LFunction
}

// control is how one run is stopped: the first error wins, and the run's
// context is cancelled so that the next instruction raises. A run has its
// own, so that a late stop cannot reach the next run on the same state.
type control struct {
	abort  atomic.Pointer[script.Error]
	cancel context.CancelCauseFunc
	done   func()
}

func (c *control) stop(e *script.Error) {
	if c.abort.CompareAndSwap(nil, e) {
		c.cancel(e)
	}
}

// tableSnap is the content and metatable of one shared table.
type tableSnap struct {
	t     *lua.LTable
	vals  map[lua.LValue]lua.LValue
	order []lua.LValue // keys and values, in the order Next walks them
	meta  lua.LValue
}

// untouched reports, without a lookup per key, whether the table still
// holds exactly its snapshot: same keys, in the same order, with the same
// values, and the same metatable. It is the common case after a run.
func (s *tableSnap) untouched(L *lua.LState) bool {
	i := 0
	for k, v := s.t.Next(lua.LNil); k != lua.LNil; k, v = s.t.Next(k) {
		if i+1 >= len(s.order) || s.order[i] != k || s.order[i+1] != v {
			return false
		}
		i += 2
	}
	return i == len(s.order) && L.GetMetatable(s.t) == s.meta
}

func newState(_ *Program) *state {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    lua.CallStackSize,
		RegistrySize:     registrySize,
		RegistryMaxSize:  registryMaxSize,
		RegistryGrowStep: registryGrowStep,
	})
	st := &state{L: L}
	st.lazy.meta = st.lazyMeta()
	st.openLibs()
	st.env = L.G.Global
	st.globalsMeta = L.CreateTable(0, 2)
	st.globalsMeta.RawSetString("__index", st.env)
	st.globalsMeta.RawSetString("__metatable", lua.LFalse)
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
	g.RawSetString("_G", lua.LNil) // each run's globals name themselves
	g.RawSetString("print", L.NewFunction(st.print))
	os := L.NewTable()
	os.RawSetString("time", L.NewFunction(st.osTime))
	os.RawSetString("date", L.NewFunction(st.osDate))
	os.RawSetString("clock", L.NewFunction(st.osClock))
	g.RawSetString("os", os)
	g.RawSetString("utf8", openUTF8(L))
	if t, ok := g.RawGetString("string").(*lua.LTable); ok {
		st.installStrings(t)
	}
	if t, ok := g.RawGetString("table").(*lua.LTable); ok {
		st.installTables(t)
	}
	st.shareLibraries()
	st.guardRaw()
}

// shared names the library tables scripts reach through overlays.
var shared = []string{"string", "table", "math", "os", "utf8"}

// shareLibraries puts each library table behind an overlay: an empty
// table whose locked metatable reads through to the library. A script
// that adds or replaces a library function (string.trim = ...) writes into
// the overlay, which the snapshot finds non-empty and clears after the
// run; the library itself is out of every script's reach, so restore has
// no need to compare its dozens of entries after every run. Methods on
// strings go through the string overlay too. pairs(string) lists only what
// the run added.
func (st *state) shareLibraries() {
	L := st.L
	g := L.G.Global
	for _, name := range shared {
		lib, ok := g.RawGetString(name).(*lua.LTable)
		if !ok {
			continue
		}
		mt := L.CreateTable(0, 2)
		mt.RawSetString("__index", lib)
		mt.RawSetString("__metatable", lua.LFalse)
		overlay := L.CreateTable(0, 0)
		L.SetMetatable(overlay, mt)
		g.RawSetString(name, overlay)
	}
	st.stringMeta = L.CreateTable(0, 1)
	st.stringMeta.RawSetString("__index", g.RawGetString("string"))
	L.SetMetatable(lua.LString(""), st.stringMeta)
}

// guardRaw replaces setmetatable and rawset by versions that keep what a
// run changes inside the run. setmetatable takes only a table, as in Lua
// 5.1: gopher-lua's also set the metatable of a whole type (all strings,
// all numbers), which every later run on the state would have seen.
// rawset on a lazy field of msg or ctx counts as a write to it.
func (st *state) guardRaw() {
	L := st.L
	g := L.G.Global
	setmt, _ := g.RawGetString("setmetatable").(*lua.LFunction)
	rawset, _ := g.RawGetString("rawset").(*lua.LFunction)
	if setmt == nil || rawset == nil || setmt.GFunction == nil || rawset.GFunction == nil {
		panic("luavm: the base library has no Go setmetatable or rawset")
	}
	set, raw := setmt.GFunction, rawset.GFunction
	g.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
		L.CheckTable(1)
		return set(L)
	}))
	g.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
		if made := st.lazy.slot(L.CheckTable(1), L.Get(2)); made != nil {
			*made = true
		}
		return raw(L)
	}))
	st.anyFunction = setmt
}

// takeSnapshot records every table a script can reach from the shared
// globals and the string metatable, as they are before any script ran:
// their contents and their metatables. Library functions are Go functions
// without state of their own, so undoing changes to these tables undoes
// every change a run can make to what the next run sees. The shared
// globals themselves are not among them: scripts read them only through
// their own globals' locked metatable (freshGlobals), and the libraries
// only through overlays (shareLibraries).
func (st *state) takeSnapshot() {
	L := st.L
	seen := map[*lua.LTable]bool{}
	var visit func(t *lua.LTable)
	visit = func(t *lua.LTable) {
		if seen[t] {
			return
		}
		seen[t] = true
		s := tableSnap{t: t, meta: L.GetMetatable(t), vals: map[lua.LValue]lua.LValue{}}
		var inner []*lua.LTable
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			s.order = append(s.order, k, v)
		}
		t.ForEach(func(k, v lua.LValue) {
			s.vals[k] = v
			if vt, ok := v.(*lua.LTable); ok {
				inner = append(inner, vt)
			}
		})
		st.snap = append(st.snap, s)
		for _, vt := range inner {
			visit(vt)
		}
	}
	seen[st.env] = true
	st.env.ForEach(func(_, v lua.LValue) {
		if t, ok := v.(*lua.LTable); ok {
			visit(t)
		}
	})
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		visit(mt)
	}
}

// maxAdded is how many distinct keys runs may add to the shared tables of
// a state before it is retired. gopher-lua keeps every key ever set in a
// table's key index, even once deleted, so a state whose runs keep adding
// new names would grow for as long as it is reused.
const maxAdded = 1024

// maxAddedBytes bounds the bytes of those keys: the key index keeps long
// keys alive too.
const maxAddedBytes = 64 << 10

// restore undoes every change a run made to the snapshot's tables: keys
// added are removed, keys changed or removed get their first value back,
// metatables are reset. It reports false when the state should not be
// reused: runs added too many distinct keys to shared tables, or array
// items, whose storage gopher-lua keeps.
func (st *state) restore() bool {
	L := st.L
	reusable := true
	for i := range st.snap {
		s := &st.snap[i]
		if s.untouched(L) {
			continue
		}
		extra, live := st.extra[:0], 0
		for k, v := s.t.Next(lua.LNil); k != lua.LNil; k, v = s.t.Next(k) {
			live++
			if old, ok := s.vals[k]; !ok || old != v {
				extra = append(extra, k)
			}
		}
		for _, k := range extra {
			if _, ok := s.vals[k]; !ok {
				reusable = st.added(k) && reusable
			}
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
		st.extra = extra[:0]
	}
	st.resetTypeMetatables()
	L.Env = st.env
	L.G.Global = st.env
	L.SetTop(0)
	return reusable
}

// resetTypeMetatables puts back the metatables gopher-lua keeps per type,
// one for all strings, one for all numbers and so on. Scripts cannot set
// them (setmetatable takes only tables here), but they are shared by
// every run on the state, so they are reset after each one regardless.
func (st *state) resetTypeMetatables() {
	L := st.L
	L.SetMetatable(lua.LString(""), st.stringMeta)
	for _, v := range []lua.LValue{lua.LNil, lua.LTrue, lua.LNumber(0), st.anyFunction} {
		L.SetMetatable(v, lua.LNil)
	}
}

// added records a key a run added to a shared table, and reports whether
// the state may still be reused.
func (st *state) added(k lua.LValue) bool {
	if n, ok := k.(lua.LNumber); ok && float64(n) >= 1 && n == lua.LNumber(int64(n)) {
		return false
	}
	if st.seen == nil {
		st.seen = map[lua.LValue]struct{}{}
	}
	if _, dup := st.seen[k]; !dup {
		st.seen[k] = struct{}{}
		if s, ok := k.(lua.LString); ok {
			st.seenLen += len(s)
		}
	}
	return len(st.seen) <= maxAdded && st.seenLen <= maxAddedBytes
}

// begin prepares the state for one run under ctx: the limits, the output,
// the deadline, and the watchdog that may stop it.
func (st *state) begin(ctx context.Context, name string, env *script.Env) {
	limits := script.Limits{}.WithDefaults()
	var logger *slog.Logger
	var wd script.Watchdog = sandbox.Default()
	st.loc = time.UTC
	if env != nil {
		limits, logger = env.Limits.WithDefaults(), env.Logger
		if env.Location != nil {
			st.loc = env.Location
		}
		if env.Watchdog != nil {
			wd = env.Watchdog
		}
	}
	c := &control{}
	ctx, c.cancel = context.WithCancelCause(ctx)
	c.done = wd.Watch(limits.Memory, func(e *script.Error) {
		named := *e
		named.Script = name
		c.stop(&named)
	})
	st.ctx, st.run, st.name, st.t0 = ctx, c, name, time.Now()
	st.freshGlobals()
	st.valueCap = limits.ValueCap()
	st.out = script.NewOutput(logger, limits.Output)
	st.L.SetContext(ctx)
}

// freshGlobals gives the run a globals table of its own, which reads the
// shared globals through a locked metatable: what a script defines
// (handle, to begin with) goes into it and is dropped with it, and the
// shared globals are out of every script's reach, so restore need not
// compare them after every run. _G names the run's table.
func (st *state) freshGlobals() {
	g := st.L.CreateTable(0, 4)
	g.RawSetString("_G", g)
	st.L.SetMetatable(g, st.globalsMeta)
	st.L.Env, st.L.G.Global = g, g
}

// release ends the run's watch and context.
func (st *state) release() {
	if st.run != nil {
		st.run.done()
		st.run.cancel(nil)
	}
}

// end clears what the run left so that the state can serve the next one,
// and reports whether it can.
func (st *state) end() bool {
	st.L.RemoveContext()
	st.ctx, st.out, st.run = nil, nil, nil
	st.lazy = lazyFields{meta: st.lazy.meta}
	return st.restore()
}

// check raises a Lua error when the run was stopped or passed its deadline.
// Go loops inside library functions call it: gopher-lua checks the
// context only between instructions.
func (st *state) check() {
	if st.run != nil {
		if e := st.run.abort.Load(); e != nil {
			st.L.RaiseError("%s", e.Msg)
		}
	}
	if st.ctx != nil && st.ctx.Err() != nil {
		st.L.RaiseError("the run passed its time limit")
	}
}

// tick is check for tight loops: it looks every so many steps.
func (st *state) tick() {
	st.ticks++
	if st.ticks%1024 == 0 {
		st.check()
	}
}

// tooBig stops the run because a library function would build a value
// past the value cap. A pcall in the script may catch the error raised
// here, but the cancelled context raises again at the next instruction.
func (st *state) tooBig(what string, size int64) {
	e := script.Errorf(script.ErrMemory, st.name,
		"%s would build %d bytes, over the cap of %d for one value", what, size, st.valueCap)
	st.run.stop(e)
	st.L.RaiseError("%s", e.Msg)
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
	st.lazy = lazyFields{meta: st.lazy.meta, message: msg, env: env}
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

// luaError turns what gopher-lua returned into a typed script error. A run
// stopped by its control reports why.
func (st *state) luaError(err error) *script.Error {
	if st.run != nil {
		if e := st.run.abort.Load(); e != nil {
			return e
		}
	}
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
	if strings.Contains(msg, "stack overflow") ||
		strings.Contains(msg, "registry overflow") {
		e.Kind = script.ErrLimit
	}
	e.Msg = script.Abbrev(msg)
	return e
}
