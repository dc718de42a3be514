// Package config reads lamlhost's TOML configuration into one struct, fills
// in defaults in one place, and validates the result before anything runs.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration. Every field is optional; the comment of
// each says its default.
type Config struct {
	// Listen is the address the server listens on. Default "127.0.0.1:8080".
	Listen string `toml:"listen"`
	// WebhookPath is the path the CPaaS POSTs to. Default "/sms/inbound".
	WebhookPath string `toml:"webhook_path"`
	// ScriptsDir holds drop-in scripts named after their number. Default
	// "scripts", relative to the config file.
	ScriptsDir string `toml:"scripts_dir"`
	// DefaultScript answers numbers that nothing else routes. Default "".
	DefaultScript string `toml:"default_script"`
	// Timeout is the wall-clock budget of one run. Default "2s".
	Timeout Duration `toml:"timeout"`
	// MemoryLimit is what one run may allocate. Default "64MiB".
	MemoryLimit Size `toml:"memory_limit"`
	// MaxInFlight bounds concurrent runs. Default 0: CPUs × 4.
	MaxInFlight int `toml:"max_in_flight"`
	// QueueWait is how long a request waits for a run slot. Default "1s".
	QueueWait Duration `toml:"queue_wait"`
	// PublicURL is scheme://host[:port][/prefix] as the CPaaS calls it when
	// the server sits behind a proxy. Default "".
	PublicURL string `toml:"public_url"`
	// PublicURLStrip is the part of the request path that a path-rewriting
	// proxy put in front; it is cut before the path is appended to
	// PublicURL. Default "".
	PublicURLStrip string `toml:"public_url_strip"`
	// AuthTokenEnv names the environment variable holding the auth token.
	// Default "LAMLHOST_AUTH_TOKEN".
	AuthTokenEnv string `toml:"auth_token_env"`
	// AuthTokenFile is a file holding the auth token; it wins over
	// AuthTokenEnv. Default "".
	AuthTokenFile string `toml:"auth_token_file"`
	// RequireSignature makes a missing token a startup error. Default false.
	RequireSignature bool `toml:"require_signature"`
	// TrustedProxies lists the peers (IPs or CIDRs) whose X-Forwarded-Proto
	// and X-Forwarded-Host are believed. Default none.
	TrustedProxies []string `toml:"trusted_proxies"`
	// MaxBody is the largest request body. Default "64KiB".
	MaxBody Size `toml:"max_body"`
	// MaxParams is the most form parameters a request may carry.
	// Default 200.
	MaxParams int `toml:"max_params"`
	// DataDir holds the embedded store. Default "data", relative to the
	// config file.
	DataDir string `toml:"data_dir"`
	// DedupeWindow is how long an answered MessageSid is remembered.
	// Default "24h".
	DedupeWindow Duration `toml:"dedupe_window"`
	// LogFormat is "text" or "json". Default "text".
	LogFormat string `toml:"log_format"`
	// LogLevel is "debug", "info", "warn" or "error". Default "info".
	LogLevel string `toml:"log_level"`
	// LogBodies logs message bodies. Default false.
	LogBodies bool `toml:"log_bodies"`
	// LogNumbers logs phone numbers in full instead of their last four
	// digits. Default false.
	LogNumbers bool `toml:"log_numbers"`
	// MetricsPath serves Prometheus metrics on the listen address; "off"
	// turns them off. Default "/metrics".
	MetricsPath string `toml:"metrics_path"`
	// Numbers configures individual numbers, keyed by E.164 number or
	// channel address.
	Numbers map[string]*Number `toml:"numbers"`

	// Path is the file the config was read from; "" for defaults.
	Path string `toml:"-"`
}

// Number is the configuration of one number.
type Number struct {
	// Script is the script's path, relative to the config file. Default:
	// the drop-in file in ScriptsDir.
	Script string `toml:"script"`
	// Fallback is sent as the reply when the script fails. Default "": a
	// failure is answered 500.
	Fallback string `toml:"fallback"`
	// Timeout overrides the global timeout. Default: the global one.
	Timeout Duration `toml:"timeout"`
	// MemoryLimit overrides the global memory limit.
	MemoryLimit Size `toml:"memory_limit"`
	// Timezone is an IANA zone name for the scripts' clock. Default "UTC".
	Timezone string `toml:"timezone"`
	// Vars is handed to the script as ctx.vars.
	Vars map[string]any `toml:"vars"`
	// RateLimit is "N/second|minute|hour" per sender. Default off.
	RateLimit string `toml:"rate_limit"`
	// AuthTokenEnv overrides the global token for this number.
	AuthTokenEnv string `toml:"auth_token_env"`

	// Location is Timezone, loaded by Validate.
	Location *time.Location `toml:"-"`
	// Rate is RateLimit, parsed by Validate.
	Rate Rate `toml:"-"`
}

// Defaults returns a Config with every default filled in.
func Defaults() *Config {
	c := &Config{}
	c.fill()
	return c
}

// fill sets every field that was left empty to its default. It is the one
// place where defaults live.
func (c *Config) fill() {
	setString(&c.Listen, "127.0.0.1:8080")
	setString(&c.WebhookPath, "/sms/inbound")
	setString(&c.ScriptsDir, "scripts")
	setString(&c.AuthTokenEnv, "LAMLHOST_AUTH_TOKEN")
	setString(&c.DataDir, "data")
	setString(&c.LogFormat, "text")
	setString(&c.LogLevel, "info")
	setString(&c.MetricsPath, "/metrics")
	if c.Timeout == 0 {
		c.Timeout = Duration(2 * time.Second)
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 64 << 20
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = runtime.NumCPU() * 4
	}
	if c.QueueWait == 0 {
		c.QueueWait = Duration(time.Second)
	}
	if c.MaxBody == 0 {
		c.MaxBody = 64 << 10
	}
	if c.MaxParams == 0 {
		c.MaxParams = 200
	}
	if c.DedupeWindow == 0 {
		c.DedupeWindow = Duration(24 * time.Hour)
	}
	if c.Numbers == nil {
		c.Numbers = map[string]*Number{}
	}
	for _, n := range c.Numbers {
		if n.Timeout == 0 {
			n.Timeout = c.Timeout
		}
		if n.MemoryLimit == 0 {
			n.MemoryLimit = c.MemoryLimit
		}
	}
}

