// Package dedupe makes a repeated webhook get the answer of the first one
// without running its script again. A Deduper remembers answers in a Store
// for a window of time, and makes a duplicate that arrives while the first
// is still running wait for that run instead of starting another.
package dedupe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
)

// maxKeyLen bounds the key a store sees; longer keys are hashed.
const maxKeyLen = 256

// Deduper runs each key's work once. It is safe for concurrent use.
type Deduper struct {
	store Store
	log   *slog.Logger

	mu       sync.Mutex
	inflight map[string]*call
}

// call is one run that duplicates may wait for.
type call struct {
	done  chan struct{}
	entry Entry
	ok    bool
}

// New returns a Deduper that remembers answers in store, which must not be
// nil, and logs the store's failures to logger. A nil logger discards.
func New(store Store, logger *slog.Logger) *Deduper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Deduper{store: store, log: logger, inflight: map[string]*call{}}
}

// Do returns the answer for key, calling run only when key has no answer
// yet. The key is the caller's choice; MessageKey and TokenKey build the
// usual ones, and keys over 256 bytes are replaced by their SHA-256.
//
// With key "" Do just calls run. When the store remembers key, or another
// Do with the same key is running, Do returns that answer with repeated
// true and does not call run; a waiting Do gives up when ctx ends and
// returns its error. Otherwise Do calls run and returns its answer.
//
// Only answers with status 200 are remembered, so that a retry of a failed
// (5xx) answer runs again. Duplicates that waited for a run share its
// answer whatever the status. A failing store does not lose the message:
// the failure is logged at Error level and Do runs and answers as if the
// key were new. If run panics, the panic goes to Do's caller and the
// duplicates that waited for it get ErrNoAnswer.
func (d *Deduper) Do(ctx context.Context, key string,
	run func() Entry) (e Entry, repeated bool, err error) {
	if key == "" {
		return run(), false, nil
	}
	key = shorten(key)

	d.mu.Lock()
	if c, ok := d.inflight[key]; ok {
		d.mu.Unlock()
		return wait(ctx, c)
	}
	c := &call{done: make(chan struct{})}
	d.inflight[key] = c
	d.mu.Unlock()

	e, repeated = d.lead(ctx, key, c, run)
	return e, repeated, nil
}

// lead looks key up and runs when it is new, then lets the duplicates go.
func (d *Deduper) lead(ctx context.Context, key string, c *call,
	run func() Entry) (Entry, bool) {
	defer d.finish(key, c)

	if e, ok := d.lookup(ctx, key); ok {
		c.entry, c.ok = e, true
		return e, true
	}

	e := run()
	c.entry, c.ok = e, true

	if e.Status == http.StatusOK {
		d.remember(ctx, key, e)
	}
	return e, false
}

// finish ends the run of key. It comes after the answer is stored, so
// that a duplicate arriving meanwhile finds it in one place or the other.
func (d *Deduper) finish(key string, c *call) {
	d.mu.Lock()
	delete(d.inflight, key)
	d.mu.Unlock()
	close(c.done)
}

// lookup returns the stored entry for key, logging a store failure.
func (d *Deduper) lookup(ctx context.Context, key string) (Entry, bool) {
	e, ok, err := d.store.Get(ctx, key)
	if err != nil {
		d.log.ErrorContext(ctx, "dedupe lookup failed, running anyway",
			"err", err)
		return Entry{}, false
	}
	return e, ok
}

// remember stores e under key, logging a store failure.
func (d *Deduper) remember(ctx context.Context, key string, e Entry) {
	if err := d.store.Put(ctx, key, e); err != nil {
		d.log.ErrorContext(ctx, "dedupe record failed, a retry will run again",
			"err", err)
	}
}

// wait returns the answer of the run c, or ctx's error if ctx ends first.
func wait(ctx context.Context, c *call) (Entry, bool, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return Entry{}, false, fmt.Errorf("dedupe wait: %w", ctx.Err())
	}
	if !c.ok {
		return Entry{}, false, fmt.Errorf("dedupe wait: %w", ErrNoAnswer)
	}
	return c.entry, true, nil
}

// shorten replaces a key longer than maxKeyLen by its SHA-256, so that a
// store holds a bounded amount per key.
func shorten(key string) string {
	if len(key) <= maxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}
