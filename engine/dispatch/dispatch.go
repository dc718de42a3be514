// Package dispatch runs the script that a route names on one message and
// turns the outcome into the answer for the CPaaS: the rendered LaML, the
// number's fallback text, or the empty reply with a failure status.
package dispatch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/lamlhost/lamlhost/engine/laml"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
)

// Answer is what the CPaaS gets for one message.
type Answer struct {
	// Status is the HTTP status: 200, or 500 when the script failed and the
	// number has no fallback text.
	Status int
	// Body is the whole LaML reply.
	Body []byte
	// Err is the script's failure, or nil.
	Err error
}

// Options configures a Dispatcher.
type Options struct {
	// MaxInFlight bounds concurrent runs. Default: CPUs × 4.
	MaxInFlight int
	// MaxPerNumber bounds the concurrent runs of a suspect number: one
	// with a run going for more than 5 ms, or whose run was stopped for
	// time or memory in the last 30 s. A runaway script then holds at most
	// this many slots and cores while the other numbers keep theirs; a
	// healthy number may use every slot. Default: half the CPUs, at
	// least 1.
	MaxPerNumber int
	// QueueWait is how long a run waits for a free slot, of its number and
	// then of the whole server, before it fails with script.ErrBusy.
	// Default 0: it does not wait.
	QueueWait time.Duration
	// MemoryCooldown is how long a run stopped for memory keeps its
	// number's run slot after it ended. A script that fills the heap over
	// and over makes the collector work for every number; this spaces the
	// attempts of one number out, without delaying any answer. Default 3s.
	MemoryCooldown time.Duration
	// Privacy says what may be logged.
	Privacy Privacy
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = runtime.NumCPU() * 4
	}
	if o.MaxPerNumber <= 0 {
		o.MaxPerNumber = max(runtime.NumCPU()/2, 1)
	}
	if o.MemoryCooldown <= 0 {
		o.MemoryCooldown = 3 * time.Second
	}
	return o
}

// Dispatcher runs scripts under a bound on concurrent runs, overall and per
// number.
type Dispatcher struct {
	log   *slog.Logger
	slots chan struct{}
	lanes *lanes
	wait  time.Duration
	cool  time.Duration
	priv  Privacy
}

// New returns a Dispatcher that logs to logger.
func New(logger *slog.Logger, opt Options) *Dispatcher {
	opt = opt.withDefaults()
	return &Dispatcher{
		log:   logger,
		slots: make(chan struct{}, opt.MaxInFlight),
		lanes: newLanes(opt.MaxPerNumber),
		wait:  opt.QueueWait,
		cool:  opt.MemoryCooldown,
		priv:  opt.Privacy,
	}
}

// Answer runs the route's script on msg and renders the reply. It never
// fails: a script failure becomes the fallback or the failure answer, and
// is logged once with number, script, message_sid and location.
func (d *Dispatcher) Answer(ctx context.Context, rt *registry.Route, msg *script.Message) Answer {
	start := time.Now()
	name := filepath.Base(rt.Script.Path)
	tags := []slog.Attr{slog.String("number", rt.Number), slog.String("script", name),
		slog.String("engine", Engine(name)), slog.String("message_sid", msg.Sid)}

	body, err := d.reply(ctx, rt, msg, slog.New(withTags(d.log.Handler(), tags)))

	a := Answer{Status: http.StatusOK, Body: body, Err: err}
	if err != nil {
		a = failure(rt, err)
	}
	d.logAnswer(tags, msg, a, time.Since(start))
	return a
}

// reply runs the script and renders what it returned.
func (d *Dispatcher) reply(ctx context.Context, rt *registry.Route, msg *script.Message,
	log *slog.Logger) ([]byte, error) {
	prog := rt.Script.Program
	if prog == nil {
		return nil, rt.Script.Err
	}
	server, own, err := d.acquire(ctx, rt.Number, prog.Name())
	if err != nil {
		return nil, err
	}

	env := &script.Env{
		Number:   rt.Number,
		Vars:     rt.Settings.Vars,
		Location: rt.Settings.Location,
		Logger:   log,
		Limits: script.Limits{
			Timeout: rt.Settings.Timeout.Std(),
			Memory:  int64(rt.Settings.MemoryLimit),
		},
	}
	v, err := d.run(ctx, prog, msg, env, slots{server, own}, log,
		func(err error) Answer { return failure(rt, err) })
	if errors.Is(err, script.ErrTimeout) || errors.Is(err, script.ErrMemory) {
		d.lanes.punish(rt.Number)
	}
	if err != nil {
		return nil, err
	}
	return render(prog.Name(), v)
}

// Grace is how long past its time limit a run may take before the answer
// goes out without it. The engines stop a script between two instructions
// within a millisecond, but one call of a built-in runs to its end, and a
// built-in working on a huge value can take longer.
const Grace = 100 * time.Millisecond

type outcome struct {
	v   any
	err error
}

// slots gives back the run slots of one run: the server's and its
// number's.
type slots struct{ server, own func() }

