package server

import (
	"net/http"
	"strings"
	"testing"
)

const empty = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// TestR4Framing: odd outcomes are framed per the error table and logged
// with number and MessageSid.
func TestR4Framing(t *testing.T) {
	tests := []struct {
		name   string
		p      pair
		status int
	}{
		{"when the script returns nothing expect an empty 200",
			pair{"function handle() {}", "function handle() end"}, http.StatusOK},
		{"when the script throws expect an empty 500",
			pair{`function handle() { throw new Error("boom") }`,
				`function handle() error("boom") end`}, http.StatusInternalServerError},
		{"when the script has a syntax error expect an empty 500",
			pair{"function handle( {", "function handle( end"},
			http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			both(t, "", tt.p, func(t *testing.T, s *site, to string) {
				code, ctype, body := s.post(t, form(to, "&Body=x"))
				if code != tt.status || ctype != "application/xml" || body != empty {
					t.Fatalf("got %d %q %q", code, ctype, body)
				}
				if tt.status != http.StatusOK && (!strings.Contains(s.logs.String(),
					"number="+to) || !strings.Contains(s.logs.String(),
					"message_sid=SM000")) {
					t.Errorf("log lacks number or message_sid:\n%s", s.logs)
				}
			})
		})
	}
	t.Run("when no script answers expect an empty 404", func(t *testing.T) {
		s := newSite(t, "", nil)
		code, _, body := s.post(t, form("+15550100077", "&Body=x"))
		if code != http.StatusNotFound || body != empty {
			t.Fatalf("got %d %q", code, body)
		}
		if !strings.Contains(s.logs.String(), "+15550100077") {
			t.Errorf("log does not name the unknown number:\n%s", s.logs)
		}
	})
}

// TestFallback: a failing script with fallback text answers 200 with it.
func TestFallback(t *testing.T) {
	extra := `
[numbers."` + jsNumber + `"]
fallback = "Sorry & sorry"
[numbers."` + luaNumber + `"]
fallback = "Sorry & sorry"
`
	p := pair{`function handle() { throw new Error("boom") }`,
		`function handle() error("boom") end`}
	both(t, extra, p, func(t *testing.T, s *site, to string) {
		code, _, body := s.post(t, form(to, "&Body=x"))
		if got := messages(t, body); code != http.StatusOK || len(got) != 1 ||
			got[0] != "Sorry & sorry" {
			t.Fatalf("got %d %q", code, got)
		}
		if !strings.Contains(s.logs.String(), "boom") {
			t.Errorf("the cause was not logged:\n%s", s.logs)
		}
	})
}

