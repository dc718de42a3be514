package jsvm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/lamlhost/lamlhost/engine/script"
)

func compile(t testing.TB, src string) *Program {
	t.Helper()
	p, err := Compiler{}.Compile("test.js", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Program)
}

func env(timeout time.Duration) *script.Env {
	return &script.Env{Number: "+15550100099", Limits: script.Limits{Timeout: timeout}}
}

var msg = &script.Message{From: "+15550100001", To: "+15550100099", Body: "hello"}

// A Go panic in a host function passes through goja untouched; the run
// recovers it in its own goroutine and reports it as a typed error.
func TestHostPanicIsAnError(t *testing.T) {
	p := compile(t, `function handle() { return boom(); }`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	b := newBox(false)
	_ = b.vm.Set("boom", func(goja.FunctionCall) goja.Value { panic("host function failed") })
	r := newRun(ctx, p, env(time.Second), b)
	defer r.close()
	_, err := r.run(msg, env(time.Second))
	if !errors.Is(err, script.ErrPanic) {
		t.Fatalf("got %v, want a panic error", err)
	}
	if _, err := p.Run(context.Background(), msg, env(time.Second)); !errors.Is(err,
		script.ErrRuntime) {
		t.Fatalf("the next run: got %v, want boom to be undefined", err)
	}
}

// Guarded built-ins behave as the originals on ordinary input.
func TestGuardedBuiltinsKeepTheirMeaning(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`"ab".repeat(3)`, "ababab"},
		{`"5".padStart(3, "0") + "5".padEnd(3, "-")`, "0055--"},
		{`"a".concat("b", 1, null)`, "ab1null"},
		{`"a-b-c".replaceAll("-", "+") + "a-b".replace("-", "$&$&")`, "a+b+ca--b"},
		{`"2020-01-02".replace(/(\d+)-(\d+)-(\d+)/, "$3.$2.$1")`, "02.01.2020"},
		{`"aXbXc".replace(/X/g, "[$\x60|$'|$$|$0]")`, "a[a|bXc|$|$0]b[aXb|c|$|$0]c"},
		{`"a,b,,c".split(",").length + "|" + "abc".split("", 2)`, "4|a,b"},
		{`[1, [2, [3, [4]]]].flat(Infinity).join("-")`, "1-2-3-4"},
		{`[1, [2, [3]]].flat().length`, "3"},
		{`[1, 2].flatMap((x) => [x, [x * 10]]).length`, "4"},
		{`[3, 1, 10, 2].sort().join()`, "1,10,2,3"},
		{`[3, 1, 10, 2].sort((a, b) => a - b).join()`, "1,2,3,10"},
		{`[undefined, 3, , 1].sort().length`, "4"},
		{`[1, [2, [3]], null, undefined].toString()`, "1,2,3,,"},
		{`[1, 2].concat([3], 4, [[5]]).length`, "5"},
		{`Array.from({ length: 3 }, (_, i) => i * 2).join()`, "0,2,4"},
		{`Array.from("héllo").length`, "5"},
		{`Math.max.apply(null, [1, 5, 3])`, "5"},
		{`JSON.stringify({ b: 1, a: [1, { c: "x" }], d: new Number(2) })`,
			`{"b":1,"a":[1,{"c":"x"}],"d":2}`},
		{`JSON.stringify({ b: 1, a: 2, c: { a: 3, b: 4 } }, ["a", "c"])`,
			`{"a":2,"c":{"a":3}}`},
		{`JSON.stringify({ a: 1, b: 2 }, (k, v) => k === "b" ? undefined : v, 1)`,
			"{\n \"a\": 1\n}"},
		{`JSON.parse('{"a":[1,2,{"b":null}]}', (k, v) => v === null ? "n" : v).a[2].b`, "n"},
		{`new Uint8Array([1, 2, 300]).join("-")`, "1-2-44"},
		{`new Float64Array(new ArrayBuffer(16)).length`, "2"},
		{`new Uint8Array(new ArrayBuffer(8), 2, 3).length`, "3"},
		{`Uint8Array.from([1, 2]).map((x) => x * 2).join()`, "2,4"},
		{`new Uint8Array(4).subarray(1).constructor === Uint8Array`, "true"},
		{`(new ArrayBuffer(4) instanceof ArrayBuffer) + "" + ArrayBuffer.isView(new Int8Array(1))`,
			"truetrue"},
		{`new Function("a", "b", "return a + b")(2, 3)`, "5"},
		{`eval("var z = 4; z * 2")`, "8"},
		{`(function () {}) instanceof Function`, "true"},
		{`[..."abc"].length + new Set([1, 1, 2]).size + [...new Map([[1, 2]])].length`, "6"},
		{`/b(c)/.exec("abc")[1] + /x/.test("abc") + "abcabc".match(/b/g).length`, "cfalse2"},
		{`[..."a1b22".matchAll(/\d+/g)].map((m) => m[0]).join() + "abc".search(/c/)`, "1,222"},
		{`"a1b2c".split(/\d/).join("+")`, "a+b+c"},
		{`"\u0041\u030A".normalize("NFC").length`, "1"},
	}
	for _, tt := range tests {
		p := compile(t, "function handle() { return String("+tt.expr+"); }")
		got, err := p.Run(context.Background(), msg, env(2*time.Second))
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.expr, got, err, tt.want)
		}
	}
}

