package dedupe_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/dedupe"
)

func TestStoreWindow(t *testing.T) {
	const window = time.Hour
	tests := []struct {
		name  string
		after time.Duration
		found bool
	}{
		{"is read just inside the window expect a hit", window - time.Nanosecond, true},
		{"is read at the window expect a miss", window, false},
		{"is read long past the window expect a miss", 48 * time.Hour, false},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run("when "+k.name+" "+tt.name, func(t *testing.T) {
				clk := newClock()
				s := k.open(t, dedupe.Options{Window: window, Now: clk.Now})
				d := dedupe.New(s, nil)
				c := &counter{}

				_, _, _ = d.Do(t.Context(), key, c.run)
				clk.Add(tt.after)
				_, found, err := s.Get(t.Context(), key)
				_, rep, _ := d.Do(t.Context(), key, c.run)

				if err != nil {
					t.Fatal(err)
				}
				if found != tt.found || rep != tt.found {
					t.Errorf("found %v, repeated %v; want %v", found, rep, tt.found)
				}
			})
		}
	}
}

func TestStoreEvictsOldest(t *testing.T) {
	const maxN, total = 10, 35
	for _, k := range kinds {
		t.Run("when "+k.name+" is over MaxEntries expect the newest kept",
			func(t *testing.T) {
				clk := newClock()
				s := k.open(t, dedupe.Options{MaxEntries: maxN, Now: clk.Now})
				for i := range total {
					clk.Add(time.Second)
					put(t, s, fmt.Sprint(i), "body")
				}

				if n, err := s.Len(); err != nil || n != maxN {
					t.Errorf("len %d, %v; want %d", n, err, maxN)
				}
				for i := range total {
					_, found, err := s.Get(t.Context(), fmt.Sprint(i))
					if want := i >= total-maxN; found != want || err != nil {
						t.Errorf("key %d: found %v, err %v; want %v", i, found, err, want)
					}
				}
			})
	}
}

func TestStoreSweepsExpired(t *testing.T) {
	const old = 3*dedupe.SweepBatch + 5
	for _, k := range kinds {
		t.Run("when "+k.name+" holds expired entries expect Puts to drop them",
			func(t *testing.T) {
				clk := newClock()
				s := k.open(t, dedupe.Options{Window: time.Minute, Now: clk.Now})
				for i := range old {
					put(t, s, fmt.Sprint("old", i), "x")
				}
				clk.Add(time.Hour)

				put(t, s, "new0", "x")
				if n, _ := s.Len(); n > old+1-dedupe.SweepBatch {
					t.Errorf("len after one put %d, want a batch dropped", n)
				}
				for i := 1; i < 5; i++ {
					put(t, s, fmt.Sprint("new", i), "x")
				}
				if n, _ := s.Len(); n != 5 {
					t.Errorf("len %d, want 5", n)
				}
			})
	}
}

func TestStoreReplace(t *testing.T) {
	for _, k := range kinds {
		t.Run("when "+k.name+" gets a key again expect one newer entry",
			func(t *testing.T) {
				clk := newClock()
				s := k.open(t, dedupe.Options{Window: time.Hour, Now: clk.Now})
				put(t, s, key, "first")
				clk.Add(50 * time.Minute)
				put(t, s, key, "second")
				if bs, ok := s.(*dedupe.BoltStore); ok {
					if n, err := bs.IndexLen(); err != nil || n != 1 {
						t.Errorf("index len %d, %v; want 1", n, err)
					}
				}
				clk.Add(20 * time.Minute)
				put(t, s, "other", "x") // sweeps what is past the window

				e, found, err := s.Get(t.Context(), key)
				if err != nil || !found || string(e.Body) != "second" {
					t.Errorf("got %q, %v, %v; want second", e.Body, found, err)
				}
				if n, _ := s.Len(); n != 2 {
					t.Errorf("len %d, want 2", n)
				}
			})
	}
}

func TestStoreClosed(t *testing.T) {
	for _, k := range kinds {
		t.Run("when "+k.name+" is closed expect ErrClosed", func(t *testing.T) {
			s := k.open(t, dedupe.Options{})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			_, _, gerr := s.Get(t.Context(), key)
			perr := s.Put(t.Context(), key, dedupe.Entry{Status: 200})

			if !errors.Is(gerr, dedupe.ErrClosed) || !errors.Is(perr, dedupe.ErrClosed) {
				t.Errorf("get %v, put %v; want ErrClosed", gerr, perr)
			}
		})
	}
}

