package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

// Both languages answer the same numbers in these tests.
const (
	jsNumber  = "+15550100099"
	luaNumber = "+15550100098"
)

// pair is one script in both languages.
type pair struct{ js, lua string }

var echoScript = pair{
	js:  "function handle(m) { return m.body }",
	lua: "function handle(m) return m.body end",
}

// both runs fn once per language against a site serving p.
func both(t *testing.T, extra string, p pair, fn func(t *testing.T, s *site, to string)) {
	t.Helper()
	s := newSite(t, extra, map[string]string{
		jsNumber + ".js": p.js, luaNumber + ".lua": p.lua,
	})
	t.Run("js", func(t *testing.T) { fn(t, s, jsNumber) })
	t.Run("lua", func(t *testing.T) { fn(t, s, luaNumber) })
}

var sids atomic.Int64

// form is the base form to to with rest appended, under a MessageSid of
// its own, so that the record of answered messages never interferes.
func form(to, rest string) string {
	sid := fmt.Sprintf("SM%032d", 100+sids.Add(1))
	return strings.Replace(baseForm, "SM00000000000000000000000000000001", sid, 1) +
		"&To=" + url.QueryEscape(to) + rest
}

// TestR1Markup: markup characters come back exactly, escaped on the wire.
func TestR1Markup(t *testing.T) {
	both(t, "", echoScript, func(t *testing.T, s *site, to string) {
		code, ctype, body := s.post(t,
			form(to, "&Body=pb%26j+%3C3+%3E_%3C+%22ok%22+it%27s+a%5D%5D%3Eb"))
		if code != http.StatusOK || ctype != "application/xml" {
			t.Fatalf("got %d %q", code, ctype)
		}
		got := messages(t, body)
		if len(got) != 1 || got[0] != `pb&j <3 >_< "ok" it's a]]>b` {
			t.Fatalf("decoded %q", got)
		}
		inner := strings.TrimPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`)
		text := strings.TrimSuffix(strings.TrimPrefix(inner, "<Response><Message>"),
			"</Message></Response>")
		if strings.Contains(text, "<") || strings.Contains(body, "]]>") ||
			strings.Contains(body, "CDATA") {
			t.Errorf("raw text not escaped: %q", body)
		}
		if strings.Contains(strings.ReplaceAll(text, "&amp;", ""), "&j") {
			t.Errorf("bare ampersand: %q", body)
		}
	})
}

// TestR2Forbidden: control characters XML 1.0 forbids never reach the reply.
func TestR2Forbidden(t *testing.T) {
	both(t, "", echoScript, func(t *testing.T, s *site, to string) {
		_, _, body := s.post(t, form(to,
			"&Body=bell%07%7Cvt%0B%7Cff%0C%7Cnul%00%7Cesc%1B%7Ctab%09%7Cnl%0A%7Ccr%0D"+
				"%7Cbad%ED%A0%BD%7Cff%FF"))
		got := messages(t, body)
		if len(got) != 1 {
			t.Fatalf("messages %q", got)
		}
		for _, keep := range []string{"tab\t", "nl\n", "cr\r", "bad\uFFFD", "ff\uFFFD"} {
			if !strings.Contains(got[0], keep) {
				t.Errorf("decoded %q lacks %q", got[0], keep)
			}
		}
		for _, bad := range []string{"\a", "\v", "\f", "\x00", "\x1b", "&#x", "&#1;"} {
			if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(
				body, "&#x9;", ""), "&#xA;", ""), "&#xD;", ""), bad) {
				t.Errorf("raw reply carries %q: %q", bad, body)
			}
		}
		if !utf8.ValidString(body) {
			t.Error("reply is not valid UTF-8")
		}
	})
}

// TestR3Start: whatever the script returns, the reply starts with <?xml.
func TestR3Start(t *testing.T) {
	returns := []pair{
		{`function handle() { return "\ufeff\n hello" }`,
			`function handle() return "\239\187\191\n hello" end`},
		{`function handle() {}`, `function handle() end`},
		{`function handle() { throw new Error("x") }`, `function handle() error("x") end`},
	}
	for _, p := range returns {
		both(t, "", p, func(t *testing.T, s *site, to string) {
			_, _, body := s.post(t, form(to, "&Body=x"))
			if !strings.HasPrefix(body, "<?xml") {
				t.Errorf("reply starts %q", body[:min(10, len(body))])
			}
		})
	}
}
