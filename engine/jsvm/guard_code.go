package jsvm

import (
	"strings"

	"github.com/dop251/goja"

	"github.com/lamlhost/lamlhost/engine/script"
)

// ctorProbe reaches the prototypes of async and generator functions, whose
// constructors have no global name.
var ctorProbe = goja.MustCompile("probe",
	`[Object.getPrototypeOf(async function () {}), Object.getPrototypeOf(function* () {})]`,
	true)

// installCode makes every way to compile code at run time check the source
// first, as the loader does: eval, Function, and the constructors of async
// and generator functions. goja's parser recurses once per level of
// nesting on the Go stack, where a deep enough source ends the process.
// eval becomes indirect: it runs in the global scope.
func (g *guard) installCode() {
	global := g.vm.GlobalObject()
	if orig, ok := goja.AssertFunction(g.vm.Get("eval")); ok {
		g.method(global, "eval", g.native("eval", 1, func(c goja.FunctionCall) goja.Value {
			x := c.Argument(0)
			if !goja.IsString(x) {
				return x
			}
			g.checkCode(x.String())
			return g.call(orig, goja.Undefined(), x)
		}))
	}
	fn := g.object("Function")
	w := g.codeCtor("Function", fn)
	g.method(global, "Function", w)
	g.method(g.object("Function", "prototype"), "constructor", w)

	probe, err := g.vm.RunProgram(ctorProbe)
	if err != nil {
		return
	}
	protos := probe.(*goja.Object)
	for i, name := range []string{"AsyncFunction", "GeneratorFunction"} {
		p, ok := protos.Get(string(rune('0' + i))).(*goja.Object)
		if !ok {
			continue
		}
		if ctor, ok := p.Get("constructor").(*goja.Object); ok {
			cw := g.codeCtor(name, ctor)
			_ = cw.SetPrototype(w)
			_ = p.DefineDataProperty("constructor", cw,
				goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		}
	}
}

// codeCtor wraps a function constructor: the parameters and body are
// turned into text once, checked, and handed to the original.
func (g *guard) codeCtor(name string, orig *goja.Object) *goja.Object {
	ctor, _ := goja.AssertConstructor(orig)
	w := g.constructor(name, 1, orig, ctor, func(in []goja.Value) []goja.Value {
		args := make([]goja.Value, len(in))
		parts := make([]string, len(in))
		for i, a := range in {
			s := g.str(a)
			args[i], parts[i] = s, s.String()
		}
		g.checkCode(strings.Join(parts, ",\n"))
		return args
	})
	return w
}

// checkCode applies the loader's limits on size and nesting to code made
// at run time, and stops the run when they are passed.
func (g *guard) checkCode(src string) {
	if err := script.CheckSource(g.name, []byte(src)); err != nil {
		g.fail(script.Errorf(script.ErrLimit, g.name, "code made at run time: %s", err.Msg))
	}
}
