package jsvm

import (
	"math"
	"strconv"

	"github.com/dop251/goja"
)

// walking lists the Array.prototype methods that loop over the length of
// their receiver inside goja, where no interrupt reaches them. A hole is
// skipped in Go, so `new Array(2**32-1).indexOf(1)` or a plain object with
// a length of 2**53 keeps a core busy for good, and map, slice, sort,
// toSorted or with allocate length-sized storage up front. Each is
// guarded by a check of the receiver's length.
var walking = []string{
	"copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast",
	"findLastIndex", "forEach", "includes", "indexOf", "lastIndexOf", "map",
	"reduce", "reduceRight", "reverse", "shift", "slice", "some", "splice",
	"toReversed", "toSpliced", "unshift", "with",
}

// installArrays guards Array.prototype. join, toLocaleString, flat and
// flatMap are reimplemented, because goja recurses for nested arrays on
// the Go stack where no call stack limit counts the levels.
func (g *guard) installArrays() {
	proto := g.object("Array", "prototype")
	for _, name := range walking {
		g.wrap(proto, name, 1, g.arrWalk("Array.prototype."+name))
	}
	g.wrap(proto, "concat", 1, g.arrConcat)
	g.wrap(proto, "sort", 1, g.arrSort("Array.prototype.sort"))
	g.wrap(proto, "toSorted", 1, g.arrSort("Array.prototype.toSorted"))
	g.method(proto, "join", g.native("join", 1, g.join))
	g.method(proto, "toLocaleString", g.native("toLocaleString", 0, g.toLocaleString))
	g.method(proto, "flat", g.native("flat", 0, g.flat))
	g.method(proto, "flatMap", g.native("flatMap", 1, g.flatMap))

	array := g.object("Array")
	g.wrap(array, "from", 1, g.arrFrom)
	g.wrap(g.object("Function", "prototype"), "apply", 2, g.argList(1, "apply"))
	g.wrap(g.object("Reflect"), "apply", 3, g.argList(2, "Reflect.apply"))
	g.wrap(g.object("Reflect"), "construct", 2, g.argList(1, "Reflect.construct"))
}

// arrWalk checks the receiver's length, then lets the original run.
func (g *guard) arrWalk(what string) wrapper {
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			o := g.toObject(c.This, what)
			g.length(o, what)
			return g.call(orig, o, c.Arguments...)
		}
	}
}

// arrConcat bounds the result by the lengths of everything spread into it.
func (g *guard) arrConcat(orig goja.Callable) builtin {
	const what = "Array.prototype.concat"
	return func(c goja.FunctionCall) goja.Value {
		o := g.toObject(c.This, what)
		total := int64(0)
		for _, v := range append([]goja.Value{o}, c.Arguments...) {
			total++
			e, ok := v.(*goja.Object)
			if !ok {
				continue
			}
			spread, found := g.dataProp(e, goja.SymIsConcatSpreadable, what)
			if found && !goja.IsUndefined(spread) && spread.ToBoolean() ||
				(!found || goja.IsUndefined(spread)) && g.isArrayValue(e) {
				total += g.length(e, what) - 1
			}
			if total > g.elemCap {
				g.tooBig(what, total, g.elemCap, "elements")
			}
		}
		return g.call(orig, o, c.Arguments...)
	}
}

// arrSort gives a sort without a comparison function one written in Go,
// which compares as the specification says and checks the run's deadline:
// goja's own runs inside sort.Stable, out of reach of an interrupt.
func (g *guard) arrSort(what string) wrapper {
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			o := g.toObject(c.This, what)
			g.length(o, what)
			cmp := c.Argument(0)
			if goja.IsUndefined(cmp) {
				cmp = g.defaultCompare()
			}
			return g.call(orig, o, cmp)
		}
	}
}

func (g *guard) defaultCompare() goja.Value {
	return g.native("compare", 2, func(c goja.FunctionCall) goja.Value {
		g.tick()
		x, y := g.str(c.Argument(0)), g.str(c.Argument(1))
		return g.vm.ToValue(x.CompareTo(y))
	})
}

// join is Array.prototype.join with the length, the size of the result,
// the run's deadline and the nesting of arrays inside arrays bounded.
func (g *guard) join(c goja.FunctionCall) goja.Value {
	sep := ","
	var sepv goja.String
	if s := c.Argument(0); !goja.IsUndefined(s) {
		sepv = g.str(s)
	} else {
		sepv = g.str(g.vm.ToValue(sep))
	}
	return g.joinWith(c.This, "Array.prototype.join", sepv, func(v goja.Value) goja.String {
		return g.str(v)
	})
}

