package hostile

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
)

// hostileCase is one script of testdata/hostile and what must become of it,
// read from the comment lines at its top:
//
//	expect:  ok TEXT | compile | runtime | timeout | memory | limit | reply
//	timeout: the run's time limit (default 300ms)
//	memory:  the run's memory limit (default 64MiB)
//	body:    the message body the script receives
//	runs:    how many times in a row to run it (default 1)
//	log:     text the log must contain afterwards
type hostileCase struct {
	path    string
	expect  string
	want    string
	timeout time.Duration
	memory  config.Size
	body    string
	runs    int
	log     string
}

var kinds = map[string]error{
	"compile": script.ErrCompile, "runtime": script.ErrRuntime,
	"timeout": script.ErrTimeout, "memory": script.ErrMemory,
	"limit": script.ErrLimit, "reply": script.ErrReply,
}

// slack is how far past its time limit a run may answer in these tests.
// The design aims at 100 ms; the rest is room for a loaded CI machine and
// for the race detector, which slows both engines several times over.
func slack() time.Duration {
	if raceEnabled {
		return 2 * time.Second
	}
	return 400 * time.Millisecond
}

func readCase(t *testing.T, path string) hostileCase {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := hostileCase{path: path, timeout: 300 * time.Millisecond, memory: 64 << 20, runs: 1}
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			rest, ok = strings.CutPrefix(line, "--")
		}
		if !ok {
			break
		}
		key, val, found := strings.Cut(strings.TrimSpace(rest), ":")
		if found {
			c.set(t, key, strings.TrimSpace(val))
		}
	}
	if c.expect == "" {
		t.Fatalf("%s: no expect line", path)
	}
	return c
}

func (c *hostileCase) set(t *testing.T, key, val string) {
	var err error
	switch key {
	case "expect":
		c.expect, c.want, _ = strings.Cut(val, " ")
	case "timeout":
		c.timeout, err = time.ParseDuration(val)
	case "memory":
		err = c.memory.UnmarshalText([]byte(val))
	case "body":
		c.body = val
	case "runs":
		c.runs, err = strconv.Atoi(val)
	case "log":
		c.log = val
	}
	if err != nil {
		t.Fatalf("%s: %s: %v", c.path, key, err)
	}
}

// result is one measured run, for the summary.
type result struct {
	name    string
	expect  string
	took    time.Duration
	overrun time.Duration
}

// TestHostile runs every script of testdata/hostile and logs how long each
// took, largest overrun first.
func TestHostile(t *testing.T) {
	paths, _ := filepath.Glob("testdata/hostile/*")
	if len(paths) == 0 {
		t.Fatal("no hostile scripts")
	}
	h := newHarness(t)
	var results []result
	for i, path := range paths {
		c := readCase(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			number := fmt.Sprintf("+1555011%04d", i)
			results = append(results, h.runCase(t, c, number)...)
			h.healthy(t)
		})
	}
	summarize(t, results)
}

// harness runs scripts through a dispatcher that logs into a buffer.
type harness struct {
	logs    *bytes.Buffer
	disp    *dispatch.Dispatcher
	healthy func(t *testing.T)
}

