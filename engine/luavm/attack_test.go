package luavm

// Attacks on the isolation of runs that share a reused state: per-run
// globals over the shared ones, library overlays, the string metatable,
// the metatables gopher-lua keeps per type, msg/ctx lazy fields, stale
// registers, and what the state keeps after a run.
//
// The tests named as leaks below were leaks when they were written; they
// stay as regression tests.

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lamlhost/lamlhost/engine/script"
)

// drainStates closes every state on the free list, so that the next
// Program.Run builds one and the runs after it reuse that one.
func drainStates() {
	for {
		select {
		case st := <-states:
			st.L.Close()
		default:
			return
		}
	}
}

// pinned is one state that a test runs every script on, as the free list
// would hand it from one message to the next.
type pinned struct {
	t       *testing.T
	st      *state
	dropped int // runs after which the state was not reusable
}

func pin(t *testing.T) *pinned {
	t.Helper()
	drainStates()
	pn := &pinned{t: t, st: newState(nil)}
	t.Cleanup(func() {
		drainStates()
		pn.st.L.Close()
	})
	return pn
}

// run runs p on the pinned state and takes the state back from the free
// list. When the run left the state unfit for reuse, the next run gets a
// new state and dropped counts it.
func (pn *pinned) run(p *Program, m *script.Message, e *script.Env) (any, error) {
	pn.t.Helper()
	v, err := p.runOn(context.Background(), pn.st, m, e)
	found := false
	for !found {
		select {
		case st := <-states:
			if st == pn.st {
				found = true
			} else {
				st.L.Close()
			}
		default:
			pn.dropped++
			pn.st = newState(nil)
			return v, err
		}
	}
	return v, err
}

// mustRun is run for a script that must succeed and keep its state.
func (pn *pinned) mustRun(p *Program, m *script.Message, e *script.Env) any {
	pn.t.Helper()
	before := pn.dropped
	v, err := pn.run(p, m, e)
	if err != nil {
		pn.t.Fatalf("%s: %v", p.name, err)
	}
	if pn.dropped != before {
		pn.t.Fatalf("%s: the state was not kept after a clean run", p.name)
	}
	return v
}

// victimMsg is the message of another customer, whose text no other
// number's script may ever see.
var victimMsg = func() *script.Message {
	form, err := script.ParseForm("From=%2B15550100777&To=%2B15550100888" +
		"&Body=victim+secret+4711&MessageSid=SMvictim&Digits=31337&Digits=1")
	if err != nil {
		panic(err)
	}
	return script.MessageFromForm(form)
}()

func victimEnv() *script.Env {
	e := env(2 * time.Second)
	e.Number = "+15550100888"
	e.Vars = map[string]any{"shop": "Victim Corner", "nested": map[string]any{"pin": "0000"}}
	return e
}

func attackerEnv() *script.Env {
	e := env(2 * time.Second)
	e.Number = "+15550100666"
	return e
}

