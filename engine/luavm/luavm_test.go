package luavm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lamlhost/lamlhost/engine/script"
)

func compile(t testing.TB, src string) *Program {
	t.Helper()
	p, err := Compiler{}.Compile("test.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Program)
}

func env(timeout time.Duration) *script.Env {
	return &script.Env{Number: "+15550100099", Limits: script.Limits{Timeout: timeout}}
}

var msg = &script.Message{From: "+15550100001", To: "+15550100099", Body: "hello"}

// eval runs expr inside handle and returns its value as text.
func eval(t *testing.T, expr string) (string, error) {
	t.Helper()
	p := compile(t, "function handle() return tostring("+expr+") end")
	v, err := p.Run(context.Background(), msg, env(2*time.Second))
	s, _ := v.(string)
	return s, err
}

func check(t *testing.T, tests []struct{ expr, want string }) {
	t.Helper()
	for _, tt := range tests {
		if got, err := eval(t, tt.expr); err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.expr, got, err, tt.want)
		}
	}
}

// gmatch is an expression that runs body for every match of args, with the
// captures in a and b, and joins what body adds to r.
func gmatch(args, body string) string {
	return "(function() local r = {} for a, b in string.gmatch(" + args + ") do " + body +
		" end return table.concat(r, \",\") end)()"
}

// The pattern functions follow Lua 5.1.
func TestPatterns(t *testing.T) {
	check(t, []struct{ expr, want string }{
		{`table.concat({string.find("hello", "l")}, " ")`, "3 3"},
		{`table.concat({string.find("a.b", ".", 1, true)}, " ")`, "2 2"},
		{`string.find("hello", "xyz")`, "nil"},
		{`table.concat({string.find("hello", "")}, " ")`, "1 0"},
		{`table.concat({string.find("hello", "", 10)}, " ")`, "6 5"},
		{`table.concat({string.find("hello", "l", -2)}, " ")`, "4 4"},
		{`table.concat({string.find("abc", "b()")}, " ")`, "2 2 3"},
		{`string.match("hello 123", "%d+")`, "123"},
		{`table.concat({string.match("2024-01-02", "(%d+)-(%d+)-(%d+)")}, " ")`, "2024 01 02"},
		{`table.concat({string.match("k = v", "^(%w+)%s*=%s*(%w+)$")}, " ")`, "k v"},
		{`string.match("hello", "^e")`, "nil"},
		{`string.match("hello", "o$")`, "o"},
		{`string.match("a$b", "%$(.)")`, "b"},
		{`string.match("[test]", "%[(.-)%]")`, "test"},
		{`string.match("f(a(b)c)", "%b()")`, "(a(b)c)"},
		{`string.match("THE (quick) fox", "%f[%a]%a+", 5)`, "quick"},
		{`string.match("abcabc", "(abc)%1")`, "abc"},
		{`string.match("aaab", "a-b")`, "aaab"},
		{`string.match("aaa", "a-")`, ""},
		{`string.match("aaab", "a*")`, "aaa"},
		{`string.match("b", "a?b")`, "b"},
		{`string.match("-", "[a-z-]")`, "-"},
		{`string.match("]", "[]]")`, "]"},
		{`string.match("a^", "[^a]")`, "^"},
		{`string.match("x9", "[%d]")`, "9"},
		{`string.match("hello world", "%s(%S+)")`, "world"},
		{`string.match(" x", "%s*()")`, "2"},
		{`string.match("\0a", "%z")`, "\x00"},
		{`string.match("ab12", "%u")`, "nil"},
		{`string.match("AB12", "%X+")`, "nil"},
		{`string.match("é", "%a")`, "nil"},
		{`table.concat({string.gsub("hello world", "(%w+)", "<%1>")}, " ")`,
			"<hello> <world> 2"},
		{`table.concat({string.gsub("abc", "", "-")}, " ")`, "-a-b-c- 4"},
		{`(string.gsub("hello", "l+", function(s) return #s end))`, "he2o"},
		{`(string.gsub("$a is $b", "%$(%w+)", {a = "Bob", b = 3}))`, "Bob is 3"},
		{`(string.gsub("abc", "b", "%%"))`, "a%c"},
		{`table.concat({string.gsub("abc", "%w", "%0%0", 2)}, " ")`, "aabbc 2"},
		{`table.concat({string.gsub("hello", "^h", "j")}, " ")`, "jello 1"},
		{`(string.gsub("hello", "x*", "-"))`, "-h-e-l-l-o-"},
		{`(string.gsub("abc", ".", {a = false}))`, "abc"},
		{`(string.gsub("abc", "(b)", "[%1%0]"))`, "a[bb]c"},
		{`(string.gsub("a b", "()", "%1"))`, "1a2 3b4"},
		{gmatch(`"one two", "%a+"`, `r[#r+1] = a`), "one,two"},
		{gmatch(`"a=1,b=2", "(%w)=(%w)"`, `r[#r+1] = a .. b`), "a1,b2"},
		{gmatch(`"aaa", "^a"`, `r[#r+1] = a`), ""},
		{gmatch(`"abc", ""`, `r[#r+1] = "."`), ".,.,.,."},
		{`("x"):rep(3) .. ("abc"):find("c")`, "xxx3"},
	})
}

