package dedupe_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/dedupe"
)

func TestFileRestart(t *testing.T) {
	t.Run("when reopened expect the answer kept and no run", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "dedupe")
		s := mustOpen(t, dir, dedupe.Options{})
		c := &counter{}
		first, _, _ := dedupe.New(s, nil).Do(t.Context(), key, c.run)
		closeStore(t, s)

		s = openFile(t, dir, dedupe.Options{})
		e, found, err := s.Get(t.Context(), key)
		again, rep, _ := dedupe.New(s, nil).Do(t.Context(), key, c.run)

		if err != nil || !found || !bytes.Equal(e.Body, first.Body) {
			t.Errorf("get %q, %v, %v; want %q", e.Body, found, err, first.Body)
		}
		if !rep || c.calls.Load() != 1 || !bytes.Equal(again.Body, first.Body) {
			t.Errorf("repeated %v, runs %d; want true, 1", rep, c.calls.Load())
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("directory %v, %v; want mode 0700", fi.Mode(), err)
		}
	})
	t.Run("when reopened past the window expect the answer gone", func(t *testing.T) {
		dir, clk := t.TempDir(), newClock()
		s := mustOpen(t, dir, dedupe.Options{Window: time.Hour, Now: clk.Now})
		put(t, s, key, "x")
		closeStore(t, s)
		clk.Add(time.Hour)

		s = openFile(t, dir, dedupe.Options{Window: time.Hour, Now: clk.Now})

		if _, found := get(t, s, key); found {
			t.Error("expired entry found")
		}
		if n, _ := s.Len(); n != 0 || s.IndexLen() != 0 {
			t.Errorf("len %d, index %d; want 0, 0", n, s.IndexLen())
		}
	})
}

func TestFileLocked(t *testing.T) {
	t.Run("when the directory is held expect ErrLocked soon", func(t *testing.T) {
		dir := t.TempDir()
		openFile(t, dir, dedupe.Options{})

		start := time.Now()
		s, err := dedupe.OpenFile(dir, dedupe.Options{LockTimeout: 50 * time.Millisecond})

		if !errors.Is(err, dedupe.ErrLocked) || !strings.Contains(err.Error(), dir) {
			t.Errorf("err = %v, want ErrLocked naming the directory", err)
		}
		if s != nil {
			_ = s.Close()
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v", took)
		}
	})
	t.Run("when the holder closes expect the next open to succeed", func(t *testing.T) {
		dir := t.TempDir()
		closeStore(t, mustOpen(t, dir, dedupe.Options{}))

		openFile(t, dir, dedupe.Options{LockTimeout: 50 * time.Millisecond})
	})
}

func TestFileLowerMaxOnOpen(t *testing.T) {
	t.Run("when reopened with a lower max expect the newest kept", func(t *testing.T) {
		dir, clk := t.TempDir(), newClock()
		s := mustOpen(t, dir, dedupe.Options{Now: clk.Now})
		for i := range 100 {
			clk.Add(time.Second)
			put(t, s, fmt.Sprint(i), "x")
		}
		closeStore(t, s)

		s = openFile(t, dir, dedupe.Options{MaxEntries: 10, Now: clk.Now})

		if n, _ := s.Len(); n != 10 || s.IndexLen() != 10 {
			t.Errorf("len %d, index %d; want 10", n, s.IndexLen())
		}
		if _, found := get(t, s, "99"); !found {
			t.Error("newest entry lost")
		}
		if _, found := get(t, s, "89"); found {
			t.Error("old entry kept")
		}
	})
}

func TestFileBounded(t *testing.T) {
	for _, maxN := range []int{20, 160} {
		t.Run(fmt.Sprintf("when far more than %d are put expect disk and index bounded",
			maxN), func(t *testing.T) {
			dir, clk := t.TempDir(), newClock()
			s := openFile(t, dir, dedupe.Options{MaxEntries: maxN, Now: clk.Now})
			body := strings.Repeat("a", 1000)
			fill := func(from, to int) {
				for i := from; i < to; i++ {
					clk.Add(time.Millisecond)
					put(t, s, fmt.Sprint("k", i), body)
				}
				flush(t, s)
			}

			fill(0, 10*maxN)
			files, before := diskUse(t, dir)
			fill(10*maxN, 60*maxN)
			files, after := diskUse(t, dir)

			perSeg := max(maxN/dedupe.SegmentSplit, 1)
			t.Logf("%d files, %d then %d bytes", files, before, after)
			if limit := int64(maxN+perSeg) * 1100; after > limit || before > limit {
				t.Errorf("disk %d then %d bytes, want at most %d", before, after, limit)
			}
			if limit := maxN/perSeg + 2; files > limit {
				t.Errorf("%d segment files, want at most %d", files, limit)
			}
			n, err := s.Len()
			if err != nil || n != maxN || s.IndexLen() > maxN+perSeg {
				t.Errorf("len %d (%v), index %d; want %d", n, err, s.IndexLen(), maxN)
			}
		})
	}
}

