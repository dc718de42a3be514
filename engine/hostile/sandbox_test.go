package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
)

func compileSource(t *testing.T, path, src string) script.Program {
	t.Helper()
	p, err := registry.Compile(path, []byte(src))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// A source over 256 KiB is refused at load, with the reason.
func TestSourceTooBig(t *testing.T) {
	for _, path := range []string{"big.js", "big.lua"} {
		comment := "// "
		if strings.HasSuffix(path, ".lua") {
			comment = "-- "
		}
		src := strings.Repeat(comment+strings.Repeat("x", 100)+"\n", 3000)
		_, err := registry.Compile(path, []byte(src))
		if !errors.Is(err, script.ErrCompile) || !strings.Contains(err.Error(), "over the limit") {
			t.Errorf("%s: got %v", path, err)
		}
	}
}

// No number sees what another number's script stored, in either language.
func TestNumbersDoNotShare(t *testing.T) {
	h := newHarness(t)
	c := hostileCase{timeout: time.Second, memory: 64 << 20}
	for _, lang := range []struct{ ext, writer, reader string }{
		{".js", `function handle(m) { globalThis.secret = m.body;
			Object.prototype.secret2 = m.body; return "stored"; }`,
			`function handle() { return String(globalThis.secret) + String({}.secret2); }`},
		{".lua", `function handle(m) secret = m.body; string.secret = m.body; return "stored" end`,
			`function handle() return tostring(secret) .. tostring(string.secret) end`},
	} {
		writer := route("+15550100011", "writer"+lang.ext,
			compileSource(t, "writer"+lang.ext, lang.writer), c)
		reader := route("+15550100012", "reader"+lang.ext,
			compileSource(t, "reader"+lang.ext, lang.reader), c)
		for range 3 {
			h.disp.Answer(context.Background(), writer, message("the other number's data"))
			a := h.disp.Answer(context.Background(), reader, message(""))
			if got := messageText(t, a.Body); strings.Contains(got, "data") {
				t.Fatalf("%s: the reader saw %q", lang.ext, got)
			}
		}
	}
}

// Case J3: while a number whose script never ends is hammered, a healthy
// number answers normally every time.
func TestRunawayHammered(t *testing.T) {
	h := newHarness(t)
	runaway := route("+15550100066", "loop.js",
		compileSource(t, "loop.js", `function handle() { for (;;) {} }`),
		hostileCase{timeout: 200 * time.Millisecond, memory: 64 << 20})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				h.disp.Answer(context.Background(), runaway, message(""))
			}
		})
	}
	deadline := time.Now().Add(time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		h.healthy(t)
	}
	close(stop)
	wg.Wait()
}

// Console and print output is capped per run: the lines a flood leaves in
// the log add up to no more than the cap.
func TestOutputCap(t *testing.T) {
	h := newHarness(t)
	c := hostileCase{timeout: 5 * time.Second, memory: 64 << 20}
	for _, path := range []string{"flood.js", "flood.lua"} {
		src := `function handle() {
			for (let i = 0; i < 20000; i++) console.log("x".repeat(50), i);
			return "done"; }`
		if strings.HasSuffix(path, ".lua") {
			src = `function handle()
			for i = 1, 20000 do print(string.rep("x", 50), i) end
			return "done" end`
		}
		h.logs.Reset()
		a := h.disp.Answer(context.Background(), route("+15550100013", path,
			compileSource(t, path, src), c), message(""))
		if a.Err != nil {
			t.Fatalf("%s: %v", path, a.Err)
		}
		total, truncated := 0, false
		sc := bufio.NewScanner(bytes.NewReader(h.logs.Bytes()))
		for sc.Scan() {
			var line struct{ Msg, Source string }
			_ = json.Unmarshal(sc.Bytes(), &line)
			if line.Source == "script" {
				total += len(line.Msg)
				truncated = truncated || strings.Contains(line.Msg, "truncated")
			}
		}
		if total > script.DefaultOutput+200 || !truncated {
			t.Errorf("%s: %d bytes of output, truncated %v", path, total, truncated)
		}
	}
}

