package jsvm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Attacks on the arguments a JS handler receives: msg, msg.params and ctx
// are dynamic objects whose properties are made when first read, and they
// run in frozen runtimes that serve one run after another, whatever the
// number. One run must never see or change anything of another: these
// tests try to keep a reference to them, or to what they were made from,
// beyond the run, and to make them misbehave within it.

// settle waits until no spares are being prepared in the background, then
// empties the pool, so that a box put back after a run is the only one in
// it.
func settle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for frozenBoxes.refilling.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the pool of runtimes kept refilling")
		}
		time.Sleep(time.Millisecond)
	}
	drain()
}

// onBox runs p on the box b exactly as Program.Run does, and reports
// whether b went back to the pool, that is whether it would serve the
// next run of any number. b is taken out of the pool again.
func onBox(t testing.TB, p *Program, b *box, m *script.Message, e *script.Env) (string, bool) {
	t.Helper()
	settle(t)
	ctx, cancel := context.WithTimeout(context.Background(), e.Limits.WithDefaults().Timeout)
	defer cancel()
	r := newRun(ctx, p, e, b)
	v, err := r.run(m, e)
	r.close()
	kept := false
	for len(frozenBoxes.ch) > 0 {
		if <-frozenBoxes.ch == b {
			kept = true
		}
	}
	if err != nil {
		return "error: " + err.Error(), kept
	}
	return fmt.Sprint(v), kept
}

// testVars is the vars table of the number in logEnv.
func testVars() map[string]any {
	return map[string]any{"greeting": "hi", "list": []any{"a", "b"}}
}

// logEnv is an environment whose console output goes to buf.
func logEnv(buf *bytes.Buffer) *script.Env {
	return &script.Env{
		Number: "+15550100099",
		Vars:   testVars(),
		Logger: slog.New(slog.NewTextHandler(buf, nil)),
		Limits: script.Limits{Timeout: 2 * time.Second},
	}
}

// formMessage parses body as a webhook form.
func formMessage(t testing.TB, body string) *script.Message {
	t.Helper()
	form, err := script.ParseForm(body)
	if err != nil {
		t.Fatal(err)
	}
	return script.MessageFromForm(form)
}

const secretForm = "From=%2B15550100001&To=%2B15550100098&Body=SECRET-A&MessageSid=SMSECRET" +
	"&OnlyInA=SECRET-A&MediaUrl0=https%3A%2F%2Fsecret.example%2Fa&MediaContentType0=image%2Fpng"

const plainForm = "From=%2B15550100002&To=%2B15550100099&Body=x&MessageSid=SMx&Digits=1"

// leakReader looks wherever a previous run might have left something and
// describes what it sees of its own message.
const leakReader = `function handle(m, ctx) {
  var seen = [];
  function look(name, o) {
    try {
      if (o === null || o === undefined) { return; }
      var v = o.leak;
      if (v !== undefined) { seen.push(name + "=" + String(v)); }
    } catch (e) { seen.push(name + " threw " + e); }
  }
  look("Object proto", Object.getPrototypeOf({}));
  look("Object", Object); look("Math", Math); look("JSON", JSON);
  look("Array proto", Object.getPrototypeOf([]));
  look("func proto", Object.getPrototypeOf(Object));
  look("globalThis", globalThis);
  look("global's proto", Object.getPrototypeOf(globalThis));
  look("msg's proto", Object.getPrototypeOf(m));
  look("msg.constructor", m.constructor);
  look("params' proto", Object.getPrototypeOf(m.params));
  look("ctx's proto", Object.getPrototypeOf(ctx));
  look("media's proto", Object.getPrototypeOf(m.media));
  if (typeof leak !== "undefined") { seen.push("global leak=" + leak); }
  if (typeof later !== "undefined") { seen.push("global later"); }
  console.log("reader " + m.body);
  return [m.from, m.to, m.body, m.sid, m.params.Body, String(m.params.OnlyInA),
    m.media.length, Object.keys(m).join(), Object.keys(m.params).join(),
    Object.keys(ctx).join(), JSON.stringify(m), ctx.number,
    Object.keys(ctx.vars).sort().map(function (k) {
      return k + "=" + JSON.stringify(ctx.vars[k]) }).join(),
    String(m), String(m.params), "media" in m, "OnlyInA" in m.params,
    [].join.call(m), seen.join(";")].join("\n");
}`

