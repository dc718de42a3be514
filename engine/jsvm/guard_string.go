package jsvm

import (
	"math"
	"strings"

	"github.com/dop251/goja"
)

// installStrings caps the String built-ins whose result can be far larger
// than their inputs. Each wrapper converts its arguments once, checks the
// size of the result, and hands the original the converted values, so
// that a valueOf cannot answer one thing to the check and another to the
// built-in.
func (g *guard) installStrings() {
	proto := g.object("String", "prototype")
	g.wrap(proto, "repeat", 1, g.strRepeat)
	g.wrap(proto, "padStart", 1, g.strPad("padStart"))
	g.wrap(proto, "padEnd", 1, g.strPad("padEnd"))
	g.wrap(proto, "concat", 1, g.strConcat)
	g.wrap(proto, "replace", 2, g.strReplace("replace", false))
	g.wrap(proto, "replaceAll", 2, g.strReplace("replaceAll", true))
	g.wrap(proto, "split", 2, g.strSplit)
	g.wrap(proto, "normalize", 0, g.strNormalize)
	g.wrap(g.object("String"), "raw", 1, g.strRaw)
}

// thisString is ToString(RequireObjectCoercible(this)).
func (g *guard) thisString(this goja.Value, what string) goja.String {
	if this == nil || goja.IsUndefined(this) || goja.IsNull(this) {
		g.throwType(what + " called on null or undefined")
	}
	return g.str(this)
}

// str is ToString(v). goja's ToString leaves numbers and booleans as they
// are; their text is made here.
func (g *guard) str(v goja.Value) goja.String {
	p := v.ToString()
	if s, ok := p.(goja.String); ok {
		return s
	}
	s, _ := g.vm.ToValue(p.String()).(goja.String)
	return s
}

func (g *guard) strRepeat(orig goja.Callable) builtin {
	return func(c goja.FunctionCall) goja.Value {
		s := g.thisString(c.This, "String.prototype.repeat")
		n := c.Argument(0).ToFloat()
		if n != n {
			n = 0
		}
		n = math.Trunc(n)
		if !math.IsInf(n, 0) && n > 0 && float64(s.Length())*n > float64(g.strCap) {
			g.tooBig("String.prototype.repeat", int64(s.Length())*int64(n), g.strCap,
				"characters")
		}
		return g.call(orig, s, g.vm.ToValue(n))
	}
}

func (g *guard) strPad(name string) wrapper {
	what := "String.prototype." + name
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			s := g.thisString(c.This, what)
			n := toLength(c.Argument(0))
			var fill goja.Value = goja.Undefined()
			if f := c.Argument(1); !goja.IsUndefined(f) {
				fill = g.str(f)
			}
			if n > int64(s.Length()) && n > g.strCap {
				if fs, ok := fill.(goja.String); !ok || fs.Length() > 0 {
					g.tooBig(what, n, g.strCap, "characters")
				}
			}
			return g.call(orig, s, g.vm.ToValue(n), fill)
		}
	}
}

func (g *guard) strConcat(orig goja.Callable) builtin {
	return func(c goja.FunctionCall) goja.Value {
		s := g.thisString(c.This, "String.prototype.concat")
		total := int64(s.Length())
		args := make([]goja.Value, len(c.Arguments))
		for i, a := range c.Arguments {
			as := g.str(a)
			total += int64(as.Length())
			if total > g.strCap {
				g.tooBig("String.prototype.concat", total, g.strCap, "characters")
			}
			args[i] = as
		}
		return g.call(orig, s, args...)
	}
}

// strReplace guards replace and replaceAll with a string pattern; regular
// expressions go through RegExp.prototype[Symbol.replace], which is
// guarded on its own. The result is bounded before the call: every match
// adds the replacement, and $` or $' add up to the whole subject.
func (g *guard) strReplace(name string, all bool) wrapper {
	what := "String.prototype." + name
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			search, repl := c.Argument(0), c.Argument(1)
			if so, ok := search.(*goja.Object); ok {
				if m, found := g.dataProp(so, goja.SymReplace, what); found &&
					!goja.IsUndefined(m) && !goja.IsNull(m) {
					return g.call(orig, c.This, search, repl)
				}
			}
			s := g.thisString(c.This, what)
			pat := g.str(search)
			if _, ok := goja.AssertFunction(repl); ok {
				return g.call(orig, s, pat, repl)
			}
			rs := g.str(repl)
			count := int64(1)
			if all {
				count = countMatches(s, pat)
			}
			perMatch := int64(rs.Length()) + substRefs(rs)*int64(s.Length())
			if bound := int64(s.Length()) + count*perMatch; bound > g.strCap {
				g.tooBig(what, bound, g.strCap, "characters")
			}
			return g.call(orig, s, pat, rs)
		}
	}
}

