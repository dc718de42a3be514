package server

import (
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/testlog"
)

// baseForm is the cases' base form without To.
const baseForm = "AccountSid=AC00000000000000000000000000000000&From=%2B15550100001" +
	"&MessageSid=SM00000000000000000000000000000001&NumMedia=0"

// site is a server over scripts written to a temporary folder.
type site struct {
	srv  *Server
	reg  *registry.Registry
	logs *testlog.Buffer
}

// newSite writes each script as a drop-in file (name is "NUMBER.js" or
// "NUMBER.lua") next to a config made of extra, and builds the server.
func newSite(t testing.TB, extra string, scripts map[string]string) *site {
	t.Helper()
	return newSiteEnv(t, extra, scripts, nil)
}

// newSiteEnv is newSite with an environment for auth tokens.
func newSiteEnv(t testing.TB, extra string, scripts map[string]string,
	env map[string]string) *site {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range scripts {
		path := filepath.Join(dir, "scripts", name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "config.toml")
	cfg, err := config.Parse([]byte(extra), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New()
	if _, err := reg.Load(cfg); err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	disp := dispatch.New(logger, dispatch.Options{MaxInFlight: 8, QueueWait: time.Second})
	srv, err := New(reg, disp, logger, Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return &site{srv: srv, reg: reg, logs: logs}
}

// post sends a form body to the webhook and returns status, content type
// and body.
func (s *site) post(t *testing.T, form string) (int, string, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/sms/inbound", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

func (s *site) do(req *http.Request) (int, string, string) {
	rec := httptest.NewRecorder()
	s.srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
}

// messages decodes a reply strictly and returns the text of each Message.
func messages(t *testing.T, body string) []string {
	t.Helper()
	if !strings.HasPrefix(body, "<?xml") {
		t.Fatalf("reply does not start with <?xml: %q", body)
	}
	var resp struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []struct {
			Text string `xml:",chardata"`
			Body string `xml:"Body"`
		} `xml:"Message"`
	}
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict = true
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("reply is not well-formed: %v\n%s", err, body)
	}
	var out []string
	for _, m := range resp.Messages {
		out = append(out, m.Text+m.Body)
	}
	return out
}

func newRequest(method, body string) *http.Request {
	return httptest.NewRequest(method, "/sms/inbound", strings.NewReader(body))
}
