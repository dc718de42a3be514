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
	"strings"
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
	// MaxInFlight bounds concurrent runs. Default: 1.
	MaxInFlight int
	// QueueWait is how long a run waits for a free slot before it fails
	// with script.ErrBusy. Default 0: it does not wait.
	QueueWait time.Duration
	// Privacy says what may be logged.
	Privacy Privacy
}

// Dispatcher runs scripts under a bound on concurrent runs.
type Dispatcher struct {
	log   *slog.Logger
	slots chan struct{}
	wait  time.Duration
	priv  Privacy
}

// New returns a Dispatcher that logs to logger.
func New(logger *slog.Logger, opt Options) *Dispatcher {
	return &Dispatcher{
		log:   logger,
		slots: make(chan struct{}, max(opt.MaxInFlight, 1)),
		wait:  opt.QueueWait,
		priv:  opt.Privacy,
	}
}

// Answer runs the route's script on msg and renders the reply. It never
// fails: a script failure becomes the fallback or the failure answer, and
// is logged once with number, script, message_sid and location.
func (d *Dispatcher) Answer(ctx context.Context, rt *registry.Route, msg *script.Message) Answer {
	start := time.Now()
	name := filepath.Base(rt.Script.Path)
	log := d.log.With("number", rt.Number, "script", name,
		"engine", engine(name), "message_sid", msg.Sid)

	body, err := d.reply(ctx, rt, msg, log)

	a := Answer{Status: http.StatusOK, Body: body, Err: err}
	if err != nil {
		a = failure(rt, err)
	}
	d.logAnswer(log, msg, a, time.Since(start))
	return a
}

// reply runs the script and renders what it returned.
func (d *Dispatcher) reply(ctx context.Context, rt *registry.Route, msg *script.Message,
	log *slog.Logger) ([]byte, error) {
	prog := rt.Script.Program
	if prog == nil {
		return nil, rt.Script.Err
	}
	if err := d.acquire(ctx, prog.Name()); err != nil {
		return nil, err
	}
	defer d.release()

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
	v, err := prog.Run(ctx, msg, env)
	if err != nil {
		return nil, err
	}
	return render(prog.Name(), v)
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

func (d *Dispatcher) acquire(ctx context.Context, name string) error {
	select {
	case d.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(d.wait)
	defer t.Stop()
	select {
	case d.slots <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return script.Errorf(script.ErrBusy, name,
		"all %d run slots stayed busy for %v", cap(d.slots), d.wait)
}

func (d *Dispatcher) release() { <-d.slots }

func engine(name string) string {
	return strings.TrimPrefix(filepath.Ext(name), ".")
}
