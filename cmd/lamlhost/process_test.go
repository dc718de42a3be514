package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary run as lamlhost itself, so that signal
// tests can start it as a child process.
func TestMain(m *testing.M) {
	if os.Getenv("LAMLHOST_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// site writes a config and scripts into a temporary folder.
func site(t *testing.T, toml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func post(t *testing.T, base, form string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/sms/inbound", "application/x-www-form-urlencoded",
		strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const testForm = "To=%2B15550100002&From=%2B15550100001&Body=hi" +
	"&MessageSid=SM0000000000000000000000000000restart"

// TestRestartKeepsRecord: a duplicate that arrives after a restart is
// answered from the store, and the script does not run again.
func TestRestartKeepsRecord(t *testing.T) {
	cfg := site(t, `data_dir = "data"`, map[string]string{
		"scripts/+15550100002.js": `function handle(m) { console.log("ran"); return "first " + m.sid }`})
	base, logs, stop := startServer(t, cfg)
	code, first := post(t, base, testForm)
	stop()
	if code != 200 || !strings.Contains(logs.String(), "msg=ran") {
		t.Fatalf("first answer %d %q\n%s", code, first, logs)
	}

	base, logs, stop = startServer(t, cfg)
	defer stop()
	code, again := post(t, base, testForm)
	if code != 200 || again != first {
		t.Fatalf("after restart %d %q, want %q", code, again, first)
	}
	if strings.Contains(logs.String(), "msg=ran") ||
		!strings.Contains(logs.String(), "duplicate answered from the record") {
		t.Errorf("the script ran again after the restart:\n%s", logs)
	}
}

// TestSIGHUP: the signal re-reads a rotated token file, which no watcher
// sees.
func TestSIGHUP(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("old-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := site(t, `auth_token_file = "`+tokenFile+`"`, map[string]string{
		"scripts/+15550100002.js": `function handle(m) { return "ok" }`})
	base, logs, stop := startServer(t, cfg)
	defer stop()
	if code, _ := post(t, base, testForm); code != 403 {
		t.Fatalf("unsigned request answered %d", code)
	}
	if err := os.WriteFile(tokenFile, []byte(""), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(logs.String(), "reason=signal") {
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := post(t, base, testForm); code != 200 {
		t.Fatalf("after SIGHUP with no token, answered %d\n%s", code, logs)
	}
}

// TestSIGTERM: a slow request in flight when SIGTERM arrives still gets
// its answer, and the process exits 0.
func TestSIGTERM(t *testing.T) {
	cfg := site(t, `timeout = "5s"`+"\n"+`data_dir = "data"`, map[string]string{
		"scripts/+15550100002.js": `function handle(m) {
  var t = Date.now(); while (Date.now() - t < 800) {} return "slow but sure" }`})
	cmd := exec.Command(os.Args[0], "serve", "-config", cfg, "-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LAMLHOST_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
	base := waitAddr(t, stderr)

	type result struct {
		code int
		body string
	}
	done := make(chan result, 1)
	go func() {
		code, body := post(t, base, testForm)
		done <- result{code, body}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 200 || !strings.Contains(r.body, "slow but sure") {
		t.Fatalf("in-flight request got %d %q", r.code, r.body)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// waitAddr reads the child's log until it says where it serves, and keeps
// draining the log afterwards.
func waitAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return "http://" + m[1]
		}
	}
	t.Fatal("the child never said where it serves")
	return ""
}
