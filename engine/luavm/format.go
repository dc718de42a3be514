package luavm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// formatFlags are the flags a conversion may carry, as in Lua 5.1.
const formatFlags = "-+ #0"

// strFormat is string.format as Lua 5.1 defines it: %d %i %u %c %o %x %X
// %e %E %f %g %G %q %s and %%, with flags, and width and precision of at
// most two digits each. gopher-lua hands the format to Go's fmt, which
// knows other verbs and takes widths up to a million; here every
// conversion is bounded and the result may not pass the value cap. %s
// takes any value, through tostring.
func (st *state) strFormat(L *lua.LState) int {
	f := L.CheckString(1)
	var b strings.Builder
	arg := 1
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		spec, next := formatSpec(L, f, i+1)
		if next >= len(f) {
			L.RaiseError("invalid option '%%' to 'format'")
		}
		arg++
		st.convert(L, &b, spec, f[next], arg)
		i = next
		if int64(b.Len()) > st.valueCap {
			st.tooBig("string.format", int64(b.Len()))
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// fmtSpec is one parsed conversion: its flags, width and precision.
type fmtSpec struct {
	flags     string
	width     int
	precision int // -1 when absent
}

// verb renders the spec for Go's fmt with the given verb.
func (s fmtSpec) verb(v byte) string {
	out := "%" + s.flags
	if s.width > 0 {
		out += strconv.Itoa(s.width)
	}
	if s.precision >= 0 {
		out += "." + strconv.Itoa(s.precision)
	}
	return out + string(v)
}

// formatSpec reads flags, width and precision starting at i and returns
// the position of the conversion character.
func formatSpec(L *lua.LState, f string, i int) (fmtSpec, int) {
	s := fmtSpec{precision: -1}
	start := i
	for i < len(f) && strings.IndexByte(formatFlags, f[i]) >= 0 {
		i++
	}
	if i-start > len(formatFlags) {
		L.RaiseError("invalid format (repeated flags)")
	}
	s.flags = f[start:i]
	s.width, i = digits(L, f, i)
	if i < len(f) && f[i] == '.' {
		s.precision, i = digits(L, f, i+1)
	}
	return s, i
}

// digits reads at most two digits.
func digits(L *lua.LState, f string, i int) (int, int) {
	n, start := 0, i
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		if i-start == 2 {
			L.RaiseError("invalid format (width or precision too long)")
		}
		n = n*10 + int(f[i]-'0')
		i++
	}
	return n, i
}

// convert appends argument arg converted by c.
func (st *state) convert(L *lua.LState, b *strings.Builder, s fmtSpec, c byte, arg int) {
	switch c {
	case 'c':
		b.WriteByte(byte(int64(L.CheckNumber(arg))))
	case 'd', 'i':
		n := float64(L.CheckNumber(arg))
		fmt.Fprintf(b, s.verb('d'), toInt(n))
	case 'o', 'u', 'x', 'X':
		n := uint64(toInt(float64(L.CheckNumber(arg))))
		verb := c
		if c == 'u' {
			verb = 'd'
		}
		fmt.Fprintf(b, s.verb(verb), n)
	case 'e', 'E', 'f', 'g', 'G':
		formatFloat(b, s, c, float64(L.CheckNumber(arg)))
	case 'q':
		L.CheckAny(arg)
		quote(b, L.ToStringMeta(L.Get(arg)).String())
	case 's':
		L.CheckAny(arg)
		formatString(b, s, L.ToStringMeta(L.Get(arg)).String())
	default:
		L.RaiseError("invalid option '%%%c' to 'format'", c)
	}
}

// toInt converts as C does for the integer conversions, without Go's
// undefined results for values out of range.
func toInt(n float64) int64 {
	switch {
	case n != n:
		return 0
	case n >= math.MaxInt64:
		return math.MaxInt64
	case n <= math.MinInt64:
		return math.MinInt64
	}
	return int64(n)
}

// formatFloat writes n as C's printf would: %g has six significant digits
// unless told otherwise, and infinities and NaN are "inf" and "nan".
func formatFloat(b *strings.Builder, s fmtSpec, c byte, n float64) {
	if math.IsInf(n, 0) || n != n {
		text := "nan"
		if math.IsInf(n, 1) {
			text = "inf"
		} else if math.IsInf(n, -1) {
			text = "-inf"
		}
		if c == 'E' || c == 'G' {
			text = strings.ToUpper(text)
		}
		formatString(b, fmtSpec{flags: s.flags, width: s.width, precision: -1}, text)
		return
	}
	if (c == 'g' || c == 'G') && s.precision < 0 {
		s.precision = 6
	}
	fmt.Fprintf(b, s.verb(c), n)
}

// formatString writes text cut to the precision and padded to the width,
// counting bytes as C does.
func formatString(b *strings.Builder, s fmtSpec, text string) {
	if s.precision >= 0 && len(text) > s.precision {
		text = text[:s.precision]
	}
	pad := strings.Repeat(" ", max(s.width-len(text), 0))
	if strings.Contains(s.flags, "-") {
		b.WriteString(text)
		b.WriteString(pad)
		return
	}
	b.WriteString(pad)
	b.WriteString(text)
}

// quote writes text as a Lua string literal that reads back the same.
func quote(b *strings.Builder, text string) {
	b.WriteByte('"')
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString("\\\n")
		case '\r':
			b.WriteString("\\r")
		case 0:
			b.WriteString("\\000")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
