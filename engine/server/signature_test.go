package server

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/registry"
)

const (
	caseToken = "fake0token0for0tests0000000000aa"
	caseForm  = "AccountSid=AC00000000000000000000000000000000&Body=hello&From=%2B15550100001" +
		"&MessageSid=SM00000000000000000000000000000001&NumMedia=0&To=%2B15550100099"
	s1Form = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234" +
		"&From=%2B14158675309&To=%2B18005551212"
)

var tokenEnv = map[string]string{"LAMLHOST_AUTH_TOKEN": caseToken, "S1_TOKEN": "12345"}

// signed is one signed request and the answer it must get.
type signed struct {
	name     string
	config   string
	target   string // request target: path and query as sent
	host     string
	remote   string
	headers  map[string]string
	form     string
	want     int
	contains string // in the log
}

func TestSignatures(t *testing.T) {
	echoJS := map[string]string{
		"+15550100099.js": "function handle(m) { return m.body }",
		"+18005551212.js": "function handle(m) { return m.params.Digits }",
	}
	sig := func(s string) map[string]string { return map[string]string{"X-Twilio-Signature": s} }
	s1 := "webhook_path = \"/myapp.php\"\nauth_token_env = \"S1_TOKEN\"\n"
	s2 := "webhook_path = \"/sms\"\n"
	tests := []signed{
		{"S1 published example", s1 + `public_url = "https://mycompany.com"` + "\n",
			"/myapp.php?foo=1&bar=2", "", "", sig("RSOYDt4T1cUTdK1PDd93/VVr8B8="), s1Form, 200, ""},
		{"S1 reordered query fails", s1 + `public_url = "https://mycompany.com"` + "\n",
			"/myapp.php?bar=2&foo=1", "", "", sig("RSOYDt4T1cUTdK1PDd93/VVr8B8="), s1Form, 403,
			"https://mycompany.com/myapp.php?bar=2&foo=1"},
		{"S1 port 1234", s1 + `public_url = "https://mycompany.com:1234"` + "\n",
			"/myapp.php?foo=1&bar=2", "", "", sig("CYn1h0gLBdNxDGkKJg6hYohgeD8="), s1Form, 200, ""},
		{"S1 signed with 443, served port-less", s1 + `public_url = "https://mycompany.com"` + "\n",
			"/myapp.php?foo=1&bar=2", "", "", sig("kvajT1Ptam85bY51eRf/AJRuM3w="), s1Form, 200, ""},
		{"repeated names", s1 + `public_url = "https://mycompany.com"` + "\n",
			"/myapp.php?foo=1&bar=2", "", "", sig("IK+Dwps556ElfBT0I3Rgjkr1wJU="),
			"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234", 400, ""},
		{"S2 port-less", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), caseForm, 200, ""},
		{"S2 signed with 443", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			sig("XDKiB0EeyQJJwYbZIVYjXPX0Jto="), caseForm, 200, ""},
		{"S2 public url with 443", s2 + `public_url = "https://sms.example.test:443"`, "/sms",
			"", "", sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), caseForm, 200, ""},
		{"S2 port 8443", s2 + `public_url = "https://sms.example.test:8443"`, "/sms", "", "",
			sig("s1knNTzfQr9KMeC5ALgrAlfmrWM="), caseForm, 200, ""},
		{"S2 port 8443, port-less signature", s2 + `public_url = "https://sms.example.test:8443"`,
			"/sms", "", "", sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), caseForm, 200, ""},
		{"SignalWire header", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			map[string]string{"X-SignalWire-Signature": "DDvjrIwpLEbn5WA4tkSH5hkQyZk="},
			caseForm, 200, ""},
		{"S3 behind a path-rewriting proxy", `public_url = "https://sms.example.test/sms"` +
			"\npublic_url_strip = \"/sms/inbound\"", "/sms/inbound", "127.0.0.1:8080", "",
			sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), caseForm, 200, ""},
		{"S3 without public_url", "", "/sms/inbound", "127.0.0.1:8080", "",
			sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), caseForm, 403,
			"http://127.0.0.1:8080/sms/inbound"},
		{"S3 trusted proxy headers", s2 + `trusted_proxies = ["10.0.0.0/8"]`, "/sms",
			"127.0.0.1:8080", "10.1.2.3:5555", map[string]string{
				"X-Twilio-Signature": "DDvjrIwpLEbn5WA4tkSH5hkQyZk=",
				"X-Forwarded-Proto":  "https", "X-Forwarded-Host": "sms.example.test"},
			caseForm, 200, ""},
		{"S3 untrusted proxy headers", s2 + `trusted_proxies = ["10.0.0.0/8"]`, "/sms",
			"127.0.0.1:8080", "192.0.2.9:5555", map[string]string{
				"X-Twilio-Signature": "DDvjrIwpLEbn5WA4tkSH5hkQyZk=",
				"X-Forwarded-Proto":  "https", "X-Forwarded-Host": "sms.example.test"},
			caseForm, 403, "http://127.0.0.1:8080/sms"},
		{"S4 UTF-8", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			sig("lE8QSrvhLIrQNMAhaybYV18UGcc="), "AccountSid=AC00000000000000000000000000000000" +
				"&Body=Ol%C3%A1+%F0%9F%98%80+%C2%BFqu%C3%A9%3F&From=%2B15550100001&MessageSid=" +
				"SM00000000000000000000000000000004&NumMedia=0&To=%2B15550100099", 200, ""},
		{"S4 plus signs", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			sig("QbqR1hWG9xhIX1vZrXjzrNMX4SI="), strings.Replace(strings.Replace(caseForm,
				"Body=hello", "Body=1%2B1%3D2", 1), "0001&NumMedia", "0005&NumMedia", 1),
			200, ""},
		{"wrong signature", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			sig("DDvjrIwpLEbn5WA4tkSH5hkQyZj="), caseForm, 403, "signature"},
		{"missing signature", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			nil, caseForm, 403, "message_sid=SM00000000000000000000000000000001"},
		{"a number's own token wins", s2 + `public_url = "https://sms.example.test"` +
			"\n[numbers.\"+15550100099\"]\nauth_token_env = \"S1_TOKEN\"", "/sms", "", "",
			sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), caseForm, 403, ""},
		{"tampered body", s2 + `public_url = "https://sms.example.test"`, "/sms", "", "",
			sig("DDvjrIwpLEbn5WA4tkSH5hkQyZk="), strings.Replace(caseForm, "hello", "hellO", 1),
			403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSiteEnv(t, tt.config, echoJS, tokenEnv)
			req := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.remote != "" {
				req.RemoteAddr = tt.remote
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			code, _, body := s.do(req)
			if code != tt.want {
				t.Fatalf("got %d %q, want %d\n%s", code, body, tt.want, s.logs)
			}
			logs := s.logs.String()
			if tt.want == 403 && strings.Contains(logs, "message answered") {
				t.Error("the script ran on a refused request")
			}
			if !strings.Contains(logs, tt.contains) {
				t.Errorf("log lacks %q:\n%s", tt.contains, logs)
			}
			if strings.Contains(logs, caseToken) || strings.Contains(logs, "DDvjrIwp") {
				t.Error("the token or the signature reached the log")
			}
		})
	}
}

