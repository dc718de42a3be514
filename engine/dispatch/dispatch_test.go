package dispatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
	"github.com/lamlhost/lamlhost/engine/testlog"
)

// sleeper is a script that takes a while. Unless stubborn, it stops when
// its context ends, as the engines do between instructions.
type sleeper struct {
	d        time.Duration
	stubborn bool
	panics   bool
}

// Name implements script.Program.
func (s sleeper) Name() string { return "sleeper.js" }

// Run implements script.Program.
func (s sleeper) Run(ctx context.Context, _ *script.Message, env *script.Env) (any, error) {
	if s.panics {
		panic("engine bug")
	}
	ctx, cancel := context.WithTimeout(ctx, env.Limits.WithDefaults().Timeout)
	defer cancel()
	select {
	case <-time.After(s.d):
		return "ok", nil
	case <-ctx.Done():
		if s.stubborn {
			time.Sleep(s.d)
		}
		return nil, script.Errorf(script.ErrTimeout, s.Name(), "the run passed its time limit")
	}
}

func route(number string, p script.Program, timeout time.Duration) *registry.Route {
	return &registry.Route{
		Number:   number,
		Script:   &registry.Script{Path: "scripts/" + p.Name(), Program: p},
		Settings: &config.Number{Timeout: config.Duration(timeout), Location: time.UTC},
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func answer(d *Dispatcher, rt *registry.Route) Answer {
	return d.Answer(context.Background(), rt, &script.Message{From: "+15550100001",
		To: rt.Number})
}

// The defaults are CPUs × 4 runs in flight, and half the CPUs per number.
func TestDefaults(t *testing.T) {
	d := New(quiet, Options{})
	if got, want := cap(d.slots), runtime.NumCPU()*4; got != want {
		t.Errorf("MaxInFlight %d, want %d", got, want)
	}
	if got, want := d.lanes.per, max(runtime.NumCPU()/2, 1); got != want {
		t.Errorf("MaxPerNumber %d, want %d", got, want)
	}
}

// Past the server's slots, a request waits QueueWait, then gets the error
// answer.
func TestBusyAfterQueueWait(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 2, MaxPerNumber: 2, QueueWait: 50 * time.Millisecond})
	slow := sleeper{d: 300 * time.Millisecond}
	var wg sync.WaitGroup
	for _, n := range []string{"+15550100001", "+15550100002"} {
		wg.Go(func() { answer(d, route(n, slow, time.Second)) })
	}
	time.Sleep(50 * time.Millisecond)
	a := answer(d, route("+15550100003", slow, time.Second))
	if !errors.Is(a.Err, script.ErrBusy) || a.Status != 500 {
		t.Fatalf("got %d %v, want busy", a.Status, a.Err)
	}
	wg.Wait()
	if a := answer(d, route("+15550100003", sleeper{}, time.Second)); a.Err != nil {
		t.Fatalf("after the others ended: %v", a.Err)
	}
}

// One number cannot hold more than its lane, and its queue holds no server
// slot: another number still runs at once.
func TestLaneBoundsOneNumber(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 4, MaxPerNumber: 1, QueueWait: 50 * time.Millisecond})
	slow := route("+15550100001", sleeper{d: 300 * time.Millisecond}, time.Second)
	go answer(d, slow)
	time.Sleep(20 * time.Millisecond)
	if a := answer(d, slow); !errors.Is(a.Err, script.ErrBusy) {
		t.Fatalf("second run of the same number: %v, want busy", a.Err)
	}
	if a := answer(d, route("+15550100002", sleeper{}, time.Second)); a.Err != nil {
		t.Fatalf("another number: %v", a.Err)
	}
}