// After the watchdog stops a run that filled the heap, the heap and the
// memory the process holds return near where they were.
func TestMemoryReturns(t *testing.T) {
	h := newHarness(t)
	c := hostileCase{timeout: 5 * time.Second, memory: 16 << 20}
	for _, path := range []string{"testdata/hostile/js_alloc_loop.js",
		"testdata/hostile/lua_alloc_loop.lua"} {
		runtime.GC()
		heap0, held0 := memory()
		rt := compileRoute(t, "+15550100014", path, c)
		if a := h.disp.Answer(context.Background(), rt, message("")); !errors.Is(a.Err,
			script.ErrMemory) {
			t.Fatalf("%s: %v", path, a.Err)
		}
		_, peak := memory()
		var heap, held uint64
		for range 100 {
			time.Sleep(20 * time.Millisecond)
			if heap, held = memory(); heap < heap0+8<<20 && held < held0+32<<20 {
				break
			}
		}
		t.Logf("%s: heap %d → %d MiB, held %d → peak %d → %d MiB", path, heap0>>20,
			heap>>20, held0>>20, peak>>20, held>>20)
		if heap > heap0+8<<20 || held > held0+32<<20 {
			t.Errorf("%s: memory did not come back", path)
		}
	}
}

// memory returns the heap's live objects and the memory the process holds
// from the system, less what it has handed back.
func memory() (heap, held uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64() - s[2].Value.Uint64()
}

// TestLateBuiltins measures how far past its deadline a run goes when its
// last step is one large built-in call, called straight on the engine so
// that the dispatcher's grace does not hide it. The figures are logged;
// the bound checked is loose, for machines under load.
func TestLateBuiltins(t *testing.T) {
	const timeout = 300 * time.Millisecond
	busy := `const t0 = Date.now(); while (Date.now() - t0 < 280) {}`
	luaBusy := "\nlocal t0 = os.clock() while os.clock() - t0 < 0.28 do end\n"
	cases := []struct{ name, src string }{
		{"regexp2 backtracking.js", busy + `return String(/^(a+)+(?=b)/.test("a".repeat(30)));`},
		{"sort 256K.js", `const a = Array.from({ length: 262144 },
			(_, i) => String(i * 7919 % 262144));` + busy + `return String(a.sort().length);`},
		{"spread 512K string.js", `const s = "x".repeat(524288);` + busy +
			`return String([...s].length);`},
		{"object spread 512K string.js", `const s = "x".repeat(524288);` + busy +
			`return String(Object.keys({ ...s }).length);`},
		{"JSON.parse 128K.js", `const s = "[" + "1,".repeat(65534) + "1]";` + busy +
			`return String(JSON.parse(s).length);`},
		{"typed sort 256K.js", `const a = new Float64Array(262144).map((_, i) => i * 7919 % 1000);` +
			busy + `return String(a.sort().length);`},
		{"pattern backtracking.lua", luaBusy + ` return string.find(string.rep("a", 400), ".-.-.-b")`},
		{"gsub 4M.lua", `local s = string.rep("a", 4000000)` + luaBusy +
			` return (string.gsub(s, "a", "b"))`},
		{"table.sort 1M.lua", `local t = {} for i = 1, 1000000 do t[i] = (i * 7919) % 1000003 end` +
			luaBusy + ` table.sort(t) return "sorted"`},
	}
	var b strings.Builder
	for _, c := range cases {
		src := "function handle() { " + c.src + " }"
		if strings.HasSuffix(c.name, ".lua") {
			src = "function handle() " + c.src + " end"
		}
		p := compileSource(t, c.name, src)
		env := &script.Env{Limits: script.Limits{Timeout: timeout}}
		start := time.Now()
		_, err := p.Run(context.Background(), message(""), env)
		took := time.Since(start)
		fmt.Fprintf(&b, "\n  %-30s %8v  overrun %8v  %v", c.name, took.Round(time.Millisecond),
			(took - timeout).Round(time.Millisecond), kindOf(err))
		if took > timeout+slack()+time.Second {
			t.Errorf("%s: %v past the deadline", c.name, took-timeout)
		}
	}
	t.Logf("a large built-in call as the last step before the deadline:%s", b.String())
}

func kindOf(err error) string {
	for name, kind := range kinds {
		if errors.Is(err, kind) {
			return name
		}
	}
	if err == nil {
		return "finished"
	}
	return err.Error()
}
