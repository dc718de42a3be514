package dedupe

import "os"

// SegmentSplit exposes how many segments the bounds are cut into.
const SegmentSplit = segmentSplit

// OpenFileHashed is OpenFile with hash in place of the store's own hash of
// keys, to force collisions.
func OpenFileHashed(dir string, opt Options,
	hash func(string) uint64) (*FileStore, error) {
	return openFile(dir, opt, fileHooks{hash: hash})
}

// OpenFileCreating is OpenFile with create in place of the making of
// segment files, to make writes fail.
func OpenFileCreating(dir string, opt Options,
	create func(string) (*os.File, error)) (*FileStore, error) {
	return openFile(dir, opt, fileHooks{create: create})
}

// IndexLen returns the number of keys in the index, including those out
// of bounds whose segment is not dropped yet.
func (s *FileStore) IndexLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.index)
}

// Flush writes what is pending now.
func (s *FileStore) Flush() error {
	return s.flush()
}