// TestLazyArgumentsLeaveNothingBehind runs, on one reused runtime, a
// script that tries to keep msg, msg.params, ctx or their values beyond
// its run, then a script of another number that looks for them. The
// reader must see exactly what it sees on a runtime that never served
// anyone, and nothing of the secret message in its values or its log.
func TestLazyArgumentsLeaveNothingBehind(t *testing.T) {
	writers := []struct {
		name string
		src  string // a handle body, or a whole script when it defines handle
		kept bool   // the runtime serves again after the writer's run
	}{
		{"properties on msg's prototype", `var P = Object.getPrototypeOf(m);
  P.leak = m.body; P.keys = function () { return m };
  try { (function () { "use strict"; P.leak = m.body })() } catch (e) {}
  Object.getPrototypeOf(m.params).leak = m.params.OnlyInA;
  Object.getPrototypeOf(ctx).leak = ctx.number; return "w"`, true},
		{"properties on msg.constructor", `m.constructor.leak = m.body;
  m.constructor.keys = function () { return ["leak"] };
  try { m.params.constructor.leak = m } catch (e) {} return "w"`, true},
		{"msg's prototype replaced", `var o = {leak: m.body};
  m["__pro" + "to__"] = o; m.params["__pro" + "to__"] = o; ctx["__pro" + "to__"] = o;
  Object["setPrototype" + "Of"](m.media, o);
  return String(Object.getPrototypeOf(m) === o)`, false},
		{"msg as the global object's prototype", `var sp = Object["setPrototype" + "Of"];
  sp(globalThis, m); return "w"`, true},
		{"symbol keys on msg", `m[Symbol.iterator] = function* () { yield m.body };
  m[Symbol.toStringTag] = m.body; m.params[Symbol.toPrimitive] = function () { return m.body };
  try { (function () { "use strict"; m[Symbol.iterator] = 1 })() } catch (e) {}
  return String(m[Symbol.iterator])`, true},
		{"accessors defined on msg", `var def = Object["define" + "Property"], n = 0;
  try { def(m, "body", {get: function () { return "x" }}) } catch (e) { n++ }
  try { def(m.params, "Body", {value: "v", enumerable: false}) } catch (e) { n++ }
  try { def(Object.getPrototypeOf(m), "leak", {get: function () { return m.body }}) }
  catch (e) { n++ }
  try { def(m, "sid", {value: "fixed", writable: false}) } catch (e) { n++ }
  return String(n)`, true},
		{"toJSON on msg", `m.toJSON = function () {
    try { Object.getPrototypeOf(this).leak = this.body } catch (e) {}
    try { JSON.leak = this.body } catch (e) {}
    return this.body };
  m.params.toJSON = m.toJSON; ctx.toJSON = m.toJSON;
  return JSON.stringify([m, m.params, ctx])`, true},
		{"msg spread into built-ins", `var as = Object["ass" + "ign"], n = 0;
  try { as(Math, m) } catch (e) { n++ }
  try { as(Object.getPrototypeOf({}), {leak: m.body}) } catch (e) { n++ }
  try { as(Object.getPrototypeOf(globalThis), m.params) } catch (e) { n++ }
  var s = {...m, ...m.params, ...ctx}; as(globalThis, m.params);
  return n + " " + Object.keys(s).length`, true},
		{"promise jobs holding msg", `var p = Promise.resolve(m);
  for (var i = 0; i < 50; i++) {
    p = p.then(function (v) { globalThis.later = v;
      try { Object.getPrototypeOf({}).leak = v.body } catch (e) {} return v });
  }
  return { get message() {
    p.then(function (v) { return v }).then(function (v) { console.log("late " + v.body) });
    return "w" } }`, true},
		{"async handle that awaits after reading msg", `async function handle(m) {
  await null; globalThis.later = m.params;
  Promise.resolve().then(function () { console.log("job " + m.body) });
  await Promise.resolve();
  return "w" }`, true},
		{"an error carrying msg", `var e = new Error("carry"); e.m = m; e.p = m.params; throw e`,
			false},
		{"array methods on msg", `m.length = 2; [].push.call(m, m.body); [].sort.call(m);
  [].reverse.call(m); Array.from(m); [].concat.call(m, m.params);
  try { [].push.call(Object.getPrototypeOf([]), m.body) } catch (e) {}
  return [].join.call(m, "|")`, true},
		{"with statement over msg", `with (m) { leak = body } with (m.params) { later = OnlyInA }
  return leak`, true},
		{"indirect code run on msg's text", `globalThis["ev" + "al"]("var leak = " +
    JSON.stringify(m.body)); return leak`, true},
		{"property descriptors of msg", `var gd = Object["getOwnProperty" + "Descriptor"];
  var d = gd(m, "params"); d.value.leak = m.body;
  try { Object.getPrototypeOf(d).leak = m.body } catch (e) {}
  return typeof d.get`, true},
		{"vars and now changed", `ctx.vars.greeting = m.body; ctx.vars.list.push(m.body);
  ctx.now.leak = m.body; delete ctx.vars.list; return JSON.stringify(ctx.vars)`, true},
		{"msg as a weak map value keyed by a built-in",
			`new WeakMap([[Object.getPrototypeOf({}), m]]);
  return "w"`, false},
	}
	baseline, _ := onBox(t, compile(t, leakReader), newBox(true), formMessage(t, plainForm),
		logEnv(&bytes.Buffer{}))
	if strings.HasPrefix(baseline, "error") || !strings.Contains(baseline, "SMx") {
		t.Fatalf("the reader fails on its own: %s", baseline)
	}
	t.Logf("the reader on a new runtime:\n%s", baseline)
	reader := compile(t, leakReader)
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			src := w.src
			if !strings.Contains(src, "function handle") {
				src = "function handle(m, ctx) { " + src + " }"
			}
			p := compile(t, src)
			if p.fresh || reader.fresh {
				t.Fatal("the script runs in a fresh runtime; it tests nothing")
			}
			b := newBox(true)
			var wlog bytes.Buffer
			wenv := logEnv(&wlog)
			got, kept := onBox(t, p, b, formMessage(t, secretForm), wenv)
			t.Logf("writer: %s", got)
			if !reflect.DeepEqual(wenv.Vars, testVars()) {
				t.Fatalf("the writer changed the configured vars: %v", wenv.Vars)
			}
			if strings.Contains(w.src, "console.log") &&
				!strings.Contains(wlog.String(), "SECRET-A") {
				t.Fatalf("the writer's jobs did not run in its own run: %q", wlog.String())
			}
			if kept != w.kept {
				t.Fatalf("the writer's runtime serves again: %v, want %v (%s)", kept, w.kept, got)
			}
			if !kept {
				b = newBox(true) // the next run gets another runtime
			}
			for i := range 2 {
				var rlog bytes.Buffer
				seen, again := onBox(t, reader, b, formMessage(t, plainForm), logEnv(&rlog))
				if seen != baseline {
					t.Fatalf("run %d of the reader sees\n%s\nwant\n%s", i, seen, baseline)
				}
				if strings.Contains(seen+rlog.String(), "SECRET") {
					t.Fatalf("the reader's run shows the secret: %s\n%s", seen, rlog.String())
				}
				if !again {
					t.Fatal("the reader's runtime was dropped")
				}
			}
		})
	}
}

