package dedupe

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// maxKeptBuffer bounds the buffer memory kept for records to come.
const maxKeptBuffer = 1 << 20

// write is one segment's records that a flush writes out.
type write struct {
	g       *segment
	f       *os.File // the segment's file; nil until created
	off     int64    // where the records go in the file
	chunk   []byte   // the records
	created bool     // the flush created f
	err     error
}

// flushLoop writes pending records every FlushInterval until Close.
func (s *FileStore) flushLoop() {
	defer close(s.done)
	if s.opt.FlushInterval < 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(s.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.flush(); err != nil {
				s.mu.Lock()
				s.flushErr = err
				s.mu.Unlock()
			}
		}
	}
}

// flush writes the records put since the last flush, one write and one
// sync per segment they went to, then deletes the files of the segments
// dropped since. Records that fail to be written are kept for the next
// flush, which writes them at the same offset.
func (s *FileStore) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()

	ws, doomed := s.take()
	created := false
	for i := range ws {
		ws[i].err = s.writeOut(&ws[i])
		created = created || ws[i].created
	}
	err := s.settle(ws)
	if created {
		if serr := syncDir(s.dir); serr != nil {
			err = errors.Join(err, fmt.Errorf("dedupe write %s: %w", s.dir, serr))
		}
	}
	return errors.Join(err, s.remove(doomed))
}

// take returns the pending records of every segment and the segments
// dropped since the last flush.
func (s *FileStore) take() ([]write, []*segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.writes[:0]
	for _, g := range s.segs {
		if len(g.buf) > 0 {
			ws = append(ws, write{g: g, f: g.f, off: g.size, chunk: g.buf})
		}
	}
	doomed := s.doomed
	s.doomed = nil
	return ws, doomed
}

// writeOut writes w's records to its segment file, creating the file if
// needed, and syncs them to disk.
func (s *FileStore) writeOut(w *write) error {
	if w.f == nil {
		f, err := s.hooks.create(segmentPath(s.dir, w.g.num))
		if err != nil {
			return err
		}
		w.f, w.created = f, true
	}
	if _, err := w.f.WriteAt(w.chunk, w.off); err != nil {
		return err
	}
	return datasync(w.f)
}

// settle records what the writes did: the written records leave their
// segment's buffer, the failed ones stay in it.
func (s *FileStore) settle(ws []write) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for i := range ws {
		w := &ws[i]
		if w.created {
			w.g.f = w.f
		}
		if w.err != nil {
			errs = append(errs, fmt.Errorf("dedupe write %s: %w",
				segmentName(w.g.num), w.err))
		} else if !w.g.dropped {
			s.written(w.g, len(w.chunk))
		}
		*w = write{}
	}
	s.writes = ws[:0]
	return errors.Join(errs...)
}

// written moves the first n bytes of g's buffer to its file. The buffer's
// memory is kept for the next records, in g while it takes them, else for
// the next segment; but not after a burst made it large.
func (s *FileStore) written(g *segment, n int) {
	g.size += int64(n)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	if len(g.buf) > 0 {
		return
	}
	last := g == s.segs[len(s.segs)-1]
	switch {
	case cap(g.buf) > maxKeptBuffer:
		g.buf = nil
	case !last && cap(g.buf) > cap(s.spare):
		s.spare, g.buf = g.buf, nil
	case !last:
		g.buf = nil
	}
}

// remove closes and deletes the files of dropped segments.
func (s *FileStore) remove(doomed []*segment) error {
	var errs []error
	for _, g := range doomed {
		if g.f != nil {
			_ = g.f.Close()
		}
		err := os.Remove(segmentPath(s.dir, g.num))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("dedupe remove: %w", err))
		}
	}
	return errors.Join(errs...)
}