// Malformed patterns raise the errors Lua raises.
func TestPatternErrors(t *testing.T) {
	tests := map[string]string{
		`string.find("a", "%")`:                                 "malformed pattern (ends with '%')",
		`string.find("a", "[a")`:                                "malformed pattern (missing ']')",
		`string.find("a", "(a")`:                                "unfinished capture",
		`string.match("a", "a)")`:                               "invalid pattern capture",
		`string.find("a", "%1")`:                                "invalid capture index",
		`string.gsub("a", "a", "%2")`:                           "invalid capture index",
		`string.find("a", "%b")`:                                "missing arguments to '%b'",
		`string.find("a", "%fa")`:                               "missing '[' after '%f' in pattern",
		`string.gsub("a", "a", true)`:                           "string/function/table expected",
		`string.find(string.rep("a", 40), string.rep("(", 33))`: "too many captures",
	}
	for expr, want := range tests {
		_, err := eval(t, expr)
		if !errors.Is(err, script.ErrRuntime) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", expr, err, want)
		}
	}
}

// string.format follows Lua 5.1, bounded.
func TestFormat(t *testing.T) {
	check(t, []struct{ expr, want string }{
		{`string.format("%5.2f|%d|%-5s|%05d|%x|%X|%o", 3.14159, 42, "ab", 7, 255, 255, 8)`,
			" 3.14|42|ab   |00007|ff|FF|10"},
		{`string.format("%g %g %g", 123456789, 0.1, 100)`, "1.23457e+08 0.1 100"},
		{`string.format("%.3s|%5s|%c%c", "abcdef", "x", 72, 105)`, "abc|    x|Hi"},
		{`string.format("%q", "a\"b\n\0")`, "\"a\\\"b\\\n\\000\""},
		{`string.format("%s %s %s", nil, true, 1.5)`, "nil true 1.5"},
		{`string.format("%d%%", 50)`, "50%"},
		{`string.format("%f %e", 1/0, -1/0)`, "inf -inf"},
		{`string.format("%i|%u", -3.7, 3)`, "-3|3"},
	})
	for _, expr := range []string{`string.format("%99d", 1) .. string.format("%100d", 1)`,
		`string.format("%v", 1)`, `string.format("%d")`} {
		if _, err := eval(t, expr); !errors.Is(err, script.ErrRuntime) {
			t.Errorf("%s: got %v, want a script error", expr, err)
		}
	}
}

// table.concat and table.sort behave as in Lua 5.1.
func TestTables(t *testing.T) {
	check(t, []struct{ expr, want string }{
		{`table.concat({1, 2, "x"}, ", ")`, "1, 2, x"},
		{`table.concat({1, 2, 3}, "-", 2)`, "2-3"},
		{`table.concat({1, 2, 3}, "-", 3, 2)`, ""},
		{`(function() local t = {5, 3, 8, 1} table.sort(t) return table.concat(t, ",") end)()`,
			"1,3,5,8"},
		{`(function() local t = {"b", "a", "c"}
			table.sort(t, function(a, b) return a > b end)
			return table.concat(t) end)()`, "cba"},
	})
	if _, err := eval(t, `table.concat({1, {}, 3})`); !errors.Is(err, script.ErrRuntime) {
		t.Errorf("concat of a table: got %v", err)
	}
}

