// Package server is lamlhost's HTTP face: the Echo application that takes
// the CPaaS's webhook, checks it, hands it to the dispatcher, and writes the
// LaML answer. Every failure becomes an XML answer in one place.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dedupe"
	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/laml"
	"github.com/lamlhost/lamlhost/engine/metrics"
	"github.com/lamlhost/lamlhost/engine/ratelimit"
	"github.com/lamlhost/lamlhost/engine/registry"
)

// Server serves the webhook for the numbers of a registry.
type Server struct {
	reg    *registry.Registry
	disp   *dispatch.Dispatcher
	log    *slog.Logger
	echo   *echo.Echo
	getenv func(string) string
	auth   atomic.Pointer[auth]
	dedupe *dedupe.Deduper
	limit  *ratelimit.Limiter
	priv   dispatch.Privacy
	met    *metrics.Metrics
}

// Options configures a Server.
type Options struct {
	// Getenv reads the environment, for auth tokens. Default os.Getenv.
	Getenv func(string) string
	// Dedupe remembers answered messages. Default: an in-memory record
	// with the default window.
	Dedupe *dedupe.Deduper
	// Privacy says what personal data may be logged.
	Privacy dispatch.Privacy
	// Metrics counts what the server does, served on the config's
	// metrics_path. Default: new metrics.
	Metrics *metrics.Metrics
}

// New builds the server for reg. The limits come from the registry's
// config at the time of each request; the webhook path is fixed here.
func New(reg *registry.Registry, disp *dispatch.Dispatcher, logger *slog.Logger,
	opt Options) (*Server, error) {
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Dedupe == nil {
		opt.Dedupe = dedupe.New(dedupe.NewMem(dedupe.Options{}), logger)
	}
	if opt.Metrics == nil {
		opt.Metrics = metrics.New()
	}
	s := &Server{reg: reg, disp: disp, log: logger, echo: echo.New(), getenv: opt.Getenv,
		dedupe: opt.Dedupe, limit: ratelimit.New(0, nil), priv: opt.Privacy,
		met: opt.Metrics}
	if err := s.Reconfigure(reg.Config()); err != nil {
		return nil, err
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	health := func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }
	e.GET("/healthz", health)
	e.HEAD("/healthz", health)
	if mp := reg.Config().MetricsPath; mp != "off" {
		e.GET(mp, echo.WrapHandler(s.met.Handler()))
	}
	path := reg.Config().WebhookPath
	e.POST(path, s.inbound)
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions}, path, func(c echo.Context) error {
		c.Response().Header().Set("Allow", http.MethodPost)
		return echo.ErrMethodNotAllowed
	})
	return s, nil
}

// Reconfigure applies what cfg says about signatures: tokens, public URL,
// trusted proxies. On error the previous settings stay.
func (s *Server) Reconfigure(cfg *config.Config) error {
	a, err := newAuth(cfg, s.getenv)
	if err != nil {
		return err
	}
	a.warn(s.log, cfg)
	s.auth.Store(a)
	return nil
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer returns an http.Server for the handler with every timeout
// set, so that no client can hold a connection open without bound.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// Past any run (at most 14 s) and queue wait (at most 5 s).
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve accepts connections on ln until ctx ends, then stops accepting and
// waits up to grace for requests in flight to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// handleError is the one place where errors become HTTP answers. The CPaaS
// gets a status and an empty LaML reply; the cause goes to the log only.
func (s *Server) handleError(err error, c echo.Context) {
	status := http.StatusInternalServerError
	attrs := []slog.Attr{slog.String("method", c.Request().Method),
		slog.String("path", c.Request().URL.Path)}
	var he *echo.HTTPError
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		status = rf.status
		attrs = append(attrs, rf.attrs...)
	case errors.As(err, &he):
		status = he.Code
	}
	s.met.Refused(strconv.Itoa(status))
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("err", err.Error()))
	s.log.LogAttrs(c.Request().Context(), level, "request refused", attrs...)
	if c.Response().Committed {
		return
	}
	_ = c.Blob(status, contentType, laml.Empty)
}

const contentType = "application/xml"

// refusal is a request answered with an error status before or instead of
// a script run. Its attributes go to the log line, never to the CPaaS.
type refusal struct {
	status int
	reason string
	attrs  []slog.Attr
}

func (r *refusal) Error() string { return r.reason }

func refuse(status int, reason string, attrs ...slog.Attr) *refusal {
	return &refusal{status: status, reason: reason, attrs: attrs}
}
