package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowAnswer is a script that busies itself for ms milliseconds, logs
// "ran" and answers with its MessageSid.
func slowAnswer(ms int) pair {
	return pair{
		js: fmt.Sprintf(`function handle(m) { var t = Date.now(); while (Date.now() - t < %d) {}
  console.log("ran"); return "answer " + m.sid }`, ms),
		lua: fmt.Sprintf(`function handle(m) local t = os.clock() while os.clock() - t < %g do end
  print("ran") return "answer " .. m.sid end`, float64(ms)/1000),
	}
}

// TestD1Duplicates: the same MessageSid, in a row or at once, runs the
// script once and gets the same answer every time.
func TestD1Duplicates(t *testing.T) {
	both(t, "", slowAnswer(150), func(t *testing.T, s *site, to string) {
		f := form(to, "&Body=x")
		var wg sync.WaitGroup
		bodies := make([]string, 6)
		for i := range bodies {
			wg.Go(func() { _, _, bodies[i] = s.post(t, f) })
		}
		wg.Wait()
		_, _, again := s.post(t, f)
		for _, b := range append(bodies, again) {
			if b != bodies[0] || !strings.Contains(b, "answer SM") {
				t.Fatalf("answers differ: %q vs %q", b, bodies[0])
			}
		}
		if n := countLines(s.logs.String(), "msg=ran", "number="+to); n != 1 {
			t.Errorf("the script ran %d times", n)
		}
		if !strings.Contains(s.logs.String(), "duplicate answered from the record") {
			t.Error("duplicates were not logged")
		}
		other := form(to, "&Body=x")
		if _, _, b := s.post(t, other); b == bodies[0] {
			t.Error("another MessageSid got the first answer")
		}
	})
}

// TestIdempotencyToken: without a MessageSid, the retry token is the key.
func TestIdempotencyToken(t *testing.T) {
	s := newSite(t, "", map[string]string{jsNumber + ".js": `
function handle(m) { console.log("ran"); return "ok" }`})
	for range 3 {
		req := newRequest(http.MethodPost, "To=%2B15550100099&From=%2B15550100001&Body=x")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("I-Twilio-Idempotency-Token", "tok-1")
		if code, _, _ := s.do(req); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if n := strings.Count(s.logs.String(), "msg=ran"); n != 1 {
		t.Errorf("the script ran %d times", n)
	}
}

// TestD2Deadline: a script that never ends is answered at its timeout,
// well inside the CPaaS's 15 s.
func TestD2Deadline(t *testing.T) {
	p := pair{"function handle() { for (;;) {} }", "function handle() while true do end end"}
	both(t, `timeout = "300ms"`, p, func(t *testing.T, s *site, to string) {
		start := time.Now()
		code, _, body := s.post(t, form(to, "&Body=x"))
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("answered after %v", took)
		}
		if code != http.StatusInternalServerError || body != empty {
			t.Errorf("got %d %q", code, body)
		}
		if !strings.Contains(s.logs.String(), "timeout") {
			t.Errorf("the timeout was not logged:\n%s", s.logs)
		}
	})
}

// TestRateLimit: past the number's rate for one sender, no script runs and
// the answer is empty; other senders are not affected.
func TestRateLimit(t *testing.T) {
	extra := "[numbers.\"" + jsNumber + "\"]\nrate_limit = \"2/minute\"\n"
	s := newSite(t, extra, map[string]string{jsNumber + ".js": `
function handle(m) { console.log("ran"); return "ok" }`})
	for i, want := range []string{"ok", "ok", "", ""} {
		f := form(jsNumber, "&Body=x")
		code, _, body := s.post(t, f)
		got := messages(t, body)
		if code != 200 || (want == "" && len(got) != 0) || (want != "" && got[0] != want) {
			t.Fatalf("message %d: got %d %q, want %q", i, code, got, want)
		}
	}
	if n := strings.Count(s.logs.String(), "msg=ran"); n != 2 {
		t.Errorf("the script ran %d times", n)
	}
	if !strings.Contains(s.logs.String(), "rate limited") {
		t.Error("the limit was not logged")
	}
	f := strings.Replace(form(jsNumber, "&Body=x"), "From=%2B15550100001", "From=%2B15550100055", 1)
	if _, _, body := s.post(t, f); len(messages(t, body)) != 1 {
		t.Error("another sender was limited")
	}
}

// TestPrivacy: bodies are not logged and numbers are masked by default.
func TestPrivacy(t *testing.T) {
	s := newSite(t, "", map[string]string{jsNumber + ".js": echoScript.js})
	s.post(t, form(jsNumber, "&Body=secret+words"))
	logs := s.logs.String()
	if strings.Contains(logs, "secret") || strings.Contains(logs, "+15550100001") {
		t.Errorf("a body or a sender's number reached the log:\n%s", logs)
	}
	if !strings.Contains(logs, "…0001") {
		t.Errorf("the masked sender is missing:\n%s", logs)
	}
}

// countLines counts the log lines that contain every one of subs.
func countLines(logs string, subs ...string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		all := true
		for _, sub := range subs {
			all = all && strings.Contains(line, sub)
		}
		if all {
			n++
		}
	}
	return n
}

// TestHangUp: a CPaaS that hangs up while the script runs does not stop
// it; the answer goes on record, its retry gets it without a second run,
// and the number is not held as suspect.
func TestHangUp(t *testing.T) {
	both(t, "", slowAnswer(200), func(t *testing.T, s *site, to string) {
		f := form(to, "&Body=x")
		ctx, hangUp := context.WithCancel(context.Background())
		req := newRequest(http.MethodPost, f).WithContext(ctx)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		time.AfterFunc(50*time.Millisecond, hangUp)
		s.do(req)
		code, _, body := s.post(t, f)
		if code != http.StatusOK || !strings.Contains(body, "answer SM") {
			t.Fatalf("the retry got %d %q", code, body)
		}
		if n := countLines(s.logs.String(), "msg=ran", "number="+to); n != 1 {
			t.Errorf("the script ran %d times", n)
		}
		if strings.Contains(s.logs.String(), "timeout") {
			t.Errorf("the hang-up was taken for a timeout:\n%s", s.logs)
		}
	})
}
