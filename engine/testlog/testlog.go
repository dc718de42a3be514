// Package testlog is a log sink for tests: goroutines of the server under
// test write to it while the test reads what was logged so far.
package testlog

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer collects writes; it is safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether sub was written.
func (b *Buffer) Contains(sub string) bool { return strings.Contains(b.String(), sub) }