// probeSrc describes, as text, everything a script can observe of the
// shared state: the libraries, the metatables of every type, the globals,
// uninitialised registers, msg and ctx before and after their lazy fields
// are read. It names no address, so that a fresh state and a reused one
// describe themselves alike when nothing leaked.
const probeSrc = `
local topVarargs = select('#', ...)
function handle(msg, ctx)
  local out = {}
  local function add(k, v) out[#out + 1] = k .. "=" .. tostring(v) end
  local function keys(t)
    local ks = {}
    for k, v in next, t do ks[#ks + 1] = tostring(k) .. ":" .. type(v) end
    table.sort(ks)
    return table.concat(ks, ",")
  end
  local function try(f) local ok, v = pcall(f) return tostring(ok) .. "/" .. type(v) end

  add("top varargs", topVarargs)
  do
    local a, b, c, d, e, f, g, h, i, j
    local n = 0
    for _, v in ipairs({a, b, c, d, e, f, g, h, i, j}) do n = n + 1 end
    add("fresh locals", n .. tostring(a) .. tostring(j))
    add("varargs", select('#', (function(...) return ... end)()))
    add("unpack", select('#', unpack({}, 1, 20)) .. tostring((unpack({}, 1, 20))))
  end

  local smt = getmetatable("")
  add("string mt type", type(smt))
  if type(smt) == "table" then
    add("string mt keys", keys(smt))
    add("string mt index is string", rawequal(rawget(smt, "__index"), string))
    add("string mt mt", getmetatable(smt))
  end
  for _, v in ipairs({1, true, print, function() end, handle}) do
    add("mt of " .. type(v), getmetatable(v))
  end
  add("index a number", try(function() return (1).x end))
  add("index a boolean", try(function() return (true).x end))
  add("index a function", try(function() return print.x end))
  add("call a string", try(function() return ("x")() end))
  add("call a number", try(function() return (1)() end))
  add("tostring", tostring(5) .. tostring(true) .. tostring(nil) .. tostring(1.5))
  add("tostring of a function", (tostring(print):gsub("0x%x+", "ADDR")))
  add("arith", tostring(1 + "2") .. tostring("3" * "4") .. tostring(-"5") .. tostring("10" % 3))
  add("concat", "a" .. 1 .. 2.5)
  add("compare", tostring("a" < "b") .. tostring(1 < 2))
  add("len", #"abc")
  add("string methods", ("ab"):upper() .. ("x"):rep(3) .. ("%d|%s"):format(5, "s") ..
    ("abc"):sub(2) .. ("a,b"):gsub(",", ";") .. tostring(("hello"):find("l")) ..
    tostring(("k=v"):match("(%w)=(%w)")) .. ("AB"):lower() .. ("abc"):reverse() ..
    ("a"):byte() .. string.char(65) .. #string.format("%5s", "x"))
  add("string nosuch", tostring(("x").nosuch) .. tostring(string.nosuch))

  local libs = {string = string, table = table, math = math, os = os, utf8 = utf8}
  for _, name in ipairs({"string", "table", "math", "os", "utf8"}) do
    local lib = libs[name]
    add(name .. " overlay", type(lib) .. " " .. tostring(next(lib)) .. " " ..
      tostring(getmetatable(lib)) .. " " .. try(function() return setmetatable(lib, {}) end))
  end
  add("library calls", string.upper("a") .. math.floor(2.5) .. math.max(1, 3) ..
    tostring(math.pi) .. table.concat({1, 2, 3}, ",") .. utf8.len("é") .. utf8.upper("é") ..
    os.date("!%Y-%m-%d", 0) .. type(os.time()) .. type(os.clock()) ..
    os.time({year = 2020, month = 1, day = 1, hour = 0}) .. tostring(math.huge))
  do
    local t = {3, 1, 2}
    table.sort(t)
    table.insert(t, 4)
    add("table functions", table.concat(t) .. tostring(table.remove(t)) .. #t ..
      tostring(table.maxn and table.maxn(t)))
  end

  add("getmetatable(_G)", getmetatable(_G))
  add("_G._G", rawequal(_G._G, _G))
  add("try setmetatable(_G)", try(function() return setmetatable(_G, {}) end))
  local own = {}
  for k in pairs(_G) do if k ~= "handle" and k ~= "_G" then own[#own + 1] = tostring(k) end end
  add("own globals", table.concat(own, ","))
  local globals = {}
  for _, name in ipairs({"assert", "error", "getmetatable", "ipairs", "next", "pairs",
      "pcall", "print", "rawequal", "rawget", "rawset", "select", "setmetatable",
      "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION",
      "load", "loadstring", "dofile", "loadfile", "require", "module", "collectgarbage",
      "getfenv", "setfenv", "newproxy", "_printregs", "coroutine", "debug", "io",
      "package", "channel", "gcinfo", "leaked", "secret", "stash", "trap", "x",
      "handle2", "_ENV", "_LOADED", "__index"}) do
    globals[#globals + 1] = name .. ":" .. type(_G[name])
  end
  add("globals", table.concat(globals, ","))

  add("msg mt", getmetatable(msg))
  add("ctx mt", getmetatable(ctx))
  add("raw params before", rawget(msg, "params"))
  add("raw vars before", rawget(ctx, "vars"))
  add("raw now before", rawget(ctx, "now"))
  add("msg keys before", keys(msg))
  add("ctx keys before", keys(ctx))
  add("params", keys(msg.params) .. " " .. tostring(msg.params.Body) .. " " ..
    tostring(msg.params.Digits))
  add("vars", keys(ctx.vars) .. " " .. tostring(ctx.vars.shop) .. " " ..
    tostring(ctx.vars.nested and ctx.vars.nested.pin))
  add("now", type(ctx.now) .. " " .. type(ctx.now.hour) .. " " .. type(ctx.now.iso))
  add("msg keys after", keys(msg))
  add("ctx keys after", keys(ctx))
  add("msg fields", msg.from .. " " .. msg.to .. " " .. msg.body .. " " .. msg.sid ..
    " " .. #msg.media .. " " .. ctx.number .. " " .. ctx.timezone)
  add("try setmetatable(msg)", try(function() return setmetatable(msg, {}) end))
  add("missing fields", tostring(msg.nosuch) .. tostring(ctx.params) .. tostring(msg.vars))
  return table.concat(out, "\n")
end
`

