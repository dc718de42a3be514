package jsvm

import (
	"reflect"

	"github.com/dop251/goja"
)

// lazyType is what goja reports as the export type of the objects the
// host makes lazily (msg, msg.params, ctx).
var lazyType = reflect.TypeOf(&lazy{})

// installProtos keeps prototype chains finite. goja refuses a cyclic
// prototype for an ordinary object, but its check stops at a Proxy, and
// its host-made (dynamic) objects take any prototype, themselves
// included. Either way a cycle made property reads recurse in Go until
// the process died of a stack overflow, or loop where no time limit
// reaches. So scripts get no Proxy, and the prototype of a host-made
// object cannot be changed; every other prototype change keeps goja's
// check, which without proxies is complete.
func (g *guard) installProtos() {
	_ = g.vm.GlobalObject().Delete("Proxy")
	g.wrap(g.object("Object"), "setPrototypeOf", 2, g.setProto(0))
	g.wrap(g.object("Reflect"), "setPrototypeOf", 2, g.setProto(0))

	proto := g.object("Object", "prototype")
	desc := g.call(g.ownDesc, nil, proto, g.vm.ToValue("__proto__")).ToObject(g.vm)
	get, set := desc.Get("get"), desc.Get("set")
	orig, ok := goja.AssertFunction(set)
	if !ok {
		return
	}
	setter := g.native("set __proto__", 1, func(c goja.FunctionCall) goja.Value {
		g.refuseHostProto(c.This)
		return g.call(orig, c.This, c.Arguments...)
	})
	_ = proto.DefineAccessorProperty("__proto__", get, setter, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// setProto guards a setPrototypeOf whose target is argument target.
func (g *guard) setProto(target int) wrapper {
	return func(orig goja.Callable) builtin {
		return func(c goja.FunctionCall) goja.Value {
			g.refuseHostProto(c.Argument(target))
			return g.call(orig, c.This, c.Arguments...)
		}
	}
}

// refuseHostProto throws a TypeError when v is an object the host made
// lazily.
func (g *guard) refuseHostProto(v goja.Value) {
	if o, ok := v.(*goja.Object); ok && o.ExportType() == lazyType {
		g.throwType("the prototype of msg, msg.params and ctx cannot be changed")
	}
}
