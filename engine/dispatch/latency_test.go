package dispatch

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/jsvm"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
)

// pace is the interval between two requests to one number.
const pace = 5 * time.Millisecond

// BenchmarkHealthyLatency measures the answer time of a healthy number
// hit every 5 ms, alone and while a number whose script never ends (a
// loop, or a loop that allocates until the watchdog stops it) is hit at
// the same rate, with the server's default limits. ns/op is the pace;
// p50 and p99 are the healthy number's answer times, and busy is how many
// of its requests found no run slot.
func BenchmarkHealthyLatency(b *testing.B) {
	healthy := compileJS(b, `function handle(m) { return "ok " + m.body.trim(); }`)
	runaways := []struct {
		name string
		prog script.Program
	}{
		{"alone", nil},
		{"with_runaway", compileJS(b, `function handle() { for (;;) {} }`)},
		{"with_allocating_runaway", compileJS(b,
			`function handle() { const a = []; for (;;) a.push({ n: a.length }); }`)},
	}
	for _, r := range runaways {
		b.Run(r.name, func(b *testing.B) {
			d := New(quiet, Options{QueueWait: time.Second})
			good := route("+15550100002", healthy, 2*time.Second)
			stop := make(chan struct{})
			var bg sync.WaitGroup
			if r.prog != nil {
				bad := route("+15550100066", r.prog, 2*time.Second)
				bg.Go(func() { hammer(d, bad, stop) })
			}
			lat, busy := measure(b, d, good)
			close(stop)
			bg.Wait()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(busy), "busy")
		})
	}
}

// measure sends b.N requests to rt at the pace, each in a goroutine of its
// own as an HTTP server would, and returns their answer times.
func measure(b *testing.B, d *Dispatcher, rt *registry.Route) ([]time.Duration, int) {
	lat := make([]time.Duration, b.N)
	busy := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(pace)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		wg.Go(func() {
			start := time.Now()
			a := d.Answer(context.Background(), rt, &script.Message{Body: " hi "})
			lat[i] = time.Since(start)
			if a.Err != nil {
				mu.Lock()
				busy++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, busy
}

// hammer sends requests to rt at the pace until stop is closed.
func hammer(d *Dispatcher, rt *registry.Route, stop chan struct{}) {
	var wg sync.WaitGroup
	tick := time.NewTicker(pace)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			wg.Wait()
			return
		case <-tick.C:
		}
		wg.Go(func() { d.Answer(context.Background(), rt, &script.Message{}) })
	}
}

func compileJS(b *testing.B, src string) script.Program {
	p, err := jsvm.Compiler{}.Compile("bench.js", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	return p
}
