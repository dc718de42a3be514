package jsvm

import (
	"github.com/dop251/goja"
)

// installIterators makes every step of the array and string iterators a
// check of the run. goja walks them in Go for spread (`[...s]`,
// `f(...a)`), Array.from, new Map, new Set and Promise.all, so one spread
// of a string built up by concatenation would run out of reach of the
// deadline and of the watchdog.
func (g *guard) installIterators() {
	for _, v := range []goja.Value{g.vm.NewArray(), g.vm.ToValue("").ToObject(g.vm)} {
		o := v.(*goja.Object)
		iter, ok := goja.AssertFunction(o.GetSymbol(goja.SymIterator))
		if !ok {
			continue
		}
		it, err := iter(o)
		if err != nil {
			continue
		}
		if proto := it.(*goja.Object).Prototype(); proto != nil {
			g.wrap(proto, "next", 0, g.iterNext)
		}
	}
}

func (g *guard) iterNext(orig goja.Callable) builtin {
	return func(c goja.FunctionCall) goja.Value {
		g.tick()
		return g.call(orig, c.This)
	}
}
