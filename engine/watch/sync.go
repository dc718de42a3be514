package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
)

// sync brings the watches in line with the wanted folders: one watch per
// distinct folder that exists (two paths to the same folder share one),
// and one on the nearest existing parent of each missing folder. Of the
// folders in known, those wanted before this call, it reports each one
// whose watch had to be added again or that went missing, since whatever
// happened in it meanwhile was not seen.
func (w *Watcher) sync(known map[string]bool) error {
	groups, ids, missing := survey(w.dirs)
	watched := setOf(w.fsw.WatchList())
	w.dropStale(groups, parentsOf(missing, ids))

	var errs []error
	present := map[string]bool{}
	for p, group := range groups {
		readded, err := w.ensure(p, ids[p], watched)
		if err != nil {
			errs = append(errs, err)
			delete(groups, p)
			delete(ids, p)
			for _, d := range group {
				missing[d] = err
			}
			continue
		}

		for _, d := range group {
			present[d] = true
			if known[d] && (readded || !w.present[d]) {
				w.note([]string{d}, filepath.Base(d))
			}
		}
	}

	for d := range missing {
		if known[d] && w.present[d] {
			w.note([]string{d}, filepath.Base(d))
		}
	}

	helpers := parentsOf(missing, ids)
	w.watchHelpers(helpers)
	w.logMoves(present, missing)

	w.groups, w.ids, w.helpers, w.present = groups, ids, helpers, present
	w.absent = map[string]bool{}
	for d := range missing {
		w.absent[d] = true
	}
	return errors.Join(errs...)
}

// survey finds which wanted folders exist, and groups those that are the
// same folder under the first of their paths.
func survey(dirs []string) (
	groups map[string][]string, ids map[string]os.FileInfo, missing map[string]error,
) {
	groups = map[string][]string{}
	ids = map[string]os.FileInfo{}
	missing = map[string]error{}

	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err == nil && !fi.IsDir() {
			err = ErrNotDir
		}
		if err != nil {
			missing[d] = err
			continue
		}

		lead := sameAs(ids, fi)
		if lead == "" {
			lead, ids[d] = d, fi
		}
		groups[lead] = append(groups[lead], d)
	}
	return groups, ids, missing
}

// sameAs returns the path in ids that leads to folder fi, or "".
func sameAs(ids map[string]os.FileInfo, fi os.FileInfo) string {
	for p, id := range ids {
		if os.SameFile(id, fi) {
			return p
		}
	}
	return ""
}

// parentsOf returns the nearest existing parent of each missing folder,
// leaving out folders that are already watched. A parent that is a watched
// folder under another path (a symlink) reports events under that other
// path, which do not match the missing folder's: the resync finds it.
func parentsOf(missing map[string]error, ids map[string]os.FileInfo) map[string]bool {
	helpers := map[string]bool{}
	for d := range missing {
		p, fi := nearestParent(d)
		if p == "" || sameAs(ids, fi) != "" {
			continue
		}
		helpers[p] = true
	}
	return helpers
}

// nearestParent returns the closest folder above d that exists.
func nearestParent(d string) (string, os.FileInfo) {
	for p := filepath.Dir(d); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, fi
		}
		if p == filepath.Dir(p) {
			return "", nil
		}
	}
}

// dropStale removes the watches that neither a wanted folder nor a
// missing one's parent needs any more.
func (w *Watcher) dropStale(groups map[string][]string, helpers map[string]bool) {
	for _, old := range []map[string]bool{setOf(keysOf(w.groups)), w.helpers} {
		for p := range old {
			if groups[p] != nil || helpers[p] {
				continue
			}
			w.remove(p)
		}
	}
}

// ensure makes sure that path p is watched where it leads now (folder
// fi), and reports whether it had to add the watch.
func (w *Watcher) ensure(p string, fi os.FileInfo,
	watched map[string]bool) (bool, error) {
	old, had := w.ids[p]
	if had && watched[p] && os.SameFile(old, fi) {
		return false, nil
	}

	if had && watched[p] {
		w.remove(p)
	}
	if err := w.fsw.Add(p); err != nil {
		return false, fmt.Errorf("watch %s: %w", p, err)
	}
	return true, nil
}

// watchHelpers adds the parent watches that are not in place. A failure
// is retried at the next resync.
func (w *Watcher) watchHelpers(helpers map[string]bool) {
	watched := setOf(w.fsw.WatchList())
	for p := range helpers {
		if watched[p] {
			continue
		}
		if err := w.fsw.Add(p); err != nil {
			w.log.Debug("cannot watch parent folder", "dir", p, "err", err)
		}
	}
}

// remove drops the watch on p; a watch the system already dropped is
// not an error.
func (w *Watcher) remove(p string) {
	err := w.fsw.Remove(p)
	if err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
		w.log.Debug("cannot remove folder watch", "dir", p, "err", err)
	}
}

// logMoves logs the wanted folders that became unavailable (missing, or
// not watchable) or came back, once each time.
func (w *Watcher) logMoves(present map[string]bool, missing map[string]error) {
	for d, err := range missing {
		if !w.absent[d] {
			w.log.Warn("watched folder unavailable, waiting for it",
				"dir", d, "err", err)
		}
	}
	for d := range present {
		if w.absent[d] {
			w.log.Info("watched folder is back", "dir", d)
		}
	}
}

// keysOf returns the keys of a map of groups.
func keysOf(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