// probe runs the probe script on the pinned state, as the victim, and
// returns what it saw.
func (pn *pinned) probe() string {
	pn.t.Helper()
	v := pn.mustRun(compile(pn.t, probeSrc), victimMsg, victimEnv())
	s, _ := v.(string)
	return s
}

// baseline is what the probe sees on a state no other script has used.
func baseline(t *testing.T) string {
	t.Helper()
	p := compile(t, probeSrc)
	v, err := p.runOn(context.Background(), newState(nil), victimMsg, victimEnv())
	if err != nil {
		t.Fatal(err)
	}
	drainStates()
	return v.(string)
}

// diffLines names the lines of got that differ from want.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var d []string
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			d = append(d, "  want "+a+"\n   got "+b)
		}
	}
	return strings.Join(d, "\n")
}

// The probe itself sees what it should on a fresh state, so that its
// fingerprint is worth comparing.
func TestAttackProbeBaseline(t *testing.T) {
	got := baseline(t)
	for _, want := range []string{
		"top varargs=0",
		"fresh locals=0nilnil",
		"string mt type=table",
		"string mt index is string=true",
		"mt of number=nil", "mt of boolean=nil", "mt of function=nil",
		"index a number=false/string",
		"tostring=5truenil1.5",
		"arith=312-51",
		"string overlay=table nil false false/string",
		"getmetatable(_G)=false",
		"own globals=",
		"msg mt=false",
		"raw params before=nil",
		"params=Body:string,Digits:string,From:string,MessageSid:string,To:string " +
			"victim secret 4711 31337",
		"vars=nested:table,shop:string Victim Corner 0000",
		"msg keys before=body:string,from:string,media:table,sid:string,to:string",
		"msg keys after=body:string,from:string,media:table,params:table,sid:string,to:string",
		"missing fields=nilnilnil",
	} {
		if !strings.Contains("\n"+got+"\n", "\n"+want+"\n") {
			t.Errorf("the probe on a fresh state lacks %q; it saw:\n%s", want, got)
		}
	}
	if strings.Contains(got, "coroutine:table") || strings.Contains(got, "debug:table") ||
		strings.Contains(got, "load:function") {
		t.Errorf("a removed library is back:\n%s", got)
	}
}

// attacks are scripts of a hostile number: each changes what it can reach
// and must leave nothing for the next run on the same state. Each one
// returns normally, so that the state is reused.
var attacks = []struct{ name, src string }{
	{"globals", `
leaked, secret, x = "of the attacker", "s", 1
function handle2() end
function handle()
  local G = _G
  stash = "attacker"
  rawset(G, "trap", true)
  _ENV = {}
  pcall(setmetatable, G, {__index = function() return "from the attacker" end})
  pcall(rawset, getmetatable(G) or {}, "__index", {})
  G._G = nil
  return tostring(_G)
end`},
	{"library overlays", `function handle()
  string.upper = function() return "hijacked" end
  function string.trim(s) return s end
  rawset(string, "lower", false)
  table.insert, table.concat = nil, function() return "hijacked" end
  math.floor, math.pi, math.huge = math.ceil, 3, 0
  os.time, os.date = function() return 0 end, nil
  utf8.len = function() return -1 end
  for _, lib in ipairs({string, table, math, os, utf8}) do
    pcall(setmetatable, lib, {__index = function() return "x" end})
    pcall(setmetatable, lib, nil)
    lib.__index, lib.__metatable = {}, "mine"
  end
  return "ok"
end`},
	{"string metatable fields", `function handle()
  local mt = getmetatable("")
  mt.upper = function() return "hijacked" end
  mt.extra = {deep = {"secret"}}
  mt.__add = function(a, b) return "added" end
  mt.__call = function() return "called" end
  mt.__concat = function() return "concat" end
  mt.__metatable = false
  return "ok"
end`},
	{"string metatable __index", `function handle()
  local mt = getmetatable("")
  local old = mt.__index
  mt.__index = function(s, k) stash = s return old[k] end
  return ("x"):upper()
end`},
	{"string metatable gets a metatable", `function handle()
  setmetatable(getmetatable(""), {__index = function(t, k) return "from a metatable" end,
    __newindex = function() end, __metatable = false})
  return "ok"
end`},
	{"string metatable emptied", `function handle()
  local mt = getmetatable("")
  local ks = {}
  for k in pairs(mt) do ks[#ks + 1] = k end
  for _, k in ipairs(ks) do mt[k] = nil end
  return "ok"
end`},
	{"string metatable shuffled", `function handle()
  local mt = getmetatable("")
  local saved = {}
  for k, v in pairs(mt) do saved[k] = v end
  for k in pairs(saved) do mt[k] = nil end
  for k, v in pairs(saved) do mt[k] = v end
  mt.upper, mt.lower = mt.lower, mt.upper
  return "ok"
end`},
	{"errors caught", `function handle()
  local t = setmetatable({}, {__tostring = function() return "boom" end})
  pcall(error, t)
  pcall(error, {secret = "x"}, 2)
  xpcall(function() error(t) end, function(e) stash = e return e end)
  pcall(string.rep)
  pcall(setmetatable, nil, {})
  return "ok"
end`},
	{"registers filled", `function handle()
  local s = "secret of the attacker"
  local function fill(n, ...)
    local a, b, c, d, e, f, g, h, i, j = s, s, s, s, s, s, s, s, s, s
    if n > 0 then return fill(n - 1, s, s, s, s, s, s, s, s) end
    return select('#', ...)
  end
  fill(60)
  local t = {}
  for i = 1, 200 do t[i] = s end
  unpack(t)
  return "ok"
end`},
	{"msg and ctx", `function handle(msg, ctx)
  pcall(setmetatable, msg, {})
  pcall(setmetatable, ctx, nil)
  msg.params = {Body = "forged"}
  ctx.vars = {shop = "forged"}
  ctx.now = "forged"
  rawset(msg, "body", "forged")
  return "ok"
end`},
	{"lazy fields changed after a read", `function handle(msg, ctx)
  msg.params.Body = "forged"
  msg.params.Injected = "yes"
  ctx.vars.shop = "forged"
  ctx.vars.nested = nil
  ctx.now.hour = "forged"
  return "ok"
end`},
}

