package dedupe_test

import (
	"errors"
	"fmt"
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
	for _, k := range kinds {
		for _, maxN := range []int{10, 40} {
			total := 3*maxN + 5
			t.Run(fmt.Sprintf("when %s is over MaxEntries %d expect the newest kept",
				k.name, maxN), func(t *testing.T) {
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
}

func TestStoreSweepsExpired(t *testing.T) {
	const old = 197
	for _, k := range kinds {
		t.Run("when "+k.name+" holds expired entries expect a Put to drop them",
			func(t *testing.T) {
				clk := newClock()
				s := k.open(t, dedupe.Options{Window: time.Minute, Now: clk.Now})
				for i := range old {
					put(t, s, fmt.Sprint("old", i), "x")
				}
				clk.Add(time.Hour)

				put(t, s, "new0", "x")
				if n, _ := s.Len(); n != 1 {
					t.Errorf("len after one put %d, want 1", n)
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
				if fs, ok := s.(*dedupe.FileStore); ok && fs.IndexLen() != 1 {
					t.Errorf("index len %d, want 1", fs.IndexLen())
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

func TestStoreOwnBody(t *testing.T) {
	const n = 300
	for _, k := range kinds {
		t.Run("when "+k.name+" holds many keys expect each its own body",
			func(t *testing.T) {
				s := k.open(t, dedupe.Options{})
				for i := range n {
					put(t, s, fmt.Sprint("key", i), fmt.Sprint("body", i))
				}

				for i := range 2 * n {
					body, found := get(t, s, fmt.Sprint("key", i))
					want := fmt.Sprint("body", i)
					if i < n && (!found || body != want) {
						t.Errorf("key%d: %q, %v; want %q", i, body, found, want)
					}
					if i >= n && found {
						t.Errorf("key%d was never put but has %q", i, body)
					}
				}
			})
	}
}