// A run that does not stop at its deadline is answered at the deadline
// plus Grace, and keeps its slot until it really ends.
func TestGrace(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 4, MaxPerNumber: 1})
	rt := route("+15550100001", sleeper{d: 500 * time.Millisecond, stubborn: true},
		100*time.Millisecond)
	start := time.Now()
	a := answer(d, rt)
	took := time.Since(start)
	if !errors.Is(a.Err, script.ErrTimeout) {
		t.Fatalf("got %v, want a timeout", a.Err)
	}
	if took > 100*time.Millisecond+Grace+300*time.Millisecond {
		t.Errorf("answered after %v", took)
	}
	if a := answer(d, rt); !errors.Is(a.Err, script.ErrBusy) {
		t.Fatalf("while the late run goes on: %v, want busy", a.Err)
	}
	time.Sleep(600 * time.Millisecond)
	d.lanes.mu.Lock()
	left := len(d.lanes.byName)
	d.lanes.mu.Unlock()
	if left != 0 {
		t.Errorf("%d lanes left after every run ended", left)
	}
}

// A panic in an engine is an error answer, not the end of the process.
func TestPanicInEngine(t *testing.T) {
	d := New(quiet, Options{})
	a := answer(d, route("+15550100001", sleeper{panics: true}, time.Second))
	if !errors.Is(a.Err, script.ErrPanic) || a.Status != 500 {
		t.Fatalf("got %d %v", a.Status, a.Err)
	}
}

// hog is a script stopped for memory.
type hog struct{}

// Name implements script.Program.
func (hog) Name() string { return "hog.js" }

// Run implements script.Program.
func (hog) Run(context.Context, *script.Message, *script.Env) (any, error) {
	return nil, script.Errorf(script.ErrMemory, "hog.js", "stopped")
}

// A number whose run was stopped for memory waits MemoryCooldown before
// its next run; the other numbers and the server's slots do not.
func TestMemoryCooldown(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 1, MaxPerNumber: 1, MemoryCooldown: 300 * time.Millisecond})
	rt := route("+15550100001", hog{}, time.Second)
	if a := answer(d, rt); !errors.Is(a.Err, script.ErrMemory) {
		t.Fatalf("got %v", a.Err)
	}
	time.Sleep(10 * time.Millisecond)
	if a := answer(d, rt); !errors.Is(a.Err, script.ErrBusy) {
		t.Fatalf("right after: %v, want busy", a.Err)
	}
	if a := answer(d, route("+15550100002", sleeper{}, time.Second)); a.Err != nil {
		t.Fatalf("another number: %v", a.Err)
	}
	time.Sleep(350 * time.Millisecond)
	if a := answer(d, rt); !errors.Is(a.Err, script.ErrMemory) {
		t.Fatalf("after the cool-down: %v", a.Err)
	}
}

// A healthy number is bounded by the server's slots only: runs that end
// within a few milliseconds overlap freely, beyond MaxPerNumber.
func TestHealthyNumberUsesEverySlot(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 8, MaxPerNumber: 1})
	rt := route("+15550100001", sleeper{d: 3 * time.Millisecond}, time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- answer(d, rt).Err })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a healthy number's run was refused: %v", err)
		}
	}
}

// A number whose run timed out is bounded for a while afterwards, even if
// its next runs are quick.
func TestPenaltyAfterTimeout(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 8, MaxPerNumber: 1})
	slow := route("+15550100001", sleeper{d: time.Second}, 50*time.Millisecond)
	if a := answer(d, slow); !errors.Is(a.Err, script.ErrTimeout) {
		t.Fatalf("got %v, want a timeout", a.Err)
	}
	quick := route("+15550100001", sleeper{d: 100 * time.Millisecond}, time.Second)
	go answer(d, quick)
	time.Sleep(20 * time.Millisecond)
	if a := answer(d, quick); !errors.Is(a.Err, script.ErrBusy) {
		t.Fatalf("second run during the penalty: %v, want busy", a.Err)
	}
}

// printer is a script that prints a line through its environment's logger.
type printer struct{}

// Name implements script.Program.
func (printer) Name() string { return "printer.lua" }

// Run implements script.Program.
func (printer) Run(_ context.Context, _ *script.Message, env *script.Env) (any, error) {
	env.Logger.Info("script says hi", "source", "script")
	return "ok", nil
}

