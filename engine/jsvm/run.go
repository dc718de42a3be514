package jsvm

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/lamlhost/lamlhost/engine/sandbox"
	"github.com/lamlhost/lamlhost/engine/script"
)

// box is a prepared runtime: guarded built-ins, frozen unless the script
// needs to change them, and a console whose output goes where the current
// run says. A frozen box gives every run a global object of its own and
// serves again after a clean run; after any failure, and after every run
// of an unfrozen box, it is dropped.
type box struct {
	vm    *goja.Runtime
	g     *guard
	out   *script.Output
	base  *goja.Object // the frozen global object; nil in an unfrozen box
	dirty bool         // a run stored something that outlives it
	runs  int          // runs served, to retire the box (see maxRuns)
	// calls runs the Go function in call inside the runtime, as a call
	// from Go into script code: what stops it (a throw, the deadline, the
	// stack limit) comes back as an error rather than a Go panic.
	calls goja.Callable
	call  func()
}

// maxRuns retires a reused runtime after this many runs, a backstop
// against whatever a runtime might accumulate that no check sees. A new
// frozen runtime takes about 11 ms to prepare (BenchmarkPrepare), in the
// background; at 10 000 runs that was a microsecond of every run.
const maxRuns = 100_000

func newBox(frozen bool) *box {
	keepRegexpClock()
	vm := goja.New()
	vm.SetParserOptions(parser.WithDisableSourceMaps)
	vm.SetMaxCallStackSize(MaxCallStack)
	b := &box{vm: vm, g: newGuard(vm)}
	b.calls, _ = goja.AssertFunction(vm.ToValue(func(goja.FunctionCall) goja.Value {
		b.call()
		return goja.Undefined()
	}))
	b.installConsole()
	if !frozen {
		return b
	}
	b.g.arm("harden.js", script.Limits{}.WithDefaults(), time.Now().Add(time.Minute))
	base, err := harden(vm, func() { b.dirty = true })
	if err != nil {
		panic(err) // the hardening source is ours and fixed: a bug, not input
	}
	b.base = base
	return b
}

// fresh gives a frozen box a new, empty global object for the next run,
// inheriting the built-ins from the frozen one. globalThis names it.
func (b *box) fresh() {
	if b.base == nil {
		return
	}
	g := b.vm.NewObject()
	_ = g.SetPrototype(b.base)
	_ = g.DefineDataProperty("globalThis", g, goja.FLAG_TRUE, goja.FLAG_FALSE,
		goja.FLAG_TRUE)
	b.vm.SetGlobalObject(g)
}

// idle gives a frozen box waiting for its next run the frozen global
// object itself, so that the last run's global object, and all it holds
// (the message, anything up to the memory limit), is not kept meanwhile.
func (b *box) idle() {
	if b.base != nil {
		b.vm.SetGlobalObject(b.base)
	}
}

// pool holds prepared runtimes of one kind: frozen ones, reused after
// clean runs, or unfrozen ones, each for a single run. Preparing one
// (guards, freezing) costs far more than the run of a small handler, so a
// goroutine prepares spares ahead when one was used up.
type pool struct {
	frozen    bool
	ch        chan *box
	refilling atomic.Bool
}

// A frozen runtime holds about half a MiB; the pool keeps as many as the
// runs a server allows in flight by default.
var (
	frozenBoxes = &pool{frozen: true, ch: make(chan *box, 4*runtime.NumCPU())}
	freshBoxes  = &pool{frozen: false, ch: make(chan *box, 4)}
)

// boxes returns the pool a program's runs take their runtimes from.
func boxes(p *Program) *pool {
	if p.fresh {
		return freshBoxes
	}
	return frozenBoxes
}

// take returns a prepared runtime, or prepares one when none is ready.
func (p *pool) take() *box {
	select {
	case b := <-p.ch:
		return b
	default:
		return newBox(p.frozen)
	}
}