// After each attack, the victim's probe on the same state sees exactly
// what it sees on a fresh state.
func TestAttacksLeaveNothing(t *testing.T) {
	want := baseline(t)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			pn := pin(t)
			p := compile(t, a.src)
			for round := range 3 {
				pn.mustRun(p, msg, attackerEnv())
				if got := pn.probe(); got != want {
					t.Fatalf("round %d: the probe after the attack differs:\n%s",
						round, diffLines(want, got))
				}
			}
		})
	}
}

// builtinAttacks set a metatable on a value that is not a table. gopher-
// lua keeps one per type in the state (the string metatable among them),
// and setmetatable changes it for every value of the type.
var builtinAttacks = []struct{ name, src string }{
	{"string metatable replaced", `function handle()
  return tostring(pcall(setmetatable, "", {__index = function(s, k) return string[k] end}))
end`},
	{"string metatable removed", `function handle()
  return tostring(pcall(setmetatable, "", nil))
end`},
	{"number metatable", `function handle()
  return tostring(pcall(setmetatable, 0, {__tostring = function(n) return "999" end,
    __index = function(n, k) return "from the attacker" end}))
end`},
	{"boolean metatable", `function handle()
  return tostring(pcall(setmetatable, true, {__tostring = function(b) return "yes" end}))
end`},
	{"function metatable", `function handle()
  return tostring(pcall(setmetatable, print, {__index = function(f, k) return "x" end,
    __tostring = function() return "function" end}))
end`},
}

// Was a leak: a script set the metatable of strings, numbers, booleans or
// functions, and the next run on the state, another number's, still had
// it. setmetatable now refuses anything but a table, and the per-type
// metatables are reset after every run.
func TestAttackBuiltinMetatables(t *testing.T) {
	want := baseline(t)
	for _, a := range builtinAttacks {
		t.Run(a.name, func(t *testing.T) {
			pn := pin(t)
			if v := pn.mustRun(compile(t, a.src), msg, attackerEnv()); v != "false" {
				t.Errorf("setmetatable on a value that is not a table gave %v", v)
			}
			if got := pn.probe(); got != want {
				t.Fatalf("the probe after the attack differs:\n%s", diffLines(want, got))
			}
		})
	}
}

// The per-type metatables are put back after a run even if something set
// them from Go, as a library bug could.
func TestTypeMetatablesReset(t *testing.T) {
	want := baseline(t)
	pn := pin(t)
	L := pn.st.L
	L.SetMetatable(lua.LNumber(0), L.NewTable())
	L.SetMetatable(lua.LString(""), L.NewTable())
	pn.mustRun(compile(t, `function handle() return "ok" end`), msg, attackerEnv())
	if got := pn.probe(); got != want {
		t.Fatalf("the probe after the run differs:\n%s", diffLines(want, got))
	}
}

