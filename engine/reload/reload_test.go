package reload

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
	"github.com/lamlhost/lamlhost/engine/testlog"
)

const number = "+15550100002"

// bench is a registry over a temporary folder with a running Reloader.
type bench struct {
	dir  string
	reg  *registry.Registry
	rl   *Reloader
	logs *testlog.Buffer
	hup  chan os.Signal
}

func newBench(t *testing.T, toml string, files map[string]string) *bench {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		writeFile(t, filepath.Join(dir, name), src)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	writeFile(t, cfgPath, toml)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New()
	if _, err := reg.Load(cfg); err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	rl, err := New(cfgPath, reg, logger, Options{Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &bench{dir: dir, reg: reg, rl: rl, logs: logs, hup: make(chan os.Signal, 1)}
	done := make(chan struct{})
	go func() { rl.Run(ctx, b.hup); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// answer runs the script that answers to and returns its reply text, or
// "unrouted".
func answer(reg *registry.Registry, to string) string {
	rt := reg.Lookup(to)
	if rt == nil {
		return "unrouted"
	}
	if rt.Script.Program == nil {
		return "broken"
	}
	v, err := rt.Script.Program.Run(context.Background(),
		&script.Message{To: to, From: "+15550100001"},
		&script.Env{Number: rt.Number, Vars: rt.Settings.Vars})
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

// waitFor polls until to answers want, for at most a few seconds.
func (b *bench) waitFor(t *testing.T, to, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if answer(b.reg, to) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s answers %q, want %q\n%s", to, answer(b.reg, to), want, b.logs)
}

func js(v string) string { return "function handle() { return '" + v + "' }" }
