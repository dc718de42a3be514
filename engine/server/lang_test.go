package server

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestJ2OddReturns: every odd return or exception has a defined answer;
// numbers become text, the rest are script errors that name the problem.
func TestJ2OddReturns(t *testing.T) {
	tests := []struct {
		name, js, lua string
		reply         string // expected text; "" means a script error
		logs          string // what the log must say for an error
	}{
		{"missing field", "return m.nosuch.field", "return m.nosuch.field", "",
			"TypeError"},
		{"missing function", "return missingFn()", "return missingFn()", "", "missingFn"},
		{"throwing toString", `return {toString() { throw new Error("x") }}`,
			`return {toString = function() error("x") end}`, "", `unknown key \"toString\"`},
		{"symbol", `return Symbol("s")`, "return string.len", "", "cannot reply with a symbol"},
		{"number", "return 42", "return 42", "42", ""},
		{"fraction", "return 1.5", "return 1.5", "1.5", ""},
		{"boolean", "return true", "return true", "", "cannot reply with a boolean"},
		{"empty object", "return {}", "return {}", "", ""},
		{"typo", `return {mesage: "typo"}`, `return {mesage = "typo"}`, "",
			`unknown key \"mesage\"`},
		{"function", "return function() {}", "return print", "", "function"},
		{"bigint", "return 10n", "return print", "", "cannot reply with a bigint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pair{
				js:  "function handle(m) { " + tt.js + " }",
				lua: "function handle(m) " + tt.lua + " end",
			}
			both(t, "", p, func(t *testing.T, s *site, to string) {
				code, _, body := s.post(t, form(to, "&Body=x"))
				if tt.name == "empty object" {
					// JS {} is an error; Lua {} is an empty list and a
					// message without text or media is left out.
					checkEmptyObject(t, to, code, body)
					return
				}
				if tt.reply != "" {
					got := messages(t, body)
					if code != http.StatusOK || len(got) != 1 || got[0] != tt.reply {
						t.Fatalf("got %d %q, want %q", code, got, tt.reply)
					}
					return
				}
				if code != http.StatusInternalServerError || body != empty {
					t.Fatalf("got %d %q, want the failure answer", code, body)
				}
				if to == jsNumber && !strings.Contains(s.logs.String(), tt.logs) {
					t.Errorf("log does not say %q:\n%s", tt.logs, s.logs)
				}
				if strings.Contains(s.logs.String(), "goroutine ") {
					t.Error("a Go stack trace reached the log")
				}
			})
		})
	}
}

func checkEmptyObject(t *testing.T, to string, code int, body string) {
	t.Helper()
	want := http.StatusOK
	if to == jsNumber {
		want = http.StatusInternalServerError
	}
	if code != want || body != empty {
		t.Fatalf("got %d %q, want %d", code, body, want)
	}
}

// TestL1Bytes: Lua strings are bytes; the reply is valid UTF-8 anyway, and
// the utf8 helper works by code point.
func TestL1Bytes(t *testing.T) {
	s := newSite(t, "", map[string]string{luaNumber + ".lua": `
function handle(m)
  if m.body == "rev" then return string.reverse("שלום") end
  if m.body == "u" then
    local s = "£1 שלום"
    return utf8.len(s) .. "|" .. utf8.sub(s, 1, 2) .. "|" .. utf8.reverse("שלום") ..
      "|" .. utf8.upper("straße ü") .. "|" .. utf8.lower("ÄB")
  end
  return #m.body .. "|" .. string.sub(m.body, 2)
end`})
	tests := map[string]func(string) bool{
		"%C2%A31": func(got string) bool { return strings.HasPrefix(got, "3|\uFFFD") },
		"rev":     func(got string) bool { return strings.ContainsRune(got, '\uFFFD') },
		"u": func(got string) bool {
			return got == "7|£1|םולש|STRAßE Ü|äb"
		},
	}
	for body, ok := range tests {
		_, _, reply := s.post(t, form(luaNumber, "&Body="+body))
		if !utf8.ValidString(reply) {
			t.Fatalf("%s: reply is not valid UTF-8: %q", body, reply)
		}
		got := messages(t, reply)
		if len(got) != 1 || !ok(got[0]) {
			t.Errorf("%s: got %q", body, got)
		}
	}
}

