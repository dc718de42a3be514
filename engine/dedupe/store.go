package dedupe

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of the package.
var (
	// ErrLocked means another process holds the store's files.
	ErrLocked = errors.New("store is held by another process")
	// ErrClosed means the store was used after Close.
	ErrClosed = errors.New("store is closed")
	// ErrCorrupt means a stored record could not be decoded.
	ErrCorrupt = errors.New("stored record is corrupt")
	// ErrNoAnswer means the run a duplicate waited for ended without an
	// answer, because it panicked.
	ErrNoAnswer = errors.New("the first run ended without an answer")
)

// Entry is a remembered answer. It holds no content type: every answer is
// LaML, served as XML.
type Entry struct {
	// Status is the HTTP status of the answer.
	Status int
	// Body is the whole reply. Callers must not modify it.
	Body []byte
	// At is when the store recorded the answer. Put sets it from the
	// store's clock; a value given by the caller is ignored.
	At time.Time
}

// Store remembers answers by key for a window of time. Implementations are
// safe for concurrent use.
type Store interface {
	// Get returns the entry for key, and false when there is none or it
	// is older than the window.
	Get(ctx context.Context, key string) (Entry, bool, error)
	// Put records e under key, replacing any earlier entry.
	Put(ctx context.Context, key string, e Entry) error
	// Close releases the store. Later calls fail with ErrClosed.
	Close() error
}

// Default values of Options.
const (
	// DefaultWindow is the default of Options.Window.
	DefaultWindow = 24 * time.Hour
	// DefaultMaxEntries is the default of Options.MaxEntries.
	DefaultMaxEntries = 100_000
	// DefaultLockTimeout is the default of Options.LockTimeout.
	DefaultLockTimeout = time.Second
	// DefaultFlushInterval is the default of Options.FlushInterval.
	DefaultFlushInterval = 50 * time.Millisecond
)

// Options configures a store. The zero value gives the defaults.
type Options struct {
	// Window is how long an entry is remembered. Default 24h.
	Window time.Duration
	// MaxEntries bounds the number of entries; past it the oldest are
	// evicted even inside the window. Default 100000, which with typical
	// LaML replies of a few hundred bytes is tens of megabytes.
	MaxEntries int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// LockTimeout is how long OpenFile waits for a directory that another
	// process holds before it fails with ErrLocked. Default 1s.
	LockTimeout time.Duration
	// FlushInterval is how often a FileStore writes the entries put since
	// the last write, with one write and one sync to disk. A crash loses
	// at most this much of the record. Default 50ms; a negative value
	// writes and syncs every Put on its own.
	FlushInterval time.Duration
}

// withDefaults returns o with every unset field given its default.
func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	return o
}

// expired reports whether an entry recorded at at is out of the window.
func expired(at, now time.Time, window time.Duration) bool {
	return now.Sub(at) >= window
}

// MessageKey is the key for a message: its MessageSid, namespaced by the
// number it was sent to.
func MessageKey(number, messageSid string) string {
	return "msg:" + number + ":" + messageSid
}

// TokenKey is the key for a webhook delivery by its idempotency token,
// namespaced by the number it was sent to. Retries of one delivery carry
// the same token and the same MessageSid, so MessageKey is enough when
// the MessageSid is present; TokenKey serves requests without one.
func TokenKey(number, token string) string {
	return "idem:" + number + ":" + token
}