// Caps refuse before allocating, whatever the script catches.
func TestCapsStopTheRun(t *testing.T) {
	tests := []struct {
		expr string
		kind error
	}{
		{`"x".repeat(2 ** 40)`, script.ErrMemory},
		{`"x".padStart(2 ** 40)`, script.ErrMemory},
		{`new ArrayBuffer(2 ** 40)`, script.ErrMemory},
		{`new Uint8Array(new ArrayBuffer(2 << 20))`, script.ErrMemory},
		{`new Array(2 ** 32 - 1).join()`, script.ErrMemory},
		{`Reflect.apply(Math.max, null, { length: 2 ** 32 - 1 })`, script.ErrMemory},
		{`Reflect.construct(Array, { length: 2 ** 32 - 1 })`, script.ErrMemory},
		{`String.raw({ raw: { length: 2 ** 40 } })`, script.ErrMemory},
		{`new Uint8Array(2 ** 20).join("x".repeat(1000))`, script.ErrMemory},
		{`"\uFDFA".repeat(100000).normalize("NFKD")`, script.ErrMemory},
		{`JSON.parse(" ".repeat(200000) + "1")`, script.ErrMemory},
		{`[].concat({ length: 2 ** 40, [Symbol.isConcatSpreadable]: true })`, script.ErrMemory},
	}
	for _, tt := range tests {
		src := "function handle() { try { return String(" + tt.expr + "); } catch (e) {} " +
			"return 'caught'; }"
		_, err := compile(t, src).Run(context.Background(), msg, env(time.Second))
		if !errors.Is(err, tt.kind) {
			t.Errorf("%s: got %v, want %v", tt.expr, err, tt.kind)
		}
	}
}

// The caps follow the memory limit.
func TestCapsFollowTheMemoryLimit(t *testing.T) {
	p := compile(t, `function handle() { return String("x".repeat(1 << 20).length); }`)
	e := env(time.Second)
	if _, err := p.Run(context.Background(), msg, e); !errors.Is(err, script.ErrMemory) {
		t.Fatalf("at 64 MiB: got %v, want a memory error", err)
	}
	e.Limits.Memory = 1 << 30
	got, err := p.Run(context.Background(), msg, e)
	if err != nil || got != "1048576" {
		t.Fatalf("at 1 GiB: got %v, %v", got, err)
	}
}

// A run that ends just before its deadline leaves nothing that could stop
// the next one (case J3).
func TestNoStaleInterrupt(t *testing.T) {
	slow := compile(t, `function handle() {
		const t = Date.now(); while (Date.now() - t < 45) {} return "slow"; }`)
	fast := compile(t, `function handle() { return "fast"; }`)
	for range 10 {
		if _, err := slow.Run(context.Background(), msg, env(50*time.Millisecond)); err != nil &&
			!errors.Is(err, script.ErrTimeout) {
			t.Fatal(err)
		}
		got, err := fast.Run(context.Background(), msg, env(time.Second))
		if err != nil || got != "fast" {
			t.Fatalf("the next run: %v, %v", got, err)
		}
	}
}