// stealSrc replaces the string metatable with one that records every string
// a method is called on, and hands the record back to a later run of its
// own on the state. The closure holds the attacker's first msg and ctx too,
// to read their lazy fields during the victim's run.
const stealSrc = `function handle(msg, ctx)
  local smt = getmetatable("")
  if type(smt) == "table" and rawget(smt, "stolen") then
    return "stolen: " .. smt.stolen()
  end
  local seen, lib = {}, string
  local oldMsg, oldCtx = msg, ctx
  local mt = {stolen = function() return table.concat(seen, "|") end}
  mt.__index = function(s, k)
    if #seen < 50 then
      seen[#seen + 1] = s
      seen[#seen + 1] = "old params " .. tostring(oldMsg.params) .. " " ..
        tostring(oldCtx.vars) .. " " .. tostring(oldCtx.now)
    end
    return lib[k]
  end
  mt.__add = function(a, b)
    seen[#seen + 1] = "add " .. tostring(a) .. " " .. tostring(b)
    return tonumber(a) + tonumber(b)
  end
  if pcall(setmetatable, "", mt) then return "armed" end
  return "refused"
end`

// victimSrc is an ordinary handler of another number.
const victimSrc = `function handle(msg, ctx)
  local text = msg.body:lower()
  local code = msg.params.Digits + 1
  return {message = "Got " .. text:sub(1, 6) .. " " .. code}
end`

// Leak: a hostile number's script reads the text of another number's
// message, on a state of the free list, as production runs them.
func TestAttackStealThroughStringMetatable(t *testing.T) {
	attacker, victim := compile(t, stealSrc), compile(t, victimSrc)
	drainStates()
	t.Cleanup(drainStates)
	ctx := context.Background()
	v, err := attacker.Run(ctx, msg, attackerEnv())
	if err != nil || v != "refused" {
		t.Fatalf("attacker: %v, %v", v, err)
	}
	got, err := victim.Run(ctx, victimMsg, victimEnv())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"message": "Got victim 31338"}; !sameReply(got, want) {
		t.Errorf("the victim's reply: %v, want %v", got, want)
	}
	v, err = attacker.Run(ctx, msg, attackerEnv())
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.(string); strings.Contains(s, "victim") || strings.Contains(s, "31337") {
		t.Fatalf("the attacker read the victim's message: %q", s)
	}
	// A stale msg from the attacker's first run gives nothing during the
	// victim's: the lazy fields are only made for the run's own msg/ctx.
	if s, _ := v.(string); strings.Contains(s, "old params table") {
		t.Fatalf("a stale msg made its params in a later run: %q", s)
	}
}

func sameReply(got any, want map[string]any) bool {
	m, ok := got.(map[string]any)
	if !ok || len(m) != len(want) {
		return false
	}
	for k, v := range want {
		if m[k] != v {
			return false
		}
	}
	return true
}

// Leak: a number's __tostring stays on the state and rewrites another
// number's reply.
func TestAttackRewriteReplyThroughNumberMetatable(t *testing.T) {
	pn := pin(t)
	pn.mustRun(compile(t, `function handle()
  pcall(setmetatable, 0, {__tostring = function(n) return "0 (call +1-555-0100666 instead)" end})
  return "ok"
end`), msg, attackerEnv())
	v := pn.mustRun(compile(t, `function handle(msg)
  return "Your code is " .. tostring(#msg.body) .. string.format(" (%s)", 2)
end`), victimMsg, victimEnv())
	if v != "Your code is 18 (2)" {
		t.Fatalf("the victim's reply was rewritten: %q", v)
	}
}

// A function stored in the string metatable (the string library) or in an
// overlay is gone by the next run, and so is its hold on the run's data.
func TestAttackClosureInStringMetatableIsUndone(t *testing.T) {
	pn := pin(t)
	arm := compile(t, `function handle(msg)
  local smt, lib = getmetatable(""), string
  local before = tostring(rawget(smt, "spy")) .. tostring(rawget(string, "spy"))
  local seen = {}
  smt.spy = function() return table.concat(seen, "|") end
  string.spy = smt.spy
  local index = smt.__index
  smt.__index = setmetatable({}, {__index = function(_, k) seen[#seen + 1] = k return index[k] end})
  return before
end`)
	for round := range 3 {
		if v := pn.mustRun(arm, msg, attackerEnv()); v != "nilnil" {
			t.Fatalf("round %d: the spy of an earlier run is still there: %v", round, v)
		}
		v := pn.mustRun(compile(t, `function handle(msg)
  return tostring(("x").spy) .. tostring(string.spy) .. msg.body:upper()
end`), victimMsg, victimEnv())
		if v != "nilnilVICTIM SECRET 4711" {
			t.Fatalf("round %d: the victim saw %v", round, v)
		}
	}
}

