package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// A save writes content to dir/name the way one kind of editor or tool
// does.
type save func(t *testing.T, dir, name, content string)

func overwrite(t *testing.T, dir, name, content string) {
	write(t, filepath.Join(dir, name), content)
}

func renameOver(t *testing.T, dir, name, content string) {
	tmp := filepath.Join(dir, "."+name+".tmp123")
	write(t, tmp, content)
	must(t, os.Rename(tmp, filepath.Join(dir, name)))
}

// vimRename saves as vim does by default: a probe file "4913", the
// original renamed to a backup, a new file written, the backup removed.
func vimRename(t *testing.T, dir, name, content string) {
	path := filepath.Join(dir, name)
	write(t, filepath.Join(dir, "4913"), "")
	must(t, os.Remove(filepath.Join(dir, "4913")))
	must(t, os.Rename(path, path+"~"))
	write(t, path, content)
	must(t, os.Chmod(path, 0o644))
	must(t, os.Remove(path+"~"))
}

// vimCopy saves as vim does with backupcopy: the original copied to a
// backup, then overwritten in place.
func vimCopy(t *testing.T, dir, name, content string) {
	path := filepath.Join(dir, name)
	write(t, filepath.Join(dir, "4913"), "")
	must(t, os.Remove(filepath.Join(dir, "4913")))
	write(t, path+"~", mustRead(t, path))
	write(t, path, content)
	must(t, os.Remove(path+"~"))
}

func recreate(t *testing.T, dir, name, content string) {
	path := filepath.Join(dir, name)
	must(t, os.Remove(path))
	write(t, path, content)
}

// moveIn writes the file elsewhere and moves it in, which the folder's
// watch sees as a creation only.
func moveIn(t *testing.T, dir, name, content string) {
	tmp := filepath.Join(filepath.Dir(dir), "elsewhere-"+name)
	write(t, tmp, content)
	must(t, os.Rename(tmp, filepath.Join(dir, name)))
}

func TestSaveStyles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		save save
	}{
		{"when overwritten in place", overwrite},
		{"when written to a temp file renamed over it", renameOver},
		{"when saved by vim renaming to a backup", vimRename},
		{"when saved by vim with backupcopy", vimCopy},
		{"when deleted then re-created", recreate},
		{"when moved in from another folder", moveIn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "scripts")
			must(t, os.Mkdir(dir, 0o755))
			path := filepath.Join(dir, "x.js")
			write(t, path, "v0")
			w := startWatcher(t, []string{dir}, noResync)

			for i := 1; i <= 3; i++ {
				want := fmt.Sprintf("v%d", i)
				tc.save(t, dir, "x.js", want)

				expectChange(t, w, dir, "x.js")
				if got := mustRead(t, path); got != want {
					t.Fatalf("save %d: read %q, want %q", i, got, want)
				}
			}
		})
	}
}

// configMapUpdate lays out version v of a ConfigMap volume in dir the way
// the kubelet does: a new timestamped folder, a "..data_tmp" symlink to it
// renamed over "..data", then the old folder removed.
func configMapUpdate(t *testing.T, dir string, v int, files map[string]string) {
	t.Helper()
	ts := fmt.Sprintf("..2026_12_04_10_00_%02d.123456789", v)
	must(t, os.Mkdir(filepath.Join(dir, ts), 0o755))
	for name, content := range files {
		write(t, filepath.Join(dir, ts, name), content)
	}

	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	symlinkSwap(t, ts, filepath.Join(dir, "..data"))
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			must(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if old != "" {
		must(t, os.RemoveAll(filepath.Join(dir, old)))
	}
}

func TestConfigMap(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	dir := t.TempDir()
	configMapUpdate(t, dir, 0, map[string]string{"x.js": "v0", "y.lua": "v0"})
	w := startWatcher(t, []string{dir}, noResync)

	for v := 1; v <= 3; v++ {
		want := fmt.Sprintf("v%d", v)
		configMapUpdate(t, dir, v, map[string]string{"x.js": want, "y.lua": want})

		expectChange(t, w, dir, "..data")
		for _, name := range []string{"x.js", "y.lua"} {
			if got := mustRead(t, filepath.Join(dir, name)); got != want {
				t.Fatalf("update %d: %s reads %q, want %q", v, name, got, want)
			}
		}
	}
}

func TestBurstIsDebounced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatcher(t, []string{dir}, noResync)

	start := time.Now()
	for i := range 50 {
		write(t, filepath.Join(dir, fmt.Sprintf("f%d.js", i%5)), fmt.Sprint(i))
	}
	took := time.Since(start)

	got := count(t, w, time.Second)
	// A busy machine may pause inside the burst; a few Changes are fine,
	// one per event is not.
	if len(got) < 1 || len(got) > 3 {
		t.Fatalf("50 writes in %v gave %d changes, expect 1 to 3: %+v", took, len(got), got)
	}
	_, names := union(got)
	if len(names) != 5 {
		t.Errorf("names %v, expect the 5 files", names)
	}
}

func TestChmodOnlyIsIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.js")
	write(t, path, "v0")
	w := startWatcher(t, []string{dir}, noResync)

	must(t, os.Chmod(path, 0o600))
	now := time.Now()
	must(t, os.Chtimes(path, now, now))

	if got := count(t, w, quiet); len(got) != 0 {
		t.Fatalf("attribute changes gave %+v, expect none", got)
	}
}

func TestSlowConsumerGetsOneMergedChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatcher(t, []string{dir}, noResync)

	for _, name := range []string{"a.js", "b.js", "c.js"} {
		write(t, filepath.Join(dir, name), name)
		time.Sleep(3 * testDebounce)
	}
	time.Sleep(3 * testDebounce)

	c, ok := receive(t, w, arrive)
	if !ok {
		t.Fatal("no change")
	}
	want := []string{"a.js", "b.js", "c.js"}
	if !slices.Equal(c.Names, want) || !slices.Equal(c.Dirs, []string{dir}) {
		t.Fatalf("change %+v, expect dirs [%s] names %v", c, dir, want)
	}
}

func TestSetDirs(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	w := startWatcher(t, []string{a}, noResync)

	t.Run("when a folder is added expect its events", func(t *testing.T) {
		must(t, w.SetDirs([]string{a, b}))
		write(t, filepath.Join(b, "x.js"), "b")
		got := expectChange(t, w, b, "x.js")
		if dirs, _ := union(got); slices.Contains(dirs, a) {
			t.Errorf("changes %+v name %s, which did not change", got, a)
		}
	})

	t.Run("when a folder is dropped expect none of its events", func(t *testing.T) {
		must(t, w.SetDirs([]string{b, b + string(filepath.Separator)}))
		write(t, filepath.Join(a, "x.js"), "a")
		if got := count(t, w, quiet); len(got) != 0 {
			t.Fatalf("dropped folder gave %+v", got)
		}
		write(t, filepath.Join(b, "y.js"), "b")
		expectChange(t, w, b, "y.js")
	})
}

func TestFolderTakenAwayAndRecreated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		takeOff func(dir string, i int) error
	}{
		{"when removed", func(dir string, _ int) error { return os.RemoveAll(dir) }},
		{"when renamed away", func(dir string, i int) error {
			return os.Rename(dir, fmt.Sprintf("%s.old%d", dir, i))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "scripts")
			must(t, os.Mkdir(dir, 0o755))
			write(t, filepath.Join(dir, "x.js"), "v0")
			w := startWatcher(t, []string{dir}, noResync)

			for i := 1; i <= 3; i++ {
				must(t, tc.takeOff(dir, i))
				expectChange(t, w, dir)

				must(t, os.Mkdir(dir, 0o755))
				write(t, filepath.Join(dir, "x.js"), fmt.Sprint(i))
				expectChange(t, w, dir)

				// The events must come from the new folder, not only from
				// the re-adding of the watch.
				write(t, filepath.Join(dir, "x.js"), fmt.Sprint(i, "b"))
				expectChange(t, w, dir, "x.js")
			}
		})
	}
}

// TestFolderMissingAtStart: a folder created later, parents and all, is
// found. Folders created in a burst can race the watches added for each
// level, so this relies on the periodic check as a backstop.
func TestFolderMissingAtStart(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "scripts")
	w := startWatcher(t, []string{dir}, ResyncInterval)

	must(t, os.MkdirAll(filepath.Join(root, "a", "b"), 0o755))
	must(t, os.Mkdir(dir, 0o755))
	write(t, filepath.Join(dir, "x.js"), "v1")
	expectChange(t, w, dir)

	write(t, filepath.Join(dir, "x.js"), "v2")
	expectChange(t, w, dir, "x.js")
}

