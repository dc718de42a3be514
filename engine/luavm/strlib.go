package luavm

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// specials are the characters that make a pattern more than plain text.
const specials = "^$*+?.([%-"

// installStrings replaces the string functions that can run without bound
// inside gopher-lua: the pattern functions, which now use the matcher of
// this package, and rep and format, which now refuse results past the
// value cap. The string metatable indexes the same table.
func (st *state) installStrings(t *lua.LTable) {
	L := st.L
	for name, fn := range map[string]lua.LGFunction{
		"find": st.strFind, "match": st.strMatch, "gmatch": st.strGmatch,
		"gfind": st.strGmatch, "gsub": st.strGsub, "rep": st.strRep,
		"format": st.strFormat,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
}

// newMatcher prepares a match of pat in s that checks the run as it goes.
func (st *state) newMatcher(s, pat string) *matcher {
	return &matcher{src: s, pat: pat, check: st.check}
}

// patterns runs f and turns a malformed pattern into a Lua error.
func patterns(L *lua.LState, f func() int) (n int) {
	defer func() {
		if v := recover(); v != nil {
			if msg, ok := v.(patternError); ok {
				L.RaiseError("%s", string(msg))
			}
			panic(v)
		}
	}()
	return f()
}

// startAt turns a Lua position into a byte offset into s, as find and
// match read their init argument: negative counts from the end, and the
// result lies within 0..len(s).
func startAt(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	return min(max(pos-1, 0), n)
}

func (st *state) strFind(L *lua.LState) int { return st.find(L, true) }

func (st *state) strMatch(L *lua.LState) int { return st.find(L, false) }

// find is string.find and string.match.
func (st *state) find(L *lua.LState, find bool) int {
	s, pat := L.CheckString(1), L.CheckString(2)
	init := startAt(L.OptInt(3, 1), len(s))
	if find && (lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(pat, specials)) {
		i := strings.Index(s[init:], pat)
		if i < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + i + 1))
		L.Push(lua.LNumber(init + i + len(pat)))
		return 2
	}
	return patterns(L, func() int {
		m := st.newMatcher(s, pat)
		p, anchor := 0, strings.HasPrefix(pat, "^")
		if anchor {
			p = 1
		}
		for at := init; at <= len(s); at++ {
			m.level = 0
			if e := m.match(at, p); e != -1 {
				if !find {
					return m.push(L, at, e, true)
				}
				L.Push(lua.LNumber(at + 1))
				L.Push(lua.LNumber(e))
				return m.push(L, -1, -1, false) + 2
			}
			if anchor {
				break
			}
		}
		L.Push(lua.LNil)
		return 1
	})
}

// push pushes the captures of the last match, or the whole match when
// there are none and whole is set.
func (m *matcher) push(L *lua.LState, start, end int, whole bool) int {
	n := m.level
	if n == 0 && whole {
		L.Push(lua.LString(m.src[start:end]))
		return 1
	}
	for i := range n {
		L.Push(m.captured(i, start, end))
	}
	return n
}

// captured is capture i, or the whole match for i 0 without captures.
func (m *matcher) captured(i, start, end int) lua.LValue {
	if i >= m.level {
		if i != 0 {
			m.fail("invalid capture index")
		}
		return lua.LString(m.src[start:end])
	}
	c := m.caps[i]
	switch c.n {
	case capUnfinished:
		m.fail("unfinished capture")
	case capPosition:
		return lua.LNumber(c.start + 1)
	}
	return lua.LString(m.src[c.start : c.start+c.n])
}

// strGmatch is string.gmatch: an iterator that finds one match per call.
// A caret has no special meaning here, as in Lua 5.1.
func (st *state) strGmatch(L *lua.LState) int {
	s, pat := L.CheckString(1), L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		return patterns(L, func() int {
			m := st.newMatcher(s, pat)
			for at := pos; at <= len(s); at++ {
				m.level = 0
				if e := m.match(at, 0); e != -1 {
					pos = e
					if e == at {
						pos++
					}
					return m.push(L, at, e, true)
				}
			}
			pos = len(s) + 1
			return 0
		})
	}))
	return 1
}

// strGsub is string.gsub. The result is built once, left to right, and
// may not grow past the value cap.
func (st *state) strGsub(L *lua.LState) int {
	s, pat := L.CheckString(1), L.CheckString(2)
	repl := L.Get(3)
	switch repl.Type() {
	case lua.LTNumber, lua.LTString, lua.LTTable, lua.LTFunction:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	most := L.OptInt(4, len(s)+1)
	return patterns(L, func() int {
		m := st.newMatcher(s, pat)
		p, anchor := 0, strings.HasPrefix(pat, "^")
		if anchor {
			p = 1
		}
		var b strings.Builder
		at, n := 0, 0
		for n < most {
			m.level = 0
			e := m.match(at, p)
			if e != -1 {
				n++
				st.addValue(L, m, &b, at, e, repl)
			}
			switch {
			case e != -1 && e > at:
				at = e
			case at < len(s):
				b.WriteByte(s[at])
				at++
			default:
				at = len(s) + 1
			}
			st.bound(&b, "string.gsub")
			if at > len(s) || anchor {
				break
			}
		}
		if at < len(s) {
			b.WriteString(s[at:])
		}
		st.bound(&b, "string.gsub")
		L.Push(lua.LString(b.String()))
		L.Push(lua.LNumber(n))
		return 2
	})
}

// bound fails the run when b has passed the value cap.
func (st *state) bound(b *strings.Builder, what string) {
	st.tick()
	if int64(b.Len()) > st.valueCap {
		st.tooBig(what, int64(b.Len()))
	}
}

// addValue appends the replacement for the match s[start:end].
func (st *state) addValue(L *lua.LState, m *matcher, b *strings.Builder, start, end int,
	repl lua.LValue) {
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		addPattern(m, b, lua.LVAsString(r), start, end)
		return
	case *lua.LTable:
		v = L.GetTable(r, m.captured(0, start, end))
	case *lua.LFunction:
		L.Push(r)
		n := m.push(L, start, end, true)
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	switch v.Type() {
	case lua.LTNil:
		b.WriteString(m.src[start:end])
	case lua.LTBool:
		if !lua.LVAsBool(v) {
			b.WriteString(m.src[start:end])
			return
		}
		L.RaiseError("invalid replacement value (a boolean)")
	case lua.LTString, lua.LTNumber:
		b.WriteString(lua.LVAsString(v))
	default:
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
}

// addPattern appends a replacement string: %0 is the whole match, %1-%9
// a capture, and % before anything else stands for that character.
func addPattern(m *matcher, b *strings.Builder, r string, start, end int) {
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' || i+1 == len(r) {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := r[i]; {
		case d == '0':
			b.WriteString(m.src[start:end])
		case '1' <= d && d <= '9':
			b.WriteString(lua.LVAsString(m.captured(int(d-'1'), start, end)))
		default:
			b.WriteByte(d)
		}
	}
}

// strRep is string.rep with the size of the result checked first.
func (st *state) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := float64(L.CheckNumber(2))
	if n < 1 || len(s) == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if float64(len(s))*n > float64(st.valueCap) {
		st.tooBig("string.rep", int64(float64(len(s))*n))
	}
	L.Push(lua.LString(strings.Repeat(s, int(n))))
	return 1
}