func TestBoltRestart(t *testing.T) {
	t.Run("when reopened expect the answer kept and no run", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dedupe.db")
		s, err := dedupe.OpenBolt(path, dedupe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := &counter{}
		first, _, _ := dedupe.New(s, nil).Do(t.Context(), key, c.run)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		s = openBolt(t, path, dedupe.Options{})
		e, found, err := s.Get(t.Context(), key)
		again, rep, _ := dedupe.New(s, nil).Do(t.Context(), key, c.run)

		if err != nil || !found || !bytes.Equal(e.Body, first.Body) {
			t.Errorf("get %q, %v, %v; want %q", e.Body, found, err, first.Body)
		}
		if !rep || c.calls.Load() != 1 || !bytes.Equal(again.Body, first.Body) {
			t.Errorf("repeated %v, runs %d; want true, 1", rep, c.calls.Load())
		}
	})
}

func TestBoltLocked(t *testing.T) {
	t.Run("when the file is held expect ErrLocked soon", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dedupe.db")
		openBolt(t, path, dedupe.Options{})

		start := time.Now()
		opt := dedupe.Options{LockTimeout: 50 * time.Millisecond}
		s, err := dedupe.OpenBolt(path, opt)

		if !errors.Is(err, dedupe.ErrLocked) {
			t.Errorf("err = %v, want ErrLocked", err)
		}
		if s != nil {
			_ = s.Close()
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v", took)
		}
	})
}

func TestBoltLowerMaxOnOpen(t *testing.T) {
	t.Run("when reopened with a lower max expect the newest kept", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dedupe.db")
		clk := newClock()
		s, err := dedupe.OpenBolt(path, dedupe.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			clk.Add(time.Second)
			put(t, s, fmt.Sprint(i), "x")
		}
		_ = s.Close()

		s = openBolt(t, path, dedupe.Options{MaxEntries: 10, Now: clk.Now})

		if n, _ := s.Len(); n != 10 {
			t.Errorf("len %d, want 10", n)
		}
		if _, found, _ := s.Get(t.Context(), "99"); !found {
			t.Error("newest entry lost")
		}
		if _, found, _ := s.Get(t.Context(), "89"); found {
			t.Error("old entry kept")
		}
	})
}

func TestBoltBounded(t *testing.T) {
	t.Run("when far more than max are put expect file and index bounded",
		func(t *testing.T) {
			const maxN = 20
			path := filepath.Join(t.TempDir(), "dedupe.db")
			clk := newClock()
			s := openBolt(t, path, dedupe.Options{MaxEntries: maxN, Now: clk.Now})
			body := string(bytes.Repeat([]byte("a"), 1000))

			fill := func(from, to int) {
				for i := from; i < to; i++ {
					clk.Add(time.Millisecond)
					put(t, s, fmt.Sprint("k", i), body)
				}
			}
			fill(0, 10*maxN)
			before := fileSize(t, path)
			fill(10*maxN, 60*maxN)
			after := fileSize(t, path)

			t.Logf("file %d then %d bytes", before, after)
			if after > 2*before {
				t.Errorf("file grew from %d to %d bytes", before, after)
			}
			n, err := s.Len()
			idx, ierr := s.IndexLen()
			if err != nil || ierr != nil || n != maxN || idx != maxN {
				t.Errorf("len %d, index %d (%v, %v); want %d", n, idx, err, ierr, maxN)
			}
		})
}

// put stores an entry with status 200 and the given body.
func put(t *testing.T, s dedupe.Store, key, body string) {
	t.Helper()
	err := s.Put(t.Context(), key, dedupe.Entry{Status: 200, Body: []byte(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestWriteBehind: a Put is visible at once, reaches the file within the
// flush interval without a Close, and Close commits the rest.
func TestWriteBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.db")
	s, err := dedupe.OpenBolt(path, dedupe.Options{FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "a", "1")
	if e, found, _ := s.Get(t.Context(), "a"); !found || string(e.Body) != "1" {
		t.Fatal("a pending entry is not visible")
	}
	time.Sleep(200 * time.Millisecond)
	if n, err := s.IndexLen(); err != nil || n != 1 {
		t.Fatalf("index %d %v", n, err)
	}
	put(t, s, "b", "2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "c", dedupe.Entry{Status: 200}); !errors.Is(err,
		dedupe.ErrClosed) {
		t.Errorf("put after close: %v", err)
	}
	s, err = dedupe.OpenBolt(path, dedupe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, found, _ := s.Get(t.Context(), "b"); !found {
		t.Error("Close did not commit the pending entry")
	}
}

// BenchmarkBoltPut is the cost of recording one answer.
func BenchmarkBoltPut(b *testing.B) {
	s, err := dedupe.OpenBolt(filepath.Join(b.TempDir(), "d.db"), dedupe.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>hi</Message></Response>`)
	i := 0
	for b.Loop() {
		i++
		if err := s.Put(b.Context(), fmt.Sprint("msg:+1:SM", i),
			dedupe.Entry{Status: 200, Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}