// The utf8 helper works on code points; strings stay bytes (case L1).
func TestUTF8Helper(t *testing.T) {
	check(t, []struct{ expr, want string }{
		{`#"£1"`, "3"},
		{`utf8.len("£1")`, "2"},
		{`utf8.len("")`, "0"},
		{`utf8.sub("שלום", 2, 3)`, "לו"},
		{`utf8.sub("héllo", -3)`, "llo"},
		{`utf8.sub("héllo", 2, 100)`, "éllo"},
		{`utf8.sub("héllo", 4, 2)`, ""},
		{`utf8.sub("héllo", 0)`, "héllo"},
		{`utf8.upper("ñandú")`, "ÑANDÚ"},
		{`utf8.lower("ÀÉÎ")`, "àéî"},
		{`utf8.reverse("שלום")`, "םולש"},
		{`utf8.valid("£") and not utf8.valid("\255")`, "true"},
		{`utf8.len("a\255b")`, "3"},
		{`utf8.sub("a\255b", 2, 2)`, "\uFFFD"},
	})
}

// A Go panic inside a host function is a typed error, and the state that
// saw it is not reused.
func TestHostPanicIsAnError(t *testing.T) {
	p := compile(t, `function handle() if boom then boom() end return "fine" end`)
	st := newState(p)
	st.L.SetGlobal("boom", st.L.NewFunction(func(*lua.LState) int {
		panic("host function failed")
	}))
	if _, err := p.runOn(context.Background(), st, msg, env(time.Second)); !errors.Is(err,
		script.ErrPanic) {
		t.Fatalf("got %v, want a panic error", err)
	}
	got, err := p.Run(context.Background(), msg, env(time.Second))
	if err != nil || got != "fine" {
		t.Fatalf("the next run: %v, %v", got, err)
	}
}

// No number sees what another number's script left (each program has its
// own states), nor what an earlier run of its own left.
func TestIsolation(t *testing.T) {
	a := compile(t, `function handle() secret = "of a"; string.secret = 1; return "a" end`)
	b := compile(t, `function handle() return tostring(secret) .. tostring(string.secret) end`)
	for range 3 {
		if _, err := a.Run(context.Background(), msg, env(time.Second)); err != nil {
			t.Fatal(err)
		}
		got, err := b.Run(context.Background(), msg, env(time.Second))
		if err != nil || got != "nilnil" {
			t.Fatalf("b saw %v, %v", got, err)
		}
		got, err = a.Run(context.Background(), msg, env(time.Second))
		if err != nil || got != "a" {
			t.Fatalf("a: %v, %v", got, err)
		}
	}
}

