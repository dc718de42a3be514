// Package ratelimit limits how many messages one sender may send to one
// number in a period. Its memory is bounded: past a cap on tracked keys,
// the oldest windows are dropped.
package ratelimit

import (
	"sync"
	"time"
)

// DefaultMaxKeys bounds the senders tracked at once.
const DefaultMaxKeys = 100_000

// Limiter counts events per key in sliding windows of one period each
// (two fixed windows, weighted), which is smooth and needs two counters per
// key. The zero value is not usable; call New.
type Limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	maxKeys int
	keys    map[string]*window
}

type window struct {
	period time.Duration
	start  time.Time // start of the current fixed window
	cur    int
	prev   int
}

// New returns a Limiter tracking at most maxKeys keys (DefaultMaxKeys when
// 0), reading the time from now (time.Now when nil).
func New(maxKeys int, now func() time.Time) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, maxKeys: maxKeys, keys: map[string]*window{}}
}

// Allow records one event for key and reports whether it is within n per
// period.
func (l *Limiter) Allow(key string, n int, period time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.keys[key]
	if w == nil || w.period != period {
		if len(l.keys) >= l.maxKeys {
			l.sweep(now)
		}
		w = &window{period: period, start: now.Truncate(period)}
		l.keys[key] = w
	}
	w.advance(now)
	elapsed := now.Sub(w.start)
	weight := 1 - float64(elapsed)/float64(period)
	if float64(w.prev)*weight+float64(w.cur) >= float64(n) {
		return false
	}
	w.cur++
	return true
}

// advance moves the fixed windows forward to now.
func (w *window) advance(now time.Time) {
	switch d := now.Sub(w.start); {
	case d < w.period:
	case d < 2*w.period:
		w.prev, w.cur = w.cur, 0
		w.start = w.start.Add(w.period)
	default:
		w.prev, w.cur = 0, 0
		w.start = now.Truncate(w.period)
	}
}

// sweep drops windows that no longer count, and if that frees too little,
// an arbitrary half of the rest: a flood of new senders may reset old
// counts, but cannot grow memory without bound.
func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.start) >= 2*w.period {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.maxKeys/2 {
			break
		}
		delete(l.keys, k)
	}
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