func setString(dst *string, def string) {
	if *dst == "" {
		*dst = def
	}
}

// Load reads, fills and validates the config file at path. Relative paths
// inside it are resolved against the file's folder.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path)
}

// Parse is Load for a config already in memory; path anchors relative paths.
func Parse(data []byte, path string) (*Config, error) {
	c := &Config{}
	md, err := toml.Decode(string(data), c)
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	if err := undecoded(md); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	c.fill()
	c.resolve(filepath.Dir(path))
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// undecoded reports keys the file has but Config does not know. Keys under
// a number's vars table are free-form and never unknown.
func undecoded(md toml.MetaData) error {
	var unknown []string
	for _, k := range md.Undecoded() {
		if len(k) >= 4 && k[0] == "numbers" && k[2] == "vars" {
			continue
		}
		unknown = append(unknown, k.String())
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%w %q", ErrUnknownKey, unknown[0])
}

// resolve makes relative paths relative to dir.
func (c *Config) resolve(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.ScriptsDir)
	abs(&c.DefaultScript)
	abs(&c.AuthTokenFile)
	abs(&c.DataDir)
	for _, n := range c.Numbers {
		abs(&n.Script)
	}
}

// Sentinel errors of validation.
var (
	ErrUnknownKey = errors.New("unknown key")
	ErrInvalid    = errors.New("invalid setting")
)

// Validate checks every setting and loads time zones and rates. It reports
// the first problem, naming the key.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return invalid("listen", "%q is not host:port", c.Listen)
	}
	if !strings.HasPrefix(c.WebhookPath, "/") {
		return invalid("webhook_path", "%q must start with /", c.WebhookPath)
	}
	if c.WebhookPath == "/healthz" {
		return invalid("webhook_path", "/healthz is the health check")
	}
	if c.MetricsPath != "off" && (!strings.HasPrefix(c.MetricsPath, "/") ||
		c.MetricsPath == c.WebhookPath || c.MetricsPath == "/healthz") {
		return invalid("metrics_path", "%q must start with / and differ from webhook_path, "+
			"or be off", c.MetricsPath)
	}
	if err := c.validateLimits(); err != nil {
		return err
	}
	if err := c.validateNet(); err != nil {
		return err
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return invalid("log_format", "%q is not text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return invalid("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	for num, n := range c.Numbers {
		if err := n.validate(); err != nil {
			return fmt.Errorf("numbers.%q: %w", num, err)
		}
	}
	return nil
}

// MaxTimeout is the longest run allowed: the CPaaS gives up after 15 s.
const MaxTimeout = 14 * time.Second

func (c *Config) validateLimits() error {
	if c.Timeout <= 0 || c.Timeout.Std() > MaxTimeout {
		return invalid("timeout", "must be positive and at most %v, under the CPaaS's 15s",
			MaxTimeout)
	}
	if c.MemoryLimit < 1<<20 {
		return invalid("memory_limit", "must be at least 1MiB")
	}
	if c.MaxInFlight < 1 {
		return invalid("max_in_flight", "must be at least 1")
	}
	if c.QueueWait < 0 || c.QueueWait.Std() > 5*time.Second {
		return invalid("queue_wait", "must be between 0 and 5s")
	}
	if c.MaxBody < 1<<10 {
		return invalid("max_body", "must be at least 1KiB")
	}
	if c.MaxParams < 10 {
		return invalid("max_params", "must be at least 10")
	}
	if c.DedupeWindow < 0 {
		return invalid("dedupe_window", "must not be negative")
	}
	return nil
}

func (c *Config) validateNet() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("public_url", "%q is not scheme://host[:port][/prefix]",
				c.PublicURL)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return invalid("public_url", "%q must not carry a query or fragment",
				c.PublicURL)
		}
	}
	if c.PublicURLStrip != "" && (c.PublicURL == "" || !strings.HasPrefix(c.PublicURLStrip, "/")) {
		return invalid("public_url_strip", "%q needs public_url and must start with /",
			c.PublicURLStrip)
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err == nil {
			continue
		}
		if net.ParseIP(p) == nil {
			return invalid("trusted_proxies", "%q is not an IP address or CIDR", p)
		}
	}
	return nil
}

func (n *Number) validate() error {
	if n.Timeout <= 0 || n.Timeout.Std() > MaxTimeout {
		return invalid("timeout", "must be positive and at most %v, under the CPaaS's 15s",
			MaxTimeout)
	}
	if n.MemoryLimit < 1<<20 {
		return invalid("memory_limit", "must be at least 1MiB")
	}
	loc := time.UTC
	if n.Timezone != "" {
		var err error
		if loc, err = time.LoadLocation(n.Timezone); err != nil {
			return invalid("timezone", "%q is not a known time zone", n.Timezone)
		}
	}
	n.Location = loc
	if n.RateLimit != "" {
		r, err := ParseRate(n.RateLimit)
		if err != nil {
			return invalid("rate_limit", "%v", err)
		}
		n.Rate = r
	}
	return nil
}

func invalid(key, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}