// A script can reach the real string library, which is the string
// metatable, but a change to it is undone; the other libraries and the
// shared globals are out of reach: a sweep that writes a mark into every
// table it can reach leaves no mark in the shared tables.
func TestAttackSweepReachableTables(t *testing.T) {
	pn := pin(t)
	sweep := compile(t, `function handle(msg, ctx)
  local seen, queue, n = {}, {}, 0
  local function push(v)
    if type(v) == "table" and not seen[v] then seen[v] = true queue[#queue + 1] = v end
    local ok, mt = pcall(getmetatable, v)
    if ok and type(mt) == "table" and not seen[mt] then seen[mt] = true queue[#queue + 1] = mt end
  end
  for _, v in ipairs({_G, string, table, math, os, utf8, msg, ctx, msg.params, ctx.vars,
      ctx.now, "", 1, true, print, handle, os.date("*t")}) do push(v) end
  for _, name in ipairs({"string", "table", "math", "os", "utf8", "_G", "coroutine"}) do
    push(_G[name])
  end
  while #queue > 0 and n < 500 do
    local t = table.remove(queue)
    n = n + 1
    for k, v in next, t do push(k) push(v) end
    pcall(rawset, t, "__attack_mark", "mark")
  end
  return tostring(n)
end`)
	check := compile(t, `function handle(msg, ctx)
  local found = {}
  local function look(name, t)
    if type(t) == "table" and rawget(t, "__attack_mark") ~= nil then found[#found + 1] = name end
  end
  look("_G", _G) look("string", string) look("table", table) look("math", math)
  look("os", os) look("utf8", utf8) look("string mt", getmetatable(""))
  look("msg", msg) look("ctx", ctx) look("params", msg.params) look("vars", ctx.vars)
  look("now", ctx.now)
  if __attack_mark ~= nil then found[#found + 1] = "global" end
  if string.__attack_mark ~= nil or ("x").__attack_mark ~= nil then found[#found + 1] = "string" end
  if table.__attack_mark ~= nil or math.__attack_mark ~= nil then found[#found + 1] = "lib" end
  return table.concat(found, ",")
end`)
	for round := range 2 {
		pn.mustRun(sweep, msg, attackerEnv())
		if v := pn.mustRun(check, victimMsg, victimEnv()); v != "" {
			t.Fatalf("round %d: the victim sees the attacker's mark in %v", round, v)
		}
		// Go's view of the shared tables: the globals, the real libraries
		// behind the overlays, the overlays and the string metatable.
		st := pn.st
		tables := map[string]*lua.LTable{"globals": st.env}
		for _, name := range shared {
			overlay, _ := st.env.RawGetString(name).(*lua.LTable)
			if overlay == nil {
				t.Fatalf("no overlay for %s", name)
			}
			tables[name+" overlay"] = overlay
			if mt, ok := overlay.Metatable.(*lua.LTable); ok {
				tables[name+" overlay metatable"] = mt
				if lib, ok := mt.RawGetString("__index").(*lua.LTable); ok {
					tables[name+" library"] = lib
				}
			}
		}
		tables["globals metatable"] = st.globalsMeta
		tables["lazy metatable"] = st.lazy.meta
		if mt, ok := st.L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
			tables["string metatable"] = mt
		}
		for name, tb := range tables {
			if tb.RawGetString("__attack_mark") != lua.LNil {
				t.Errorf("round %d: the mark is in the shared %s", round, name)
			}
		}
	}
}

// A state on which a run added an integer key to a shared table, or so
// many keys that gopher-lua's key index would keep growing, is not
// reused; one whose runs added a few names is, and those names are gone.
func TestAttackKeysRetireTheState(t *testing.T) {
	pn := pin(t)
	for _, src := range []string{
		`function handle() string[1] = "x" return "ok" end`,
		`function handle() getmetatable("")[1] = "x" return "ok" end`,
		`function handle() rawset(math, 2^40, "x") return "ok" end`,
		`function handle() for i = 1, 1100 do os["k" .. i] = i end return "ok" end`,
	} {
		before := pn.dropped
		if _, err := pn.run(compile(t, src), msg, attackerEnv()); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if pn.dropped == before {
			t.Errorf("%s: the state was reused", src)
		}
	}
	few := compile(t, `function handle()
  local before = tostring(rawget(string, -1)) .. tostring(rawget(string, 0.5)) ..
    tostring(rawget(getmetatable(""), "k")) .. tostring(rawget(os, "k"))
  string[-1], string[0.5], getmetatable("").k, os.k = 1, 2, 3, 4
  return before
end`)
	for round := range 3 {
		if v := pn.mustRun(few, msg, attackerEnv()); v != "nilnilnilnil" {
			t.Fatalf("round %d: an earlier run's keys are left: %v", round, v)
		}
	}
}

