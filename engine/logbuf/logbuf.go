// Package logbuf batches log lines into fewer writes. Every message the
// server answers logs a line, and one write system call per line cost
// several percent of the server's CPU under load. A Writer hands what it is
// given to a goroutine of its own, which writes everything that arrived
// while its previous write was under way in one call: an idle server
// writes each line at once, a busy one writes many lines per call.
//
// Nothing is dropped. A writer that falls behind by MaxPending bytes makes
// the callers wait, as a blocking write would. What is not written yet is
// lost if the process dies before Flush or Close, as with any buffered log;
// a crash's own message goes to standard error directly, not through here.
package logbuf

import (
	"errors"
	"io"
	"sync"
)

// MaxPending bounds the bytes waiting to be written; past it, Write waits.
const MaxPending = 1 << 20

// ErrClosed is returned by a Write after Close.
var ErrClosed = errors.New("log writer is closed")

// Writer is an io.Writer that writes to another in the background. It is
// safe for concurrent use.
type Writer struct {
	out io.Writer

	mu      sync.Mutex
	moved   *sync.Cond // pending shrank, or a write ended
	kick    chan struct{}
	pending []byte // given, not yet being written
	spare   []byte // the buffer of the last write, for reuse
	writing bool
	wrote   uint64 // batches written
	taken   uint64 // batches taken to write
	err     error  // the first write error
	closed  bool
	done    chan struct{}
}

// New returns a Writer that writes to out. Call Close when done.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, kick: make(chan struct{}, 1), done: make(chan struct{})}
	w.moved = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

// Write queues p, whole, for writing. It fails only after Close; an error
// of the underlying writer is reported by Flush and Close.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.pending) > 0 && len(w.pending)+len(p) > MaxPending && !w.closed {
		w.moved.Wait()
	}
	if w.closed {
		return 0, ErrClosed
	}
	w.pending = append(w.pending, p...)
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

// loop writes what is pending until Close.
func (w *Writer) loop() {
	defer close(w.done)
	for range w.kick {
		w.mu.Lock()
		for len(w.pending) > 0 {
			batch := w.pending
			w.pending, w.spare = w.spare[:0], nil
			w.writing = true
			w.taken++
			w.moved.Broadcast()
			w.mu.Unlock()

			_, err := w.out.Write(batch)

			w.mu.Lock()
			w.writing = false
			w.wrote++
			if err != nil && w.err == nil {
				w.err = err
			}
			if cap(batch) <= MaxPending {
				w.spare = batch[:0]
			}
			w.moved.Broadcast()
		}
		closed := w.closed
		w.mu.Unlock()
		if closed {
			return
		}
	}
}

// Flush waits until everything written before it has been written out,
// and returns the first error of the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.taken
	if len(w.pending) > 0 {
		target++ // the batch that will take what is pending
	}
	for w.wrote < target {
		w.moved.Wait()
	}
	return w.err
}

// Close writes what is pending and stops the Writer. Later Writes fail
// with ErrClosed. It returns the first error of the underlying writer.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return w.err
	}
	w.closed = true
	w.moved.Broadcast()
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