// TestLazyParamsFollowTheirMessage runs many messages with different
// parameters through one runtime; every run sees its own parameters, in
// every way a script can read them, and nothing a previous run wrote.
// Writes stay in the script: the message handed to the run is unchanged.
func TestLazyParamsFollowTheirMessage(t *testing.T) {
	p := compile(t, `function handle(m) {
  var out = [m.params.Body, m.params.Only, "Only" in m.params, "Stale" in m.params,
    Object.keys(m.params).join(), JSON.stringify(m.params), Object.keys({...m.params}).length,
    typeof m.params.Stale];
  for (var k in m.params) { out.push(k + "=" + m.params[k]); }
  m.params.Stale = "written"; m.params.Body = "overwritten"; delete m.params.Only;
  m.body = "overwritten"; delete m.from; m.media.push({url: "x"});
  return out.join("|") }`)
	if p.fresh {
		t.Fatal("the script runs in a fresh runtime; it tests nothing")
	}
	b := newBox(true)
	for i := range 40 {
		body := fmt.Sprintf("b%d", i)
		form := "Body=" + body + "&Only=o" + body + "&N" + body + "=1&Body=second"
		m := formMessage(t, form)
		before := *m
		beforeParams := append(script.Form(nil), m.Params...)
		got, kept := onBox(t, p, b, m, env(2*time.Second))
		nb := "N" + body
		want := strings.Join([]string{body, "o" + body, "true", "false",
			"Body," + nb + ",Only",
			fmt.Sprintf(`{"Body":%q,%q:"1","Only":"o%s"}`, body, nb, body), "3", "undefined",
			"Body=" + body, nb + "=1", "Only=o" + body}, "|")
		if got != want {
			t.Fatalf("run %d: got\n%s\nwant\n%s", i, got, want)
		}
		if !kept {
			t.Fatalf("run %d: the runtime was dropped", i)
		}
		if m.Body != before.Body || m.From != before.From || len(m.Media) != len(before.Media) ||
			!reflect.DeepEqual(m.Params, beforeParams) {
			t.Fatalf("run %d changed the message: %+v", i, m)
		}
	}
}