// TestJ1LoneSurrogate: half a surrogate pair comes out as U+FFFD.
func TestJ1LoneSurrogate(t *testing.T) {
	s := newSite(t, "", map[string]string{jsNumber + ".js": `
function handle(m) { return m.body.length + "|" + m.body.slice(0, 1) }`})
	_, _, reply := s.post(t, form(jsNumber, "&Body=%F0%9F%98%80+hi"))
	if strings.Contains(reply, "\xed\xa0\xbd") || !utf8.ValidString(reply) {
		t.Fatalf("CESU bytes or invalid UTF-8: %q", reply)
	}
	if got := messages(t, reply); len(got) != 1 || got[0] != "5|\uFFFD" {
		t.Errorf("got %q", got)
	}
}

// TestL4Sandbox: nothing that reaches files, processes or code loading is
// reachable from Lua; the time functions are.
func TestL4Sandbox(t *testing.T) {
	s := newSite(t, "", map[string]string{luaNumber + ".lua": `
function handle(m)
  local names = {"io", "debug", "package", "require", "dofile", "loadfile", "load",
    "loadstring", "module", "collectgarbage", "getfenv", "setfenv", "newproxy",
    "_printregs", "channel", "coroutine_wrap_os"}
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = n .. "=" .. type(_G[n]) end
  for _, n in ipairs({"execute", "remove", "rename", "exit", "getenv", "tmpname",
    "setenv", "setlocale"}) do
    out[#out + 1] = "os." .. n .. "=" .. type(os[n])
  end
  out[#out + 1] = "time=" .. type(os.time()) .. ",date=" .. type(os.date("%Y")) ..
    ",clock=" .. type(os.clock())
  return table.concat(out, " ")
end`})
	_, _, reply := s.post(t, form(luaNumber, "&Body=x"))
	got := messages(t, reply)
	if len(got) != 1 {
		t.Fatalf("got %q", reply)
	}
	for _, f := range strings.Fields(got[0]) {
		name, kind, _ := strings.Cut(f, "=")
		if strings.HasPrefix(name, "time") {
			continue
		}
		if kind != "nil" {
			t.Errorf("%s is reachable (%s)", name, kind)
		}
	}
	if !strings.Contains(got[0], "time=number,date=string,clock=number") {
		t.Errorf("time functions missing: %q", got[0])
	}
}

// TestJSSandbox: no require, process or file access from JavaScript, and
// a sourceMappingURL comment makes the parser read nothing.
func TestJSSandbox(t *testing.T) {
	s := newSite(t, "", map[string]string{jsNumber + ".js": `
function handle(m) {
  return [typeof require, typeof process, typeof module, typeof exports,
    typeof setTimeout, typeof fetch, typeof XMLHttpRequest].join(",")
}
//# sourceMappingURL=/etc/passwd`})
	_, _, reply := s.post(t, form(jsNumber, "&Body=x"))
	want := "undefined,undefined,undefined,undefined,undefined,undefined,undefined"
	if got := messages(t, reply); len(got) != 1 || got[0] != want {
		t.Errorf("got %q", got)
	}
}

// TestParams: msg.params holds every name sent, once, with its first
// value, in both languages; its names list in byte order in JS.
func TestParams(t *testing.T) {
	p := pair{
		js: `function handle(m) {
  return Object.keys(m.params).filter(k => k[0] === "X").join(",") + " " + m.params.XTwice +
    " " + m.params.XEmpty + "|" + (m.params.Nope === undefined) }`,
		lua: `function handle(m)
  local n = 0
  for k in pairs(m.params) do if k:sub(1, 1) == "X" then n = n + 1 end end
  return n .. " " .. m.params.XTwice .. " " .. m.params.XEmpty .. "|" ..
    tostring(m.params.Nope == nil) end`,
	}
	want := map[string]string{
		jsNumber:  "XEmpty,XOnce,XTwice first |true",
		luaNumber: "3 first |true",
	}
	both(t, "", p, func(t *testing.T, s *site, to string) {
		code, _, body := s.post(t, form(to, "&XTwice=first&XOnce=1&XTwice=second&XEmpty="))
		if got := messages(t, body); code != http.StatusOK || len(got) != 1 ||
			got[0] != want[to] {
			t.Fatalf("got %d %q, want %q", code, got, want[to])
		}
	})
}
