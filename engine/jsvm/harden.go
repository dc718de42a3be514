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
const hardenSource = `(function () {
  "use strict";
  var O = Object, freeze = O.freeze, names = O.getOwnPropertyNames;
  var symbols = O.getOwnPropertySymbols, protoOf = O.getPrototypeOf;
  var desc = O.getOwnPropertyDescriptor, define = O.defineProperty;
  var extensible = O.isExtensible, ownKeys = Reflect.ownKeys;
  var del = Reflect.deleteProperty;
  var g = globalThis, S = Set, has = Set.prototype.has;
  var tamed = {constructor: 1, toString: 1, toLocaleString: 1, valueOf: 1,
    name: 1, message: 1, toJSON: 1};
  function tame(o, k, v, enumerable) {
    define(o, k, {enumerable: enumerable, configurable: false,
      get: function () { return v; },
      set: function (x) {
        if (this === o) { throw new TypeError("cannot change a built-in: " + k); }
        define(this, k, {value: x, writable: true, enumerable: true,
          configurable: true});
      }});
  }
  var queue = [], seen = new S();
  function add(v) {
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      queue.push(v);
    }
  }
  var globals = names(g);
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
})()`

var hardenProgram = goja.MustCompile("harden.js", hardenSource, true)

// harden freezes the built-ins of vm and returns the global object that
// runs' globals inherit from.
func harden(vm *goja.Runtime) (*goja.Object, error) {
	if _, err := vm.RunProgram(hardenProgram); err != nil {
		return nil, fmt.Errorf("harden runtime: %w", err)
	}
	return vm.GlobalObject(), nil
}