// TestFileWriteBehind: a Put is visible at once, reaches the disk within
// the flush interval without a Close, and Close writes the rest.
func TestFileWriteBehind(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, dedupe.Options{FlushInterval: 20 * time.Millisecond})
	put(t, s, "a", "1")
	if body, found := get(t, s, "a"); !found || body != "1" {
		t.Fatal("a pending entry is not visible")
	}
	if !eventually(func() bool { _, n := diskUse(t, dir); return n > 0 }) {
		t.Fatal("the entry was not written within 2s")
	}
	if body, found := get(t, s, "a"); !found || body != "1" {
		t.Fatal("a written entry is not visible")
	}

	put(t, s, "b", "2")
	closeStore(t, s)
	if err := s.Put(t.Context(), "c", dedupe.Entry{Status: 200}); !errors.Is(err,
		dedupe.ErrClosed) {
		t.Errorf("put after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}

	s = openFile(t, dir, dedupe.Options{})
	if _, found := get(t, s, "b"); !found {
		t.Error("Close did not write the pending entry")
	}
}

func TestFileWriteEachPut(t *testing.T) {
	t.Run("when FlushInterval is negative expect each Put on disk", func(t *testing.T) {
		dir := t.TempDir()
		s := openFile(t, dir, dedupe.Options{FlushInterval: -1})

		put(t, s, "a", "1")
		_, n1 := diskUse(t, dir)
		put(t, s, "b", "2")
		_, n2 := diskUse(t, dir)

		if n1 == 0 || n2 <= n1 {
			t.Errorf("disk %d then %d bytes, want it to grow with each Put", n1, n2)
		}
	})
}

// errDiskFull is the failure of a segment file that cannot be made.
var errDiskFull = errors.New("disk full")

func TestFileWriteFails(t *testing.T) {
	t.Run("when a write fails expect the next Put to say so and a retry",
		func(t *testing.T) {
			dir := t.TempDir()
			var calls atomic.Int32
			failed := make(chan struct{})
			create := func(path string) (*os.File, error) {
				if calls.Add(1) == 1 {
					close(failed)
					return nil, errDiskFull
				}
				return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
			}
			opt := dedupe.Options{FlushInterval: 10 * time.Millisecond}
			s, err := dedupe.OpenFileCreating(dir, opt, create)
			if err != nil {
				t.Fatal(err)
			}

			put(t, s, "a", "1")
			awaitClose(t, failed)
			b := dedupe.Entry{Status: 200, Body: []byte("2")}
			eventually(func() bool { // the failure is kept just after create
				err = s.Put(t.Context(), "b", b)
				return err != nil
			})
			again := s.Put(t.Context(), "b", b)
			body, found := get(t, s, "a")
			closeStore(t, s)

			if !errors.Is(err, errDiskFull) || again != nil {
				t.Errorf("puts after a failed write: %v, %v; want the failure once",
					err, again)
			}
			if !found || body != "1" {
				t.Errorf("unwritten entry %q, %v; want it kept", body, found)
			}
			s = openFile(t, dir, dedupe.Options{})
			for _, k := range []string{"a", "b"} {
				if _, found := get(t, s, k); !found {
					t.Errorf("%s was not written on retry", k)
				}
			}
		})
}

func TestFileTornTail(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte, rec int) []byte
		kept   int // records found after the damage
	}{
		{"loses its last byte", func(b []byte, _ int) []byte { return b[:len(b)-1] }, 2},
		{"loses half its last record", func(b []byte, rec int) []byte {
			return b[:len(b)-rec/2]
		}, 2},
		{"ends inside a frame", func(b []byte, rec int) []byte {
			return b[:len(b)-rec+3]
		}, 2},
		{"has a flipped byte in its last record", func(b []byte, _ int) []byte {
			b[len(b)-2] ^= 0x40
			return b
		}, 2},
		{"ends in zeros", func(b []byte, _ int) []byte {
			return append(b, make([]byte, 100)...)
		}, 3},
	}
	for _, tt := range tests {
		t.Run("when the newest segment "+tt.name+" expect it cut and usable",
			func(t *testing.T) {
				dir := t.TempDir()
				s := mustOpen(t, dir, dedupe.Options{FlushInterval: -1})
				for i := range 3 {
					put(t, s, fmt.Sprint("k", i), fmt.Sprint("body", i))
				}
				closeStore(t, s)
				path := onlySegment(t, dir)
				b := readFile(t, path)
				rec := len(b) / 3
				writeFile(t, path, tt.damage(b, rec))

				s = mustOpen(t, dir, dedupe.Options{FlushInterval: -1})
				size := fileSize(t, path)
				put(t, s, "new", "fresh")
				closeStore(t, s)
				s = openFile(t, dir, dedupe.Options{})

				if want := int64(tt.kept * rec); size != want {
					t.Errorf("file cut to %d bytes, want %d", size, want)
				}
				for i := range 3 {
					_, found := get(t, s, fmt.Sprint("k", i))
					if want := i < tt.kept; found != want {
						t.Errorf("k%d found %v, want %v", i, found, want)
					}
				}
				if body, found := get(t, s, "new"); !found || body != "fresh" {
					t.Errorf("new entry %q, %v; want fresh", body, found)
				}
			})
	}
}

