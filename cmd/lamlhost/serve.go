package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dedupe"
	"github.com/lamlhost/lamlhost/engine/logbuf"
	"github.com/lamlhost/lamlhost/engine/metrics"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/reload"
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
	// A line per message: written in batches when they come fast.
	logw := logbuf.New(stderr)
	defer logw.Close()
	logger := newLogger(cfg, logw)
	logReport(logger, rp)
	if *listen == "" {
		*listen = cfg.Listen
	}

	store, err := openStore(cfg)
	if err != nil {
		logger.Error("cannot open the dedupe store", "err", err)
		return 1
	}
	defer store.Close()
	if n, err := store.Len(); err == nil {
		logger.Info("dedupe record opened", "answers", n,
			"dir", filepath.Join(cfg.DataDir, "dedupe"))
	}
	met := metrics.New()
	srv, err := server.New(reg, newDispatcher(cfg, logger), logger, server.Options{
		Dedupe:  dedupe.New(store, logger),
		Privacy: privacy(cfg),
		Metrics: met,
	})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	rl, err := reload.New(*path, reg, logger, reload.Options{
		Apply: srv.Reconfigure, Done: met.Reload})
	if err != nil {
		logger.Error("cannot watch for changes", "err", err)
		return 1
	}
	return listenAndServe(ctx, *listen, reg, srv, rl, logger)
}

// listenAndServe serves until ctx ends, reloading on file changes and
// SIGHUP, then finishes the requests in flight.
func listenAndServe(ctx context.Context, addr string, reg *registry.Registry,
	srv *server.Server, rl *reload.Reloader, logger *slog.Logger) int {
	cfg := reg.Config()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	rctx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	go rl.Run(rctx, hup)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	logger.Info("serving", "addr", ln.Addr().String(), "path", cfg.WebhookPath,
		"numbers", len(reg.Numbers()), "watching", reload.Dirs(cfg))
	if err := srv.Serve(ctx, ln, cfg.Timeout.Std()+script.DefaultTimeout); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// openStore opens the record of answered messages in data_dir/dedupe,
// creating the folders it needs.
func openStore(cfg *config.Config) (*dedupe.FileStore, error) {
	return dedupe.OpenFile(filepath.Join(cfg.DataDir, "dedupe"),
		dedupe.Options{Window: cfg.DedupeWindow.Std()})
}

// logReport logs what the first load did.
func logReport(logger *slog.Logger, rp *registry.Report) {
	for _, s := range rp.Failed {
		reload.LogFailed(logger, s)
	}
	for _, p := range rp.Problems {
		logger.Warn("routing problem", "err", p.Error())
	}
	logger.Info("scripts loaded", "scripts", len(rp.Added), "failed", len(rp.Failed),
		"duration_ms", rp.Duration.Milliseconds())
}
