package logbuf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink records what reaches it, one entry per Write call. Until open is
// closed, every Write waits for it.
type sink struct {
	mu     sync.Mutex
	calls  []string
	open   chan struct{}
	failed error
}

func newSink(open bool) *sink {
	s := &sink{open: make(chan struct{})}
	if open {
		close(s.open)
	}
	return s
}

func (s *sink) Write(p []byte) (int, error) {
	<-s.open
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, string(p))
	return len(p), s.failed
}

func (s *sink) all() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.calls, ""), len(s.calls)
}

// Lines written at once from many goroutines all come out, whole, each
// once, in each writer's order.
func TestEveryLineOnceAndWhole(t *testing.T) {
	out := newSink(true)
	w := New(out)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				if _, err := fmt.Fprintf(w, "%d %d %s.\n", g, i,
					strings.Repeat("x", i%50)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text, _ := out.all()
	next := make([]int, writers)
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var g, i int
		var pad string
		if _, err := fmt.Sscanf(line, "%d %d %s", &g, &i, &pad); err != nil ||
			g < 0 || g >= writers {
			t.Fatalf("broken line %q: %v", line, err)
		}
		if i != next[g] || len(pad) != i%50+1 {
			t.Fatalf("writer %d: got line %d (%d pad), want line %d", g, i, len(pad), next[g])
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines came out, want %d", g, n, lines)
		}
	}
}

// Lines given while a write is under way go out together in the next one.
func TestBatchesWhileWriting(t *testing.T) {
	out := newSink(false)
	w := New(out)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	close(out.open)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	text, calls := out.all()
	if strings.Count(text, "\n") != 100 {
		t.Fatalf("%d lines after Flush, want 100", strings.Count(text, "\n"))
	}
	if calls > 2 {
		t.Errorf("100 lines took %d writes; lines given during a write must share the next", calls)
	}
	w.Close()
}

// Flush returns only once what was written before it is out.
func TestFlushWaits(t *testing.T) {
	out := newSink(false)
	w := New(out)
	fmt.Fprintln(w, "first")
	flushed := make(chan error)
	go func() { flushed <- w.Flush() }()
	select {
	case <-flushed:
		t.Fatal("Flush returned while the line was still waiting")
	case <-time.After(50 * time.Millisecond):
	}
	close(out.open)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if text, _ := out.all(); text != "first\n" {
		t.Errorf("after Flush the output is %q", text)
	}
	w.Close()
}

// A writer that falls MaxPending behind makes the next Write wait, and
// nothing is dropped.
func TestWaitsWhenFarBehind(t *testing.T) {
	out := newSink(false)
	w := New(out)
	fmt.Fprintln(w, "held") // taken by the loop, which then waits on out
	for taken := uint64(0); taken == 0; {
		time.Sleep(time.Millisecond)
		w.mu.Lock()
		taken = w.taken
		w.mu.Unlock()
	}
	chunk := bytes.Repeat([]byte("y"), MaxPending/4)
	for range 4 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	wrote := make(chan struct{})
	go func() {
		w.Write([]byte("over\n"))
		close(wrote)
	}()
	select {
	case <-wrote:
		t.Fatal("Write returned with MaxPending bytes waiting")
	case <-time.After(50 * time.Millisecond):
	}
	close(out.open)
	<-wrote
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text, _ := out.all()
	if want := len("held\n") + MaxPending + len("over\n"); len(text) != want ||
		!strings.HasSuffix(text, "over\n") {
		t.Errorf("%d bytes came out, want %d ending in the last line", len(text), want)
	}
}

// Write after Close fails; Close twice is fine; an error of the
// underlying writer reaches Flush and Close.
func TestCloseAndErrors(t *testing.T) {
	out := newSink(true)
	out.failed = errors.New("disk gone")
	w := New(out)
	fmt.Fprintln(w, "line")
	if err := w.Flush(); !errors.Is(err, out.failed) {
		t.Errorf("Flush: %v, want the writer's error", err)
	}
	if err := w.Close(); !errors.Is(err, out.failed) {
		t.Errorf("Close: %v, want the writer's error", err)
	}
	if err := w.Close(); !errors.Is(err, out.failed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("late\n")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
}

// BenchmarkParallelLines is many goroutines logging a line each, the way
// the server's handlers do; compare with the same lines written directly.
func BenchmarkParallelLines(b *testing.B) {
	line := []byte(strings.Repeat("k=v ", 40) + "\n")
	for _, name := range []string{"direct", "batched"} {
		b.Run(name, func(b *testing.B) {
			out := &lockedFile{f: devNull(b)}
			var dst interface{ Write([]byte) (int, error) } = out
			var w *Writer
			if name == "batched" {
				w = New(out)
				dst = w
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					dst.Write(line)
				}
			})
			if w != nil {
				w.Close()
			}
		})
	}
}

// lockedFile writes to a file one caller at a time, as a log handler does:
// each Write is a system call.
type lockedFile struct {
	mu sync.Mutex
	f  *os.File
}

func (l *lockedFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

func devNull(b *testing.B) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}
