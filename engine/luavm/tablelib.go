package luavm

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// installTables replaces table.concat, which gopher-lua builds on the
// value stack, and table.sort, whose comparisons run out of reach of the
// run's deadline.
func (st *state) installTables(t *lua.LTable) {
	t.RawSetString("concat", st.L.NewFunction(st.tabConcat))
	t.RawSetString("sort", st.L.NewFunction(st.tabSort))
}

// tabConcat is table.concat. The size of the result is added up before
// anything is copied, and may not pass the value cap.
func (st *state) tabConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	size := int64(0)
	for k := i; k <= j; k++ {
		st.tick()
		v := t.RawGetInt(k)
		if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		size += int64(len(lua.LVAsString(v)))
		if k < j {
			size += int64(len(sep))
		}
		if size > st.valueCap {
			st.tooBig("table.concat", size)
		}
	}
	var b strings.Builder
	b.Grow(int(size))
	for k := i; k <= j; k++ {
		b.WriteString(lua.LVAsString(t.RawGetInt(k)))
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// tabSort is table.sort; every comparison counts toward the run's checks.
func (st *state) tabSort(L *lua.LState) int {
	t := L.CheckTable(1)
	cmp := L.OptFunction(2, nil)
	n := t.Len()
	items := make([]lua.LValue, n)
	for k := range n {
		items[k] = t.RawGetInt(k + 1)
	}
	less := func(a, b int) bool {
		st.tick()
		if cmp == nil {
			return L.LessThan(items[a], items[b])
		}
		L.Push(cmp)
		L.Push(items[a])
		L.Push(items[b])
		L.Call(2, 1)
		r := lua.LVAsBool(L.Get(-1))
		L.Pop(1)
		return r
	}
	sort.Slice(items, less)
	for k, v := range items {
		t.RawSetInt(k+1, v)
	}
	return 0
}
