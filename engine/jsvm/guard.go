package jsvm

import (
	"reflect"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/lamlhost/lamlhost/engine/script"
)

// maxNative bounds recursion that goja does on the Go stack without a
// JavaScript frame to count: arrays turned into text inside arrays, and
// flattening. It matches the JavaScript call stack limit.
const maxNative = MaxCallStack

// maxProtoWalk bounds how far a safe property read follows a prototype
// chain.
const maxProtoWalk = 10000

// checkEvery is how many steps of a Go loop run between two checks of the
// run's deadline.
const checkEvery = 1024

var proxyType = reflect.TypeOf(goja.Proxy{})

// builtin is a function scripts call, as goja runs Go functions.
type builtin = func(goja.FunctionCall) goja.Value

// wrapper makes the guarded version of a built-in from the original.
type wrapper = func(orig goja.Callable) builtin

// guard is the sandbox of one runtime: the limits its wrapped built-ins
// enforce and the way they stop the run. It is built with the runtime,
// before any script code runs there, and armed when the run starts.
//
// TODO(#3): some single instructions still work on a whole value in Go
// without a check: object spread and for-in over a string turn every
// character into a property, and + joins two strings whatever their size.
// With values within the caps this stays near a tenth of a second; on a
// string built up by concatenation to the memory limit it can take
// seconds. The dispatcher answers on time regardless, and the number's run
// slot stays taken until the run ends.
//
// TODO(#3): goja also recurses on the Go stack along chains of objects
// (proxies of proxies, long prototype chains, bound functions of bound
// functions, a JSON.parse reviver that grows the value). Each level needs
// an object on the heap, so the memory limit bounds the depth; a limit in
// the gigabytes would not.
type guard struct {
	vm   *goja.Runtime
	name string

	strCap  int64 // longest string a built-in may build, in UTF-16 units
	elemCap int64 // most elements a built-in may walk or build
	byteCap int64 // largest ArrayBuffer, in bytes

	deadline time.Time
	abort    atomic.Pointer[script.Error]
	depth    int
	ticks    uint32
	visiting []*goja.Object // arrays being joined, to cut cycles

	// Originals, read before any script code ran.
	ownDesc goja.Callable // Object.getOwnPropertyDescriptor
	isArray goja.Callable // Array.isArray
}

// minStrCap keeps the string cap above the largest reply, whatever the
// memory limit.
const minStrCap = 128 << 10

// arm sets the limits and deadline of the run about to start. The caps
// follow from the value cap (4 MiB at the default memory limit): strings
// of 512K characters, 256K elements, buffers of 2 MiB. They are set where
// one call of the costliest built-in that goja runs without a check
// (turning every character of a string into an array element or a
// property, sorting a typed array) stays around a tenth of a second.
func (g *guard) arm(name string, limits script.Limits, deadline time.Time) {
	g.name, g.deadline = name, deadline
	vc := limits.ValueCap()
	g.strCap, g.elemCap = max(vc/8, minStrCap), vc/16
	g.byteCap = g.elemCap * 8
}

// stop ends the run with e at the next instruction. The first error wins.
// It is safe to call from any goroutine.
func (g *guard) stop(e *script.Error) {
	if g.abort.CompareAndSwap(nil, e) {
		g.vm.Interrupt(e)
	}
}

// stopped returns the error that ended the run, if one did.
func (g *guard) stopped() *script.Error { return g.abort.Load() }

// fail ends the run with e now, from inside a built-in. The panic is of a
// kind that goja lets pass through catch and finally blocks.
func (g *guard) fail(e *script.Error) {
	g.stop(e)
	panic(&goja.InterruptedError{})
}

func (g *guard) timeout() *script.Error {
	return script.Errorf(script.ErrTimeout, g.name, "the run passed its time limit")
}

// tooBig fails the run because a built-in would build a value past a cap.
func (g *guard) tooBig(what string, size, cap int64, unit string) {
	g.fail(script.Errorf(script.ErrMemory, g.name,
		"%s would build %d %s, over the cap of %d for one value", what, size, unit, cap))
}

// check fails the run when it was stopped or passed its deadline. Go loops
// inside built-ins call it, since goja checks only between instructions.
func (g *guard) check() {
	if g.abort.Load() != nil {
		panic(&goja.InterruptedError{})
	}
	if !g.deadline.IsZero() && time.Now().After(g.deadline) {
		g.fail(g.timeout())
	}
}

// tick is check for tight loops: it looks at the clock every checkEvery
// steps.
func (g *guard) tick() {
	g.ticks++
	if g.ticks%checkEvery == 0 {
		g.check()
	}
}

// enter counts one level of native recursion and fails the run past
// maxNative; leave undoes it.
func (g *guard) enter(what string) {
	g.depth++
	if g.depth > maxNative {
		g.fail(script.Errorf(script.ErrLimit, g.name,
			"%s: values nest deeper than %d levels", what, maxNative))
	}
}

func (g *guard) leave() { g.depth-- }

// throwType throws a catchable TypeError.
func (g *guard) throwType(msg string) {
	panic(g.vm.NewTypeError(msg))
}

