package watch

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// run owns the watcher's state: it turns events into bursts, bursts into
// Changes, and keeps the watches in line with the wanted folders.
func (w *Watcher) run() {
	defer close(w.exited)
	defer close(w.out)
	defer w.timer.Stop()

	tick := time.NewTicker(w.resync)
	defer tick.Stop()

	for {
		var out chan<- Change
		if !w.ready.empty() {
			out = w.out
		}

		select {
		case <-w.done:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				w.log.Error("folder watch stopped")
				return
			}
			w.handle(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				w.log.Error("folder watch stopped")
				return
			}
			w.handleError(err)
		case <-w.timer.C:
			w.flush()
		case out <- w.next:
			w.ready = batch{}
		case <-tick.C:
			w.resyncAll()
		case req := <-w.setc:
			req.reply <- w.setDirs(req.dirs)
		}
	}
}

// handle notes an event in a watched folder, and resyncs when the event
// is about a wanted folder or a folder above one.
func (w *Watcher) handle(ev fsnotify.Event) {
	if ev.Op&^fsnotify.Chmod == 0 {
		return
	}

	name := filepath.Clean(ev.Name)
	if group, ok := w.groups[filepath.Dir(name)]; ok {
		w.note(group, filepath.Base(name))
	}
	if group, ok := w.groups[name]; ok {
		w.note(group, filepath.Base(name))
	}

	if w.onPath(name) {
		w.resyncAll()
	}
}

// onPath reports whether name is a wanted folder or a folder above one,
// so that its creation, removal or renaming can change what must be
// watched.
func (w *Watcher) onPath(name string) bool {
	for _, d := range w.dirs {
		if d == name || isBelow(d, name) {
			return true
		}
	}
	return false
}

// isBelow reports whether path lies inside folder dir.
func isBelow(path, dir string) bool {
	sep := string(filepath.Separator)
	if dir == "." {
		return !filepath.IsAbs(path) && path != "." && path != ".." &&
			!strings.HasPrefix(path, ".."+sep)
	}
	return strings.HasPrefix(path, strings.TrimSuffix(dir, sep)+sep)
}

// handleError reports every folder after the system lost or failed to
// deliver events, since any of them may have changed unseen.
func (w *Watcher) handleError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("folder events lost, reporting every folder", "err", err)
	} else {
		w.log.Error("folder watch failed, reporting every folder", "err", err)
	}

	w.note(w.dirs, "")
	w.resyncAll()
}

// resyncAll syncs the watches. A folder that cannot be watched is logged
// by sync when it becomes so, not at every try, and retried at the next
// resync.
func (w *Watcher) resyncAll() {
	_ = w.sync(setOf(w.dirs))
}

// setDirs replaces the wanted folders and syncs the watches.
func (w *Watcher) setDirs(dirs []string) error {
	known := setOf(w.dirs)
	w.dirs = dirs
	return w.sync(known)
}

// note adds events in dirs to the burst and sets the timer that ends it:
// debounce after this event, but no later than maxWaitFactor debounce
// times after the burst began.
func (w *Watcher) note(dirs []string, name string) {
	if len(dirs) == 0 {
		return
	}

	now := time.Now()
	if w.burst.empty() {
		w.burstStart = now
	}
	w.burst.add(dirs, name)

	limit := w.burstStart.Add(maxWaitFactor * w.debounce).Sub(now)
	w.timer.Reset(max(min(w.debounce, limit), 0))
}

// flush moves the quiet burst to the Change waiting for the consumer.
func (w *Watcher) flush() {
	if w.burst.empty() {
		return
	}

	w.ready.merge(&w.burst)
	w.burst = batch{}
	w.next = w.ready.change()
	w.log.Debug("folders changed", "dirs", w.next.Dirs, "names", w.next.Names)
}

// batch gathers the folders and names of events.
type batch struct {
	dirs  map[string]bool
	names map[string]bool
}

func (b *batch) empty() bool { return len(b.dirs) == 0 }

func (b *batch) add(dirs []string, name string) {
	if b.dirs == nil {
		b.dirs, b.names = map[string]bool{}, map[string]bool{}
	}
	for _, d := range dirs {
		b.dirs[d] = true
	}
	if name != "" && len(b.names) < maxNames {
		b.names[name] = true
	}
}

func (b *batch) merge(o *batch) {
	for n := range o.names {
		b.add(nil, n)
	}
	b.add(keys(o.dirs), "")
}

func (b *batch) change() Change {
	return Change{Dirs: keys(b.dirs), Names: keys(b.names)}
}

// keys returns the sorted keys of a set.
func keys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// setOf returns a set of the strings.
func setOf(list []string) map[string]bool {
	set := make(map[string]bool, len(list))
	for _, s := range list {
		set[s] = true
	}
	return set
}