// A script's output and the answer's line both carry the message's tags,
// each once.
func TestLinesTagged(t *testing.T) {
	var buf testlog.Buffer
	d := New(slog.New(slog.NewTextHandler(&buf, nil)), Options{})
	rt := route("+15550100042", printer{}, time.Second)
	if a := d.Answer(context.Background(), rt, &script.Message{From: "+15550100001",
		To: rt.Number, Sid: "SMtag"}); a.Err != nil {
		t.Fatal(a.Err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want the output and the answer:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"script says hi", "message answered"} {
		for _, tag := range []string{"number=+15550100042", "script=printer.lua",
			"engine=lua", "message_sid=SMtag", want} {
			if n := strings.Count(lines[i], tag); n != 1 {
				t.Errorf("line %d has %s %d times: %s", i, tag, n, lines[i])
			}
		}
	}
}

// A run's time waiting for a server slot does not count as its number's
// slowness: once it gets a slot, its clock starts again.
func TestSlotWaitIsNotSlowness(t *testing.T) {
	l := &lane{}
	start := time.Now().Add(-2 * slowRun) // admitted, then waited for a slot
	l.starts = append(l.starts, start)
	l.mu.Lock()
	waited := l.suspectLocked(time.Now())
	l.mu.Unlock()
	if !waited {
		t.Fatal("a run older than slowRun must make its number suspect")
	}
	restarted := l.restart(start)
	l.mu.Lock()
	suspect := l.suspectLocked(time.Now())
	l.mu.Unlock()
	if suspect || !restarted.After(start) {
		t.Fatalf("after restart: suspect %v, start %v -> %v", suspect, start, restarted)
	}
	l.end(restarted)
	if len(l.starts) != 0 {
		t.Errorf("the restarted run did not end: %v", l.starts)
	}
}

// Workers are reused between runs, at most cap(idle) of them wait idle,
// and a run that does not end holds only its own worker.
func TestWorkers(t *testing.T) {
	w := workers{idle: make(chan chan func(), 2)}
	before := runtime.NumGoroutine()
	for range 100 {
		done := make(chan struct{})
		w.do(func() { close(done) })
		<-done
	}
	if grown := runtime.NumGoroutine() - before; grown > 2 {
		t.Errorf("100 runs in a row left %d more goroutines, want at most 2 idle", grown)
	}
	stuck := make(chan struct{})
	w.do(func() { <-stuck })
	ran := make(chan struct{})
	w.do(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("a stuck run kept the next one from running")
	}
	close(stuck)
	var wg sync.WaitGroup
	for range 20 { // many at once: each gets a worker, none waits for another
		wg.Add(1)
		w.do(wg.Done)
	}
	wg.Wait()
}

// With a LateAnswer, a run stays on the caller's goroutine; one stuck past
// its limit plus Grace is answered through the LateAnswer at that time, and
// Answer returns the same answer when the run really ends.
func TestLateAnswerOnTheCallersGoroutine(t *testing.T) {
	d := New(quiet, Options{MaxInFlight: 4, MaxPerNumber: 1})
	rt := route("+15550100001", sleeper{d: 500 * time.Millisecond, stubborn: true},
		100*time.Millisecond)
	late := make(chan Answer, 1)
	lateAt := make(chan time.Duration, 1)
	start := time.Now()
	ctx := WithLateAnswer(context.Background(), func(a Answer) {
		lateAt <- time.Since(start)
		late <- a
	})
	a := d.Answer(ctx, rt, &script.Message{From: "+15550100002", To: rt.Number})
	took := time.Since(start)
	select {
	case l := <-late:
		if at := <-lateAt; at > 100*time.Millisecond+Grace+300*time.Millisecond {
			t.Errorf("late answer after %v", at)
		}
		if !errors.Is(l.Err, script.ErrTimeout) || l.Status != a.Status ||
			string(l.Body) != string(a.Body) {
			t.Errorf("late answer %d %v, Answer %d %v", l.Status, l.Err, a.Status, a.Err)
		}
	default:
		t.Fatal("no late answer")
	}
	if took < 500*time.Millisecond {
		t.Errorf("Answer returned after %v, before the run ended", took)
	}
	if a := answer(d, route("+15550100001", sleeper{}, time.Second)); a.Err != nil {
		t.Errorf("after the late run ended: %v", a.Err)
	}
}
