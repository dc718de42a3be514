package watch

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const (
	testDebounce = 50 * time.Millisecond
	// arrive bounds the wait for a Change that must come; generous for a
	// busy machine.
	arrive = 5 * time.Second
	// quiet is how long no Change must come for a burst to count as over.
	quiet = 400 * time.Millisecond
	// noResync keeps the periodic check out of a test, so that only
	// events can make it pass.
	noResync = time.Hour
)

// startWatcher starts a Watcher on dirs that is closed when the test ends.
func startWatcher(t *testing.T, dirs []string, resync time.Duration) *Watcher {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(),
		&slog.HandlerOptions{Level: slog.LevelDebug}))
	w, err := start(dirs, options{debounce: testDebounce, resync: resync, log: log})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return w
}

// receive waits up to d for a Change; ok is false when none came.
func receive(t *testing.T, w *Watcher, d time.Duration) (Change, bool) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case c, open := <-w.Changes():
		if !open {
			t.Fatal("changes channel closed")
		}
		return c, true
	case <-timer.C:
		return Change{}, false
	}
}

// collect waits for at least one Change, then takes Changes until none
// comes for quiet, and returns them all.
func collect(t *testing.T, w *Watcher) []Change {
	t.Helper()
	c, ok := receive(t, w, arrive)
	if !ok {
		t.Fatalf("no change within %v", arrive)
	}
	got := []Change{c}
	deadline := time.Now().Add(arrive)
	for time.Now().Before(deadline) {
		c, ok := receive(t, w, quiet)
		if !ok {
			return got
		}
		got = append(got, c)
	}
	t.Fatalf("changes did not stop within %v: %d so far", arrive, len(got))
	return nil
}

// count returns how many Changes come within d.
func count(t *testing.T, w *Watcher, d time.Duration) []Change {
	t.Helper()
	var got []Change
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return got
		}
		if c, ok := receive(t, w, left); ok {
			got = append(got, c)
		}
	}
}

// union returns the sorted folders and names of changes.
func union(changes []Change) (dirs, names []string) {
	for _, c := range changes {
		dirs = append(dirs, c.Dirs...)
		names = append(names, c.Names...)
	}
	slices.Sort(dirs)
	slices.Sort(names)
	return slices.Compact(dirs), slices.Compact(names)
}

// expectChange waits for the Changes of one save and checks that they
// name dir and the given base names.
func expectChange(t *testing.T, w *Watcher, dir string, names ...string) []Change {
	t.Helper()
	got := collect(t, w)
	dirs, seen := union(got)
	if !slices.Contains(dirs, dir) {
		t.Errorf("changes %+v: expect folder %s", got, dir)
	}
	for _, n := range names {
		if !slices.Contains(seen, n) {
			t.Errorf("changes %+v: expect name %q", got, n)
		}
	}
	return got
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// symlinkSwap points link at target the way `ln -sfn` and Kubernetes
// do: a new symlink renamed over the old one.
func symlinkSwap(t *testing.T, target, link string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(link), filepath.Base(link)+"_tmp")
	must(t, os.Symlink(target, tmp))
	must(t, os.Rename(tmp, link))
}