// TestR5Media: media in index order whatever the field order.
func TestR5Media(t *testing.T) {
	p := pair{
		js: `function handle(m) {
  return m.media.length + ":" + m.media.map(x => x.contentType).join(",") +
    "|" + JSON.stringify(m.body) }`,
		lua: `function handle(m)
  local types = {}
  for i, x in ipairs(m.media) do types[i] = x.contentType end
  return #m.media .. ":" .. table.concat(types, ",") .. "|\"" .. m.body .. "\""
end`,
	}
	const shuffled = "MediaContentType1=image%2Fpng&To=TO&MediaUrl2=https%3A%2F%2Fapi." +
		"example.test%2FMedia%2FME2&NumMedia=3&From=%2B15550100001&MediaUrl0=https%3A%2F%2F" +
		"api.example.test%2FMedia%2FME0&MediaContentType0=image%2Fjpeg&Body=&MediaUrl1=" +
		"https%3A%2F%2Fapi.example.test%2FMedia%2FME1&MediaContentType2=video%2Fmp4&" +
		"MessageSid=SM00000000000000000000000000000007&AccountSid=AC00000000000000000000000000000000"
	both(t, "", p, func(t *testing.T, s *site, to string) {
		esc := strings.ReplaceAll(to, "+", "%2B")
		cases := map[string]string{
			strings.Replace(shuffled, "TO", esc, 1): `3:image/jpeg,image/png,video/mp4|""`,
			strings.Replace(strings.Replace(shuffled, "TO", esc, 1), "&Body=", "", 1): `3:` +
				`image/jpeg,image/png,video/mp4|""`,
			"To=" + esc + "&From=%2B1&NumMedia=2&MediaUrl0=u&MediaContentType0=image%2Fgif": `1:` +
				`image/gif|""`,
		}
		for f, want := range cases {
			_, _, body := s.post(t, f)
			if got := messages(t, body); len(got) != 1 || got[0] != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
	})
}

// TestR6Length: text length is counted in UTF-16 units.
func TestR6Length(t *testing.T) {
	p := pair{
		js: `function handle(m) { return m.body === "a" ? "a".repeat(1700) : "😀".repeat(+m.body) }`,
		lua: `function handle(m)
  if m.body == "a" then return string.rep("a", 1700) end
  return string.rep("😀", tonumber(m.body)) end`,
	}
	both(t, "", p, func(t *testing.T, s *site, to string) {
		for body, want := range map[string]int{"a": 500, "800": 200, "801": 500} {
			code, _, _ := s.post(t, form(to, "&Body="+body))
			if code != want {
				t.Errorf("body %s: got %d, want %d", body, code, want)
			}
		}
		if !strings.Contains(s.logs.String(), "1700 UTF-16 units") ||
			!strings.Contains(s.logs.String(), "1602 UTF-16 units") {
			t.Errorf("the log does not say why:\n%s", s.logs)
		}
	})
}

// TestErrorTable: what the CPaaS gets for requests that never reach a
// script. Never HTML, never a stack trace.
func TestErrorTable(t *testing.T) {
	s := newSite(t, `max_body = "1KiB"`, map[string]string{jsNumber + ".js": echoScript.js})
	post := func(ctype, body string) *http.Request {
		r := newRequest(http.MethodPost, body)
		r.Header.Set("Content-Type", ctype)
		return r
	}
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"when JSON expect 415", post("application/json", `{"To":"x"}`), 415},
		{"when multipart expect 415", post("multipart/form-data; boundary=x", "--x--"), 415},
		{"when no content type expect 415", post("", "To=x"), 415},
		{"when To is missing expect 400", post(formType, "From=%2B1&Body=x"), 400},
		{"when From is missing expect 400", post(formType, "To=%2B15550100099"), 400},
		{"when the body is too big expect 413", post(formType,
			form(jsNumber, "&Body="+strings.Repeat("x", 2000))), 413},
		{"when the form is malformed expect 400", post(formType, "To=%zz"), 400},
		{"when GET expect 405", newRequest(http.MethodGet, ""), 405},
		{"when OPTIONS expect 405", newRequest(http.MethodOptions, ""), 405},
		{"when HEAD expect 405", newRequest(http.MethodHead, ""), 405},
		{"when a name repeats past max_params expect 413", post(formType,
			"To=%2B15550100099&From=%2B1"+strings.Repeat("&a", 250)), 413},
		{"when PUT expect 405", newRequest(http.MethodPut, ""), 405},
		{"when the charset is given expect 200",
			post(formType+"; charset=utf-8", form(jsNumber, "&Body=x")), 200},
		{"when empty parts pass max_params expect 200",
			post(formType, form(jsNumber, "&Body=x"+strings.Repeat("&", 250))), 200},
		{"when the declared length is over max_body expect 413", func() *http.Request {
			r := post(formType, form(jsNumber, "&Body=x"))
			r.ContentLength = 1 << 40
			return r
		}(), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, body := s.do(tt.req)
			if code != tt.want {
				t.Fatalf("got %d, want %d", code, tt.want)
			}
			if ctype != "application/xml" || !strings.HasPrefix(body, "<?xml") ||
				strings.Contains(strings.ToLower(body), "<html") {
				t.Errorf("not an XML answer: %q %q", ctype, body)
			}
		})
	}
}
