package dedupe

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileStore is a Store in a directory of append-only segment files, so
// that what it remembers survives a restart. Only one process may use the
// directory at a time.
//
// Memory holds an index from a 64-bit hash of each key to the newest
// record of that key, and each segment's key hashes and record offsets;
// the records stay on disk and are read when a key is found, never mapped
// into memory, so that the files do not count in the process's resident
// memory. A Get of a key that was never put is one map lookup. A Get that
// finds a record compares its whole key, so a hash collision never returns
// another key's answer: when two keys share a hash, the later Put takes
// the slot and the earlier key is forgotten, which only means that a retry
// of it runs again.
//
// An entry is gone once it is out of the window, or once MaxEntries Puts
// came after it. The Deduper puts a key only when it has none, so this is
// MaxEntries newer entries; a key put again counts again. A segment takes
// at most MaxEntries/16 records and Window/16 of time, and its file is
// deleted once none of its records can be returned, so the directory holds
// at most about MaxEntries records plus one segment.
//
// Puts are written behind: they are visible to Get at once, and written
// together every Options.FlushInterval, with one write and one sync to
// disk. Opening replays the files to rebuild the index. The newest file
// is cut at its first torn or corrupt record, as a crash in the middle of
// a write leaves one at its end; a corrupt record in an older file ends
// the replay of that file only.
type FileStore struct {
	dir        string
	opt        Options
	hooks      fileHooks
	lock       *os.File
	perSegment int           // records in a full segment
	segmentAge time.Duration // age of a full segment

	mu       sync.Mutex
	index    map[uint64]uint64 // key hash → sequence number of its record
	segs     []*segment        // oldest first; the last takes new records
	doomed   []*segment        // dropped; their files are to be deleted
	head     uint64            // sequence number of the newest record
	nextNum  uint64            // number of the next segment file
	spare    []byte            // a written buffer, for the next segment
	flushErr error             // the last background write's failure
	closed   bool

	flushMu sync.Mutex // one flush at a time
	writes  []write    // reused by flush
	stop    chan struct{}
	done    chan struct{}
}

// fileHooks are the parts of a FileStore that tests may replace.
type fileHooks struct {
	hash   func(key string) uint64             // default maphash, own seed
	create func(path string) (*os.File, error) // makes a segment file
}

// lockName is the name of the lock file in a store's directory.
const lockName = "lock"

// OpenFile opens the store in dir, creating the directory (mode 0700) if
// needed, and replays its files. When another process holds dir, it fails
// with ErrLocked after opt.LockTimeout. Entries out of the window or past
// opt.MaxEntries, as after lowering it, are dropped here.
func OpenFile(dir string, opt Options) (*FileStore, error) {
	return openFile(dir, opt, fileHooks{})
}

// openFile is OpenFile with hooks; unset hooks get their default.
func openFile(dir string, opt Options, hooks fileHooks) (*FileStore, error) {
	opt = opt.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dedupe open %s: %w", dir, err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName), opt.LockTimeout)
	if err != nil {
		return nil, fmt.Errorf("dedupe open %s: %w", dir, err)
	}

	s := newFileStore(dir, opt, hooks, lock)
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("dedupe open %s: %w", dir, err)
	}
	go s.flushLoop()
	return s, nil
}

// newFileStore returns an empty store in dir that holds lock.
func newFileStore(dir string, opt Options, hooks fileHooks, lock *os.File) *FileStore {
	if hooks.hash == nil {
		seed := maphash.MakeSeed()
		hooks.hash = func(key string) uint64 { return maphash.String(seed, key) }
	}
	if hooks.create == nil {
		hooks.create = func(path string) (*os.File, error) {
			return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		}
	}
	return &FileStore{
		dir: dir, opt: opt, hooks: hooks, lock: lock,
		perSegment: max(opt.MaxEntries/segmentSplit, 1),
		segmentAge: max(opt.Window/segmentSplit, 1),
		index:      map[uint64]uint64{},
		nextNum:    1,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
}

// Get returns the entry for key unless it is missing or out of bounds.
func (s *FileStore) Get(_ context.Context, key string) (Entry, bool, error) {
	h := s.hash(key)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Entry{}, false, fmt.Errorf("dedupe get: %w", ErrClosed)
	}
	seq, ok := s.index[h]
	if !ok || !s.live(seq) {
		s.mu.Unlock()
		return Entry{}, false, nil
	}
	rec, f, off := s.locate(seq)
	s.mu.Unlock()

	if f != nil {
		if _, err := f.ReadAt(rec, off); err != nil {
			return Entry{}, false, s.readFailed(err)
		}
	}
	return s.match(key, rec)
}

// locate returns the record of seq when it is not written yet. Otherwise
// it returns a buffer of the record's length and where to read it from.
func (s *FileStore) locate(seq uint64) ([]byte, *os.File, int64) {
	g := s.segmentOf(seq)
	off, end := g.span(seq)
	if off >= g.size {
		return append([]byte(nil), g.buf[off-g.size:end-g.size]...), nil, 0
	}
	return make([]byte, end-off), g.f, off
}

// readFailed returns the error of a Get whose read failed with err. A file
// closed meanwhile belonged to a segment just dropped, so that is a miss,
// unless the whole store was closed.
func (s *FileStore) readFailed(err error) error {
	if !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("dedupe get: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("dedupe get: %w", ErrClosed)
	}
	return nil
}

// match returns the entry of rec when it is key's and in the window.
func (s *FileStore) match(key string, rec []byte) (Entry, bool, error) {
	r, err := decodeRecord(rec)
	if err != nil {
		return Entry{}, false, fmt.Errorf("dedupe get: %w", err)
	}
	if string(r.key) != key || expired(r.at, s.opt.Now(), s.opt.Window) {
		return Entry{}, false, nil
	}
	return Entry{Status: r.status, Body: r.body, At: r.at}, true, nil
}

// Put records e under key, then drops the segments that are out of
// bounds. A failure of an earlier background write is returned by the
// next Put.
func (s *FileStore) Put(_ context.Context, key string, e Entry) error {
	if err := checkEntry(key, e); err != nil {
		return fmt.Errorf("dedupe put: %w", err)
	}
	h, now := s.hash(key), s.opt.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("dedupe put: %w", ErrClosed)
	}
	s.add(h, key, e, now)
	s.prune(now)
	err := s.flushErr
	s.flushErr = nil
	s.mu.Unlock()

	if s.opt.FlushInterval < 0 {
		return s.flush()
	}
	return err
}

// Len returns the number of entries held, including expired ones not yet
// dropped.
func (s *FileStore) Len() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("dedupe len: %w", ErrClosed)
	}
	n := 0
	for _, seq := range s.index {
		if s.live(seq) {
			n++
		}
	}
	return n, nil
}

// Close writes what is pending, syncs it, closes the files and releases
// the directory.
func (s *FileStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	close(s.stop)
	<-s.done
	err := s.flush()
	s.closeFiles()
	if err != nil {
		return fmt.Errorf("dedupe close: %w", err)
	}
	return nil
}

// closeFiles closes every segment file, deletes those of dropped segments,
// and releases the lock.
func (s *FileStore) closeFiles() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	segs, doomed := s.segs, s.doomed
	s.segs, s.doomed, s.index = nil, nil, map[uint64]uint64{}
	s.mu.Unlock()

	for _, g := range segs {
		if g.f != nil {
			_ = g.f.Close()
		}
	}
	_ = s.remove(doomed)
	_ = s.lock.Close()
}

// hash returns the index key of key.
func (s *FileStore) hash(key string) uint64 {
	return s.hooks.hash(key)
}