// TestLazyPropertiesAreMadeOnce: a property found by `in`, hasOwnProperty
// or a descriptor is the value read next, and stays the same object.
func TestLazyPropertiesAreMadeOnce(t *testing.T) {
	tests := []struct{ src, want string }{
		{`var a = "params" in m; return String(a && m.params === m.params)`, "true"},
		{`var h = ({}).hasOwnProperty.call(m, "media"); var x = m.media; x.push(1);
  return h + " " + m.media.length`, "true 1"},
		{`var d = Object["getOwnProperty" + "Descriptor"](m, "params");
  return String(d.value === m.params && d.writable && d.enumerable && d.configurable)`, "true"},
		{`var v = ctx.vars; v.greeting = "changed"; return ctx.vars.greeting + ("vars" in ctx)`,
			"changedtrue"},
		{`delete m.params; return ("params" in m) + " " + typeof m.params + " " +
  Object.keys(m).join()`, "false undefined from,to,body,sid,media"},
		{`var p = m.params; delete m.params; m.params = p;
  return String(m.params === p && "Digits" in m.params)`, "true"},
		{`return String("toString" in m) + ("nosuch" in m.params) +
  ({}).hasOwnProperty.call(m, "toString")`,
			"truefalsefalse"},
	}
	for _, tt := range tests {
		p := compile(t, "function handle(m, ctx) { "+tt.src+" }")
		if p.fresh {
			t.Fatalf("%s runs in a fresh runtime", tt.src)
		}
		got, err := p.Run(context.Background(), formMessage(t, plainForm), logEnv(&bytes.Buffer{}))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v, want %q", tt.src, got, err, tt.want)
		}
	}
}

