package sandbox

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/script"
)

// hog allocates live memory in steps until it is stopped or has allocated
// most bytes. It returns what it allocated and the error it was stopped
// with.
func hog(w *Watchdog, limit int64, most int) (int, *script.Error) {
	stopped := make(chan *script.Error, 1)
	done := w.Watch(limit, func(e *script.Error) { stopped <- e })
	defer done()
	var keep [][]byte
	for len(keep) < most {
		select {
		case e := <-stopped:
			return len(keep), e
		default:
		}
		keep = append(keep, make([]byte, 1<<20))
		time.Sleep(100 * time.Microsecond)
	}
	runtime.KeepAlive(keep)
	return len(keep), nil
}

// A run that keeps what it allocates is stopped well before 200 MiB at a
// limit of 16 MiB.
func TestWatchdogStopsGrowth(t *testing.T) {
	w := New(Options{})
	defer w.Stop()
	n, err := hog(w, 16<<20, 1000)
	if err == nil || !errors.Is(err, script.ErrMemory) {
		t.Fatalf("not stopped after %d MiB: %v", n, err)
	}
	if n > 200 {
		t.Errorf("stopped only after %d MiB", n)
	}
	t.Logf("stopped after %d MiB: %v", n, err)
}

// Garbage is not growth: a run that allocates far more than its limit but
// keeps little of it is left alone.
func TestWatchdogIgnoresGarbage(t *testing.T) {
	w := New(Options{})
	defer w.Stop()
	stopped := make(chan *script.Error, 1)
	done := w.Watch(32<<20, func(e *script.Error) { stopped <- e })
	defer done()
	var sink []byte
	for i := range 1000 {
		sink = make([]byte, 256<<10)
		sink[0] = 1
		if i%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	runtime.KeepAlive(sink)
	select {
	case e := <-stopped:
		t.Fatalf("stopped a run that kept nothing: %v", e)
	case <-time.After(50 * time.Millisecond):
	}
}

// The run that has been running longest is stopped first; a run that
// started later is left alone while the first one is judged.
func TestWatchdogStopsOldestFirst(t *testing.T) {
	w := New(Options{})
	defer w.Stop()
	result := make(chan *script.Error, 1)
	go func() {
		_, e := hog(w, 16<<20, 1000)
		result <- e
	}()
	time.Sleep(5 * time.Millisecond)
	young := make(chan *script.Error, 1)
	done := w.Watch(16<<20, func(e *script.Error) { young <- e })
	e := <-result
	done()
	if e == nil {
		t.Fatal("the hog was not stopped")
	}
	select {
	case e := <-young:
		t.Fatalf("the younger run was stopped: %v", e)
	default:
	}
}

// After a stop, memory goes back to the system.
func TestWatchdogFreesMemory(t *testing.T) {
	w := New(Options{})
	defer w.Stop()
	runtime.GC()
	before := w.snapshot().live
	if _, err := hog(w, 16<<20, 1000); err == nil {
		t.Fatal("not stopped")
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if w.snapshot().live < before+32<<20 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("live heap %d MiB, was %d MiB", w.snapshot().live>>20, before>>20)
}

// snapshot reads the heap.
func (w *Watchdog) snapshot() reading {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.read()
}

// Garbage already on the heap when a run starts is not that run's growth:
// the run is judged on what the heap gains during its life.
func TestWatchdogJudgesGrowthSinceStart(t *testing.T) {
	w := New(Options{})
	const mib = 1 << 20
	r := &watched{start: time.Now(), limit: 64 * mib, heap0: 100 * mib, live0: 10 * mib}
	w.runs[r] = struct{}{}
	w.base = 10 * mib
	if v, _ := w.judge(reading{heap: 150 * mib, live: 10 * mib, goal: 20 * mib}); v != nil {
		t.Fatal("stopped a run for garbage that was there before it started")
	}
	if v, _ := w.judge(reading{heap: 170 * mib, live: 10 * mib, goal: 20 * mib}); v != r {
		t.Fatal("a run that grew the heap by more than its limit was not stopped")
	}
}
