package jsvm

import (
	"reflect"

	"github.com/dop251/goja"
)

// typedArrays names the typed array constructors with their element size.
var typedArrays = []struct {
	name string
	size int64
}{
	{"Int8Array", 1}, {"Uint8Array", 1}, {"Uint8ClampedArray", 1},
	{"Int16Array", 2}, {"Uint16Array", 2}, {"Int32Array", 4}, {"Uint32Array", 4},
	{"Float32Array", 4}, {"Float64Array", 8}, {"BigInt64Array", 8},
	{"BigUint64Array", 8},
}

var bufferType = reflect.TypeOf(goja.ArrayBuffer{})

// numberText bounds the text of one typed array element when joined.
const numberText = 24

// installBuffers guards ArrayBuffer and the typed array constructors on
// first use. They are reachable only through their global names (every
// way to a buffer or a typed array starts with one of them), so each name
// starts as an accessor that installs the guards of all of them and then
// returns the guarded constructor. Most scripts never touch them, and
// guarding them costs more than the rest of a run.
func (g *guard) installBuffers() {
	names := []string{"ArrayBuffer"}
	for _, ta := range typedArrays {
		names = append(names, ta.name)
	}
	global := g.vm.GlobalObject()
	originals := make([]goja.Value, len(names))
	for i, name := range names {
		originals[i] = global.Get(name)
	}
	installed := false
	install := func() {
		if installed {
			return
		}
		installed = true
		for i, name := range names {
			_ = global.DefineDataProperty(name, originals[i],
				goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		}
		g.guardBuffers()
	}
	for _, name := range names {
		get := g.native("get "+name, 0, func(goja.FunctionCall) goja.Value {
			install()
			return global.Get(name)
		})
		set := g.native("set "+name, 1, func(c goja.FunctionCall) goja.Value {
			install()
			_ = global.Set(name, c.Argument(0))
			return goja.Undefined()
		})
		_ = global.DefineAccessorProperty(name, get, set, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// guardBuffers replaces ArrayBuffer and the typed array constructors by
// guarded ones, which refuse to allocate past the caps before the
// original does. The prototypes point back at the guarded constructors,
// so that `new x.constructor(n)` and species lookups reach the guard too.
func (g *guard) guardBuffers() {
	g.guardCtor("ArrayBuffer", 1, func(args []goja.Value) []goja.Value {
		if len(args) > 0 {
			n := args[0].ToNumber()
			if size := toIndex(n); size > g.byteCap {
				g.tooBig("ArrayBuffer", size, g.byteCap, "bytes")
			}
			args = append([]goja.Value{n}, args[1:]...)
		}
		return args
	})
	for _, ta := range typedArrays {
		g.guardCtor(ta.name, 3, g.typedArgs(ta.name, ta.size))
	}
	if proto := g.object("Uint8Array", "prototype"); proto != nil {
		if base := proto.Prototype(); base != nil {
			g.wrap(base, "join", 1, g.typedJoin)
		}
	}
}

// constructor makes a Go constructor that passes its arguments through
// args and then constructs with ctor, for new.target or, called without
// new, for itself. It has orig's name and prototype.
func (g *guard) constructor(name string, length int, orig *goja.Object,
	ctor goja.Constructor, args func([]goja.Value) []goja.Value) *goja.Object {
	var w *goja.Object
	w = g.vm.ToValue(func(c goja.ConstructorCall) *goja.Object {
		target := c.NewTarget
		if target == nil {
			target = w
		}
		o, err := ctor(target, args(c.Arguments)...)
		if err != nil {
			panic(err)
		}
		return o
	}).(*goja.Object)
	g.nameIt(w, name, length)
	_ = w.DefineDataProperty("prototype", orig.Get("prototype"),
		goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return w
}

// guardCtor puts a constructor that runs check on its arguments in place
// of the global constructor name. Called without new it constructs, like
// with new: goja does not tell the two apart for Go constructors.
func (g *guard) guardCtor(name string, length int,
	check func([]goja.Value) []goja.Value) {
	orig := g.object(name)
	ctor, ok := goja.AssertConstructor(orig)
	if !ok {
		return
	}
	w := g.constructor(name, length, orig, ctor, check)
	_ = w.SetPrototype(orig.Prototype())
	for _, key := range orig.GetOwnPropertyNames() {
		if key != "prototype" && key != "name" && key != "length" {
			_ = w.DefineDataProperty(key, orig.Get(key),
				goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		}
	}
	species := g.native("get [Symbol.species]", 0, func(c goja.FunctionCall) goja.Value {
		return c.This
	})
	_ = w.DefineAccessorPropertySymbol(goja.SymSpecies, species, nil,
		goja.FLAG_TRUE, goja.FLAG_FALSE)
	if proto, ok := orig.Get("prototype").(*goja.Object); ok {
		_ = proto.DefineDataProperty("constructor", w,
			goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	_ = g.vm.GlobalObject().DefineDataProperty(name, w,
		goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// typedArgs checks what a typed array constructor is about to allocate:
// length elements, a copy of another typed array, or a copy of an
// array-like. A view on an existing ArrayBuffer allocates nothing.
func (g *guard) typedArgs(name string, size int64) func([]goja.Value) []goja.Value {
	return func(args []goja.Value) []goja.Value {
		if len(args) == 0 || goja.IsUndefined(args[0]) {
			return args
		}
		o, ok := args[0].(*goja.Object)
		if !ok {
			g.checkBytes(name, toIndex(args[0]), size)
			return args
		}
		switch t := o.ExportType(); {
		case t == bufferType:
			g.checkView(name, o, size, args)
		case t != nil && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Interface:
			g.checkBytes(name, int64(reflect.ValueOf(o.Export()).Len()), size)
		case o.ClassName() == "Array":
			g.checkBytes(name, toLength(o.Get("length")), size)
		default:
			it, found := g.dataProp(o, goja.SymIterator, name)
			if !found || goja.IsUndefined(it) || goja.IsNull(it) {
				n, _ := g.dataProp(o, g.vm.ToValue("length"), name)
				g.checkBytes(name, toLength(n), size)
			}
		}
		return args
	}
}

// checkBytes refuses a typed array of n elements of size bytes past the
// element cap or the byte cap.
func (g *guard) checkBytes(what string, n, size int64) {
	if n > g.elemCap {
		g.tooBig(what, n, g.elemCap, "elements")
	}
	if n > 0 && n > g.byteCap/size {
		g.tooBig(what, n*size, g.byteCap, "bytes")
	}
}

// checkView bounds a typed array on an existing buffer: it allocates
// nothing, but may have more elements than the cap allows. The offset and
// length are converted here, once, for the check and the constructor.
func (g *guard) checkView(what string, buf *goja.Object, size int64, args []goja.Value) {
	var n int64
	if len(args) > 2 && !goja.IsUndefined(args[2]) {
		args[2] = args[2].ToNumber()
		n = toIndex(args[2])
	} else {
		off := int64(0)
		if len(args) > 1 {
			args[1] = args[1].ToNumber()
			off = toIndex(args[1])
		}
		n = (int64(len(buf.Export().(goja.ArrayBuffer).Bytes())) - off) / size
	}
	g.checkBytes(what, n, size)
}

// typedJoin bounds %TypedArray%.prototype.join by the element count and
// the separator.
func (g *guard) typedJoin(orig goja.Callable) builtin {
	const what = "TypedArray.prototype.join"
	return func(c goja.FunctionCall) goja.Value {
		o := g.toObject(c.This, what)
		n := int64(0)
		if t := o.ExportType(); t != nil && t.Kind() == reflect.Slice {
			n = int64(reflect.ValueOf(o.Export()).Len())
		}
		var sep goja.Value = goja.Undefined()
		sepLen := int64(1)
		if s := c.Argument(0); !goja.IsUndefined(s) {
			ss := g.str(s)
			sep, sepLen = ss, int64(ss.Length())
		}
		if size := n * (sepLen + numberText); size > g.strCap {
			g.tooBig(what, size, g.strCap, "characters")
		}
		return g.call(orig, o, sep)
	}
}

// toIndex is ToIndex of the specification for a primitive; what it cannot
// represent is left for the original to refuse.
func toIndex(v goja.Value) int64 {
	f := v.ToFloat()
	if f != f || f < 0 || f > 1<<53 {
		return 0
	}
	return int64(f)
}
