// Package sandbox guards the process as a whole while scripts run. Its
// Watchdog reads the Go heap every few milliseconds and stops the runs that
// take it past their memory limit.
//
// Neither script engine can measure what one run allocates, and every run
// shares one heap, so the watchdog guesses. The guess is written down here
// so that nobody mistakes it for accounting:
//
//   - The host's own live heap is sampled while no run is active (the base).
//   - A run is over its limit when the live heap marked by the last
//     collection exceeds by its limit both the base and the live heap when
//     the run started (steady growth; the second term keeps a run that
//     starts while a previous run's data is still counted from paying for
//     it), or when the heap, garbage included, exceeds by a whole limit
//     both the collector's goal and the heap when the run started (growth
//     faster than the collector keeps up with, such as one large
//     allocation; garbage an earlier run left is not held against it).
//   - Of the runs over their limit, the one that has been running longest
//     is stopped: a run that started after the heap began to grow is less
//     likely to be its cause, and healthy runs are short.
//   - Until the stopped run has ended and a collection has run, its heap
//     still counts, so meanwhile only growth past the heap at the stop is
//     held against the others: a second hog is caught, a bystander is not
//     stopped for the first one's garbage. Once the stopped runs end, the
//     memory is collected and handed back to the operating system.
//
// A healthy run can therefore be stopped when it is the oldest one active
// while another run grows the heap, and a run is judged on heap the host
// itself gained during its life. On a server that is never idle the base
// is the lowest live heap seen, so growth of the host's own data (more
// scripts loaded) narrows every run's room.
//
// TODO(#3): per-run accounting needs separate processes; until then the
// stop is a guess, and memory one instruction allocates (a large
// concatenation) is seen only after the fact.
package sandbox

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Default settings of a Watchdog.
const (
	// DefaultInterval is how often the heap is read.
	DefaultInterval = 10 * time.Millisecond
	// idleAfter is how long the watchdog keeps reading the heap once no run
	// is active, before it sleeps until the next run starts.
	idleAfter = time.Second
	// freeEvery bounds how often memory is handed back to the operating
	// system after runs were stopped.
	freeEvery = time.Second
)

// The runtime/metrics names the watchdog reads. None of them stops the
// world, unlike runtime.ReadMemStats.
const (
	metricHeap  = "/memory/classes/heap/objects:bytes"
	metricLive  = "/gc/heap/live:bytes"
	metricGoal  = "/gc/heap/goal:bytes"
	metricCycle = "/gc/cycles/total:gc-cycles"
)

// Options configures a Watchdog.
type Options struct {
	// Interval is the time between two readings of the heap. Default 10ms.
	Interval time.Duration
	// Logger receives one line for every run stopped. Default: no logging.
	Logger *slog.Logger
}

// Watchdog stops runs that grow the shared heap past their memory limit.
// It implements script.Watchdog and is safe for concurrent use. Use New or
// Default to get one.
type Watchdog struct {
	interval time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	runs     map[*watched]struct{}
	base     uint64 // the host's live heap, read while no run was active
	pending  int    // stopped runs that have not ended yet
	waitGC   bool   // stopped runs ended; a collection must follow
	gcMark   uint64 // the collection count when waitGC was set
	killHeap uint64 // the heap when the last run was stopped
	lastFree time.Time
	last     reading   // the latest reading of poll
	lastAt   time.Time // when it was taken
	started  bool
	wake     chan struct{}
	quit     chan struct{}
	stopped  chan struct{}

	samples []metrics.Sample
}

// watched is one registered run.
type watched struct {
	start   time.Time
	live0   uint64 // the live heap when the run started
	heap0   uint64 // the heap, garbage included, when the run started
	limit   uint64
	stop    func(*script.Error)
	stopped bool
}

// reading is one sample of the heap.
type reading struct {
	heap, live, goal, cycles uint64
}

// New returns a Watchdog. Its goroutine starts with the first Watch.
func New(opt Options) *Watchdog {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watchdog{
		interval: opt.Interval,
		log:      log,
		runs:     map[*watched]struct{}{},
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		samples: []metrics.Sample{
			{Name: metricHeap}, {Name: metricLive}, {Name: metricGoal}, {Name: metricCycle},
		},
	}
}

var (
	defaultOnce sync.Once
	defaultWD   *Watchdog
)

// Default returns the process-wide Watchdog, which every run uses unless
// its environment names another one.
func Default() *Watchdog {
	defaultOnce.Do(func() { defaultWD = New(Options{}) })
	return defaultWD
}

