package dedupe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// BoltStore is a Store in a bbolt file, so that what it remembers survives
// a restart. Only one process may have the file open.
//
// Beside the entries it keeps an index ordered by time. Each Put drops at
// most a small batch of the oldest entries, those out of the window and
// those past MaxEntries, so its work stays bounded and the file stops
// growing once it holds MaxEntries. Expired entries a Put has not dropped
// yet are ignored by Get.
//
// Puts are written behind: they are visible to Get at once, and committed
// together every Options.FlushInterval, so that a busy server pays one
// transaction and one disk sync per interval instead of one per message.
type BoltStore struct {
	db  *bolt.DB
	opt Options

	mu       sync.Mutex
	pending  map[string]Entry // put, not yet being committed
	flushing map[string]Entry // being committed now
	flushErr error            // the last background commit's failure
	flushMu  sync.Mutex       // one commit at a time
	stop     chan struct{}
	done     chan struct{}
}

// Bucket and key names inside the file.
var (
	bucketEntries = []byte("entries") // key → record
	bucketIndex   = []byte("index")   // recorded time + key → empty
	bucketMeta    = []byte("meta")
	metaCount     = []byte("count") // number of entries
)

const (
	// recordVersion is the first byte of a record.
	recordVersion = 1
	// headerLen is the record's version, time and status.
	headerLen = 1 + 8 + 2
	// sweepBatch bounds the entries one Put drops.
	sweepBatch = 64
)