// TestLazyObjectModelFailsAsScriptErrors: what a dynamic object refuses
// (accessors, symbols in strict code, private names, freezing, instanceof
// against it) is a TypeError the script can catch, never a Go panic.
func TestLazyObjectModelFailsAsScriptErrors(t *testing.T) {
	for _, src := range []string{
		`(function () { "use strict"; m[Symbol.iterator] = 1 })()`,
		`Object["define" + "Property"](m, "x", {get: function () { return 1 }})`,
		`Object["define" + "Property"](m.params, "x", {value: 1, configurable: false})`,
		`Object["free" + "ze"](m)`,
		`Object["se" + "al"](ctx)`,
		`Object["prevent" + "Extensions"](m.params)`,
		`({}) instanceof m`,
		`new m()`,
		`m()`,
	} {
		p := compile(t, "function handle(m, ctx) { "+src+"; return 'no error' }")
		if p.fresh {
			t.Fatalf("%s runs in a fresh runtime", src)
		}
		got, err := p.Run(context.Background(), msg, env(time.Second))
		if !errors.Is(err, script.ErrRuntime) || !strings.Contains(err.Error(), "TypeError") {
			t.Errorf("%s: got %v, %v, want a TypeError", src, got, err)
		}
		caught := compile(t, "function handle(m, ctx) { try { "+src+
			" } catch (e) { return e.name } return 'no error' }")
		if got, err := caught.Run(context.Background(), msg, env(time.Second)); err != nil ||
			got != "TypeError" {
			t.Errorf("%s, caught: got %v, %v", src, got, err)
		}
	}
}