// put returns a runtime after a clean run, if there is room.
func (p *pool) put(b *box) bool {
	select {
	case p.ch <- b:
		return true
	default:
		return false
	}
}

// refill tops the spares up in the background, unless that is under way.
func (p *pool) refill() {
	if len(p.ch) == cap(p.ch) || !p.refilling.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer p.refilling.Store(false)
		for len(p.ch) < cap(p.ch) {
			if !p.put(newBox(p.frozen)) {
				return
			}
		}
	}()
}

// run is one execution of a program in a prepared runtime.
type run struct {
	ctx    context.Context
	prg    *Program
	box    *box
	vm     *goja.Runtime
	g      *guard
	stop   func() bool
	done   func()
	out    *script.Output
	handle goja.Callable
	clean  bool // the run ended without any error; the box may serve again
}

// newRun arms the prepared runtime b for one run of p.
func newRun(ctx context.Context, p *Program, env *script.Env, b *box) *run {
	limits := script.Limits{}.WithDefaults()
	var logger *slog.Logger
	var wd script.Watchdog = sandbox.Default()
	if env != nil {
		limits, logger = env.Limits.WithDefaults(), env.Logger
		if env.Watchdog != nil {
			wd = env.Watchdog
		}
	}
	deadline, _ := ctx.Deadline()
	b.fresh()
	b.g.arm(p.name, limits, deadline)
	b.out = script.NewOutput(logger, limits.Output)
	r := &run{ctx: ctx, prg: p, box: b, vm: b.vm, g: b.g, out: b.out}
	r.stop = context.AfterFunc(ctx, func() { b.g.stop(b.g.timeout()) })
	r.done = wd.Watch(limits.Memory, func(e *script.Error) {
		named := *e
		named.Script = p.name
		b.g.stop(&named)
	})
	return r
}

// close ends the run. The box goes back to the spares only when the run
// was clean, no stop is pending or landed, and the global object could be
// reset; otherwise it is dropped and a fresh one prepared.
func (r *run) close() {
	pending := r.stop()
	r.done()
	b, p := r.box, boxes(r.prg)
	b.out = nil
	b.runs++
	if p.frozen && r.clean && pending && r.g.stopped() == nil && !b.dirty &&
		b.runs < maxRuns {
		b.vm.ClearInterrupt()
		b.idle() // what the run stored globally goes now, not at the next run
		if p.put(b) {
			return
		}
	}
	p.refill()
}

// load runs the program's top level, which returns handle: the source is
// wrapped in a function (see wrapSource).
func (r *run) load() *script.Error {
	v, err := r.vm.RunProgram(r.prg.prg)
	if err != nil {
		return r.error(err)
	}
	handle, ok := goja.AssertFunction(v)
	if !ok {
		return script.Errorf(script.ErrCompile, r.prg.name,
			"the script defines no function handle(msg, ctx)")
	}
	r.handle = handle
	return nil
}

// error types what goja returned; a run stopped by its guard reports why.
func (r *run) error(err error) *script.Error {
	if e := r.g.stopped(); e != nil {
		return e
	}
	return jsError(r.prg.name, err, r.ctx)
}

// call runs handle(msg, ctx) and converts its result.
func (r *run) call(msg *script.Message, env *script.Env) (any, error) {
	ret, err := r.handle(goja.Undefined(), r.message(msg), r.context(env))
	if err != nil {
		return nil, r.error(err)
	}
	if ret, err = r.settle(ret); err != nil {
		return nil, err
	}
	var out any
	var cerr error
	r.box.call = func() { out, cerr = r.export(ret, 0) }
	_, err = r.box.calls(goja.Undefined())
	r.box.call = nil
	if err != nil {
		return nil, r.error(err)
	}
	if e := r.g.stopped(); e != nil {
		return nil, e
	}
	if cerr != nil {
		return nil, cerr
	}
	// Reading the reply can run script code (getters) that queues promise
	// jobs; goja runs queued jobs only when a program or call returns, so
	// run them now, inside this run and under its limits, rather than in
	// the next run this runtime serves.
	if _, err := r.vm.RunProgram(drainProgram); err != nil {
		return nil, r.error(err)
	}
	if e := r.g.stopped(); e != nil {
		return nil, e
	}
	r.clean = true
	return out, nil
}

