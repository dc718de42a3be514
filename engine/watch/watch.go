// Package watch tells its caller when the contents of a set of folders may
// have changed, so that scripts and configuration can be reloaded while the
// server runs.
//
// It watches folders, never single files: an editor's atomic save replaces
// the file, and a watch on the file itself goes silent after the first
// save. Every event in a watched folder counts, whatever the name (hidden
// names such as a Kubernetes ConfigMap's "..data" included), except events
// that only change attributes. Folders are not watched recursively.
//
// Events are debounced: a burst becomes one [Change]. A Change that the
// consumer has not taken yet absorbs the next ones, so a slow consumer
// never blocks the watcher and never misses a folder. A Change says where
// to look, not what changed: the consumer re-reads the folders it names and
// compares contents, so reporting too much is harmless and missing
// something is not.
//
// A folder that is missing, at start or later (deleted, renamed away,
// replaced by a file), is waited for with a watch on its nearest existing
// parent. In addition, every [ResyncInterval] the watcher checks each
// folder and re-adds any whose watch was lost or whose path now leads to
// another folder (a symlink swapped above it, which no event reports). A
// folder that comes back, or goes away, is reported in a Change.
package watch

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the quiet time that ends a burst when New is given
// no positive debounce.
const DefaultDebounce = 100 * time.Millisecond

// ResyncInterval is how often the watcher checks that every folder is
// still watched where its path leads.
const ResyncInterval = time.Second

// maxWaitFactor bounds a burst that never goes quiet: its Change is sent
// at the latest this many debounce times after its first event.
const maxWaitFactor = 5

// maxNames bounds Change.Names, which is for logs only.
const maxNames = 64

// Errors returned by the Watcher.
var (
	// ErrClosed reports a call on a Watcher that was closed.
	ErrClosed = errors.New("watcher closed")
	// ErrNotDir reports a path to watch that is empty or names something
	// other than a folder.
	ErrNotDir = errors.New("not a folder")
)

// Change reports that the contents of some watched folders may have
// changed since the previous Change.
type Change struct {
	// Dirs are the folders to re-read, as given to New or SetDirs but
	// cleaned; sorted and never empty.
	Dirs []string
	// Names are the base names that the events named (files in the
	// folders, or a folder itself), sorted, at most 64, for logs only.
	// Names may be empty, for example after the system dropped events.
	Names []string
}

// Watcher reports changes in a set of folders on its Changes channel. Its
// methods are safe for concurrent use.
type Watcher struct {
	fsw      *fsnotify.Watcher
	log      *slog.Logger
	debounce time.Duration
	resync   time.Duration

	out    chan Change
	setc   chan setRequest
	done   chan struct{}
	exited chan struct{}

	closeOnce sync.Once
	closeErr  error

	// The fields below belong to the run goroutine once New returns.
	dirs    []string               // wanted folders, cleaned and sorted
	groups  map[string][]string    // watch path -> wanted folders it serves
	ids     map[string]os.FileInfo // watch path -> folder when watched
	helpers map[string]bool        // parents watched for missing folders
	present map[string]bool        // wanted folders watched at last sync
	absent  map[string]bool        // wanted folders missing at last sync

	timer      *time.Timer
	burst      batch     // events not yet quiet
	burstStart time.Time // first event of burst
	ready      batch     // quiet bursts the consumer has not taken
	next       Change    // ready as a Change
}

type setRequest struct {
	dirs  []string
	reply chan error
}

type options struct {
	debounce time.Duration
	resync   time.Duration
	log      *slog.Logger
}

// New starts watching dirs, which are cleaned and deduplicated. A folder
// that does not exist yet is waited for and reported when it appears; a
// path that exists but is not a folder is an error (ErrNotDir). Relative
// paths are relative to the working directory.
//
// A burst of events ends after debounce without events (DefaultDebounce
// when debounce is not positive), or at the latest five debounce times
// after it began. A nil logger discards the log.
//
// New reports nothing that happened before it returns: read the folders
// after calling New, not before.
func New(dirs []string, debounce time.Duration, logger *slog.Logger) (*Watcher, error) {
	return start(dirs, options{debounce: debounce, resync: ResyncInterval, log: logger})
}

func start(dirs []string, opt options) (*Watcher, error) {
	clean, err := cleanDirs(dirs)
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}

	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}

	w := newWatcher(fsw, opt)
	w.dirs = clean
	if err := w.sync(nil); err != nil {
		_ = fsw.Close()
		return nil, fmt.Errorf("watch: %w", err)
	}

	go w.run()
	return w, nil
}

func newWatcher(fsw *fsnotify.Watcher, opt options) *Watcher {
	if opt.debounce <= 0 {
		opt.debounce = DefaultDebounce
	}
	if opt.log == nil {
		opt.log = slog.New(slog.DiscardHandler)
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()

	return &Watcher{
		fsw:      fsw,
		log:      opt.log,
		debounce: opt.debounce,
		resync:   opt.resync,
		out:      make(chan Change),
		setc:     make(chan setRequest),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
		groups:   map[string][]string{},
		ids:      map[string]os.FileInfo{},
		helpers:  map[string]bool{},
		present:  map[string]bool{},
		absent:   map[string]bool{},
		timer:    timer,
	}
}

// Changes returns the channel that carries one Change per debounced burst.
// It is closed when the Watcher is closed.
func (w *Watcher) Changes() <-chan Change { return w.out }

// SetDirs replaces the set of watched folders, checked and cleaned as by
// New. Folders in both sets stay watched without a gap. When SetDirs
// returns, the new folders are watched: read them after SetDirs, not
// before. A Change not yet taken may still name a dropped folder. A folder
// that could not be watched is retried every ResyncInterval, and the error
// says which it was.
func (w *Watcher) SetDirs(dirs []string) error {
	clean, err := cleanDirs(dirs)
	if err != nil {
		return fmt.Errorf("watch set dirs: %w", err)
	}

	req := setRequest{dirs: clean, reply: make(chan error, 1)}
	select {
	case w.setc <- req:
	case <-w.exited:
		return fmt.Errorf("watch set dirs: %w", ErrClosed)
	}

	if err := <-req.reply; err != nil {
		return fmt.Errorf("watch set dirs: %w", err)
	}
	return nil
}

// Close stops the watcher and closes the Changes channel; a Change not yet
// taken is dropped. Close may be called more than once.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.done)
		<-w.exited
		if err := w.fsw.Close(); err != nil {
			w.closeErr = fmt.Errorf("watch close: %w", err)
		}
	})
	return w.closeErr
}

// cleanDirs cleans, checks, deduplicates and sorts the folders to watch.
func cleanDirs(dirs []string) ([]string, error) {
	clean := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if d == "" {
			return nil, fmt.Errorf("empty path: %w", ErrNotDir)
		}

		d = filepath.Clean(d)
		fi, err := os.Stat(d)
		if err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("%s: %w", d, ErrNotDir)
		}
		clean = append(clean, d)
	}

	slices.Sort(clean)
	return slices.Compact(clean), nil
}
