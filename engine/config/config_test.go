package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, filepath.Join("/srv", "lamlhost", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"webhook_path", c.WebhookPath, "/sms/inbound"},
		{"scripts_dir", c.ScriptsDir, filepath.Join("/srv", "lamlhost", "scripts")},
		{"timeout", c.Timeout.Std(), 2 * time.Second},
		{"memory_limit", int64(c.MemoryLimit), int64(64 << 20)},
		{"auth_token_env", c.AuthTokenEnv, "LAMLHOST_AUTH_TOKEN"},
		{"log_format", c.LogFormat, "text"},
		{"max_body", int64(c.MaxBody), int64(64 << 10)},
		{"dedupe_window", c.DedupeWindow.Std(), 24 * time.Hour},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestParse(t *testing.T) {
	const good = `
listen = "127.0.0.1:9000"
timeout = "1500ms"
memory_limit = "32MiB"
default_script = "fallback.lua"

[numbers."+15550100002"]
script = "examples/shop.js"
fallback = "Sorry"
timezone = "Europe/Berlin"
rate_limit = "10/minute"
vars = { shop = "Corner Shop", nested = { deep = [1, 2] } }

[numbers."+15550100003"]
timeout = "1s"
`
	c, err := Parse([]byte(good), filepath.Join("/etc", "lamlhost", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Numbers["+15550100002"]
	if n.Script != filepath.Join("/etc", "lamlhost", "examples", "shop.js") {
		t.Errorf("script path %q not resolved against the config folder", n.Script)
	}
	if n.Timeout.Std() != 1500*time.Millisecond {
		t.Errorf("number timeout %v, want the global 1.5s", n.Timeout.Std())
	}
	if c.Numbers["+15550100003"].Timeout.Std() != time.Second {
		t.Error("a number's own timeout was not kept")
	}
	if n.Location.String() != "Europe/Berlin" || n.Rate.N != 10 || n.Rate.Period != time.Minute {
		t.Errorf("timezone %v rate %+v", n.Location, n.Rate)
	}
	if n.Vars["shop"] != "Corner Shop" {
		t.Errorf("vars %v", n.Vars)
	}
	if int64(c.MemoryLimit) != 32<<20 {
		t.Errorf("memory_limit %d", c.MemoryLimit)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		kind       error
		mention    string
	}{
		{"when a top key is unknown expect it named", `listn = "x"`, ErrUnknownKey, "listn"},
		{"when a number key is unknown expect it named",
			"[numbers.\"+1\"]\nscrpt = \"a.js\"", ErrUnknownKey, "scrpt"},
		{"when listen has no port expect error", `listen = "localhost"`, ErrInvalid, "listen"},
		{"when the path is relative expect error", `webhook_path = "sms"`, ErrInvalid,
			"webhook_path"},
		{"when the time zone is unknown expect error",
			"[numbers.\"+1\"]\ntimezone = \"Mars/Olympus\"", ErrInvalid, "timezone"},
		{"when the rate is malformed expect error",
			"[numbers.\"+1\"]\nrate_limit = \"ten a minute\"", ErrInvalid, "rate_limit"},
		{"when public_url has no scheme expect error", `public_url = "sms.example.test"`,
			ErrInvalid, "public_url"},
		{"when a proxy is not an address expect error", `trusted_proxies = ["proxy"]`,
			ErrInvalid, "trusted_proxies"},
		{"when log_format is unknown expect error", `log_format = "xml"`, ErrInvalid,
			"log_format"},
		{"when metrics_path is the webhook expect error", `metrics_path = "/sms/inbound"`,
			ErrInvalid, "metrics_path"},
		{"when the timeout passes the CPaaS's expect error", `timeout = "20s"`, ErrInvalid,
			"timeout"},
		{"when a number's timeout passes the CPaaS's expect error",
			"[numbers.\"+1\"]\ntimeout = \"1h\"", ErrInvalid, "timeout"},
		{"when memory_limit is tiny expect error", `memory_limit = "1KiB"`, ErrInvalid,
			"memory_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.toml), "config.toml")
			if !errors.Is(err, tt.kind) {
				t.Fatalf("got %v, want %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("%q does not name %q", err, tt.mention)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, bad := range []string{`timeout = "2 seconds"`, `memory_limit = "lots"`,
		`listen = `} {
		if _, err := Parse([]byte(bad), "config.toml"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

// TestShippedConfig keeps the repository's config.toml valid.
func TestShippedConfig(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" {
		t.Errorf("shipped listen %q", c.Listen)
	}
}
