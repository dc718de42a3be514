// Package reload keeps a running server in step with its files: it watches
// the config file's folder and every script folder, and on a change or on
// request re-reads the config, rebuilds the registry, and swaps it in only
// when the new config is valid. A broken script keeps its last good
// version serving.
package reload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/watch"
)

// Reloader applies changes of the config file and the scripts.
type Reloader struct {
	path    string
	reg     *registry.Registry
	apply   func(*config.Config) error
	done    func(ok bool)
	running *config.Config // the config the process started with
	log     *slog.Logger
	watcher *watch.Watcher

	mu      sync.Mutex
	cfgHash [32]byte
}

// Options configures a Reloader.
type Options struct {
	// Apply is called with a new valid config before its scripts are
	// swapped in, for settings outside the registry (signatures). If it
	// fails, the new config is rejected. Default: nothing to apply.
	Apply func(*config.Config) error
	// Debounce is the quiet time that ends a burst of file events.
	// Default watch.DefaultDebounce.
	Debounce time.Duration
	// Done is told the outcome of every reload: false when the config was
	// rejected, a script failed or the scan failed. Default: nothing.
	Done func(ok bool)
}

// New watches the folders that reg's current config names. path is the
// config file the registry was loaded from.
func New(path string, reg *registry.Registry, logger *slog.Logger, opt Options) (
	*Reloader, error) {
	if opt.Apply == nil {
		opt.Apply = func(*config.Config) error { return nil }
	}
	if opt.Done == nil {
		opt.Done = func(bool) {}
	}
	r := &Reloader{path: path, reg: reg, apply: opt.Apply, log: logger, done: opt.Done,
		running: reg.Config()}
	if data, err := os.ReadFile(path); err == nil {
		r.cfgHash = sha256.Sum256(data)
	}
	w, err := watch.New(Dirs(reg.Config()), opt.Debounce, logger)
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	r.watcher = w
	return r, nil
}

// Dirs lists the folders whose files affect cfg: the config file's, the
// scripts folder, and the folder of every script the config names.
func Dirs(cfg *config.Config) []string {
	set := map[string]bool{cfg.ScriptsDir: true}
	if cfg.Path != "" {
		set[filepath.Dir(cfg.Path)] = true
	}
	if cfg.DefaultScript != "" {
		set[filepath.Dir(cfg.DefaultScript)] = true
	}
	for _, n := range cfg.Numbers {
		if n.Script != "" {
			set[filepath.Dir(n.Script)] = true
		}
	}
	dirs := make([]string, 0, len(set))
	for d := range set {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}

// Run reloads on every watched change and every value on hup, until ctx
// ends. It then stops watching. A value on hup also re-applies an
// unchanged config, so that tokens read from files or the environment are
// read again.
func (r *Reloader) Run(ctx context.Context, hup <-chan os.Signal) {
	defer r.watcher.Close()
	changes := r.watcher.Changes()
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-changes:
			if !ok {
				r.log.Warn("the file watcher stopped; only signals reload now")
				changes = nil
				continue
			}
			if r.relevant(ch.Names) {
				r.Reload("files changed: " + names(ch.Names))
			}
		case <-hup:
			r.reload("signal", true)
		}
	}
}

// relevant reports whether a change may touch the config or a script: a
// name that is the config file, a script, a ConfigMap entry ("..data"),
// or has no extension (a folder, an editor's probe). Other files, such as
// a log the server writes next to its config, do not trigger a reload,
// which would write a log line and trigger the next one.
func (r *Reloader) relevant(names []string) bool {
	if len(names) == 0 || len(names) >= 64 { // unknown, or the list was cut
		return true
	}
	for _, n := range names {
		ext := filepath.Ext(n)
		_, script := registry.Compilers[ext]
		if script || ext == "" || n == filepath.Base(r.path) || strings.HasPrefix(n, "..") {
			return true
		}
	}
	return false
}

func names(list []string) string {
	var b bytes.Buffer
	for i, n := range list {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(list)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

// ErrRejected: the new config is invalid; the old one keeps serving.
var ErrRejected = errors.New("config rejected")