// countMatches counts the places a replaceAll of pat in s replaces.
func countMatches(s, pat goja.String) int64 {
	if pat.Length() == 0 {
		return int64(s.Length()) + 1
	}
	return int64(strings.Count(s.String(), pat.String()))
}

// substRefs counts the $`, $' and $& in a replacement, each of which can
// add up to the whole subject to every match.
func substRefs(rs goja.String) int64 {
	var n int64
	for i := 0; i+1 < rs.Length(); i++ {
		if rs.CharAt(i) != '$' {
			continue
		}
		switch rs.CharAt(i + 1) {
		case '`', '\'', '&':
			n++
			i++
		case '$':
			i++
		}
	}
	return n
}

// strSplit bounds the number of pieces: the original is asked for one
// more than the cap allows, and a result that long fails the run.
func (g *guard) strSplit(orig goja.Callable) builtin {
	const what = "String.prototype.split"
	return func(c goja.FunctionCall) goja.Value {
		sep, limit := c.Argument(0), c.Argument(1)
		if so, ok := sep.(*goja.Object); ok {
			if m, found := g.dataProp(so, goja.SymSplit, what); found &&
				!goja.IsUndefined(m) && !goja.IsNull(m) {
				return g.call(orig, c.This, sep, limit)
			}
		}
		s := g.thisString(c.This, what)
		lim := int64(math.MaxUint32)
		if !goja.IsUndefined(limit) {
			lim = toUint32(limit)
		}
		var sepv goja.Value = goja.Undefined()
		if !goja.IsUndefined(sep) {
			sepv = g.str(sep)
		}
		ask := min(lim, g.elemCap+1)
		res := g.call(orig, s, sepv, g.vm.ToValue(ask))
		if ask > g.elemCap {
			if n := toLength(res.(*goja.Object).Get("length")); n > g.elemCap {
				g.tooBig(what, n, g.elemCap, "pieces")
			}
		}
		return res
	}
}

// strRaw bounds String.raw by the length of its raw strings.
func (g *guard) strRaw(orig goja.Callable) builtin {
	const what = "String.raw"
	return func(c goja.FunctionCall) goja.Value {
		tmpl := g.toObject(c.Argument(0), what)
		raw, _ := g.dataProp(tmpl, g.vm.ToValue("raw"), what)
		g.length(g.toObject(raw, what), what)
		args := append([]goja.Value{tmpl}, c.Arguments[min(1, len(c.Arguments)):]...)
		return g.call(orig, c.This, args...)
	}
}

// toUint32 is ToUint32 of the specification.
func toUint32(v goja.Value) int64 {
	f := v.ToFloat()
	if f != f || math.IsInf(f, 0) {
		return 0
	}
	f = math.Mod(math.Trunc(f), 1<<32)
	if f < 0 {
		f += 1 << 32
	}
	return int64(f)
}

// maxExpansion is the most characters Unicode normalization turns one
// character into (U+FDFA under NFKD).
const maxExpansion = 18

// strNormalize refuses to normalize a long string that is not ASCII, whose
// result could be maxExpansion times as long; ASCII is left as it is.
func (g *guard) strNormalize(orig goja.Callable) builtin {
	const what = "String.prototype.normalize"
	return func(c goja.FunctionCall) goja.Value {
		s := g.thisString(c.This, what)
		var form goja.Value = goja.Undefined()
		if f := c.Argument(0); !goja.IsUndefined(f) {
			form = g.str(f)
		}
		if n := int64(s.Length()) * maxExpansion; n > g.strCap && !isASCII(s) {
			g.tooBig(what, n, g.strCap, "characters")
		}
		return g.call(orig, s, form)
	}
}

func isASCII(s goja.String) bool {
	for i := range s.Length() {
		if s.CharAt(i) >= 0x80 {
			return false
		}
	}
	return true
}
