package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
	"github.com/lamlhost/lamlhost/engine/server"
)

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flags("serve", "[serve] [-config FILE] [-listen ADDR]", stderr)
	path := fs.String("config", "config.toml",
		"the configuration file; relative paths in it are relative to its folder")
	listen := fs.String("listen", "",
		"the address to listen on, host:port (default: the config's listen)")
	if code, stop := parse(fs, args); stop {
		return code
	}

	cfg, reg, rp, err := load(*path, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lamlhost: %v\n", err)
		return 1
	}
	logger := newLogger(cfg, stderr)
	logReport(logger, rp)
	if *listen == "" {
		*listen = cfg.Listen
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	srv, err := server.New(reg, newDispatcher(cfg, logger), logger, server.Options{})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	logger.Info("serving", "addr", ln.Addr().String(), "path", cfg.WebhookPath,
		"numbers", len(reg.Numbers()))
	if err := srv.Serve(ctx, ln, cfg.Timeout.Std()+script.DefaultTimeout); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// logReport logs what a load did: one line in all, and one per script that
// does not compile, with its location.
func logReport(logger *slog.Logger, rp *registry.Report) {
	for _, s := range rp.Failed {
		attrs := []any{"script", s.Path, "err", s.Err.Error()}
		var se *script.Error
		if errors.As(s.Err, &se) && se.Location != "" {
			attrs = append(attrs, "location", se.Location)
		}
		if s.Stale {
			attrs = append(attrs, "serving", "last good version")
		}
		logger.Warn("script does not compile", attrs...)
	}
	logger.Info("scripts loaded", "added", len(rp.Added), "changed", len(rp.Changed),
		"removed", len(rp.Removed), "failed", len(rp.Failed),
		"duration_ms", rp.Duration.Milliseconds())
}
