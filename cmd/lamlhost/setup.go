package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/dispatch"
	"github.com/lamlhost/lamlhost/engine/registry"
)

// flags returns a flag set that prints its help to w and does not exit.
func flags(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: lamlhost %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; it returns the exit code to use when run should stop.
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		return 2, true
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2, true
	}
	return 0, false
}

// newLogger builds the logger the config asks for.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// load reads the config and loads its scripts into a new registry.
func load(path string, w io.Writer) (*config.Config, *registry.Registry, *registry.Report,
	error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	reg := registry.New()
	rp, err := reg.Load(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, reg, rp, nil
}

func newDispatcher(cfg *config.Config, logger *slog.Logger) *dispatch.Dispatcher {
	return dispatch.New(logger, dispatch.Options{
		MaxInFlight: cfg.MaxInFlight,
		QueueWait:   cfg.QueueWait.Std(),
		Privacy:     privacy(cfg),
	})
}

// privacy is what cfg allows the logs to hold.
func privacy(cfg *config.Config) dispatch.Privacy {
	return dispatch.Privacy{LogBodies: cfg.LogBodies, LogNumbers: cfg.LogNumbers}
}
