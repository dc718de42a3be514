package jsvm

import (
	"fmt"

	"github.com/dop251/goja"
)

// hardenSource runs once in every new runtime, after the guards are in
// place and before any script. It freezes every built-in object a script
// can reach (the globals' values, the prototypes of iterators, generators
// and async functions, everything reachable from them through properties,
// accessors and prototypes), makes the built-in globals read-only and the
// global object closed to new properties. Each run then gets a global
// object of its own whose prototype is this one (see box.arm): what a run
// adds to its globals is gone with it, and nothing it can reach outlives
// it.
//
// Freezing a prototype makes plain assignment to an inherited property
// fail (err.name = "X" on an Error). For the properties scripts commonly
// assign that way, the data property is turned into an accessor whose
// setter defines the property on the object assigned to, so those
// assignments keep working.
const hardenSource = `(function () { return function (dirty) {
  "use strict";
  var O = Object, freeze = O.freeze, names = O.getOwnPropertyNames;
  var symbols = O.getOwnPropertySymbols, protoOf = O.getPrototypeOf;
  var desc = O.getOwnPropertyDescriptor, define = O.defineProperty;
  var extensible = O.isExtensible, ownKeys = Reflect.ownKeys;
  var del = Reflect.deleteProperty;
  var g = globalThis, S = Set, has = Set.prototype.has;
  var tamed = {constructor: 1, toString: 1, toLocaleString: 1, valueOf: 1,
    name: 1, message: 1, toJSON: 1};
  var queue = [], seen = new S();
  function add(v) {
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      queue.push(v);
    }
  }
  function tame(o, k, v, enumerable) {
    // Methods, not function expressions: they have no prototype object,
    // which the walk would tame again, and so on.
    var acc = {
      get() { return v; },
      set(x) {
        if (this === o) { throw new TypeError("cannot change a built-in: " + k); }
        define(this, k, {value: x, writable: true, enumerable: true,
          configurable: true});
      }
    };
    define(o, k, {enumerable: enumerable, configurable: false, get: acc.get,
      set: acc.set});
    add(acc.get); add(acc.set);
  }
  // What a run stores on a frozen object through a weak collection, and
  // keys added to the symbol registry, would outlive the run: such a run
  // marks its runtime to be dropped.
  var isFrozen = O.isFrozen, apply = Reflect.apply;
  function watchKey(proto, method) {
    var orig = proto[method];
    var m = {
      watched(key, value) {
        if ((typeof key === "object" || typeof key === "function") && key !== null &&
            isFrozen(key)) { dirty(); }
        return apply(orig, this, arguments);
      }
    };
    define(proto, method, {value: m.watched, writable: true, enumerable: false,
      configurable: true});
  }
  watchKey(WeakMap.prototype, "set");
  watchKey(WeakSet.prototype, "add");
  var symbolFor = Symbol.for;
  var sf = { for(key) { dirty(); return symbolFor(key); } };
  define(Symbol, "for", {value: sf.for, writable: true, enumerable: false,
    configurable: true});
  // Some built-ins are installed on first use; touch every global so that
  // the walk sees what scripts will see.
  var globals = names(g);
  for (var t = 0; t < globals.length; t++) { void g[globals[t]]; }
  globals = names(g);
  for (var i = 0; i < globals.length; i++) {
    var d = desc(g, globals[i]);
    add(d.value); add(d.get); add(d.set);
  }
  var hidden = [
    function () { return protoOf([][Symbol.iterator]()); },
    function () { return protoOf(new Map()[Symbol.iterator]()); },
    function () { return protoOf(new Set()[Symbol.iterator]()); },
    function () { return protoOf(""[Symbol.iterator]()); },
    function () { return protoOf(/a/[Symbol.matchAll]("a")); },
    function () { return protoOf(function* () {}); },
    function () { return protoOf(function* () {}()); },
    function () { return protoOf(async function () {}); },
    function () { return protoOf(Int8Array); },
    function () { return protoOf((function () { return arguments; })()); }
  ];
  for (var h = 0; h < hidden.length; h++) {
    try { add(hidden[h]()); } catch (e) {}
  }
  while (queue.length > 0) {
    var o = queue.pop();
    if (o === g || seen.has(o)) { continue; }
    seen.add(o);
    var keys = names(o).concat(symbols(o));
    for (var j = 0; j < keys.length; j++) {
      var k = keys[j], p = desc(o, k);
      if (p === undefined) { continue; }
      if ("value" in p) {
        add(p.value);
        if (p.writable && p.configurable && typeof k === "string" && tamed[k] === 1 &&
            typeof o !== "function") {
          tame(o, k, p.value, p.enumerable);
        }
      } else {
        add(p.get); add(p.set);
      }
    }
    add(protoOf(o));
  }
  seen.forEach(function (o) { freeze(o); });
  for (var n = 0; n < globals.length; n++) {
    var gd = desc(g, globals[n]);
    if (gd.configurable) {
      if ("value" in gd) {
        define(g, globals[n], {writable: false, configurable: false});
      } else {
        define(g, globals[n], {configurable: false});
      }
    }
  }
  O.preventExtensions(g);
}; })()`

var hardenProgram = goja.MustCompile("harden.js", hardenSource, true)

// harden freezes the built-ins of vm and returns the global object that
// runs' globals inherit from. dirty is called when a run stores something
// that would outlive it (see hardenSource); the runtime must then be
// dropped after the run.
func harden(vm *goja.Runtime, dirty func()) (*goja.Object, error) {
	v, err := vm.RunProgram(hardenProgram)
	if err != nil {
		return nil, fmt.Errorf("harden runtime: %w", err)
	}
	install, ok := goja.AssertFunction(v)
	if !ok {
		return nil, fmt.Errorf("harden runtime: no install function")
	}
	mark := vm.ToValue(func(goja.FunctionCall) goja.Value {
		dirty()
		return goja.Undefined()
	})
	if _, err := install(goja.Undefined(), mark); err != nil {
		return nil, fmt.Errorf("harden runtime: %w", err)
	}
	return vm.GlobalObject(), nil
}