// A concatenation wider than maxConcat is refused at load.
func TestWideConcat(t *testing.T) {
	parts := make([]string, maxConcat+1)
	for i := range parts {
		parts[i] = "x"
	}
	src := "local x = 'x'\nfunction handle() return " + strings.Join(parts, "..") + " end"
	_, err := Compiler{}.Compile("wide.lua", []byte(src))
	if !errors.Is(err, script.ErrCompile) {
		t.Fatalf("got %v, want a compile error", err)
	}
	src = "local x = 'x'\nfunction handle() return " + strings.Join(parts[1:], "..") + " end"
	if _, err := (Compiler{}).Compile("ok.lua", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

// webhook is a real-shaped inbound SMS, twenty parameters.
const webhook = "ToCountry=US&ToState=CA&NumMedia=0&ToCity=&FromZip=&FromState=CA" +
	"&SmsStatus=received&FromCity=&Body=Hello+there&FromCountry=US&To=%2B15550100099" +
	"&ToZip=&NumSegments=1&AccountSid=AC0123456789abcdef0123456789abcdef" +
	"&From=%2B15550100100&ApiVersion=2010-04-01&MessageSid=SM0123456789abcdef0123456789abcdef" +
	"&SmsSid=SM0123456789abcdef0123456789abcdef&SmsMessageSid=SM0123456789abcdef0123456789abcdef"

// BenchmarkRun is one run of a small handler with isolation: a pooled
// state, restored to its pristine globals and libraries afterwards.
func BenchmarkRun(b *testing.B) {
	p := compile(b, `function handle(msg, ctx) return { message = "Hi " .. msg.body } end`)
	e := env(time.Second)
	form, err := script.ParseForm(webhook)
	if err != nil {
		b.Fatal(err)
	}
	m := script.MessageFromForm(form)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Run(context.Background(), m, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunCold is the same with a new state every time, as after a
// failed run.
func BenchmarkRunCold(b *testing.B) {
	p := compile(b, `function handle(msg, ctx) return { message = "Hi " .. msg.body } end`)
	e := env(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.runOn(context.Background(), newState(p), msg, e); err != nil {
			b.Fatal(err)
		}
	}
}

// A state whose runs keep adding new names to shared tables is retired
// before the key index that gopher-lua never shrinks grows without bound.
func TestStateRetiredWhenGrown(t *testing.T) {
	p := compile(t, `function handle(m) for i = 1, 50 do string[m.body .. i] = i end return "ok" end`)
	for i := range 100 {
		m := &script.Message{Body: "run" + strings.Repeat("x", i%7) + string(rune('a'+i%26))}
		if _, err := p.Run(context.Background(), m, env(time.Second)); err != nil {
			t.Fatal(err)
		}
		select {
		case st := <-states:
			if len(st.seen) > maxAdded {
				t.Fatalf("a state with %d added keys was pooled", len(st.seen))
			}
			states <- st
		default:
		}
	}
	arr := compile(t, `function handle() _G[3] = true return "ok" end`)
	if _, err := arr.Run(context.Background(), msg, env(time.Second)); err != nil {
		t.Fatal(err)
	}
	if st, ok := peekState(); ok && st.env.RawGetInt(3) != lua.LNil {
		t.Fatal("an array item survived the run")
	}
}

// peekState takes a state from the free list, if one is there.
func peekState() (*state, bool) {
	select {
	case st := <-states:
		return st, true
	default:
		return nil, false
	}
}

// msg.params, ctx.vars and ctx.now are made on first read, and otherwise
// behave as plain fields; the metatable that makes them is out of reach.
func TestLazyFields(t *testing.T) {
	form, err := script.ParseForm("Body=hi&Digits=42&Digits=7")
	if err != nil {
		t.Fatal(err)
	}
	m := script.MessageFromForm(form)
	e := env(time.Second)
	e.Vars = map[string]any{"shop": "Corner"}
	tests := []struct{ name, src, want string }{
		{"read", `return m.params.Digits .. " " .. ctx.vars.shop .. " " .. type(ctx.now.hour)`,
			"42 Corner number"},
		{"read twice is the same table", `return tostring(m.params == m.params)`, "true"},
		{"listed after a read", `local _ = m.params
  local n = 0 for k in pairs(m) do n = n + 1 end return tostring(n)`, "6"},
		{"written before a read", `m.params = nil ctx.now = "later"
  return tostring(m.params) .. " " .. ctx.now`, "nil later"},
		{"other keys", `m.extra = 1 return tostring(m.extra) .. tostring(m.nosuch)`, "1nil"},
		{"metatable hidden", `return tostring(getmetatable(m)) .. tostring(getmetatable(ctx))`,
			"falsefalse"},
		{"metatable locked", `return tostring(pcall(setmetatable, m, {}))`, "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compile(t, "function handle(m, ctx) "+tt.src+" end")
			for range 2 { // the second run is on the reused state
				v, err := p.Run(context.Background(), m, e)
				if err != nil || v != tt.want {
					t.Fatalf("got %v, %v, want %q", v, err, tt.want)
				}
			}
		})
	}
}

// A run may add to the libraries and define globals; the next run on the
// same state sees neither, and the libraries themselves never change.
func TestLibraryOverlays(t *testing.T) {
	p := compile(t, `function handle(m)
  local before = tostring(string.trim) .. " " .. tostring(shout) .. " " .. tostring(next(string))
  function string.trim(s) return (s:gsub("^%s+", "")) end
  string.upper = function() return "hijacked" end
  shout = true
  local n = 0 for k in pairs(string) do n = n + 1 end
  return before .. "|" .. ("  x"):trim() .. " " .. ("a"):upper() .. " " .. n .. " " ..
    tostring(getmetatable(string)) .. " " .. tostring(rawget(_G, "shout")) .. " " ..
    tostring(getmetatable(_G)) .. " " .. tostring(pcall(setmetatable, _G, nil))
end`)
	for run := range 3 {
		v, err := p.Run(context.Background(), msg, env(time.Second))
		if want := "nil nil nil|x hijacked 2 false true false false"; err != nil || v != want {
			t.Fatalf("run %d: got %v, %v, want %q", run, v, err, want)
		}
	}
}

// The chunk is a vararg function without arguments: ... is empty and no
// Lua 5.0 arg table appears, in the first run and on a reused state.
func TestChunkVarargs(t *testing.T) {
	p := compile(t, `local n = select("#", ...)
function handle(m) return n .. " " .. tostring(arg) end`)
	for range 2 {
		if v, err := p.Run(context.Background(), msg, env(time.Second)); err != nil ||
			v != "0 nil" {
			t.Fatalf("got %v, %v, want 0 nil", v, err)
		}
	}
}