// BenchmarkRun is one run of a small handler with isolation: a runtime of
// its own with guarded built-ins, taken ready from the spares.
func BenchmarkRun(b *testing.B) {
	p := compile(b, `function handle(msg, ctx) { return { message: "Hi " + msg.body.trim() }; }`)
	e := env(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Run(context.Background(), msg, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunCold is the same run with the runtime prepared inline, as
// when no spare is ready.
func BenchmarkRunCold(b *testing.B) {
	p := compile(b, `function handle(msg, ctx) { return { message: "Hi " + msg.body.trim() }; }`)
	e := env(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r := newRun(ctx, p, e, newBox(true))
		if _, err := r.run(msg, e); err != nil {
			b.Fatal(err)
		}
		r.close()
		cancel()
	}
}

// BenchmarkPrepare is the preparation of one guarded runtime alone.
func BenchmarkPrepare(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newBox(true)
	}
}

// BenchmarkRunPaced runs at a pace the spares keep up with, as a server
// sees traffic: the time measured is the run alone, on a runtime prepared
// ahead.
func BenchmarkRunPaced(b *testing.B) {
	p := compile(b, `function handle(msg, ctx) { return { message: "Hi " + msg.body.trim() }; }`)
	e := env(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		time.Sleep(2 * time.Millisecond)
		b.StartTimer()
		if _, err := p.Run(context.Background(), msg, e); err != nil {
			b.Fatal(err)
		}
	}
}

// msg, msg.params and ctx make their properties on first read, and
// otherwise behave as plain objects.
func TestLazyArguments(t *testing.T) {
	form, err := script.ParseForm("Body=hi&From=%2B1&MediaUrl0=u&Digits=42&Digits=7")
	if err != nil {
		t.Fatal(err)
	}
	m := script.MessageFromForm(form)
	tests := []struct{ name, src, want string }{
		{"keys", `return Object.keys(m).join()`, "from,to,body,sid,media,params"},
		{"json", `return JSON.stringify({b: m.body, media: m.media, d: m.params.Digits})`,
			`{"b":"hi","media":[{"url":"u","contentType":""}],"d":"42"}`},
		{"same object", `return String(m.media === m.media && m.params === m.params)`, "true"},
		{"in then read", `return String("media" in m) + m.media.length`, "true1"},
		{"write", `m.body = "changed"; delete m.from; return m.body + Object.keys(m).length`,
			"changed5"},
		{"spread", `return Object.keys({...m}).length + " " + ("nosuch" in m)`, "6 false"},
		{"ctx", `return ctx.number + " " + Object.keys(ctx).join()`,
			"+15550100099 number,vars,timezone,now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compile(t, "function handle(m, ctx) { "+tt.src+" }")
			for range 2 {
				v, err := p.Run(context.Background(), m, env(time.Second))
				if err != nil || v != tt.want {
					t.Fatalf("got %v, %v, want %q", v, err, tt.want)
				}
			}
		})
	}
}

// A script that works on the object model gets plain objects: freezing
// msg and ctx works.
func TestPlainArgumentsWhenFresh(t *testing.T) {
	p := compile(t, `function handle(m, ctx) {
  Object.freeze(m); Object.freeze(m.params); Object.freeze(ctx);
  return String(Object.isFrozen(m) && Object.isFrozen(ctx)) + " " + m.body + " " +
    Object.keys(m).join() }`)
	if !p.fresh {
		t.Fatal("a script that freezes objects must run in a fresh runtime")
	}
	v, err := p.Run(context.Background(), msg, env(time.Second))
	if want := "true hello from,to,body,sid,media,params"; err != nil || v != want {
		t.Fatalf("got %v, %v, want %q", v, err, want)
	}
}

// ctx.vars lists its keys in name order, the same for every message.
func TestVarsOrder(t *testing.T) {
	e := env(time.Second)
	e.Vars = map[string]any{"shop": 1, "hours": 2, "address": 3, "zone": 4, "menu": 5,
		"b": map[string]any{"y": 1, "x": 2}}
	p := compile(t, `function handle(m, ctx) {
  return Object.keys(ctx.vars).join() + " " + Object.keys(ctx.vars.b).join() }`)
	for range 20 {
		v, err := p.Run(context.Background(), msg, e)
		if want := "address,b,hours,menu,shop,zone x,y"; err != nil || v != want {
			t.Fatalf("got %v, %v, want %q", v, err, want)
		}
	}
}