// A run that fails, whatever it changed and whatever it raised, never
// leaves its state behind.
func TestAttackFailedRunDropsState(t *testing.T) {
	pn := pin(t)
	for _, src := range []string{
		`function handle() string.upper = nil error({secret = "x"}) end`,
		`function handle() getmetatable("").x = 1
  error(setmetatable({}, {__tostring = function() return "x" end})) end`,
		`function handle() setmetatable("", {}) return {1, x = 2} end`,
		`function handle() local t = {} t.t = t return t end`,
	} {
		before := pn.dropped
		if _, err := pn.run(compile(t, src), msg, attackerEnv()); err == nil {
			t.Fatalf("%s: no error", src)
		}
		if pn.dropped == before {
			t.Errorf("%s: the state of a failed run was reused", src)
		}
	}
}

// msg.params, ctx.vars and ctx.now of a run are always its own message's
// and number's, whatever earlier runs on the state read, wrote or failed.
func TestAttackLazyFieldsFollowTheRun(t *testing.T) {
	pn := pin(t)
	read := compile(t, `function handle(msg, ctx)
  return msg.params.Body .. "|" .. tostring(msg.params.Digits) .. "|" ..
    tostring(ctx.vars.shop) .. "|" .. ctx.number .. "|" .. type(ctx.now.hour)
end`)
	skip := compile(t, `function handle(msg, ctx) return msg.body end`)
	write := compile(t, `function handle(msg, ctx)
  msg.params = {Body = "forged"} ctx.vars = {shop = "forged"} ctx.now = {iso = "forged"}
  return "ok"
end`)
	fail := compile(t, `function handle(msg, ctx)
  local _ = msg.params ctx.vars.x = 1 error("no") end`)
	nowType := "number"
	other := &script.Message{Body: "other", Params: script.Form{{Name: "Body", Value: "other"}}}
	otherEnv := env(2 * time.Second)
	otherEnv.Vars = map[string]any{"shop": "Other"}
	for round := range 3 {
		pn.mustRun(write, other, otherEnv)
		want := "victim secret 4711|31337|Victim Corner|+15550100888|" + nowType
		if v := pn.mustRun(read, victimMsg, victimEnv()); v != want {
			t.Fatalf("round %d after a write: %v", round, v)
		}
		pn.mustRun(skip, other, otherEnv)
		if _, err := pn.run(fail, other, otherEnv); err == nil {
			t.Fatal("the failing script did not fail")
		}
		if v := pn.mustRun(read, other, otherEnv); v != "other|nil|Other|+15550100099|"+nowType {
			t.Fatalf("round %d: %v", round, v)
		}
		if v := pn.mustRun(read, victimMsg, victimEnv()); v != want {
			t.Fatalf("round %d: %v", round, v)
		}
	}
	if got := victimEnv().Vars["shop"]; got != "Victim Corner" {
		t.Fatalf("the configuration changed: %v", got)
	}
}

// A reference to an earlier run's msg and ctx, kept by a host function as
// a leak would keep it, makes no lazy field in a later run: not the later
// message's, not its own, and writing to it changes nothing of the later
// run's msg.
func TestAttackStaleMsgMakesNothing(t *testing.T) {
	pn := pin(t)
	var kept lua.LValue
	install := func() {
		L := pn.st.L
		pn.st.env.RawSetString("keep", L.NewFunction(func(L *lua.LState) int {
			kept = L.Get(1)
			return 0
		}))
		pn.st.env.RawSetString("kept", L.NewFunction(func(L *lua.LState) int {
			L.Push(kept)
			return 1
		}))
	}
	install()
	pn.mustRun(compile(t, `function handle(msg, ctx) keep({msg, ctx}) return "ok" end`),
		msg, attackerEnv())
	v := pn.mustRun(compile(t, `function handle(msg, ctx)
  local old = kept()
  local m, c = old[1], old[2]
  local seen = tostring(m.params) .. " " .. tostring(c.vars) .. " " .. tostring(c.now)
  m.params, c.vars = "stale", "stale"
  return seen .. " " .. tostring(rawequal(m, msg)) .. " " .. msg.params.Body .. " " ..
    ctx.vars.shop .. " " .. tostring(getmetatable(m))
end`), victimMsg, victimEnv())
	if v != "nil nil nil false victim secret 4711 Victim Corner false" {
		t.Fatalf("a stale msg/ctx in a later run: %v", v)
	}
	if pn.dropped != 0 {
		t.Fatal("the state was dropped")
	}
}