func TestSymlinkedFolder(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	tests := []struct {
		name      string
		resync    time.Duration
		removeOld bool
	}{
		// The old target's removal reports the watch lost at once.
		{"when the old target is removed expect the event to recover", noResync, true},
		// Nothing reports a swap that leaves the old target: the periodic
		// check must find it.
		{"when the old target stays expect the resync to recover",
			100 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			link := filepath.Join(root, "scripts")
			must(t, os.Mkdir(filepath.Join(root, "v0"), 0o755))
			must(t, os.Symlink("v0", link))
			w := startWatcher(t, []string{link}, tc.resync)

			for i := 1; i <= 3; i++ {
				target := fmt.Sprintf("v%d", i)
				must(t, os.Mkdir(filepath.Join(root, target), 0o755))
				write(t, filepath.Join(root, target, "x.js"), target)
				symlinkSwap(t, target, link)
				if tc.removeOld {
					must(t, os.RemoveAll(filepath.Join(root, fmt.Sprintf("v%d", i-1))))
				}
				expectChange(t, w, link)

				write(t, filepath.Join(link, "x.js"), target+"b")
				expectChange(t, w, link, "x.js")
			}
		})
	}
}

func TestAliasedFoldersDoNotRepeat(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	root := t.TempDir()
	real, link := filepath.Join(root, "real"), filepath.Join(root, "link")
	must(t, os.Mkdir(real, 0o755))
	must(t, os.Symlink("real", link))
	w := startWatcher(t, []string{real, link}, 20*time.Millisecond)

	if got := count(t, w, quiet); len(got) != 0 {
		t.Fatalf("resync of two paths to one folder gave %+v", got)
	}

	write(t, filepath.Join(real, "x.js"), "v1")
	got := expectChange(t, w, real, "x.js")
	if dirs, _ := union(got); !slices.Equal(dirs, []string{link, real}) {
		t.Fatalf("dirs %v, expect both paths", dirs)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := New([]string{dir}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.debounce != DefaultDebounce {
		t.Errorf("debounce %v, expect %v", w.debounce, DefaultDebounce)
	}

	write(t, filepath.Join(dir, "x.js"), "pending")
	time.Sleep(3 * DefaultDebounce)
	must(t, w.Close())

	timer := time.NewTimer(arrive)
	defer timer.Stop()
	for open := true; open; {
		select {
		case _, open = <-w.Changes():
		case <-timer.C:
			t.Fatal("changes channel still open after close")
		}
	}

	if err := w.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := w.SetDirs([]string{dir}); !errors.Is(err, ErrClosed) {
		t.Errorf("set dirs after close: %v, expect ErrClosed", err)
	}
}

func TestNewChecksDirs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	file, missing := filepath.Join(root, "file"), filepath.Join(root, "nope")
	write(t, file, "")

	tests := []struct {
		name    string
		dirs    []string
		wantErr error
	}{
		{"when a path is empty expect ErrNotDir", []string{root, ""}, ErrNotDir},
		{"when a path is a file expect ErrNotDir", []string{file}, ErrNotDir},
		{"when a folder is missing expect no error", []string{missing}, nil},
		{"when no folder is given expect no error", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.dirs, testDebounce, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, expect %v", err, tc.wantErr)
			}
			if w != nil {
				must(t, w.Close())
			}
		})
	}
}

func TestCleanDirs(t *testing.T) {
	t.Parallel()
	got, err := cleanDirs([]string{"b/", "a", "./b", "a//", "c/../a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, expect %v", got, want)
	}
}

func TestIsBelow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, dir string
		want      bool
	}{
		{"/a/b", "/a", true},
		{"/a/b/c", "/a", true},
		{"/a", "/a", false},
		{"/ab", "/a", false},
		{"/a", "/", true},
		{"a/b", "a", true},
		{"a", ".", true},
		{"..a", ".", true},
		{"..", ".", false},
		{"../a", ".", false},
		{"/a", ".", false},
	}
	for _, tc := range tests {
		t.Run(tc.path+" in "+tc.dir, func(t *testing.T) {
			if got := isBelow(tc.path, tc.dir); got != tc.want {
				t.Fatalf("isBelow(%q, %q) = %v, expect %v", tc.path, tc.dir, got, tc.want)
			}
		})
	}
}