func TestFileCorruptOlderSegment(t *testing.T) {
	tests := []struct {
		name  string
		file  int               // which segment file, oldest first
		at    func(rec int) int // which byte
		found string            // which of k0..k5 are found afterwards
	}{
		{"a body byte of its first record", 0, func(rec int) int { return rec - 1 },
			"..yyyy"},
		{"a body byte of its second record", 1, func(rec int) int { return 2*rec - 1 },
			"yyy.yy"},
		{"the length of its first record", 1, func(int) int { return 2 }, "yy..yy"},
		{"the checksum of its second record", 0, func(rec int) int { return rec + 5 },
			"y.yyyy"},
	}
	for _, tt := range tests {
		t.Run("when an older segment has "+tt.name+" expect the others kept",
			func(t *testing.T) {
				dir := t.TempDir()
				opt := dedupe.Options{MaxEntries: 2 * dedupe.SegmentSplit,
					FlushInterval: -1}
				s := mustOpen(t, dir, opt)
				for i := range 6 {
					put(t, s, fmt.Sprint("k", i), fmt.Sprint("body", i))
				}
				closeStore(t, s)
				paths := segments(t, dir)
				if len(paths) != 3 {
					t.Fatalf("%d segment files, want 3", len(paths))
				}
				b := readFile(t, paths[tt.file])
				b[tt.at(len(b)/2)] ^= 0x40
				writeFile(t, paths[tt.file], b)

				s = openFile(t, dir, opt)

				for i := range 6 {
					_, found := get(t, s, fmt.Sprint("k", i))
					if want := tt.found[i] == 'y'; found != want {
						t.Errorf("k%d found %v, want %v", i, found, want)
					}
				}
				// A file keeps its bytes while a record in it is valid.
				_, err := os.Stat(paths[tt.file])
				if kept := tt.found[2*tt.file] == 'y'; !kept && err == nil {
					t.Error("a file without a valid record was kept")
				} else if kept && fileSize(t, paths[tt.file]) != int64(len(b)) {
					t.Errorf("older file cut from %d bytes", len(b))
				}
			})
	}
}

