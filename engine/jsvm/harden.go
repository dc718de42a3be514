package jsvm

import (
	"fmt"

	"github.com/dop251/goja"
)

// hardenSource runs once in every new runtime, after the guards are in
// place and before any script. It freezes every built-in object a script
// can reach (the globals' values, the prototypes of iterators, generators
// and async functions, everything reachable from them through properties,
// accessors and prototypes) and makes the built-in globals read-only. A
// run can then change nothing that outlives it but the global object's own
// new properties, which the returned reset function removes.
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
  var pristine = new S(ownKeys(g)), count = pristine.size, proto = protoOf(g);
  return function reset() {
    if (protoOf(g) !== proto || !extensible(g)) { return false; }
    var now = ownKeys(g);
    if (now.length === count) { return true; }
    for (var r = 0; r < now.length; r++) {
      var key = now[r];
      if (pristine.has(key)) { continue; }
      if (!del(g, key)) {
        var rd = desc(g, key);
        if (!("value" in rd) || !rd.writable) { return false; }
        g[key] = undefined;
      }
    }
    return true;
  };
})()`

var hardenProgram = goja.MustCompile("harden.js", hardenSource, true)

// harden freezes the built-ins of vm and returns the function that undoes
// a run's changes to the global object. It reports false when the run left
// something it cannot undo; the runtime must then be dropped.
func harden(vm *goja.Runtime) (func() bool, error) {
	v, err := vm.RunProgram(hardenProgram)
	if err != nil {
		return nil, fmt.Errorf("harden runtime: %w", err)
	}
	reset, ok := goja.AssertFunction(v)
	if !ok {
		return nil, fmt.Errorf("harden runtime: no reset function")
	}
	return func() bool {
		ok, err := reset(goja.Undefined())
		return err == nil && ok.ToBoolean()
	}, nil
}
