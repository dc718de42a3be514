package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/script"
)

// stuck is an engine stuck in one built-in: it ignores its deadline until
// released.
type stuck struct{ release chan struct{} }

// Name implements script.Program.
func (stuck) Name() string { return "stuck.js" }

// Run implements script.Program.
func (s stuck) Run(context.Context, *script.Message, *script.Env) (any, error) {
	<-s.release
	return "too late", nil
}

// TestLateAnswer: a run stuck past its time limit is answered on the wire
// at the limit plus dispatch.Grace, while the handler still waits for it;
// when it ends, nothing more is written, and its slots come back.
func TestLateAnswer(t *testing.T) {
	s := newSite(t, `timeout = "100ms"`, map[string]string{
		jsNumber + ".js": `function handle() { return "ok" }`})
	release := make(chan struct{})
	rt := s.reg.Lookup(jsNumber)
	rt.Script.Program = stuck{release}
	ts := httptest.NewServer(s.srv.Handler())
	defer ts.Close()

	start := time.Now()
	resp, err := http.Post(ts.URL+"/sms/inbound", "application/x-www-form-urlencoded",
		strings.NewReader(form(jsNumber, "&Body=x")))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-release:
		t.Fatal("released early")
	default:
	}
	if limit := 100*time.Millisecond + dispatch.Grace + time.Second; took > limit {
		t.Errorf("answered after %v, over %v", took, limit)
	}
	if resp.StatusCode != http.StatusInternalServerError || string(body) != empty {
		t.Errorf("got %d %q, want the failure answer", resp.StatusCode, body)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for !s.logs.Contains("script run ended late") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !s.logs.Contains("script run ended late") || !s.logs.Contains("timeout") {
		t.Errorf("the late end was not logged:\n%s", s.logs)
	}
	rt.Script.Program = stuck{release} // released: runs end at once now
	if code, _, body := s.post(t, form(jsNumber, "&Body=x")); code != http.StatusOK ||
		!strings.Contains(body, "too late") {
		t.Errorf("after the late run: %d %q", code, body)
	}
}
