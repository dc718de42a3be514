package dedupe_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/dedupe"
)

const key = "msg:+15550100099:SM00000000000000000000000000000001"

func TestDoSequentialDuplicate(t *testing.T) {
	for _, k := range kinds {
		t.Run("when "+k.name+" sees a key twice expect one run", func(t *testing.T) {
			d := dedupe.New(k.open(t, dedupe.Options{}), nil)
			c := &counter{}

			first, rep1, err1 := d.Do(t.Context(), key, c.run)
			second, rep2, err2 := d.Do(t.Context(), key, c.run)

			if err1 != nil || err2 != nil {
				t.Fatalf("errors: %v, %v", err1, err2)
			}
			if n := c.calls.Load(); n != 1 {
				t.Fatalf("run called %d times, want 1", n)
			}
			if rep1 || !rep2 {
				t.Errorf("repeated = %v, %v; want false, true", rep1, rep2)
			}
			if first.Status != second.Status || !bytes.Equal(first.Body, second.Body) {
				t.Errorf("answers differ: %+v, %+v", first, second)
			}
		})
	}
}

func TestDoConcurrentDuplicates(t *testing.T) {
	const n = 20
	for _, k := range kinds {
		t.Run("when "+k.name+" gets 20 at once expect one run", func(t *testing.T) {
			d := dedupe.New(k.open(t, dedupe.Options{}), nil)
			c := &counter{sleep: 50 * time.Millisecond}

			bodies := make([][]byte, n)
			repeated := make([]bool, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					e, rep, err := d.Do(t.Context(), key, c.run)
					if err != nil {
						t.Errorf("do %d: %v", i, err)
					}
					bodies[i], repeated[i] = e.Body, rep
				})
			}
			wg.Wait()

			if got := c.calls.Load(); got != 1 {
				t.Fatalf("run called %d times, want 1", got)
			}
			fresh := 0
			for i := range n {
				if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[i]) == 0 {
					t.Errorf("body %d = %q, want %q", i, bodies[i], bodies[0])
				}
				if !repeated[i] {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d answers not marked repeated, want 1", fresh)
			}
		})
	}
}

func TestDoDifferentKeysInParallel(t *testing.T) {
	const n = 8
	d := dedupe.New(dedupe.NewMem(dedupe.Options{}), nil)

	// Each run waits until all have started, which happens only if
	// they run at the same time.
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := d.Do(t.Context(), dedupe.MessageKey("+15550100099",
				"SM"+strings.Repeat("0", 31)+string(rune('a'+i))),
				func() dedupe.Entry {
					started.Done()
					select {
					case <-all:
					case <-time.After(5 * time.Second):
						t.Error("expect runs of different keys to overlap")
					}
					return dedupe.Entry{Status: 200}
				})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestDoRemembersOnlyOK(t *testing.T) {
	tests := []struct {
		name   string
		status int
		runs   int32
	}{
		{"when the answer is 200 expect the retry not to run", 200, 1},
		{"when the answer is 500 expect the retry to run", 500, 2},
		{"when the answer is 503 expect the retry to run", 503, 2},
		{"when the answer is 404 expect the retry to run", 404, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dedupe.New(dedupe.NewMem(dedupe.Options{}), nil)
			c := &counter{status: tt.status}

			_, _, _ = d.Do(t.Context(), key, c.run)
			e, _, err := d.Do(t.Context(), key, c.run)

			if err != nil {
				t.Fatal(err)
			}
			if got := c.calls.Load(); got != tt.runs {
				t.Errorf("run called %d times, want %d", got, tt.runs)
			}
			if e.Status != tt.status {
				t.Errorf("status %d, want %d", e.Status, tt.status)
			}
		})
	}
}

func TestDoEmptyKey(t *testing.T) {
	t.Run("when the key is empty expect every call to run", func(t *testing.T) {
		d := dedupe.New(dedupe.NewMem(dedupe.Options{}), nil)
		c := &counter{}
		for range 3 {
			if _, rep, _ := d.Do(t.Context(), "", c.run); rep {
				t.Error("repeated with an empty key")
			}
		}
		if got := c.calls.Load(); got != 3 {
			t.Errorf("run called %d times, want 3", got)
		}
	})
}

// failingStore fails every call.
type failingStore struct{}

var errDisk = errors.New("disk on fire")

func (failingStore) Get(context.Context, string) (dedupe.Entry, bool, error) {
	return dedupe.Entry{}, false, errDisk
}

func (failingStore) Put(context.Context, string, dedupe.Entry) error { return errDisk }

func (failingStore) Close() error { return nil }

