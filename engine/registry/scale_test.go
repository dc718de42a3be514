package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
)

// BenchmarkStart10k loads a scripts folder of 10 000 scripts, half
// JavaScript and half Lua, as a server does at start, and reports the time
// and the heap the compiled table holds. A second Load with nothing
// changed is what each reload costs.
func BenchmarkStart10k(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		name := fmt.Sprintf("+1555%07d.js", i)
		src := fmt.Sprintf("function handle(m, ctx) { return 'n%d ' + m.body }", i)
		if i%2 == 1 {
			name = fmt.Sprintf("+1555%07d.lua", i)
			src = fmt.Sprintf("function handle(m, ctx) return 'n%d ' .. m.body end", i)
		}
		if err := os.WriteFile(filepath.Join(dir, "scripts", name), []byte(src),
			0o644); err != nil {
			b.Fatal(err)
		}
	}
	cfg, err := config.Parse(nil, filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		r := New()
		start := time.Now()
		rp, err := r.Load(cfg)
		if err != nil || len(rp.Failed) > 0 {
			b.Fatal(err, rp.Err())
		}
		took := time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		start = time.Now()
		if _, err := r.Load(cfg); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(took.Milliseconds()), "start-ms")
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "reload-ms")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		if len(r.Numbers()) != 10_000 {
			b.Fatalf("%d numbers", len(r.Numbers()))
		}
	}
}