func TestFileHashCollision(t *testing.T) {
	same := func(string) uint64 { return 42 }
	dir := t.TempDir()
	s := openHashed(t, dir, same)
	put(t, s, "a", "A")
	put(t, s, "b", "B")
	steps := []struct {
		name string
		next func(t *testing.T)
	}{
		{"pending", func(*testing.T) {}},
		{"written", func(t *testing.T) { flush(t, s) }},
		{"replayed", func(t *testing.T) {
			closeStore(t, s)
			s = openHashed(t, dir, same)
		}},
	}
	for _, st := range steps {
		t.Run("when two keys share a hash and are "+st.name+" expect the later kept",
			func(t *testing.T) {
				st.next(t)

				if body, found := get(t, s, "a"); found {
					t.Errorf("a gave %q, want a miss", body)
				}
				if body, found := get(t, s, "b"); !found || body != "B" {
					t.Errorf("b gave %q, %v; want B", body, found)
				}
			})
	}
}

func TestFileNeverOtherBody(t *testing.T) {
	few := func(k string) uint64 { return uint64(len(k)+int(k[len(k)-1])) % 5 }
	t.Run("when keys collide often expect no key to get another's body",
		func(t *testing.T) {
			dir := t.TempDir()
			s := openHashed(t, dir, few)
			check := func(stage string) {
				for i := range 200 {
					k := fmt.Sprint("key", i)
					if body, found := get(t, s, k); found && body != "body of "+k {
						t.Errorf("%s: %s gave %q", stage, k, body)
					}
				}
			}
			for i := range 100 {
				k := fmt.Sprint("key", i)
				put(t, s, k, "body of "+k)
			}

			check("pending")
			flush(t, s)
			check("written")
			closeStore(t, s)
			s = openHashed(t, dir, few)
			check("replayed")
			if body, found := get(t, s, "key99"); !found || body != "body of key99" {
				t.Errorf("newest key gave %q, %v", body, found)
			}
		})
}

// BenchmarkFilePut is the cost of recording one answer.
func BenchmarkFilePut(b *testing.B) {
	s, err := dedupe.OpenFile(b.TempDir(), dedupe.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := dedupe.Entry{Status: 200, Body: []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<Response><Message>hi</Message></Response>`)}
	i := 0
	for b.Loop() {
		i++
		if err := s.Put(b.Context(), fmt.Sprint("msg:+1:SM", i), e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileGetMiss is the cost of looking up a new message's key in a
// full store. The keys are many, so that the lookups are not all cached.
func BenchmarkFileGetMiss(b *testing.B) {
	s, err := dedupe.OpenFile(b.TempDir(), dedupe.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := dedupe.Entry{Status: 200,
		Body: []byte(`<Response><Message>hi</Message></Response>`)}
	for i := range dedupe.DefaultMaxEntries {
		if err := s.Put(b.Context(), fmt.Sprint("msg:+1:SM", i), e); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([]string, 1<<18)
	for i := range keys {
		keys[i] = fmt.Sprint("msg:+1:SMnew", i)
	}
	i := 0
	for b.Loop() {
		i++
		if _, found, err := s.Get(b.Context(), keys[i%len(keys)]); found || err != nil {
			b.Fatal(found, err)
		}
	}
}

// mustOpen opens a FileStore that the test closes itself.
func mustOpen(t *testing.T, dir string, opt dedupe.Options) *dedupe.FileStore {
	t.Helper()
	s, err := dedupe.OpenFile(dir, opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// openHashed opens a FileStore with hash, closed when the test ends.
func openHashed(t *testing.T, dir string, hash func(string) uint64) *dedupe.FileStore {
	t.Helper()
	s, err := dedupe.OpenFileHashed(dir, dedupe.Options{}, hash)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// closeStore closes s and fails the test if that fails.
func closeStore(t *testing.T, s dedupe.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// flush writes what s holds pending and fails the test if that fails.
func flush(t *testing.T, s *dedupe.FileStore) {
	t.Helper()
	if err := s.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// segments returns the paths of the segment files in dir, oldest first.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// onlySegment returns the path of the one segment file in dir.
func onlySegment(t *testing.T, dir string) string {
	t.Helper()
	paths := segments(t, dir)
	if len(paths) != 1 {
		t.Fatalf("%d segment files, want 1", len(paths))
	}
	return paths[0]
}

// diskUse returns the number of segment files in dir and their bytes.
func diskUse(t *testing.T, dir string) (int, int64) {
	t.Helper()
	paths := segments(t, dir)
	var n int64
	for _, p := range paths {
		n += fileSize(t, p)
	}
	return len(paths), n
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// eventually reports whether cond becomes true within two seconds.
func eventually(cond func() bool) bool {
	for range 200 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