// LateAnswer is called, from another goroutine, with the answer for a
// run that passed its time limit plus Grace without ending (a script
// engine stuck in one built-in): the caller answers with it at once, and
// Answer, which returns when the run really ends, returns the same
// answer.
type LateAnswer func(Answer)

type lateKey struct{}

// WithLateAnswer returns ctx carrying late. A message whose context
// carries one runs on the caller's goroutine, which saves the handoff to
// another goroutine and back (a sixth of a small message's cost under
// load); without one, the run goes to a worker and Answer returns at the
// time limit plus Grace.
func WithLateAnswer(ctx context.Context, late LateAnswer) context.Context {
	return context.WithValue(ctx, lateKey{}, late)
}

// run runs prog and returns its value, or a timeout error for a run that
// did not stop within its time limit plus Grace. Either way the answer
// goes out by then: from a LateAnswer of the context, or by waiting for
// the run on a worker goroutine. A run that overstays keeps its run slots
// until it really ends (release is called then), so that a number cannot
// pile up runs that refuse to stop, and its end is logged. A run stopped
// for memory keeps its number's slot for MemoryCooldown more.
func (d *Dispatcher) run(ctx context.Context, prog script.Program, msg *script.Message,
	env *script.Env, held slots, log *slog.Logger, fail func(error) Answer) (any, error) {
	start := time.Now()
	limit := env.Limits.WithDefaults().Timeout + Grace
	overstayed := func() error {
		return script.Errorf(script.ErrTimeout, prog.Name(),
			"the run did not stop within %v of its time limit; it keeps its run slot "+
				"until it ends", Grace)
	}
	endedLate := func(o outcome) {
		log.LogAttrs(context.Background(), slog.LevelWarn, "script run ended late",
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Any("err", o.err))
	}

	if late, ok := ctx.Value(lateKey{}).(LateAnswer); ok {
		t := time.AfterFunc(limit, func() { late(fail(overstayed())) })
		o := d.runHere(ctx, prog, msg, env, held)
		if !t.Stop() {
			endedLate(o)
			return nil, overstayed()
		}
		return o.v, o.err
	}

	done := make(chan outcome, 1)
	runners.do(func() { done <- d.runHere(ctx, prog, msg, env, held) })
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case o := <-done:
		return o.v, o.err
	case <-t.C:
	}
	go func() { endedLate(<-done) }()
	return nil, overstayed()
}

// runHere runs prog on the calling goroutine and gives the run slots
// back, before the answer goes out, so that the next message of the
// number never finds its own run's slot taken. A Go panic in an engine
// becomes an error.
func (d *Dispatcher) runHere(ctx context.Context, prog script.Program, msg *script.Message,
	env *script.Env, held slots) (o outcome) {
	defer func() {
		if v := recover(); v != nil {
			o = outcome{err: script.Errorf(script.ErrPanic, prog.Name(), "%v", v)}
		}
		held.server()
		if !errors.Is(o.err, script.ErrMemory) {
			held.own()
			return
		}
		go func() {
			time.Sleep(d.cool)
			held.own()
		}()
	}()
	o.v, o.err = prog.Run(ctx, msg, env)
	return o
}

// workers run functions on goroutines kept between runs. A goroutine
// per run cost its start and, for the deep stacks of the script engines,
// growing its stack again every time. A worker busy with a run that will
// not stop is simply not idle: the next run gets another.
type workers struct{ idle chan chan func() }

// runners is the process's workers; as many wait idle as runs may be in
// flight by default.
var runners = workers{idle: make(chan chan func(), 4*runtime.NumCPU())}

// do runs f on an idle worker, or on a new one.
func (w *workers) do(f func()) {
	select {
	case in := <-w.idle:
		in <- f
	default:
		go w.work(f)
	}
}

// work runs f, then waits idle for the next function unless enough
// workers wait already.
func (w *workers) work(f func()) {
	in := make(chan func())
	for {
		f()
		select {
		case w.idle <- in:
		default:
			return
		}
		f = <-in
	}
}

// render reads the value through the reply grammar and renders it.
func render(name string, v any) ([]byte, error) {
	resp, err := laml.FromValue(v)
	if err == nil {
		var buf bytes.Buffer
		if err = resp.Render(&buf); err == nil {
			return buf.Bytes(), nil
		}
	}
	var lerr *laml.Error
	if errors.As(err, &lerr) {
		return nil, script.Errorf(script.ErrReply, name, "%s", lerr.Error())
	}
	return nil, err
}

// failure is the answer for a failed run: the number's fallback text as a
// message if it has one, else the empty reply with status 500, so that the
// CPaaS records a failure and can try its own fallback URL.
func failure(rt *registry.Route, err error) Answer {
	if fb := rt.Settings.Fallback; fb != "" {
		var buf bytes.Buffer
		resp := laml.Response{Verbs: []laml.Verb{&laml.Message{Body: fb}}}
		if resp.Render(&buf) == nil {
			return Answer{Status: http.StatusOK, Body: buf.Bytes(), Err: err}
		}
	}
	return Answer{Status: http.StatusInternalServerError, Body: laml.Empty, Err: err}
}

