package luavm

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// print logs its arguments, tab-separated, through the run's output.
func (st *state) print(L *lua.LState) int {
	n := L.GetTop()
	parts := make([]string, n)
	for i := 1; i <= n; i++ {
		parts[i-1] = L.ToStringMeta(L.Get(i)).String()
	}
	if st.out != nil {
		st.out.Write(slog.LevelInfo, strings.Join(parts, "\t"))
	}
	return 0
}

// osClock returns the seconds the run has taken so far.
func (st *state) osClock(L *lua.LState) int {
	L.Push(lua.LNumber(time.Since(st.t0).Seconds()))
	return 1
}

// osTime returns the current Unix time, or the time a table describes in
// the number's time zone.
func (st *state) osTime(L *lua.LState) int {
	if L.GetTop() == 0 || L.Get(1) == lua.LNil {
		L.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	t := L.CheckTable(1)
	field := func(name string, def int) int {
		v := t.RawGetString(name)
		if n, ok := v.(lua.LNumber); ok {
			return int(n)
		}
		if def < 0 {
			L.ArgError(1, "field '"+name+"' missing in date table")
		}
		return def
	}
	tm := time.Date(field("year", -1), time.Month(field("month", -1)),
		field("day", -1), field("hour", 12), field("min", 0), field("sec", 0), 0, st.loc)
	L.Push(lua.LNumber(tm.Unix()))
	return 1
}

// osDate formats a time like Lua's os.date, in the number's time zone; a
// format starting with "!" uses UTC.
func (st *state) osDate(L *lua.LState) int {
	format := L.OptString(1, "%c")
	t := time.Now()
	if L.GetTop() >= 2 {
		t = time.Unix(int64(L.CheckNumber(2)), 0)
	}
	t = t.In(st.loc)
	if rest, ok := strings.CutPrefix(format, "!"); ok {
		format, t = rest, t.UTC()
	}
	if strings.HasPrefix(format, "*t") {
		L.Push(dateTable(L, t))
		return 1
	}
	if size := int64(len(format)) * maxConversion; size > st.valueCap {
		st.tooBig("os.date", size)
	}
	L.Push(lua.LString(strftime(t, format)))
	return 1
}

func dateTable(L *lua.LState, t time.Time) *lua.LTable {
	tb := L.CreateTable(0, 9)
	set := func(k string, v int) { tb.RawSetString(k, lua.LNumber(v)) }
	set("year", t.Year())
	set("month", int(t.Month()))
	set("day", t.Day())
	set("hour", t.Hour())
	set("min", t.Minute())
	set("sec", t.Second())
	set("wday", int(t.Weekday())+1)
	set("yday", t.YearDay())
	tb.RawSetString("isdst", lua.LBool(t.IsDST()))
	return tb
}

// strftime implements the C conversions scripts commonly use.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		b.WriteString(conversion(t, format[i]))
	}
	return b.String()
}

// maxConversion bounds what one two-byte conversion of os.date expands to.
const maxConversion = 16

// dateLayouts maps strftime conversions to Go time layouts.
var dateLayouts = map[byte]string{
	'a': "Mon", 'A': "Monday", 'b': "Jan", 'B': "January",
	'c': "Mon Jan  2 15:04:05 2006", 'd': "02", 'H': "15", 'I': "03",
	'm': "01", 'M': "04", 'p': "PM", 'S': "05", 'x': "01/02/06",
	'X': "15:04:05", 'y': "06", 'Y': "2006", 'Z': "MST", 'z': "-0700",
}

func conversion(t time.Time, c byte) string {
	if l, ok := dateLayouts[c]; ok {
		return t.Format(l)
	}
	switch c {
	case 'j':
		return fmt.Sprintf("%03d", t.YearDay())
	case 'w':
		return fmt.Sprint(int(t.Weekday()))
	case '%':
		return "%"
	}
	return "%" + string(c)
}
