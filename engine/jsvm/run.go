package jsvm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/lamlhost/lamlhost/engine/sandbox"
	"github.com/lamlhost/lamlhost/engine/script"
)

// box is a runtime prepared for exactly one run: fresh globals, guarded
// built-ins and a console whose output goes where the run says.
type box struct {
	vm  *goja.Runtime
	g   *guard
	out *script.Output
}

func newBox() *box {
	keepRegexpClock()
	vm := goja.New()
	vm.SetParserOptions(parser.WithDisableSourceMaps)
	vm.SetMaxCallStackSize(MaxCallStack)
	b := &box{vm: vm, g: newGuard(vm)}
	b.installConsole()
	return b
}

// spareBoxes is how many prepared runtimes wait for runs. Guarding the
// built-ins costs far more than the run of a small handler, so runtimes
// are prepared ahead, each for one run, by a goroutine that starts when a
// run ends: preparing the next runtime does not compete with the run that
// needs one.
const spareBoxes = 4

var spares = struct {
	ch        chan *box
	refilling atomic.Bool
}{ch: make(chan *box, spareBoxes)}

// takeBox returns a prepared runtime, or prepares one when none is ready.
func takeBox() *box {
	select {
	case b := <-spares.ch:
		return b
	default:
		return newBox()
	}
}

// refill tops the spares up in the background, unless that is under way.
func refill() {
	if len(spares.ch) == cap(spares.ch) || !spares.refilling.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer spares.refilling.Store(false)
		for len(spares.ch) < cap(spares.ch) {
			select {
			case spares.ch <- newBox():
			default:
				return
			}
		}
	}()
}

// run is one execution of a program in its own runtime.
type run struct {
	ctx  context.Context
	prg  *Program
	vm   *goja.Runtime
	g    *guard
	stop func() bool
	done func()
	out  *script.Output
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
	b.g.arm(p.name, limits, deadline)
	b.out = script.NewOutput(logger, limits.Output)
	r := &run{ctx: ctx, prg: p, vm: b.vm, g: b.g, out: b.out}
	r.stop = context.AfterFunc(ctx, func() { b.g.stop(b.g.timeout()) })
	r.done = wd.Watch(limits.Memory, func(e *script.Error) {
		named := *e
		named.Script = p.name
		b.g.stop(&named)
	})
	return r
}

func (r *run) close() {
	r.stop()
	r.done()
	refill()
}

// load runs the program's top level and checks that handle is a function.
func (r *run) load() *script.Error {
	if _, err := r.vm.RunProgram(r.prg.prg); err != nil {
		return r.error(err)
	}
	if _, ok := goja.AssertFunction(r.vm.Get("handle")); !ok {
		return script.Errorf(script.ErrCompile, r.prg.name,
			"the script defines no function handle(msg, ctx)")
	}
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
	handle, _ := goja.AssertFunction(r.vm.Get("handle"))
	ret, err := handle(goja.Undefined(), r.message(msg), r.context(env))
	if err != nil {
		return nil, r.error(err)
	}
	if ret, err = r.settle(ret); err != nil {
		return nil, err
	}
	var out any
	var cerr error
	if exc := r.vm.Try(func() { out, cerr = r.export(ret, 0) }); exc != nil {
		return nil, r.error(exc)
	}
	if e := r.g.stopped(); e != nil {
		return nil, e
	}
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}

// settle unwraps a promise returned by an async handle. goja runs promise
// jobs before control returns, so a promise still pending here waits on
// something that will never come (there are no timers).
func (r *run) settle(v goja.Value) (goja.Value, error) {
	p, ok := v.Export().(*goja.Promise)
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
	if _, ok := v.(*goja.Symbol); ok {
		return script.Unsupported{Type: "symbol"}, nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
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

// message builds the msg argument as plain JS objects.
func (r *run) message(m *script.Message) goja.Value {
	vm := r.vm
	obj := vm.NewObject()
	_ = obj.Set("from", m.From)
	_ = obj.Set("to", m.To)
	_ = obj.Set("body", m.Body)
	_ = obj.Set("sid", m.Sid)
	media := make([]any, len(m.Media))
	for i, md := range m.Media {
		item := vm.NewObject()
		_ = item.Set("url", md.URL)
		_ = item.Set("contentType", md.ContentType)
		media[i] = item
	}
	_ = obj.Set("media", vm.NewArray(media...))
	params := vm.NewObject()
	for k, v := range m.Params {
		_ = params.Set(k, v)
	}
	_ = obj.Set("params", params)
	return obj
}

// context builds the ctx argument. vars is copied into fresh objects, so a
// script cannot change the configuration it was given.
func (r *run) context(env *script.Env) goja.Value {
	obj := r.vm.NewObject()
	_ = obj.Set("number", env.Number)
	_ = obj.Set("vars", r.toJS(env.Vars, 0))
	loc := env.Location
	if loc == nil {
		loc = timeUTC
	}
	_ = obj.Set("timezone", loc.String())
	_ = obj.Set("now", r.toJS(script.Now(loc), 0))
	return obj
}

// toJS copies a configuration value into fresh JS values.
func (r *run) toJS(v any, depth int) goja.Value {
	switch v := v.(type) {
	case map[string]any:
		obj := r.vm.NewObject()
		if depth < maxDepth {
			for k, item := range v {
				_ = obj.Set(k, r.toJS(item, depth+1))
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