func newHarness(t *testing.T) *harness {
	h := &harness{logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.disp = dispatch.New(log, dispatch.Options{MaxInFlight: 8, MaxPerNumber: 2,
		QueueWait: time.Second})
	var healthy []*registry.Route
	for _, name := range []string{"healthy.js", "healthy.lua"} {
		c := hostileCase{timeout: 2 * time.Second, memory: 64 << 20}
		healthy = append(healthy, compileRoute(t, "+15550100002", "testdata/"+name, c))
	}
	h.healthy = func(t *testing.T) {
		t.Helper()
		for _, rt := range healthy {
			a := h.disp.Answer(context.Background(), rt, message(""))
			if a.Err != nil || a.Status != 200 || messageText(t, a.Body) != "ok" {
				t.Errorf("healthy %s right after: %d %v %s", rt.Script.Path, a.Status,
					a.Err, a.Body)
			}
		}
	}
	return h
}

// runCase runs one case as often as it says and checks every answer. Each
// case answers for a number of its own, since a number whose run was
// stopped for memory waits a while before its next run.
func (h *harness) runCase(t *testing.T, c hostileCase, number string) []result {
	src, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatal(err)
	}
	prog, cerr := registry.Compile(c.path, src)
	if c.expect == "compile" {
		if !errors.Is(cerr, script.ErrCompile) {
			t.Fatalf("compile: got %v, want a compile error", cerr)
		}
		t.Logf("refused at load: %v", cerr)
		return nil
	}
	if cerr != nil {
		t.Fatalf("compile: %v", cerr)
	}
	rt := route(number, c.path, prog, c)
	var out []result
	for range c.runs {
		h.logs.Reset()
		start := time.Now()
		a := h.disp.Answer(context.Background(), rt, message(c.body))
		took := time.Since(start)
		out = append(out, h.check(t, c, a, took))
		if c.log != "" && !strings.Contains(h.logs.String(), c.log) {
			t.Errorf("the log lacks %q", c.log)
		}
	}
	return out
}

// check asserts the kind of outcome and the time it took.
func (h *harness) check(t *testing.T, c hostileCase, a dispatch.Answer,
	took time.Duration) result {
	t.Helper()
	r := result{name: filepath.Base(c.path), expect: c.expect, took: took}
	if c.expect == "timeout" {
		r.overrun = took - c.timeout
	}
	if bound := c.timeout + slack(); took > bound {
		t.Errorf("answered after %v, over %v", took, bound)
	}
	if !utf8.Valid(a.Body) || !bytes.HasPrefix(a.Body, []byte("<?xml")) {
		t.Errorf("reply is not UTF-8 LaML: %q", a.Body)
	}
	if c.expect == "ok" {
		if a.Err != nil || a.Status != 200 {
			t.Fatalf("got %d %v, want a reply", a.Status, a.Err)
		}
		if got := messageText(t, a.Body); got != c.want {
			t.Errorf("reply %q, want %q", got, c.want)
		}
		return r
	}
	want := kinds[c.expect]
	if !errors.Is(a.Err, want) {
		t.Fatalf("got %v (status %d), want %v", a.Err, a.Status, want)
	}
	if a.Status != 500 {
		t.Errorf("status %d, want 500", a.Status)
	}
	t.Logf("%v in %v: %v", c.expect, took.Round(time.Millisecond), a.Err)
	return r
}

func summarize(t *testing.T, results []result) {
	sort.Slice(results, func(i, j int) bool { return results[i].overrun > results[j].overrun })
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "\n  %-34s %-8s took %8v", r.name, r.expect, r.took.Round(time.Millisecond))
		if r.expect == "timeout" {
			fmt.Fprintf(&b, "  overrun %v", r.overrun.Round(time.Millisecond))
		}
	}
	t.Logf("runs, largest overrun first:%s", b.String())
}

func compileRoute(t *testing.T, number, path string, c hostileCase) *registry.Route {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := registry.Compile(path, src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return route(number, path, prog, c)
}

func route(number, path string, prog script.Program, c hostileCase) *registry.Route {
	return &registry.Route{
		Number: number,
		Script: &registry.Script{Path: path, Program: prog},
		Settings: &config.Number{Timeout: config.Duration(c.timeout),
			MemoryLimit: c.memory, Location: time.UTC},
	}
}

func message(body string) *script.Message {
	return &script.Message{
		From: "+15550100001", To: "+15550100099", Body: body,
		Sid: "SM00000000000000000000000000000001",
		Params: script.Form{{Name: "Body", Value: body}, {Name: "From", Value: "+15550100001"},
			{Name: "To", Value: "+15550100099"}},
	}
}

// messageText is the text of the reply's messages, joined by "|".
func messageText(t *testing.T, body []byte) string {
	t.Helper()
	var resp struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(body, &resp); err != nil {
		t.Fatalf("reply does not parse: %v: %s", err, body)
	}
	return strings.Join(resp.Messages, "|")
}
