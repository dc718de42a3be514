package jsvm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func runOnce(t *testing.T, p *Program, body string) string {
	t.Helper()
	m := *msg
	m.Body = body
	v, err := p.Run(context.Background(), &m, env(time.Second))
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

// TestReusedRuntimesKeepNothing runs scripts that try every way to leave
// state in a shared, frozen runtime, then scripts that look for it. None
// of the tries may be seen, whichever runtime the next run gets.
func TestReusedRuntimesKeepNothing(t *testing.T) {
	writers := []struct{ name, src string }{
		{"global by assignment", `function handle(m) { leak = m.body; return "w" }`},
		{"global by var at top level",
			`var leak = "top"; function handle(m) { leak = m.body; return "w" }`},
		{"global on globalThis", `function handle(m) { globalThis.leak = m.body; return "w" }`},
		{"let at top level", `let leak = []; function handle(m) { leak.push(1);
  return String(leak.length) }`},
		{"frozen prototype", `function handle(m) {
  var AP = Object.getPrototypeOf([]); AP.leak = m.body;
  Object.getPrototypeOf("").leak = m.body; return "w" }`},
		{"prototype of the global", `function handle(m) {
  Object["setPrototype" + "Of"](globalThis, {leak: m.body}); return "w" }`},
		{"read-only global", `function handle(m) {
  Object["define" + "Property"](globalThis, "leak", {value: m.body}); return "w" }`},
		{"non-extensible global", `function handle(m) {
  globalThis.leak = m.body; Object["prevent" + "Extensions"](globalThis); return "w" }`},
		{"hidden iterator prototype", `function handle(m) {
  var ip = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  ip.leak = m.body; return "w" }`},
		{"tamed name", `function handle(m) {
  var e = new Error("x"); e.name = "Mine"; TypeError.name; return e.name }`},
	}
	reader := compile(t, `function handle(m) {
  return [typeof leak, typeof [].leak, typeof "".leak,
    typeof Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())).leak,
    Object.isExtensible(globalThis), new Error("y").name].join(",") }`)
	const clean = "undefined,undefined,undefined,undefined,true,Error"
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			p := compile(t, w.src)
			for i := range 3 {
				got := runOnce(t, p, "secret")
				if w.name == "let at top level" && got != "1" {
					t.Errorf("run %d: top-level let kept its value: %s", i, got)
				}
				if w.name == "tamed name" && got != "Mine" {
					t.Errorf("assigning an inherited name failed: %s", got)
				}
				for range 4 {
					if got := runOnce(t, reader, "x"); got != clean {
						t.Fatalf("after %q the next run sees %s", w.name, got)
					}
				}
			}
		})
	}
}

// TestPrototypeChangesRunFresh: a script that changes built-ins runs in a
// runtime of its own, so the change works in its run and nowhere else
// (case J4).
func TestPrototypeChangesRunFresh(t *testing.T) {
	p := compile(t, `function handle(m) {
  if (Array.prototype.sneaky) return "polluted";
  Array.prototype.sneaky = function () { return 1; };
  return String([].sneaky()) }`)
	if !p.fresh {
		t.Fatal("a script that changes Array.prototype shares frozen runtimes")
	}
	for i := range 3 {
		if got := runOnce(t, p, "x"); got != "1" {
			t.Fatalf("run %d: %s", i, got)
		}
	}
	if compile(t, `function handle(m) { return m.body }`).fresh {
		t.Error("a plain script runs in a fresh runtime")
	}
}

// TestErrorLocationsAfterWrapping: the wrapper keeps line numbers and the
// columns of the first line.
func TestErrorLocationsAfterWrapping(t *testing.T) {
	_, err := Compiler{}.Compile("x.js", []byte("function handle( {"))
	if err == nil || !containsAll(err.Error(), "x.js:1:") {
		t.Fatalf("got %v", err)
	}
	p := compile(t, "function handle(m) {\n  return m.nosuch.field\n}")
	got := runOnce(t, p, "x")
	if !containsAll(got, "test.js:2:") {
		t.Errorf("got %s", got)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestBreakoutRefused: a script that closes the function it is wrapped in
// would declare globals that outlive its run; it is refused at load.
func TestBreakoutRefused(t *testing.T) {
	for _, src := range []string{
		"})(); let stash = []; (function () { function handle(m) { return 1 }",
		"})(); var x = 1; (function () { function handle(m) { return 1 }",
		"})(), (function () { function handle(m) { return 1 }",
	} {
		_, err := Compiler{}.Compile("x.js", []byte(src))
		if src[4] == ',' {
			if err != nil {
				t.Errorf("%q: %v (an expression declares nothing)", src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "closes more brackets") {
			t.Errorf("%q: got %v", src, err)
		}
	}
}