// drainProgram does nothing; running it runs the promise jobs queued.
var drainProgram = goja.MustCompile("drain.js", "", true)

// promiseType is the export type of a promise object.
var promiseType = reflect.TypeOf((*goja.Promise)(nil))

// settle unwraps a promise returned by an async handle. goja runs promise
// jobs before control returns, so a promise still pending here waits on
// something that will never come (there are no timers).
func (r *run) settle(v goja.Value) (goja.Value, error) {
	// Export only a promise: exporting another object reads all its
	// properties, running the reply's getters outside vm.Try and before
	// export reads them.
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != promiseType {
		return v, nil
	}
	p, ok := o.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		return p.Result(), nil
	case goja.PromiseStateRejected:
		if e := r.g.stopped(); e != nil {
			return nil, e
		}
		res := p.Result()
		e := script.Errorf(script.ErrRuntime, r.prg.name, "%s", res.String())
		if o, ok := res.(*goja.Object); ok {
			if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
				first, _, _ := strings.Cut(s.String(), "\n")
				e.Msg = script.Abbrev(first)
			}
		}
		return nil, e
	}
	return nil, script.Errorf(script.ErrRuntime, r.prg.name,
		"handle returned a promise that never settled")
}

// maxDepth bounds how deep a returned value is read, which also stops
// cycles.
const maxDepth = 6

// export reads a returned JS value into the plain tree the reply grammar
// takes. Numbers become their JavaScript text.
func (r *run) export(v goja.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, script.Errorf(script.ErrReply, r.prg.name,
			"the returned value nests deeper than %d levels", maxDepth)
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	if _, ok := v.(*goja.Symbol); ok {
		return script.Unsupported{Type: "symbol"}, nil
	}
	switch v.ExportType().Kind().String() {
	case "string":
		return v.String(), nil
	case "int64", "float64":
		return v.String(), nil
	case "bool":
		return script.Unsupported{Type: "boolean"}, nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		if _, big := v.Export().(*big.Int); big {
			return script.Unsupported{Type: "bigint"}, nil
		}
		return script.Unsupported{Type: v.ExportType().String()}, nil
	}
	return r.exportObject(o, depth)
}

