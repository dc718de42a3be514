package luavm

import (
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// openUTF8 builds the utf8 helper table. Lua strings are bytes; these
// functions work on code points instead; invalid bytes come out as U+FFFD.
func openUTF8(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"len": utf8Len, "sub": utf8Sub, "upper": utf8Map(strings.ToUpper),
		"lower": utf8Map(strings.ToLower), "reverse": utf8Reverse,
		"valid": utf8Valid,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	t.RawSetString("charpattern", lua.LString("[\x00-\x7F\xC2-\xFD][\x80-\xBF]*"))
	return t
}

func utf8Len(L *lua.LState) int {
	L.Push(lua.LNumber(utf8.RuneCountInString(L.CheckString(1))))
	return 1
}

// utf8Sub is string.sub by code point, with Lua's rules for negative and
// out-of-range positions.
func utf8Sub(L *lua.LState) int {
	runes := []rune(strings.ToValidUTF8(L.CheckString(1), "\uFFFD"))
	n := len(runes)
	i, j := L.CheckInt(2), L.OptInt(3, -1)
	if i < 0 {
		i = max(n+i+1, 1)
	} else if i == 0 {
		i = 1
	}
	if j < 0 {
		j = n + j + 1
	} else if j > n {
		j = n
	}
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	L.Push(lua.LString(string(runes[i-1 : j])))
	return 1
}

func utf8Map(f func(string) string) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(lua.LString(f(strings.ToValidUTF8(L.CheckString(1), "\uFFFD"))))
		return 1
	}
}

func utf8Reverse(L *lua.LState) int {
	runes := []rune(strings.ToValidUTF8(L.CheckString(1), "\uFFFD"))
	for a, b := 0, len(runes)-1; a < b; a, b = a+1, b-1 {
		runes[a], runes[b] = runes[b], runes[a]
	}
	L.Push(lua.LString(string(runes)))
	return 1
}

func utf8Valid(L *lua.LState) int {
	L.Push(lua.LBool(utf8.ValidString(L.CheckString(1))))
	return 1
}