// toLocaleString joins the elements' toLocaleString with commas.
func (g *guard) toLocaleString(c goja.FunctionCall) goja.Value {
	const what = "Array.prototype.toLocaleString"
	comma := g.str(g.vm.ToValue(","))
	return g.joinWith(c.This, what, comma, func(v goja.Value) goja.String {
		o := v.ToObject(g.vm)
		f, ok := goja.AssertFunction(o.Get("toLocaleString"))
		if !ok {
			g.throwType("toLocaleString of an element is not a function")
		}
		return g.str(g.call(f, v))
	})
}

// joinWith joins the elements of this, each turned into text by text;
// undefined and null become empty. An array that contains itself joins as
// empty, as in the major engines.
func (g *guard) joinWith(this goja.Value, what string, sep goja.String,
	text func(goja.Value) goja.String) goja.Value {
	o := g.toObject(this, what)
	for _, v := range g.visiting {
		if v == o {
			return g.vm.ToValue("")
		}
	}
	g.enter(what)
	g.visiting = append(g.visiting, o)
	defer func() {
		g.visiting = g.visiting[:len(g.visiting)-1]
		g.leave()
	}()
	n := g.length(o, what)
	size := int64(sep.Length()) * max(n-1, 0)
	if size > g.strCap {
		g.tooBig(what, size, g.strCap, "characters")
	}
	var b goja.StringBuilder
	for i := int64(0); i < n; i++ {
		g.tick()
		if i > 0 {
			b.WriteString(sep)
		}
		v := o.Get(strconv.FormatInt(i, 10))
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			continue
		}
		s := text(v)
		if size += int64(s.Length()); size > g.strCap {
			g.tooBig(what, size, g.strCap, "characters")
		}
		b.WriteString(s)
	}
	return b.String()
}

// flat is Array.prototype.flat. The result is a plain Array whatever the
// receiver's constructor says.
func (g *guard) flat(c goja.FunctionCall) goja.Value {
	const what = "Array.prototype.flat"
	o := g.toObject(c.This, what)
	n := g.length(o, what)
	depth := 1.0
	if d := c.Argument(0); !goja.IsUndefined(d) {
		depth = math.Trunc(d.ToFloat())
		if depth != depth {
			depth = 0
		}
	}
	var out []any
	g.flatten(&out, o, n, depth, what)
	return g.vm.NewArray(out...)
}

// flatMap is Array.prototype.flatMap, with a plain Array as the result.
func (g *guard) flatMap(c goja.FunctionCall) goja.Value {
	const what = "Array.prototype.flatMap"
	o := g.toObject(c.This, what)
	n := g.length(o, what)
	fn, ok := goja.AssertFunction(c.Argument(0))
	if !ok {
		g.throwType(what + ": the callback is not a function")
	}
	var out []any
	for i := int64(0); i < n; i++ {
		g.tick()
		v := o.Get(strconv.FormatInt(i, 10))
		if v == nil {
			continue
		}
		r := g.call(fn, c.Argument(1), v, g.vm.ToValue(i), o)
		if g.isArrayValue(r) {
			ro := r.(*goja.Object)
			g.flatten(&out, ro, g.length(ro, what), 0, what)
			continue
		}
		out = g.push(out, r, what)
	}
	return g.vm.NewArray(out...)
}

// flatten appends the elements of src to out, descending depth levels
// into elements that are arrays.
func (g *guard) flatten(out *[]any, src *goja.Object, n int64, depth float64,
	what string) {
	g.enter(what)
	defer g.leave()
	for i := int64(0); i < n; i++ {
		g.tick()
		v := src.Get(strconv.FormatInt(i, 10))
		if v == nil {
			continue
		}
		if depth > 0 && g.isArrayValue(v) {
			vo := v.(*goja.Object)
			g.flatten(out, vo, g.length(vo, what), depth-1, what)
			continue
		}
		*out = g.push(*out, v, what)
	}
}

func (g *guard) push(out []any, v goja.Value, what string) []any {
	if int64(len(out)) >= g.elemCap {
		g.tooBig(what, int64(len(out))+1, g.elemCap, "elements")
	}
	return append(out, v)
}

// arrFrom checks the length of an array-like source; iterables are walked
// one step at a time and need no check.
func (g *guard) arrFrom(orig goja.Callable) builtin {
	const what = "Array.from"
	return func(c goja.FunctionCall) goja.Value {
		if o, ok := c.Argument(0).(*goja.Object); ok {
			it, found := g.dataProp(o, goja.SymIterator, what)
			if !found || goja.IsUndefined(it) || goja.IsNull(it) {
				g.length(o, what)
			}
		}
		return g.call(orig, c.This, c.Arguments...)
	}
}

// argList checks the length of the argument list that apply, Reflect.apply
// and Reflect.construct copy out of an array-like.
func (g *guard) argList(idx int, what string) wrapper {
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			if o, ok := c.Argument(idx).(*goja.Object); ok {
				g.length(o, what)
			}
			return g.call(orig, c.This, c.Arguments...)
		}
	}
}