func TestDoFailingStore(t *testing.T) {
	t.Run("when the store fails expect an answer and error logs", func(t *testing.T) {
		var logs logBuffer
		d := dedupe.New(failingStore{}, logs.logger())
		c := &counter{body: "<Response/>"}

		e, rep, err := d.Do(t.Context(), key, c.run)

		if err != nil || rep {
			t.Fatalf("err %v, repeated %v; want nil, false", err, rep)
		}
		if string(e.Body) != "<Response/>" || e.Status != 200 {
			t.Errorf("answer %+v", e)
		}
		if got := c.calls.Load(); got != 1 {
			t.Errorf("run called %d times, want 1", got)
		}
		recs := logs.records(t, "ERROR")
		if len(recs) != 2 {
			t.Fatalf("%d error records, want 2 (get and put)", len(recs))
		}
		for _, r := range recs {
			if _, ok := r["err"]; !ok {
				t.Errorf("record without err: %v", r)
			}
		}
	})
}

func TestDoWaitCancelled(t *testing.T) {
	t.Run("when the waiter's ctx ends expect its error at once", func(t *testing.T) {
		d := dedupe.New(dedupe.NewMem(dedupe.Options{}), nil)
		release, running := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			_, _, err := d.Do(context.Background(), key, func() dedupe.Entry {
				close(running)
				<-release
				return dedupe.Entry{Status: 200}
			})
			first <- err
		}()
		awaitClose(t, running)

		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		waited := make(chan error, 1)
		go func() {
			_, _, err := d.Do(ctx, key, func() dedupe.Entry {
				t.Error("expect the duplicate not to run")
				return dedupe.Entry{}
			})
			waited <- err
		}()

		select {
		case err := <-waited:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want deadline exceeded", err)
			}
		case <-time.After(time.Second):
			t.Error("expect the duplicate to give up when its ctx ends")
		}
		close(release)
		if err := <-first; err != nil {
			t.Errorf("first: %v", err)
		}
	})
}

func TestDoRunPanics(t *testing.T) {
	t.Run("when the first run panics expect waiters to get ErrNoAnswer",
		func(t *testing.T) {
			d := dedupe.New(dedupe.NewMem(dedupe.Options{}), nil)
			running, release := make(chan struct{}), make(chan struct{})
			go func() {
				defer func() { _ = recover() }()
				_, _, _ = d.Do(t.Context(), key, func() dedupe.Entry {
					close(running)
					<-release
					panic("boom")
				})
			}()
			awaitClose(t, running)

			waited := make(chan error, 1)
			go func() {
				_, _, err := d.Do(t.Context(), key, func() dedupe.Entry {
					t.Error("expect the duplicate not to run")
					return dedupe.Entry{}
				})
				waited <- err
			}()
			time.Sleep(20 * time.Millisecond) // let the duplicate start waiting
			close(release)

			if err := <-waited; !errors.Is(err, dedupe.ErrNoAnswer) {
				t.Errorf("err = %v, want ErrNoAnswer", err)
			}
			c := &counter{}
			if _, rep, _ := d.Do(t.Context(), key, c.run); rep || c.calls.Load() != 1 {
				t.Error("expect a later retry to run")
			}
		})
}

func TestDoLongKey(t *testing.T) {
	t.Run("when the key is huge expect it remembered without errors",
		func(t *testing.T) {
			var logs logBuffer
			store := kinds[1].open(t, dedupe.Options{})
			d := dedupe.New(store, logs.logger())
			long := dedupe.TokenKey("+15550100099", strings.Repeat("t", 40_000))
			c := &counter{}

			_, _, _ = d.Do(t.Context(), long, c.run)
			_, rep, _ := d.Do(t.Context(), long, c.run)
			_, _, _ = d.Do(t.Context(), long+"x", c.run)

			if !rep || c.calls.Load() != 2 {
				t.Errorf("repeated %v, runs %d; want true, 2", rep, c.calls.Load())
			}
			if recs := logs.records(t, "ERROR"); len(recs) != 0 {
				t.Errorf("error logs: %v", recs)
			}
		})
}

func TestKeys(t *testing.T) {
	const ours, other = "+15550100099", "+15550100098"
	tests := []struct {
		name, a, b string
	}{
		{"when numbers differ expect different message keys",
			dedupe.MessageKey(ours, "SM1"), dedupe.MessageKey(other, "SM1")},
		{"when kinds differ expect different keys",
			dedupe.MessageKey(ours, "X1"), dedupe.TokenKey(ours, "X1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.a == tt.b {
				t.Errorf("both keys are %q", tt.a)
			}
		})
	}
}

// awaitClose waits for ch to close, failing the test after a while.
func awaitClose(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("expect the first run to start")
	}
}