// TestLazyArrayMethodsOnMsg: Array.prototype methods work on msg as on any
// array-like object, within the caps.
func TestLazyArrayMethodsOnMsg(t *testing.T) {
	tests := []struct{ src, want string }{
		{`m.length = 3; [].push.call(m, "a"); return [].join.call(m, "|") + " " + m.length`,
			"|||a 4"},
		{`m.length = 2; m[0] = "b"; m[1] = "a"; [].reverse.call(m);
  return m[0] + m[1] + [].indexOf.call(m, "a")`, "ab0"},
		{`m.length = 2; m[0] = 2; m[1] = 1; [].sort.call(m); return m[0] + "" + m[1]`, "12"},
		{`m.length = 3; return Array.from(m).length + " " +
  [].map.call(m, function () { return 1 }).length + " " + [].concat(m).length`, "3 3 1"},
		{`return [].join.call(m) + "|" + [].slice.call(m.params).length`, "|0"},
		{`m.length = 2 ** 40; try { [].indexOf.call(m, 1) } catch (e) { return "caught" }`,
			"error: memory"},
	}
	for _, tt := range tests {
		p := compile(t, "function handle(m, ctx) { "+tt.src+" }")
		if p.fresh {
			t.Fatalf("%s runs in a fresh runtime", tt.src)
		}
		got, err := p.Run(context.Background(), msg, env(time.Second))
		if strings.HasPrefix(tt.want, "error: ") {
			if !errors.Is(err, script.ErrMemory) {
				t.Errorf("%s: got %v, %v, want a memory error", tt.src, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v, want %q", tt.src, got, err, tt.want)
		}
	}
}

// TestLazyLoopsKeepTheTimeLimit: loops over the dynamic objects' own
// operations stop at the deadline like any other loop.
func TestLazyLoopsKeepTheTimeLimit(t *testing.T) {
	const limit = 300 * time.Millisecond
	for _, src := range []string{
		`for (;;) { m.x = 1; delete m.x }`,
		`for (;;) { Object.keys(m.params) }`,
		`for (;;) { "nosuch" in m.params; m.params.nosuch }`,
		`for (;;) { for (var k in ctx) { ctx[k] } }`,
		`for (var i = 0; ; i++) { m["k" + (i % 1000)] = i; JSON.stringify(m) }`,
	} {
		p := compile(t, "function handle(m, ctx) { "+src+" }")
		if p.fresh {
			t.Fatalf("%s runs in a fresh runtime", src)
		}
		start := time.Now()
		_, err := p.Run(context.Background(), msg, env(limit))
		took := time.Since(start)
		if !errors.Is(err, script.ErrTimeout) && !errors.Is(err, script.ErrMemory) {
			t.Errorf("%s: got %v, want a timeout", src, err)
		}
		if took > limit+400*time.Millisecond {
			t.Errorf("%s: stopped after %v", src, took)
		}
	}
}

// TestBoxRetiresAfterMaxRuns: a reused runtime is dropped after its
// maxRuns-th run, however clean.
func TestBoxRetiresAfterMaxRuns(t *testing.T) {
	p := compile(t, `function handle(m) { return m.body }`)
	b := newBox(true)
	if _, kept := onBox(t, p, b, msg, env(time.Second)); !kept {
		t.Fatal("a clean run dropped its runtime")
	}
	b.runs = maxRuns - 1
	if got, kept := onBox(t, p, b, msg, env(time.Second)); kept || got != "hello" {
		t.Fatalf("run %d: got %q, kept %v; want the runtime retired", maxRuns, got, kept)
	}
}

// TestPrivateFieldsOnBuiltinsAreNotSeenLater: a private field added to a
// frozen built-in belongs to one evaluation of a class; the same script's
// next run evaluates a new class and cannot read it.
func TestPrivateFieldsOnBuiltinsAreNotSeenLater(t *testing.T) {
	p := compile(t, `function handle(m) {
  class Base { constructor(o) { return o } }
  class Stash extends Base { #keep = m.body; static has(o) { return #keep in o }
    static read(o) { return o.#keep } }
  var op = Object.getPrototypeOf({}), before = Stash.has(op);
  new Stash(op);
  return before + " " + Stash.read(op) }`)
	if !p.fresh {
		t.Fatal("a script with private names must get a runtime of its own")
	}
	b := newBox(true)
	for i := range 5 {
		body := fmt.Sprint("secret", i)
		got, kept := onBox(t, p, b, &script.Message{Body: body}, env(time.Second))
		if got != "false "+body || kept {
			t.Fatalf("run %d: got %q, kept %v; want single-use runtimes", i, got, kept)
		}
	}
}

// liveHeap is the heap in use after two collections.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// collectedSoon reports whether the message that done watches (see
// watchedMessage) is collected within a few collections.
func collectedSoon(done *atomic.Bool) bool {
	for range 10 {
		runtime.GC()
		if done.Load() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// watchedMessage returns a message whose collection sets done.
func watchedMessage(t testing.TB, done *atomic.Bool) *script.Message {
	m := formMessage(t, secretForm)
	runtime.SetFinalizer(m, func(*script.Message) { done.Store(true) })
	return m
}

// TestPrivateFieldsOnBuiltinsDoNotAccumulate: private fields added to a
// frozen built-in would stay on the shared object for the runtime's life,
// each keeping its message alive (this was a leak); a script with private
// names now gets single-use runtimes, so nothing accumulates.
func TestPrivateFieldsOnBuiltinsDoNotAccumulate(t *testing.T) {
	p := compile(t, `function handle(m) {
  class Base { constructor(o) { return o } }
  class Stash extends Base { #keep = [m, m.body + "x".repeat(100000)] }
  new Stash(Object.getPrototypeOf({})); return "k" }`)
	if !p.fresh {
		t.Fatal("a script with private names must get a runtime of its own")
	}
	var first atomic.Bool
	if got, err := p.Run(context.Background(), watchedMessage(t, &first),
		env(time.Second)); err != nil {
		t.Fatalf("the first run: %v %v", got, err)
	}
	before := liveHeap()
	for i := range 50 {
		if got, err := p.Run(context.Background(), &script.Message{Body: fmt.Sprint("s", i)},
			env(time.Second)); err != nil {
			t.Fatalf("run %d: %v %v", i, got, err)
		}
	}
	if grown := liveHeap() - before; grown > 4<<20 {
		t.Errorf("50 runs left %d MiB", grown>>20)
	}
	if !collectedSoon(&first) {
		t.Error("the first run's message is still reachable 50 runs later")
	}
}

// TestIdleRuntimeForgetsTheLastMessage: once a run is over, nothing of it
// stays reachable from its runtime. The next run on the runtime replaces
// the global object, so the message is gone then at the latest.
func TestIdleRuntimeForgetsTheLastMessage(t *testing.T) {
	p := compile(t, `function handle(m) { globalThis.keep = [m, m.params]; return "k" }`)
	next := compile(t, `function handle(m) { return typeof keep }`)
	t.Run("after the next run", func(t *testing.T) {
		b := newBox(true)
		var done atomic.Bool
		if got, kept := onBox(t, p, b, watchedMessage(t, &done), env(time.Second)); !kept {
			t.Fatal(got)
		}
		if got, _ := onBox(t, next, b, msg, env(time.Second)); got != "undefined" {
			t.Fatalf("the next run sees keep: %s", got)
		}
		if !collectedSoon(&done) {
			t.Error("the message is reachable after the next run")
		}
		runtime.KeepAlive(b)
	})
	t.Run("while the runtime waits", func(t *testing.T) {
		b := newBox(true)
		var done atomic.Bool
		if got, kept := onBox(t, p, b, watchedMessage(t, &done), env(time.Second)); !kept {
			t.Fatal(got)
		}
		if !collectedSoon(&done) {
			t.Error("the message is reachable from an idle runtime")
		}
		runtime.KeepAlive(b)
	})
}

// TestLazyKeysListEachPropertyOnce: deleting a property and assigning it
// again lists it once, as on a plain object.
func TestLazyKeysListEachPropertyOnce(t *testing.T) {
	tests := []struct{ src, want string }{
		{`delete m.from; m.from = "x"; return Object.keys(m).sort().join()`,
			"body,from,media,params,sid,to"},
		{`m.x = 1; delete m.x; m.x = 2; return Object.keys(m).sort().join()`,
			"body,from,media,params,sid,to,x"},
		{`delete m.params.Digits; m.params.Digits = "2"; var n = 0; for (var k in m.params) n++;
  return n + " " + Object.keys({...m.params}).length + " " +
    (JSON.stringify(m.params).match(/Digits/g) || []).length`, "5 5 1"},
		{`for (var i = 0; i < 200000; i++) { m.x = 1; delete m.x } m.x = 1;
  return Object.keys(m).length + " " + (JSON.stringify(m).length < 400)`, "7 true"},
	}
	for _, tt := range tests {
		p := compile(t, "function handle(m, ctx) { "+tt.src+" }")
		got, err := p.Run(context.Background(), formMessage(t, plainForm), env(2*time.Second))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v, want %q", tt.src, got, err, tt.want)
		}
	}
}

// TestLazyErrorsShowNoHostPointers: an error about msg names no Go
// pointers.
func TestLazyErrorsShowNoHostPointers(t *testing.T) {
	p := compile(t, `function handle(m) { try { Object["setPrototype" + "Of"](m, null);
  return "" + m } catch (e) { return String(e) } }`)
	got, err := p.Run(context.Background(), msg, env(time.Second))
	if err != nil || strings.Contains(fmt.Sprint(got), "0x") {
		t.Fatalf("got %v, %v", got, err)
	}
}

// TestReplyGetterErrorsKeepTheirKind: a getter of the returned value that
// throws, loops or overflows fails the run as the same code in handle
// would: a script error, a timeout, a limit, a memory error. A timeout or
// memory stop that reads as an internal panic escapes the lane punishment
// and the memory cooldown of the dispatcher.
func TestReplyGetterErrorsKeepTheirKind(t *testing.T) {
	tests := []struct {
		src  string
		kind error
	}{
		{`return { get message() { throw new Error("boom") } }`, script.ErrRuntime},
		{`return [{ message: { get body() { return null.x } } }]`, script.ErrRuntime},
		{`return { get message() { for (;;) {} } }`, script.ErrTimeout},
		{`return { get message() { return f() } }; function f() { return f() }`, script.ErrLimit},
		{`return { get message() { return "x".repeat(2 ** 40) } }`, script.ErrMemory},
	}
	for _, tt := range tests {
		p := compile(t, "function handle(m) { "+tt.src+" }")
		_, err := p.Run(context.Background(), msg, env(300*time.Millisecond))
		if !errors.Is(err, tt.kind) {
			t.Errorf("%s: got %v, want %v", tt.src, err, tt.kind)
		}
	}
}

// TestReplyGettersRunOnce: the reply is read once.
func TestReplyGettersRunOnce(t *testing.T) {
	p := compile(t, `function handle(m) {
  var n = 0; return { get message() { n++; return "n" + n } } }`)
	got, err := p.Run(context.Background(), msg, env(time.Second))
	if want := map[string]any{"message": "n1"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v, want %v", got, err, want)
	}
}

// cycleEnv names the script that TestPrototypeCycleChild runs.
const cycleEnv = "JSVM_PROTOTYPE_CYCLE_SOURCE"

// TestPrototypeCycleChild runs one script for TestPrototypeCyclesEndTheRun
// in a process of its own, with a small Go stack, since the script may end
// the process.
func TestPrototypeCycleChild(t *testing.T) {
	src := os.Getenv(cycleEnv)
	if src == "" {
		t.Skip("runs only as the child of TestPrototypeCyclesEndTheRun")
	}
	debug.SetMaxStack(32 << 20)
	p := compile(t, src)
	v, err := p.Run(context.Background(), msg, env(300*time.Millisecond))
	fmt.Printf("result: %v, %v\n", v, err)
}

// TestPrototypeCyclesEndTheRun: an ordinary object refuses a prototype
// that would close a cycle. A dynamic object takes any prototype, itself
// included, and a proxy may close a cycle by specification; goja then
// follows the chain forever, by recursion on the Go stack (the process
// dies of a stack overflow, for every number it serves) or in a Go loop
// that no deadline stops (a core and a run slot are lost for good). A
// script must end with an error within its time limit instead.
func TestPrototypeCyclesEndTheRun(t *testing.T) {
	cycles := []string{
		`var t = m; Object["setPrototype" + "Of"](t, t)`,
		`var t = m; t["__pro" + "to__"] = t`,
		`var t = m.params; Object["setPrototype" + "Of"](t, Object.create(t))`,
		`var t = ctx; t["__pro" + "to__"] = Object.create(t)`,
		`var t = {}; Object["setPrototype" + "Of"](t, new Proxy(t, {}))`,
	}
	uses := []string{`t.nosuch`, `"nosuch" in t`, `JSON.stringify(t)`, `t instanceof Array`,
		`Object.getPrototypeOf([]).isPrototypeOf(t)`, `(function () { for (var k in t) {} })()`}
	for _, c := range cycles {
		for _, u := range uses {
			src := `function handle(m, ctx) { ` + c + `; return String(` + u + `) }`
			t.Run(c+" then "+u, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPrototypeCycleChild$")
				cmd.Env = append(os.Environ(), cycleEnv+"="+src)
				start := time.Now()
				out, err := cmd.CombinedOutput()
				text := string(out)
				if i := strings.Index(text, "\n\n"); i > 0 {
					text = text[:i]
				}
				if err != nil {
					t.Fatalf("the process running the script ended after %v: %v\n%s",
						time.Since(start).Round(time.Millisecond), err, text)
				}
				if !strings.Contains(text, "result:") {
					t.Fatalf("no result: %s", text)
				}
			})
		}
	}
}