// call calls f and passes on what it threw, so that exceptions keep their
// meaning and a stopped run stays stopped.
func (g *guard) call(f goja.Callable, this goja.Value, args ...goja.Value) goja.Value {
	v, err := f(this, args...)
	if err != nil {
		panic(err)
	}
	return v
}

// native makes a Go function that scripts see as a built-in called name.
func (g *guard) native(name string, length int,
	fn builtin) *goja.Object {
	f := g.vm.ToValue(fn).(*goja.Object)
	g.nameIt(f, name, length)
	return f
}

// nameIt gives a Go function the name and length a built-in would have,
// instead of the Go name that goja derives, which would show in stack
// traces.
func (g *guard) nameIt(f *goja.Object, name string, length int) {
	_ = f.DefineDataProperty("name", g.vm.ToValue(name),
		goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if length > 0 {
		_ = f.DefineDataProperty("length", g.vm.ToValue(length),
			goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// method sets obj[name] to a built-in method, writable and configurable
// but not enumerable, as the originals are.
func (g *guard) method(obj *goja.Object, name string, f *goja.Object) {
	_ = obj.DefineDataProperty(name, f, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// wrap replaces obj[name] with a guarded version. build receives the
// original; nothing happens when obj[name] is not a function.
func (g *guard) wrap(obj *goja.Object, name string, length int,
	build wrapper) {
	if obj == nil {
		return
	}
	orig, ok := goja.AssertFunction(obj.Get(name))
	if !ok {
		return
	}
	g.method(obj, name, g.native(name, length, build(orig)))
}

// object returns the global object called name, or a property path below
// it, such as "Array", "prototype".
func (g *guard) object(path ...string) *goja.Object {
	v := g.vm.Get(path[0])
	for _, p := range path[1:] {
		o, ok := v.(*goja.Object)
		if !ok {
			return nil
		}
		v = o.Get(p)
	}
	o, _ := v.(*goja.Object)
	return o
}

// isProxy reports whether v is a Proxy, whose reads may run script code.
func isProxy(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	return ok && o.ExportType() == proxyType
}

// dataProp reads key from o and its prototypes without running script
// code. It throws a TypeError when the property is computed by a getter
// or the chain holds a proxy: such a value may differ between two reads,
// and the built-in that reads it after this check must see what the
// check saw. found is false when no object on the chain has the key.
func (g *guard) dataProp(o *goja.Object, key goja.Value, what string) (
	v goja.Value, found bool) {
	for i := 0; o != nil; i++ {
		if i == maxProtoWalk || o.ExportType() == proxyType {
			g.throwType(what + " is not supported on a proxy or a very deep prototype " +
				"chain in this sandbox")
		}
		d, ok := g.call(g.ownDesc, nil, o, key).(*goja.Object)
		if ok {
			if get := d.Get("get"); get != nil {
				g.throwType(what + " is not supported when '" + key.String() +
					"' is computed by a getter in this sandbox")
			}
			return d.Get("value"), true
		}
		o = o.Prototype()
	}
	return goja.Undefined(), false
}

// length returns LengthOfArrayLike(o) for a built-in about to walk o, and
// fails the run when it passes elemCap. A real array's length is a plain
// value; anything else is read with dataProp.
func (g *guard) length(o *goja.Object, what string) int64 {
	var v goja.Value
	if o.ClassName() == "Array" {
		v = o.Get("length")
	} else {
		v, _ = g.dataProp(o, g.vm.ToValue("length"), what)
	}
	n := toLength(v)
	if n > g.elemCap {
		g.fail(script.Errorf(script.ErrMemory, g.name,
			"%s on %d elements, over the cap of %d for one value", what, n, g.elemCap))
	}
	return n
}

// toLength is ToLength of the specification.
func toLength(v goja.Value) int64 {
	if v == nil {
		return 0
	}
	f := v.ToFloat()
	switch {
	case f != f || f <= 0:
		return 0
	case f >= 1<<53-1:
		return 1<<53 - 1
	}
	return int64(f)
}

// toObject is ToObject(this) for a method called on this.
func (g *guard) toObject(this goja.Value, what string) *goja.Object {
	if this == nil || goja.IsUndefined(this) || goja.IsNull(this) {
		g.throwType(what + " called on null or undefined")
	}
	return this.ToObject(g.vm)
}

// isArrayValue is IsArray of the specification, which sees through
// proxies.
func (g *guard) isArrayValue(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	if !ok {
		return false
	}
	if o.ClassName() == "Array" {
		return true
	}
	if o.ExportType() != proxyType {
		return false
	}
	return g.call(g.isArray, nil, o).ToBoolean()
}

// newGuard captures the originals it needs and guards the built-ins of a
// fresh runtime, before any script code runs in it.
func newGuard(vm *goja.Runtime) *guard {
	g := &guard{vm: vm}
	g.ownDesc, _ = goja.AssertFunction(g.object("Object").Get("getOwnPropertyDescriptor"))
	g.isArray, _ = goja.AssertFunction(g.object("Array").Get("isArray"))
	g.installCode()
	g.installStrings()
	g.installRegexp()
	g.installArrays()
	g.installBuffers()
	g.installJSON()
	g.installIterators()
	g.installProtos()
	return g
}
