package luavm

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/lamlhost/lamlhost/engine/script"
)

// maxDepth bounds how deep a returned value is read, which also stops
// cycles.
const maxDepth = 6

// export reads a returned Lua value into the plain tree the reply grammar
// takes. Numbers become their Lua text; a table with only keys 1..n is a
// list, and so is an empty table.
func (st *state) export(v lua.LValue, depth int) (any, error) {
	if depth > maxDepth {
		return nil, script.Errorf(script.ErrReply, st.name,
			"the returned value nests deeper than %d levels", maxDepth)
	}
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return v.String(), nil
	case *lua.LTable:
		return st.exportTable(v, depth)
	}
	return script.Unsupported{Type: v.Type().String()}, nil
}

func (st *state) exportTable(t *lua.LTable, depth int) (any, error) {
	n, count := t.Len(), 0
	stringKeys := true
	t.ForEach(func(k, _ lua.LValue) {
		count++
		if _, ok := k.(lua.LString); !ok {
			stringKeys = false
		}
	})
	if count == n {
		list := make([]any, n)
		for i := range n {
			item, err := st.export(t.RawGetInt(i+1), depth+1)
			if err != nil {
				return nil, err
			}
			list[i] = item
		}
		return list, nil
	}
	if !stringKeys {
		return nil, script.Errorf(script.ErrReply, st.name,
			"a returned table mixes list items and keys")
	}
	m := make(map[string]any, count)
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		m[string(k.(lua.LString))], err = st.export(v, depth+1)
	})
	return m, err
}

// lazyFields are the fields of msg and ctx made when a script first reads
// them: msg.params, ctx.vars and ctx.now. Most handlers read none of them,
// and building twenty parameters into a Lua table was a third of a small
// run. Until read, they are missing from pairs(msg) and pairs(ctx) and
// from rawget; a write to one stands, as on any table.
type lazyFields struct {
	meta      *lua.LTable // the metatable of msg and ctx, one per state
	msg, ctx  *lua.LTable // this run's arguments
	message   *script.Message
	env       *script.Env
	params    bool // made or written
	vars, now bool
}

// lazyMeta returns the metatable that makes the lazy fields. Its
// __metatable field hides it from getmetatable and setmetatable, so that
// no script can change what the next run's msg and ctx do.
func (st *state) lazyMeta() *lua.LTable {
	L := st.L
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", L.NewFunction(st.lazyIndex))
	mt.RawSetString("__newindex", L.NewFunction(st.lazyNewIndex))
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// slot returns the flag of the lazy field k of t, or nil for any other
// key or table.
func (lf *lazyFields) slot(t *lua.LTable, k lua.LValue) *bool {
	switch {
	case t == lf.msg && k == lua.LString("params"):
		return &lf.params
	case t == lf.ctx && k == lua.LString("vars"):
		return &lf.vars
	case t == lf.ctx && k == lua.LString("now"):
		return &lf.now
	}
	return nil
}

// lazyIndex is __index: it makes a lazy field on its first read.
func (st *state) lazyIndex(L *lua.LState) int {
	t, k := L.CheckTable(1), L.Get(2)
	made := st.lazy.slot(t, k)
	if made == nil || *made {
		L.Push(lua.LNil)
		return 1
	}
	*made = true
	var v lua.LValue
	switch made {
	case &st.lazy.params:
		v = st.params(st.lazy.message)
	case &st.lazy.vars:
		var vars map[string]any
		if st.lazy.env != nil {
			vars = st.lazy.env.Vars
		}
		v = st.toLua(vars, 0)
	default:
		v = st.now()
	}
	t.RawSet(k, v)
	L.Push(v)
	return 1
}

// lazyNewIndex is __newindex: a lazy field written before it was read is
// not made afterwards.
func (st *state) lazyNewIndex(L *lua.LState) int {
	t, k, v := L.CheckTable(1), L.Get(2), L.Get(3)
	if made := st.lazy.slot(t, k); made != nil {
		*made = true
	}
	t.RawSet(k, v)
	return 0
}

// message builds the msg argument.
func (st *state) message(m *script.Message) *lua.LTable {
	L := st.L
	t := L.CreateTable(0, 6)
	t.RawSetString("from", lua.LString(m.From))
	t.RawSetString("to", lua.LString(m.To))
	t.RawSetString("body", lua.LString(m.Body))
	t.RawSetString("sid", lua.LString(m.Sid))
	media := L.CreateTable(len(m.Media), 0)
	for _, md := range m.Media {
		item := L.CreateTable(0, 2)
		item.RawSetString("url", lua.LString(md.URL))
		item.RawSetString("contentType", lua.LString(md.ContentType))
		media.Append(item)
	}
	t.RawSetString("media", media)
	st.lazy.msg = t
	L.SetMetatable(t, st.lazy.meta)
	return t
}

// params builds msg.params: each name once, with its first value.
func (st *state) params(m *script.Message) *lua.LTable {
	t := st.L.CreateTable(0, len(m.Params))
	for _, p := range m.Params {
		if t.RawGetString(p.Name) == lua.LNil {
			t.RawSetString(p.Name, lua.LString(p.Value))
		}
	}
	return t
}

// context builds the ctx argument; vars, when read, is copied into fresh
// tables.
func (st *state) context(env *script.Env) *lua.LTable {
	t := st.L.CreateTable(0, 4)
	t.RawSetString("number", lua.LString(env.Number))
	t.RawSetString("timezone", lua.LString(st.loc.String()))
	st.lazy.ctx = t
	st.L.SetMetatable(t, st.lazy.meta)
	return t
}

// now is ctx.now as a table.
func (st *state) now() *lua.LTable {
	fields := script.Now(st.loc)
	t := st.L.CreateTable(0, len(fields))
	for _, f := range fields {
		t.RawSetString(f.Key, st.toLua(f.Value, 1))
	}
	return t
}

// toLua copies a configuration value into fresh Lua values.
func (st *state) toLua(v any, depth int) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := st.L.CreateTable(0, len(v))
		if depth < maxDepth {
			for k, item := range v {
				t.RawSetString(k, st.toLua(item, depth+1))
			}
		}
		return t
	case []any:
		t := st.L.CreateTable(len(v), 0)
		if depth < maxDepth {
			for _, item := range v {
				t.Append(st.toLua(item, depth+1))
			}
		}
		return t
	case nil:
		return lua.LNil
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LString(fmt.Sprint(v))
}