// acquire records the run with its number, waiting while the number is
// suspect and has MaxPerNumber runs in flight (see lane.admit), then takes
// a slot of the server, waiting at most QueueWait for both together.
// Waiting on the number holds no server slot, so the queue of a slow
// number delays only that number. It returns the functions that give the
// slots back.
func (d *Dispatcher) acquire(ctx context.Context, number, name string) (
	server, own func(), err error) {
	deadline := time.Now().Add(d.wait)
	lane := d.lanes.join(number)
	started, ok := lane.enter(ctx, d.lanes.per, deadline)
	if !ok {
		d.lanes.leave(number, lane, started)
		return nil, nil, script.Errorf(script.ErrBusy, name,
			"%s is suspect and its %d run slots stayed busy for %v", number,
			d.lanes.per, d.wait)
	}
	if !wait(ctx, d.slots, deadline) {
		d.lanes.leave(number, lane, started)
		return nil, nil, script.Errorf(script.ErrBusy, name,
			"all %d run slots stayed busy for %v", cap(d.slots), d.wait)
	}
	// The run starts now: time spent waiting for a server slot is not the
	// number's slowness, and counting it made every busy number suspect.
	started = lane.restart(started)
	return func() { <-d.slots }, func() { d.lanes.leave(number, lane, started) }, nil
}

// wait puts a token into slots, waiting until deadline or the end of ctx.
func wait(ctx context.Context, slots chan struct{}, deadline time.Time) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// lanes holds, per number with runs in flight or waiting, the runs'
// start times, which tell a healthy number from a runaway one. A lane is dropped when
// its last user leaves, so the map stays as small as the traffic in
// flight, whatever numbers requests name; penalties live on in a map of
// their own, bounded in size.
type lanes struct {
	mu      sync.Mutex
	per     int
	byName  map[string]*lane
	penalty map[string]time.Time // number → end of its penalty
}

type lane struct {
	users  int
	mu     sync.Mutex
	starts []time.Time // start times of the runs in flight
	until  time.Time   // penalty end, copied from lanes.penalty
}

// slowRun is how long a run may take before its number counts as suspect.
// Healthy handlers finish in well under a millisecond.
const slowRun = 5 * time.Millisecond

// penaltyTime is how long a number whose run was stopped for time or
// memory stays suspect.
const penaltyTime = 30 * time.Second

func newLanes(per int) *lanes {
	return &lanes{per: per, byName: map[string]*lane{}, penalty: map[string]time.Time{}}
}

// suspectLocked reports whether the number's runs are bounded: while one
// of its runs has been going for longer than slowRun, or during a
// penalty. A healthy number is bounded only by the server's slots, so
// that it can use every core.
func (l *lane) suspectLocked(now time.Time) bool {
	if now.Before(l.until) {
		return true
	}
	for _, t := range l.starts {
		if now.Sub(t) > slowRun {
			return true
		}
	}
	return false
}

// enter records a run of the number. A suspect number must have fewer
// than per runs in flight; its run waits, polling, until then or until
// deadline. It returns the run's start time, which identifies it.
func (l *lane) enter(ctx context.Context, per int, deadline time.Time) (time.Time, bool) {
	for {
		now := time.Now()
		if l.admit(now, per) {
			return now, true
		}
		if now.After(deadline) || ctx.Err() != nil {
			return now, false
		}
		time.Sleep(time.Millisecond)
	}
}

// admit adds a run started at now unless the number is suspect and has
// per runs in flight already.
func (l *lane) admit(now time.Time, per int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.starts) >= per && l.suspectLocked(now) {
		return false
	}
	l.starts = append(l.starts, now)
	return true
}

// restart moves the start of the run started at t to now, and returns
// the new start, which identifies the run from then on.
func (l *lane) restart(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for i, s := range l.starts {
		if s.Equal(t) {
			l.starts[i] = now
			return now
		}
	}
	return t
}

func (l *lane) end(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.starts {
		if s.Equal(t) {
			l.starts = append(l.starts[:i], l.starts[i+1:]...)
			return
		}
	}
}

func (ls *lanes) join(number string) *lane {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byName[number]
	if l == nil {
		l = &lane{until: ls.penalty[number]}
		ls.byName[number] = l
	}
	l.users++
	return l
}

func (ls *lanes) leave(number string, l *lane, started time.Time) {
	l.end(started)
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l.users--; l.users == 0 {
		delete(ls.byName, number)
	}
}

// punish makes number suspect for penaltyTime.
func (ls *lanes) punish(number string) {
	until := time.Now().Add(penaltyTime)
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.penalty) >= 10_000 {
		now := time.Now()
		for n, t := range ls.penalty {
			if now.After(t) {
				delete(ls.penalty, n)
			}
		}
		if len(ls.penalty) >= 10_000 {
			clear(ls.penalty)
		}
	}
	ls.penalty[number] = until
	if l := ls.byName[number]; l != nil {
		l.mu.Lock()
		l.until = until
		l.mu.Unlock()
	}
}

// Engine names the language of a script by its file name: "js" or "lua".
func Engine(name string) string {
	return strings.TrimPrefix(filepath.Ext(name), ".")
}