// TestPlusSeenByScript: case S4's script sees "1+1=2".
func TestPlusSeenByScript(t *testing.T) {
	s := newSite(t, "", map[string]string{"+15550100099.js": echoScript.js})
	_, _, body := s.post(t, strings.Replace(caseForm, "Body=hello", "Body=1%2B1%3D2", 1))
	if got := messages(t, body); len(got) != 1 || got[0] != "1+1=2" {
		t.Errorf("got %q", got)
	}
}

func TestTokenSources(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(caseToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, toml string
		env        map[string]string
		err        error
		checks     bool
	}{
		{"when the env var is set expect checks", "", tokenEnv, nil, true},
		{"when nothing is set expect no checks", "", nil, nil, false},
		{"when required and missing expect an error", "require_signature = true", nil,
			ErrNoToken, false},
		{"when a file is given expect checks", `auth_token_file = "token"`, nil, nil, true},
		{"when a number's env var is empty expect an error",
			"[numbers.\"+1\"]\nauth_token_env = \"NOPE\"", nil, ErrNoToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.toml), filepath.Join(dir, "config.toml"))
			if err != nil {
				t.Fatal(err)
			}
			reg := registry.New()
			if _, err := reg.Load(cfg); err != nil {
				t.Fatal(err)
			}
			logger := slog.New(slog.DiscardHandler)
			srv, err := New(reg, dispatch.New(logger, dispatch.Options{}), logger,
				Options{Getenv: func(k string) string { return tt.env[k] }})
			if !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if err == nil && (srv.auth.Load().token("+1") != "") != tt.checks {
				t.Errorf("checks %v, want %v", !tt.checks, tt.checks)
			}
		})
	}
}
