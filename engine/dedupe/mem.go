package dedupe

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"sync"
)

// MemStore is a Store in memory, for tests and for running without a data
// directory. It forgets everything on restart.
type MemStore struct {
	opt Options

	mu     sync.Mutex
	byKey  map[string]*list.Element
	order  *list.List // of *memItem, oldest first
	closed bool
}

// memItem is one entry of a MemStore.
type memItem struct {
	key   string
	entry Entry
}

// NewMem returns an empty MemStore. Options.LockTimeout is not used.
func NewMem(opt Options) *MemStore {
	return &MemStore{
		opt:   opt.withDefaults(),
		byKey: map[string]*list.Element{},
		order: list.New(),
	}
}

// Get returns the entry for key unless it is missing or out of the window.
func (s *MemStore) Get(_ context.Context, key string) (Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Entry{}, false, fmt.Errorf("dedupe get: %w", ErrClosed)
	}

	el, ok := s.byKey[key]
	if !ok {
		return Entry{}, false, nil
	}
	e := el.Value.(*memItem).entry
	if expired(e.At, s.opt.Now(), s.opt.Window) {
		return Entry{}, false, nil
	}
	e.Body = bytes.Clone(e.Body)
	return e, true, nil
}

// Put records e under key, then drops the entries out of the window and
// the oldest past MaxEntries.
func (s *MemStore) Put(_ context.Context, key string, e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("dedupe put: %w", ErrClosed)
	}

	now := s.opt.Now()
	if el, ok := s.byKey[key]; ok {
		s.order.Remove(el)
	}
	e.At, e.Body = now, bytes.Clone(e.Body)
	s.byKey[key] = s.order.PushBack(&memItem{key: key, entry: e})

	for el := s.order.Front(); el != nil; el = s.order.Front() {
		it := el.Value.(*memItem)
		if s.order.Len() <= s.opt.MaxEntries &&
			!expired(it.entry.At, now, s.opt.Window) {
			break
		}
		s.order.Remove(el)
		delete(s.byKey, it.key)
	}
	return nil
}

// Len returns the number of entries held, including expired ones not yet
// dropped.
func (s *MemStore) Len() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("dedupe len: %w", ErrClosed)
	}
	return s.order.Len(), nil
}

// Close drops every entry.
func (s *MemStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.byKey, s.order = nil, list.New()
	return nil
}
