package jsvm

import (
	"fmt"
	"strings"
	"testing"
)

// drain empties the pool of frozen runtimes, so that the next runs share
// one runtime: each run's runtime goes back and is taken by the next.
func drain() {
	for {
		select {
		case <-frozenBoxes.ch:
		default:
			return
		}
	}
}

// TestCrossNumberAttacks runs a writer script of one number, then a reader
// script of another, on the same reused runtime. The reader must see
// nothing of the writer.
func TestCrossNumberAttacks(t *testing.T) {
	tests := []struct{ name, a, b, clean string }{
		{"promise job queued by a getter of the reply",
			`function handle(m) { return { get message() {
  Promise.resolve().then(function () {
    Object["define" + "Property"](globalThis, "JSON", {value: {stringify: function () {
      return "pwned " + m.body }}}) });
  return "a" } } }`,
			`function handle(m) { return JSON.stringify({x: 1}) }`, `{"x":1}`},
		{"typed array constructors",
			`function handle(m) { Uint8Array.leak = m.body; ArrayBuffer.leak = m.body;
  ArrayBuffer["proto" + "type"].slice = function () { return "sliced" }; return "a" }`,
			`function handle() { return String(Uint8Array.leak) + String(ArrayBuffer.leak) +
  typeof new ArrayBuffer(4).slice(0) }`, "undefinedundefinedobject"},
		{"accessors of tamed properties",
			`function handle(m) { Object["getOwnProperty" + "Descriptor"](
  Object.getPrototypeOf({}), "toString").get.leak = m.body; return "a" }`,
			`function handle() { return String(Object["getOwnProperty" + "Descriptor"](
  Object.getPrototypeOf({}), "toString").get.leak) }`, "undefined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := compile(t, tt.a), compile(t, tt.b)
			if a.fresh || b.fresh {
				t.Fatal("the attack runs in a fresh runtime; it tests nothing")
			}
			for range 3 {
				drain()
				runOnce(t, a, "SECRET-A")
				if got := runOnce(t, b, "x"); got != tt.clean {
					t.Fatalf("B saw %q, want %q", got, tt.clean)
				}
			}
		})
	}
}

// TestEverythingReachableIsFrozen walks every object a script can reach
// from the built-ins and checks that it is frozen.
func TestEverythingReachableIsFrozen(t *testing.T) {
	p := compile(t, `function handle() {
  var g = Object.getPrototypeOf(globalThis), seen = new Set(), open = [];
  var queue = [g, Object.getPrototypeOf([][Symbol.iterator]()),
    Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(new Map()[Symbol.iterator]()),
    Object.getPrototypeOf(""[Symbol.iterator]())];
  var gd = Object["getOwnProperty" + "Descriptors"];
  while (queue.length) {
    var o = queue.pop();
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) {
      continue;
    }
    seen.add(o);
    if (!Object.isFrozen(o) && o !== g) {
      open.push(Object["proto" + "type"].toString.call(o) + " " +
        (typeof o === "function" ? o.name : ""));
    }
    var ds = gd(o);
    for (var k of globalThis["Ref" + "lect"].ownKeys(ds)) {
      queue.push(ds[k].value, ds[k].get, ds[k].set);
    }
    queue.push(Object.getPrototypeOf(o));
  }
  return open.length + ":" + seen.size + ":" + open.slice(0, 5).join(",") }`)
	if p.fresh {
		t.Fatal("the walk runs in a fresh runtime; it tests nothing")
	}
	got := runOnce(t, p, "x")
	if !strings.HasPrefix(got, "0:") {
		t.Fatalf("objects a script can change: %s", got)
	}
	var open, seen int
	if _, err := fmt.Sscanf(got, "%d:%d:", &open, &seen); err != nil || seen < 500 {
		t.Errorf("the walk saw only %d objects: %s", seen, got)
	}
}

// reused counts the runtimes in the pool that have served a run; runtimes
// the pool prepared afresh have served none.
func reused() int {
	n := 0
	for {
		select {
		case b := <-frozenBoxes.ch:
			if b.runs > 0 {
				n++
			}
		default:
			return n
		}
	}
}

// TestRetainingRunsDropTheirRuntime: a run that stores a value on a frozen
// object through a weak map, or adds to the symbol registry, does not hand
// its runtime to the next run.
func TestRetainingRunsDropTheirRuntime(t *testing.T) {
	for _, src := range []string{
		`function handle(m) { new WeakMap().set(Object.getPrototypeOf({}), m.body); return "a" }`,
		`function handle(m) { new WeakSet().add(Math); return "a" }`,
		`function handle(m) { Symbol.for("k" + m.body); return "a" }`,
	} {
		p := compile(t, src)
		drain()
		runOnce(t, p, "x")
		if reused() != 0 {
			t.Errorf("%s: the runtime went back to the pool", src)
		}
	}
	plain := compile(t, `function handle(m) { new WeakMap().set({}, 1); return "a" }`)
	drain()
	runOnce(t, plain, "x")
	if reused() != 1 {
		t.Error("a run that keeps nothing did not give its runtime back")
	}
}
