package reload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
)

// Reload re-reads the config file and every script, and swaps in what
// changed. An invalid config is rejected whole: the old config stays, but
// scripts are still re-read under it. It logs one line with what changed,
// the versions, the duration and the outcome, and one line per script that
// does not compile.
func (r *Reloader) Reload(reason string) error {
	return r.reload(reason, false)
}

// reload is Reload; force re-applies the config even when the file is
// unchanged, so that a signal picks up rotated tokens.
func (r *Reloader) reload(reason string, force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	old := r.reg.Config()

	cfg, cfgState, cfgErr := r.readConfig(old, force)
	rp, err := r.reg.Load(cfg)
	if err != nil {
		if cfg == old {
			r.finish(reason, start, cfgState, nil, err)
			return err
		}
		// The new config names a folder that breaks the scan: keep the old.
		cfgState, cfgErr = "rejected", fmt.Errorf("%w: %v", ErrRejected, err)
		if rp, err = r.reg.Load(old); err != nil {
			r.finish(reason, start, cfgState, nil, err)
			return err
		}
	}
	if cfg != old && cfgErr == nil {
		r.restartNeeded(old, cfg)
		if err := r.watcher.SetDirs(Dirs(cfg)); err != nil {
			r.log.Error("cannot watch the new folders", "err", err)
		}
	}
	r.finish(reason, start, cfgState, rp, cfgErr)
	return cfgErr
}

// readConfig returns the config to use and what happened to the file:
// "unchanged", "applied" or "rejected".
func (r *Reloader) readConfig(old *config.Config, force bool) (*config.Config, string,
	error) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		return old, "rejected", fmt.Errorf("%w: %v", ErrRejected, err)
	}
	hash := sha256.Sum256(data)
	if hash == r.cfgHash && !force {
		return old, "unchanged", nil
	}
	cfg, err := config.Parse(data, r.path)
	if err == nil {
		err = r.apply(cfg)
	}
	if err != nil {
		return old, "rejected", fmt.Errorf("%w: %v", ErrRejected, err)
	}
	r.cfgHash = hash
	return cfg, "applied", nil
}

// finish logs the reload's one line, and the scripts that failed.
func (r *Reloader) finish(reason string, start time.Time, cfgState string,
	rp *registry.Report, err error) {
	attrs := []slog.Attr{slog.String("reason", reason), slog.String("config", cfgState),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)}
	level, outcome := slog.LevelInfo, "ok"
	if rp != nil {
		attrs = append(attrs, slog.Any("added", versions(r.reg, rp.Added)),
			slog.Any("changed", versions(r.reg, rp.Changed)),
			slog.Any("removed", rp.Removed))
		for _, s := range rp.Failed {
			LogFailed(r.log, s)
		}
		for _, p := range rp.Problems {
			r.log.Warn("routing problem", "err", p.Error())
		}
		if !rp.OK() {
			level, outcome = slog.LevelWarn, "some scripts failed"
		}
	}
	if err != nil {
		level, outcome = slog.LevelError, "failed"
		attrs = append(attrs, slog.String("err", err.Error()))
		if errors.Is(err, ErrRejected) {
			outcome = "config rejected, old config serving"
		}
	}
	attrs = append(attrs, slog.String("outcome", outcome))
	r.done(outcome == "ok")
	r.log.LogAttrs(context.Background(), level, "reload", attrs...)
}

// versions names each path with the short hash of its new content.
func versions(reg *registry.Registry, paths []string) []string {
	out := make([]string, 0, len(paths))
	byPath := map[string]*registry.Script{}
	for _, s := range reg.Scripts() {
		byPath[s.Path] = s
	}
	for _, p := range paths {
		if s, ok := byPath[p]; ok {
			out = append(out, p+"@"+s.Version())
		}
	}
	return out
}

// LogFailed logs a script that does not compile, with its location, and
// whether its last good version keeps serving.
func LogFailed(log *slog.Logger, s *registry.Script) {
	attrs := []any{"script", s.Path, "err", s.Err.Error()}
	var se *script.Error
	if errors.As(s.Err, &se) && se.Location != "" {
		attrs = append(attrs, "location", se.Location)
	}
	if s.Stale {
		attrs = append(attrs, "serving", "last good version")
	}
	log.Warn("script does not compile", attrs...)
}

// restartNeeded logs the settings that an edit changed but that only take
// effect after a restart, with the value the process runs with.
func (r *Reloader) restartNeeded(old, cfg *config.Config) {
	run := r.running
	checks := []struct {
		key           string
		run, old, new any
	}{
		{"listen", run.Listen, old.Listen, cfg.Listen},
		{"webhook_path", run.WebhookPath, old.WebhookPath, cfg.WebhookPath},
		{"metrics_path", run.MetricsPath, old.MetricsPath, cfg.MetricsPath},
		{"max_in_flight", run.MaxInFlight, old.MaxInFlight, cfg.MaxInFlight},
		{"queue_wait", run.QueueWait, old.QueueWait, cfg.QueueWait},
		{"log_format", run.LogFormat, old.LogFormat, cfg.LogFormat},
		{"log_level", run.LogLevel, old.LogLevel, cfg.LogLevel},
		{"log_bodies", run.LogBodies, old.LogBodies, cfg.LogBodies},
		{"log_numbers", run.LogNumbers, old.LogNumbers, cfg.LogNumbers},
		{"data_dir", run.DataDir, old.DataDir, cfg.DataDir},
		{"dedupe_window", run.DedupeWindow, old.DedupeWindow, cfg.DedupeWindow},
	}
	for _, c := range checks {
		switch {
		case c.new == c.old:
		case c.new != c.run:
			r.log.Warn("setting changed but needs a restart", "key", c.key,
				"running", fmt.Sprint(c.run), "configured", fmt.Sprint(c.new))
		default:
			r.log.Info("setting is back to the value the server runs with",
				"key", c.key, "running", fmt.Sprint(c.run))
		}
	}
}