// Watch implements script.Watchdog.
func (w *Watchdog) Watch(limit int64, stop func(*script.Error)) (done func()) {
	r := &watched{start: time.Now(), limit: uint64(max(limit, 0)), stop: stop}
	w.mu.Lock()
	w.runs[r] = struct{}{}
	h := w.recent()
	r.live0, r.heap0 = h.live, h.heap
	if !w.started {
		w.started = true
		w.base = r.live0
		go w.loop()
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	var once sync.Once
	return func() { once.Do(func() { w.unwatch(r) }) }
}

// unwatch removes a run. When the last stopped run ends, a collection is
// started so that the heap it held is counted as free again, and the
// memory goes back to the operating system.
func (w *Watchdog) unwatch(r *watched) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.runs, r)
	if !r.stopped {
		return
	}
	w.pending--
	if w.pending > 0 {
		return
	}
	w.waitGC, w.gcMark = true, w.read().cycles
	if time.Since(w.lastFree) >= freeEvery {
		w.lastFree = time.Now()
		go debug.FreeOSMemory()
		return
	}
	go runtime.GC()
}

// Stop ends the watchdog's goroutine. Runs still registered are no longer
// watched.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	started := w.started
	w.started = false
	w.mu.Unlock()
	if started {
		close(w.quit)
		<-w.stopped
	}
}

// loop reads the heap every interval while runs are active, and sleeps
// until the next Watch once none has been for a while.
func (w *Watchdog) loop() {
	defer close(w.stopped)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	idleSince := time.Now()
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
		}
		if w.poll() {
			idleSince = time.Now()
			continue
		}
		if time.Since(idleSince) < idleAfter {
			continue
		}
		select {
		case <-w.quit:
			return
		case <-w.wake:
			idleSince = time.Now()
		}
	}
}

// recent returns poll's latest reading while it is fresh, or a new one,
// with w.mu held. The live heap changes only when a collection ends, so a
// reading two intervals old is nearly as good as a new one, and a busy
// server does not read the runtime's metrics for every run it starts.
func (w *Watchdog) recent() reading {
	if time.Since(w.lastAt) < 2*w.interval {
		return w.last
	}
	return w.read()
}

// read samples the heap, with w.mu held.
func (w *Watchdog) read() reading {
	metrics.Read(w.samples)
	var r reading
	for i, p := range []*uint64{&r.heap, &r.live, &r.goal, &r.cycles} {
		if w.samples[i].Value.Kind() == metrics.KindUint64 {
			*p = w.samples[i].Value.Uint64()
		}
	}
	return r
}

// poll takes one reading and stops the run it must. It reports whether
// any run is active.
func (w *Watchdog) poll() bool {
	w.mu.Lock()
	h := w.read()
	w.last, w.lastAt = h, time.Now()
	active := len(w.runs) > 0
	if active {
		w.base = min(w.base, h.live)
	} else {
		w.base = h.live
	}
	victim, steady := w.judge(h)
	base := w.base
	w.mu.Unlock()

	if victim != nil {
		err := script.Errorf(script.ErrMemory, "",
			"the heap grew to %d MiB (live %d MiB, host %d MiB) while this run was "+
				"active, past its limit of %d MiB", h.heap>>20, h.live>>20, base>>20,
			victim.limit>>20)
		w.log.LogAttrs(context.Background(), slog.LevelWarn, "memory watchdog stopped a run",
			slog.Uint64("heap_bytes", h.heap), slog.Uint64("live_bytes", h.live),
			slog.Uint64("base_bytes", base), slog.Uint64("limit_bytes", victim.limit),
			slog.Bool("steady", steady),
			slog.Float64("duration_ms", float64(time.Since(victim.start).Microseconds())/1000))
		victim.stop(err)
	}
	return active
}

// settling reports, with w.mu held, whether runs stopped earlier still
// hold their heap: they have not ended, or no collection has run since.
func (w *Watchdog) settling(h reading) bool {
	if w.pending > 0 {
		return true
	}
	if w.waitGC && h.cycles > w.gcMark {
		w.waitGC = false
	}
	return w.waitGC
}

// judge picks the run to stop on reading h, with w.mu held: the oldest run
// over its limit. While stopped runs still hold their heap, only growth
// past the heap at the last stop counts, so that the next run is stopped
// only when someone keeps allocating.
func (w *Watchdog) judge(h reading) (victim *watched, steady bool) {
	settling := w.settling(h)
	floor := max(h.goal, w.base)
	if settling {
		floor = max(floor, w.killHeap)
	}
	for r := range w.runs {
		if r.stopped {
			continue
		}
		soft := !settling && h.live > max(w.base, r.live0)+r.limit
		// Garbage left by earlier runs is not this run's growth.
		hard := h.heap > max(floor, r.heap0)+r.limit
		if (soft || hard) && (victim == nil || r.start.Before(victim.start)) {
			victim, steady = r, !hard
		}
	}
	if victim != nil {
		victim.stopped = true
		w.pending++
		w.killHeap = h.heap
	}
	return victim, steady
}