// The lazy fields read and write as on a plain table, in any order.
func TestAttackLazyFieldOrders(t *testing.T) {
	e := victimEnv()
	tests := []struct{ name, src, want string }{
		{"write nil, then read", `msg.params = nil return tostring(msg.params)`, "nil"},
		{"rawset, then read", `rawset(msg, "params", "raw") return msg.params`, "raw"},
		{"read, write nil, read", `local _ = msg.params msg.params = nil
  return tostring(msg.params) .. tostring(rawget(msg, "params"))`, "nilnil"},
		{"read through ctx as msg", `return tostring(rawget(ctx, "params")) ..
  tostring(ctx.params) .. tostring(msg.vars) .. tostring(msg.now)`,
			"nilnilnilnil"},
		{"next before read", `return tostring(next(msg, "body") ~= "params")`, "true"},
		{"msg as its own params",
			`msg.params = msg return tostring(rawequal(msg.params, msg))`, "true"},
		{"nested handle call", `if ctx.depth then return msg.params else
  local r = handle({}, {depth = 1}) return tostring(r) .. " " .. msg.params.Body end`,
			"nil victim secret 4711"},
		{"vars copied", `ctx.vars.nested.pin = "1234" local a = ctx.vars.nested.pin
  ctx.vars = nil return a .. tostring(ctx.vars)`, "1234nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pn := pin(t)
			p := compile(t, "function handle(msg, ctx) "+tt.src+" end")
			for range 3 {
				if v := pn.mustRun(p, victimMsg, e); v != tt.want {
					t.Fatalf("got %v, want %q", v, tt.want)
				}
			}
		})
	}
	if e.Vars["nested"].(map[string]any)["pin"] != "0000" {
		t.Fatal("a script changed the configured vars")
	}
}

// Bug: a field set with rawset and then assigned nil reads back as the
// made field, where a plain table reads nil.
func TestAttackLazyFieldAfterRawsetAndNil(t *testing.T) {
	pn := pin(t)
	v := pn.mustRun(compile(t, `function handle(msg, ctx)
  rawset(msg, "params", 1) msg.params = nil
  rawset(ctx, "vars", 1) ctx.vars = nil
  return tostring(msg.params) .. " " .. tostring(ctx.vars)
end`), victimMsg, victimEnv())
	if v != "nil nil" {
		t.Fatalf("got %v, want nil nil", v)
	}
}

// math.randomseed in one run does not make the next run's numbers
// predictable: gopher-lua seeds the process-wide generator, which Go no
// longer lets a seed reset.
func TestAttackRandomSeed(t *testing.T) {
	pn := pin(t)
	p := compile(t, `function handle()
  math.randomseed(42)
  local r = {}
  for i = 1, 8 do r[i] = math.random(1, 1000000) end
  return table.concat(r, ",")
end`)
	a := pn.mustRun(p, msg, attackerEnv())
	b := pn.mustRun(p, victimMsg, victimEnv())
	if a == b {
		t.Fatalf("two runs seeded alike drew the same numbers: %v", a)
	}
}

// Was a leak (of memory): keys a run adds to a shared table are removed
// after the run, but gopher-lua's key index keeps them; the state was
// retired only after maxAdded distinct keys, whatever their size. Now the
// keys' bytes count too, so large keys retire the state at once.
func TestAttackRetainedKeyMemory(t *testing.T) {
	pn := pin(t)
	p := compile(t, `function handle(msg)
  local big = string.rep("k", 1024 * 1024)
  for i = 1, 2 do string[big .. msg.body .. i] = true end
  return "ok"
end`)
	live := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := live()
	for i := range 8 {
		if _, err := pn.run(p, &script.Message{Body: string(rune('a' + i))},
			attackerEnv()); err != nil {
			t.Fatal(err)
		}
	}
	after := live()
	if pn.dropped != 8 {
		t.Errorf("%d of 8 states holding 2 MiB of old keys were retired", pn.dropped)
	}
	if grown := int64(after) - int64(before); grown > 4<<20 {
		t.Fatalf("8 clean runs left %d MiB live", grown>>20)
	}
}
