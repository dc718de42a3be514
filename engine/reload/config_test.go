package reload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/script"
)

const varsScript = "function handle(m, ctx) { return ctx.vars.word }"

func varsConfig(word string) string {
	return fmt.Sprintf("[numbers.%q]\nvars = { word = %q }\n", number, word)
}

// TestConfigReload: a valid edit is applied, an invalid one is rejected
// and the old config keeps serving, SIGHUP-style requests reload too.
func TestConfigReload(t *testing.T) {
	b := newBench(t, varsConfig("one"), map[string]string{
		"scripts/" + number + ".js": varsScript})
	cfgPath := filepath.Join(b.dir, "config.toml")
	b.waitFor(t, number, "one")

	writeFile(t, cfgPath, varsConfig("two"))
	b.waitFor(t, number, "two")

	writeFile(t, cfgPath, varsConfig("three")+"\nbogus_key = 1\n")
	deadline := time.Now().Add(5 * time.Second)
	for !b.logs.Contains("config rejected") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := answer(b.reg, number); got != "two" {
		t.Fatalf("after an invalid edit %q answers, want the old two", got)
	}
	if !b.logs.Contains(`bogus_key`) {
		t.Errorf("the rejection does not say why:\n%s", b.logs)
	}

	writeFile(t, cfgPath, varsConfig("four"))
	b.waitFor(t, number, "four")

	writeFile(t, cfgPath, "listen = \"127.0.0.1:9999\"\n"+varsConfig("five"))
	b.waitFor(t, number, "five")
	if !b.logs.Contains("needs a restart") || !b.logs.Contains("key=listen") {
		t.Errorf("a listen change was not logged as needing a restart:\n%s", b.logs)
	}
	writeFile(t, cfgPath, varsConfig("six"))
	b.waitFor(t, number, "six")
	if !b.logs.Contains("back to the value the server runs with") {
		t.Errorf("a listen back to its running value was not logged:\n%s", b.logs)
	}
	if strings.Count(b.logs.String(), "needs a restart") != 1 {
		t.Errorf("warned more than once:\n%s", b.logs)
	}
}

// TestUnrelatedFiles: a log file written next to the config does not
// trigger reloads (which would log, and trigger the next one).
func TestUnrelatedFiles(t *testing.T) {
	b := newBench(t, varsConfig("one"), map[string]string{
		"scripts/" + number + ".js": varsScript})
	for i := range 5 {
		writeFile(t, filepath.Join(b.dir, "server.log"), strings.Repeat("x", i))
		time.Sleep(60 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(b.logs.String(), "msg=reload"); n != 0 {
		t.Errorf("%d reloads for a log file:\n%s", n, b.logs)
	}
	writeFile(t, filepath.Join(b.dir, "config.toml"), varsConfig("two"))
	b.waitFor(t, number, "two")
}

// TestSignalReload: a reload request picks up a change even when no file
// event announced it.
func TestSignalReload(t *testing.T) {
	b := newBench(t, varsConfig("one"), map[string]string{
		"scripts/" + number + ".js": varsScript})
	b.rl.watcher.Close() // from now on only the signal can reload
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(b.dir, "config.toml"), []byte(varsConfig("hup")),
		0o644); err != nil {
		t.Fatal(err)
	}
	b.hup <- os.Interrupt
	b.waitFor(t, number, "hup")
}

func TestReloadRejectsWithApply(t *testing.T) {
	b := newBench(t, varsConfig("one"), map[string]string{
		"scripts/" + number + ".js": varsScript})
	b.rl.apply = func(*config.Config) error { return errors.New("token missing") }
	writeFile(t, filepath.Join(b.dir, "config.toml"), varsConfig("two"))
	err := b.rl.Reload("test")
	if !errors.Is(err, ErrRejected) || answer(b.reg, number) != "one" {
		t.Fatalf("got %v, answer %q", err, answer(b.reg, number))
	}
}

// TestSwapUnderLoad replaces one script 100 times while 8 goroutines send
// requests: no request fails, and every answer is one of the versions
// written.
func TestSwapUnderLoad(t *testing.T) {
	b := newBench(t, "", map[string]string{"scripts/" + number + ".js": js("v0")})
	path := filepath.Join(b.dir, "scripts", number+".js")
	written := sync.Map{}
	written.Store("v0", true)

	ctx, cancel := context.WithCancel(context.Background())
	var failures, answered atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				rt := b.reg.Lookup(number)
				if rt == nil || rt.Script.Program == nil {
					failures.Add(1)
					continue
				}
				v, err := rt.Script.Program.Run(context.Background(),
					&script.Message{To: number}, &script.Env{Number: number})
				if _, ok := written.Load(fmt.Sprint(v)); err != nil || !ok {
					failures.Add(1)
					t.Errorf("answer %v, err %v", v, err)
				}
				answered.Add(1)
			}
		})
	}
	for i := 1; i <= 100; i++ {
		v := fmt.Sprintf("v%d", i)
		written.Store(v, true)
		tmp := path + ".tmp"
		writeFile(t, tmp, js(v))
		must(t, os.Rename(tmp, path))
		if i%10 == 0 {
			b.waitFor(t, number, v)
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	wg.Wait()
	if failures.Load() != 0 || answered.Load() < 100 {
		t.Fatalf("%d failures in %d answers", failures.Load(), answered.Load())
	}
	if !strings.Contains(b.logs.String(), "@") {
		t.Errorf("reload lines carry no versions:\n%s", b.logs)
	}
}
