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
	params := L.CreateTable(0, len(m.Params))
	for _, p := range m.Params {
		if params.RawGetString(p.Name) == lua.LNil { // the first value counts
			params.RawSetString(p.Name, lua.LString(p.Value))
		}
	}
	t.RawSetString("params", params)
	return t
}

// context builds the ctx argument; vars is copied into fresh tables.
func (st *state) context(env *script.Env) *lua.LTable {
	t := st.L.CreateTable(0, 4)
	t.RawSetString("number", lua.LString(env.Number))
	t.RawSetString("vars", st.toLua(env.Vars, 0))
	t.RawSetString("timezone", lua.LString(st.loc.String()))
	t.RawSetString("now", st.now())
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
