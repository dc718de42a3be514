package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/testlog"
)

var addrRE = regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)

// startServer runs "lamlhost serve" in process on a free port and returns
// its base URL, its log, and a stop function that waits for exit code 0.
func startServer(t *testing.T, config string) (string, *testlog.Buffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testlog.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-config", config, "-listen", "127.0.0.1:0"},
			io.Discard, logs)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			stop := func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("serve exited %d\n%s", code, logs)
				}
			}
			return "http://" + m[1], logs, stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before listening:\n%s", code, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start:\n%s", logs)
	return "", nil, nil
}

// TestEndToEnd posts the real captured payload to the real server on a
// real port, once to a JavaScript number and once to a Lua number.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir() // the server writes its record under the config's folder
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "e2e"))); err != nil {
		t.Fatal(err)
	}
	base, logs, stop := startServer(t, filepath.Join(dir, "config.toml"))
	defer stop()
	payload, err := os.ReadFile(filepath.Join("testdata", "captured.form"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, to, want string
	}{
		{"js", "%2B13479604874",
			"Hello from SOUTH RICHMOND HILL <Hi> & SM3b3c68b39785c9c19e2cddf1332bba1e"},
		{"lua", "%2B13479604875", "Hola Hi & +13479604875"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(string(payload), "To=%2B13479604874", "To="+tt.to, 1)
			resp, err := http.Post(base+"/sms/inbound", "application/x-www-form-urlencoded",
				strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/xml" {
				t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if !bytes.HasPrefix(raw, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
				t.Fatalf("first bytes %q", raw[:min(len(raw), 20)])
			}
			if got := decodeMessage(t, raw); got != tt.want {
				t.Errorf("message %q, want %q", got, tt.want)
			}
		})
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	checkMetrics(t, base, `lamlhost_messages_total{engine="js",outcome="ok"} 1`,
		`lamlhost_messages_total{engine="lua",outcome="ok"} 1`, "lamlhost_last_reload_ok 1")
	if !strings.Contains(logs.String(), `"dedupe record opened" answers=0`) {
		t.Errorf("the record's opening was not logged:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "SOUTH RICHMOND HILL") ||
		!strings.Contains(logs.String(), "message_sid=SM3b3c68b39785c9c19e2cddf1332bba1e") {
		t.Errorf("script output not logged with its message:\n%s", logs)
	}
}

func decodeMessage(t *testing.T, raw []byte) string {
	t.Helper()
	var resp struct {
		Message struct {
			Text string `xml:",chardata"`
			Body string `xml:"Body"`
		} `xml:"Message"`
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	return resp.Message.Text + resp.Message.Body
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTry(t *testing.T) {
	cfg := filepath.Join("testdata", "e2e", "config.toml")
	code, out, errOut := runCLI("try", "-config", cfg, "-to", "+13479604875", "-body", "a<b")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?><Response><Message to="+15550100001">` +
		`Hola a&lt;b &amp; +13479604875</Message></Response>` + "\n"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	code, _, errOut = runCLI("try", "-config", cfg, "-to", "+19999999999")
	if code == 0 || !strings.Contains(errOut, "no script answers +19999999999") {
		t.Errorf("unrouted number: exit %d, %q", code, errOut)
	}
}

func TestCheck(t *testing.T) {
	code, out, _ := runCLI("check", "-config", filepath.Join("testdata", "e2e", "config.toml"))
	if code != 0 || !strings.Contains(out, "all good") {
		t.Errorf("good site: exit %d, %q", code, out)
	}
	code, out, errOut := runCLI("check", "-config",
		filepath.Join("testdata", "broken", "config.toml"))
	if code == 0 {
		t.Fatal("check passed a broken site")
	}
	for _, want := range []string{"+15550100010.js:2:", "+15550100012.lua:2:",
		"ok   testdata/broken/scripts/+15550100011.lua"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`\+15550100010\.js:2:\d+`).MatchString(out) {
		t.Errorf("no file:line:column in %q", out)
	}
	if !strings.Contains(errOut, "2 problems in 3 scripts") {
		t.Errorf("summary %q", errOut)
	}
}

// TestCheckSignature: check reports what serving would refuse about the
// signature settings.
func TestCheckSignature(t *testing.T) {
	cfg := site(t, "require_signature = true\nauth_token_env = \"LAMLHOST_TEST_NO_SUCH_TOKEN\"",
		map[string]string{"scripts/+15550100002.js": "function handle() {}"})
	code, out, _ := runCLI("check", "-config", cfg)
	if code == 0 || !strings.Contains(out, "FAIL no auth token") {
		t.Errorf("exit %d: %q", code, out)
	}
}

func TestHelp(t *testing.T) {
	tests := map[string][]string{
		"serve": {"-config", "-listen"},
		"check": {"-config"},
		"try":   {"-config", "-to", "-from", "-body", "-media", "-sid"},
	}
	for cmd, flags := range tests {
		code, _, errOut := runCLI(cmd, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d", cmd, code)
		}
		for _, f := range flags {
			if !strings.Contains(errOut, "  "+f) {
				t.Errorf("%s -h does not explain %s:\n%s", cmd, f, errOut)
			}
		}
	}
	if code, _, errOut := runCLI("frobnicate"); code != 2 || !strings.Contains(errOut,
		"unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI("serve", "-config", "nope.toml"); code != 1 ||
		!strings.Contains(errOut, "nope.toml") {
		t.Errorf("missing config: %d %q", code, errOut)
	}
}

// checkMetrics reads /metrics and looks for each line.
func checkMetrics(t *testing.T, base string, lines ...string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range lines {
		if !strings.Contains(string(b), l) {
			t.Errorf("metrics lack %q", l)
		}
	}
	if strings.Contains(string(b), "+1347") || strings.Contains(string(b), "+1917") {
		t.Error("a phone number reached the metrics")
	}
}