// OpenBolt opens the store file at path, creating it if needed; the
// directory must exist. When another process holds the file, it fails
// with ErrLocked after opt.LockTimeout. Entries past opt.MaxEntries, as
// after lowering it, are dropped here.
func OpenBolt(path string, opt Options) (*BoltStore, error) {
	opt = opt.withDefaults()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("dedupe open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("dedupe open %s: %w", path, err)
	}

	s := &BoltStore{db: db, opt: opt, pending: map[string]Entry{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := db.Update(s.prepare); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("dedupe open %s: %w", path, err)
	}
	go s.flushLoop()
	return s, nil
}

// flushLoop commits pending entries every FlushInterval until Close.
func (s *BoltStore) flushLoop() {
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

// flush commits what was put since the last commit in one transaction.
func (s *BoltStore) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	batch := s.pending
	if len(batch) == 0 {
		s.mu.Unlock()
		return nil
	}
	s.pending, s.flushing = map[string]Entry{}, batch
	s.mu.Unlock()

	err := s.db.Update(func(tx *bolt.Tx) error {
		for k, e := range batch {
			if err := insert(tx, []byte(k), e); err != nil {
				return err
			}
		}
		return s.trim(tx, s.opt.Now(), len(batch)+sweepBatch)
	})

	s.mu.Lock()
	s.flushing = nil
	if err != nil {
		for k, e := range batch { // keep them for the next try
			if _, newer := s.pending[k]; !newer {
				s.pending[k] = e
			}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("dedupe put: %w", closed(err))
	}
	return nil
}

// unflushed returns the entry for key that is not committed yet.
func (s *BoltStore) unflushed(key string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.pending[key]; ok {
		return e, true
	}
	e, ok := s.flushing[key]
	return e, ok
}

// prepare creates the buckets and drops what is over the bounds.
func (s *BoltStore) prepare(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketEntries, bucketIndex, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return s.trim(tx, s.opt.Now(), -1)
}

// Get returns the entry for key unless it is missing or out of the window.
func (s *BoltStore) Get(_ context.Context, key string) (Entry, bool, error) {
	e, found := s.unflushed(key)
	if found {
		if expired(e.At, s.opt.Now(), s.opt.Window) {
			return Entry{}, false, nil
		}
		e.Body = append([]byte(nil), e.Body...)
		return e, true, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEntries).Get([]byte(key))
		if v == nil {
			return nil
		}
		var err error
		e, err = decode(v)
		found = err == nil
		return err
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("dedupe get: %w", closed(err))
	}

	if !found || expired(e.At, s.opt.Now(), s.opt.Window) {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// Put records e under key, then drops a batch of old entries.
// A failure of an earlier background commit is returned by the next Put.
func (s *BoltStore) Put(_ context.Context, key string, e Entry) error {
	e.At = s.opt.Now()
	e.Body = append([]byte(nil), e.Body...)
	s.mu.Lock()
	if s.pending == nil {
		s.mu.Unlock()
		return fmt.Errorf("dedupe put: %w", ErrClosed)
	}
	s.pending[key] = e
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
func (s *BoltStore) Len() (int, error) {
	if err := s.flush(); err != nil {
		return 0, fmt.Errorf("dedupe len: %w", err)
	}
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = count(tx)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dedupe len: %w", closed(err))
	}
	return int(n), nil
}

// Close commits what is pending and closes the file.
func (s *BoltStore) Close() error {
	s.mu.Lock()
	if s.pending == nil {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	ferr := s.flush()
	s.mu.Lock()
	s.pending = nil
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("dedupe close: %w", err)
	}
	return ferr
}

// insert puts e under key and in the index, replacing an earlier entry.
func insert(tx *bolt.Tx, key []byte, e Entry) error {
	entries, index := tx.Bucket(bucketEntries), tx.Bucket(bucketIndex)
	n := count(tx)

	if old := entries.Get(key); old == nil {
		n++
	} else if at, err := decodeAt(old); err == nil {
		if err := index.Delete(indexKey(at, key)); err != nil {
			return err
		}
	}

	if err := entries.Put(key, encode(e)); err != nil {
		return err
	}
	if err := index.Put(indexKey(e.At, key), []byte{}); err != nil {
		return err
	}
	return setCount(tx, n)
}

// trim drops, oldest first, the entries out of the window and those past
// MaxEntries: at most limit of them, or all when limit is negative.
func (s *BoltStore) trim(tx *bolt.Tx, now time.Time, limit int) error {
	n := count(tx)
	var drop [][]byte
	c := tx.Bucket(bucketIndex).Cursor()
	for k, _ := c.First(); k != nil && len(drop) != limit; k, _ = c.Next() {
		over := n-uint64(len(drop)) > uint64(s.opt.MaxEntries)
		if !over && !expired(atOf(k), now, s.opt.Window) {
			break
		}
		drop = append(drop, append([]byte(nil), k...))
	}

	entries, index := tx.Bucket(bucketEntries), tx.Bucket(bucketIndex)
	for _, k := range drop {
		if err := index.Delete(k); err != nil {
			return err
		}
		key := k[8:]
		// Delete the entry only if this index key is its own; a stale
		// index key must not take a newer entry with it.
		at, err := decodeAt(entries.Get(key))
		if err != nil || !at.Equal(atOf(k)) {
			continue
		}
		if err := entries.Delete(key); err != nil {
			return err
		}
		n--
	}
	return setCount(tx, n)
}

// count returns the number of entries.
func count(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(metaCount)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// setCount records the number of entries.
func setCount(tx *bolt.Tx, n uint64) error {
	return tx.Bucket(bucketMeta).Put(metaCount, binary.BigEndian.AppendUint64(nil, n))
}

// indexKey orders entries by the time they were recorded.
func indexKey(at time.Time, key []byte) []byte {
	return append(stamp(at), key...)
}

// atOf returns the time at the start of an index key.
func atOf(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
}

// stamp encodes t so that byte order is time order; times before 1970
// count as 1970.
func stamp(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(max(t.UnixNano(), 0)))
}

// encode returns the record of e.
func encode(e Entry) []byte {
	b := make([]byte, 0, headerLen+len(e.Body))
	b = append(b, recordVersion)
	b = append(b, stamp(e.At)...)
	b = binary.BigEndian.AppendUint16(b, uint16(e.Status))
	return append(b, e.Body...)
}

// decode returns the entry of a record, copying its body out of the file.
func decode(v []byte) (Entry, error) {
	at, err := decodeAt(v)
	if err != nil {
		return Entry{}, err
	}
	return Entry{
		Status: int(binary.BigEndian.Uint16(v[9:headerLen])),
		Body:   append([]byte{}, v[headerLen:]...),
		At:     at,
	}, nil
}

// decodeAt returns the time a record was made.
func decodeAt(v []byte) (time.Time, error) {
	if len(v) < headerLen || v[0] != recordVersion {
		return time.Time{}, fmt.Errorf("decode record: %w", ErrCorrupt)
	}
	return atOf(v[1:9]), nil
}

// closed turns the error of a closed file into ErrClosed.
func closed(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
