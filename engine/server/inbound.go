package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dedupe"
	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/laml"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
)

// inbound answers one webhook: parse, route, run, write.
func (s *Server) inbound(c echo.Context) error {
	cfg := s.reg.Config()
	form, body, err := readForm(c.Request(), cfg)
	if err != nil {
		return err
	}

	msg := script.MessageFromForm(form)
	if err := s.verify(c.Request(), msg, form, body); err != nil {
		return err
	}
	if msg.To == "" || msg.From == "" {
		return refuse(http.StatusBadRequest, "the form has no To or From",
			slog.String("message_sid", msg.Sid))
	}

	rt := s.reg.Lookup(msg.To)
	if rt == nil {
		return refuse(http.StatusNotFound, "no script answers this number",
			slog.String("number", msg.To), slog.String("message_sid", msg.Sid))
	}

	out := &once{c: c}
	r := c.Request()
	r = r.WithContext(dispatch.WithLateAnswer(r.Context(), func(a dispatch.Answer) {
		_ = out.send(a.Status, a.Body, true)
	}))
	e, err := s.answerOnce(r, rt, msg)
	if out.sent() {
		return nil // answered at the time limit; the run has ended since
	}
	if err != nil {
		return err
	}
	return out.send(e.Status, e.Body, false)
}

// once writes a request's answer once: either when its run ends, or, for
// a run stuck past its time limit, from the dispatcher's timer while the
// handler still waits for the run.
type once struct {
	mu   sync.Mutex
	c    echo.Context
	done bool
}

// send writes the answer unless one was written. A late answer is
// flushed at once: the handler does not return until its run ends.
func (o *once) send(status int, body []byte, late bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return nil
	}
	o.done = true
	if late {
		// With its length said, the client has the whole answer at the
		// flush, not when the handler returns.
		o.c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	}
	if err := o.c.Blob(status, contentType, body); err != nil {
		return err
	}
	if late {
		o.c.Response().Flush()
	}
	return nil
}

// sent reports whether the answer was written.
func (o *once) sent() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.done
}

// answerOnce answers msg unless an answer is on record for its MessageSid
// (or, without one, its idempotency token); a duplicate gets the recorded
// answer and the script does not run again.
func (s *Server) answerOnce(r *http.Request, rt *registry.Route, msg *script.Message) (
	dedupe.Entry, error) {
	key := ""
	if msg.Sid != "" {
		key = dedupe.MessageKey(rt.Number, msg.Sid)
	} else if tok := r.Header.Get("I-Twilio-Idempotency-Token"); tok != "" {
		key = dedupe.TokenKey(rt.Number, tok)
	}
	e, repeated, err := s.dedupe.Do(r.Context(), key, func() dedupe.Entry {
		// The run outlives a client that hangs up: it is bounded by its
		// own time limit, and its answer goes on record for the retry
		// that follows, instead of a failure that would run it again.
		return s.answer(context.WithoutCancel(r.Context()), rt, msg)
	})
	if err != nil {
		return e, refuse(http.StatusServiceUnavailable, err.Error(),
			slog.String("number", rt.Number), slog.String("message_sid", msg.Sid))
	}
	if repeated {
		s.met.Duplicate()
		s.log.Info("duplicate answered from the record", "number", rt.Number,
			"message_sid", msg.Sid, "status", e.Status)
	}
	return e, nil
}

// answer applies the number's rate limit and runs its script. Over the
// limit, no script runs and the answer is an empty reply.
func (s *Server) answer(ctx context.Context, rt *registry.Route,
	msg *script.Message) dedupe.Entry {
	if r := rt.Settings.Rate; r.N > 0 && !s.limit.Allow(rt.Number+"|"+msg.From, r.N, r.Period) {
		s.met.Limited()
		s.log.Warn("rate limited", "number", rt.Number, "message_sid", msg.Sid,
			"from", s.priv.Mask(msg.From), "status", http.StatusOK)
		return dedupe.Entry{Status: http.StatusOK, Body: laml.Empty}
	}
	start := time.Now()
	a := s.disp.Answer(ctx, rt, msg)
	s.met.Message(dispatch.Engine(rt.Script.Path), a.Err, time.Since(start))
	return dedupe.Entry{Status: a.Status, Body: a.Body}
}

// readForm checks the content type, reads the body within the size limit
// and parses it. The query string is not mixed into the form.
func readForm(r *http.Request, cfg *config.Config) (script.Form, []byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != formType {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != formType {
			return nil, nil, echo.NewHTTPError(http.StatusUnsupportedMediaType,
				"the body is not "+formType)
		}
	}
	limit := int64(cfg.MaxBody)
	tooBig := echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("the body is over %d bytes", limit))
	if r.ContentLength > limit {
		return nil, nil, tooBig // said in the header: no need to read it
	}
	body, err := readAll(http.MaxBytesReader(nil, r.Body, limit), r.ContentLength, limit)
	if err != nil {
		var over *http.MaxBytesError
		if errors.As(err, &over) {
			return nil, nil, tooBig
		}
		return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "read body: "+err.Error())
	}
	form, err := script.ParseForm(string(body))
	if err != nil {
		return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "parse form: "+err.Error())
	}
	if len(form) > cfg.MaxParams {
		return nil, nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the form has %d parameters, over the limit of %d",
				len(form), cfg.MaxParams))
	}
	return form, body, nil
}

// formType is the media type of a webhook's body.
const formType = "application/x-www-form-urlencoded"

// readAll is io.ReadAll with a first buffer sized for the declared
// length, when it is known and within limit: one allocation instead of
// io.ReadAll's 512 bytes and growth.
func readAll(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared < 0 || declared > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, declared+1) // +1: room for the read that sees the end
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// verify checks the request's signature with the token of the number it
// is sent to. With no token configured, nothing is checked (the server
// warned at start).
func (s *Server) verify(r *http.Request, msg *script.Message, form script.Form,
	body []byte) error {
	a := s.auth.Load()
	token := a.token(msg.To)
	if token == "" {
		return nil
	}
	if err := a.verifier.Check(r, token, form.Values(), body); err != nil {
		return refuse(http.StatusForbidden, err.Error(),
			slog.String("number", msg.To), slog.String("message_sid", msg.Sid))
	}
	return nil
}