func (r *run) exportObject(o *goja.Object, depth int) (any, error) {
	if _, ok := goja.AssertFunction(o); ok {
		return script.Unsupported{Type: "function"}, nil
	}
	switch o.ClassName() {
	case "Array":
		n := int(o.Get("length").ToInteger())
		if n > 100 {
			return nil, script.Errorf(script.ErrReply, r.prg.name,
				"the returned list has %d items, over the limit of 100", n)
		}
		list := make([]any, n)
		for i := range n {
			item, err := r.export(o.Get(fmt.Sprint(i)), depth+1)
			if err != nil {
				return nil, err
			}
			list[i] = item
		}
		return list, nil
	case "Object":
		keys := o.Keys()
		m := make(map[string]any, len(keys))
		for _, k := range keys {
			item, err := r.export(o.Get(k), depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = item
		}
		return m, nil
	}
	return script.Unsupported{Type: strings.ToLower(o.ClassName())}, nil
}

// object returns an object with the properties keys lists, whose values
// make builds. Usually each is made when first read (see lazy); a script
// that works on the object model itself (a fresh program) gets a plain
// object, which Object.freeze and the like accept.
func (r *run) object(keys func() []string, make func(string) (goja.Value, bool)) goja.Value {
	if !r.prg.fresh {
		return newLazy(r.vm, keys, make)
	}
	o := r.vm.NewObject()
	for _, k := range keys() {
		if v, ok := make(k); ok {
			_ = o.Set(k, v)
		}
	}
	return o
}

// message builds the msg argument: a handler reads one or two of its
// properties.
func (r *run) message(m *script.Message) goja.Value {
	vm := r.vm
	return r.object(func() []string { return messageKeys }, func(k string) (goja.Value, bool) {
		switch k {
		case "from":
			return vm.ToValue(m.From), true
		case "to":
			return vm.ToValue(m.To), true
		case "body":
			return vm.ToValue(m.Body), true
		case "sid":
			return vm.ToValue(m.Sid), true
		case "media":
			media := make([]any, len(m.Media))
			for i, md := range m.Media {
				item := vm.NewObject()
				_ = item.Set("url", md.URL)
				_ = item.Set("contentType", md.ContentType)
				media[i] = item
			}
			return vm.NewArray(media...), true
		case "params":
			return r.object(m.Params.Names, func(k string) (goja.Value, bool) {
				v, ok := m.Params.Lookup(k)
				if !ok {
					return nil, false
				}
				return vm.ToValue(v), true
			}), true
		}
		return nil, false
	})
}

// messageKeys are the properties of msg, in the order they list.
var messageKeys = []string{"from", "to", "body", "sid", "media", "params"}

// context builds the ctx argument. vars is copied into fresh objects, so a
// script cannot change the configuration it was given.
func (r *run) context(env *script.Env) goja.Value {
	loc := env.Location
	if loc == nil {
		loc = timeUTC
	}
	return r.object(func() []string { return contextKeys }, func(k string) (goja.Value, bool) {
		switch k {
		case "number":
			return r.vm.ToValue(env.Number), true
		case "vars":
			return r.toJS(env.Vars, 0), true
		case "timezone":
			return r.vm.ToValue(loc.String()), true
		case "now":
			now := r.vm.NewObject()
			for _, f := range script.Now(loc) {
				_ = now.Set(f.Key, f.Value)
			}
			return now, true
		}
		return nil, false
	})
}

// contextKeys are the properties of ctx, each made when first read.
var contextKeys = []string{"number", "vars", "timezone", "now"}

// toJS copies a configuration value into fresh JS values.
func (r *run) toJS(v any, depth int) goja.Value {
	switch v := v.(type) {
	case map[string]any:
		obj := r.vm.NewObject()
		if depth < maxDepth {
			// In name order: a Go map has none, and a script listing its
			// vars must see the same order for every message.
			for _, k := range slices.Sorted(maps.Keys(v)) {
				_ = obj.Set(k, r.toJS(v[k], depth+1))
			}
		}
		return obj
	case []any:
		items := make([]any, 0, len(v))
		if depth < maxDepth {
			for _, item := range v {
				items = append(items, r.toJS(item, depth+1))
			}
		}
		return r.vm.NewArray(items...)
	case nil:
		return goja.Null()
	case string, bool, int, int64, float64:
		return r.vm.ToValue(v)
	}
	return r.vm.ToValue(fmt.Sprint(v))
}

// installConsole gives the script console.log, info, warn, error and
// debug. Arguments are turned into text only while the run's output cap
// has room.
func (b *box) installConsole() {
	console := b.vm.NewObject()
	levels := map[string]slog.Level{
		"log": slog.LevelInfo, "info": slog.LevelInfo,
		"warn": slog.LevelWarn, "error": slog.LevelError, "debug": slog.LevelDebug,
	}
	for name, level := range levels {
		_ = console.Set(name, func(call goja.FunctionCall) goja.Value {
			if b.out == nil || b.out.Done() {
				return goja.Undefined()
			}
			parts := make([]string, len(call.Arguments))
			for i, a := range call.Arguments {
				parts[i] = a.String()
			}
			b.out.Write(level, strings.Join(parts, " "))
			return goja.Undefined()
		})
	}
	_ = b.vm.Set("console", console)
}

var timeUTC = time.UTC
