package dedupe

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// segmentSplit is how many segments the bounds are cut into: a segment
	// takes at most MaxEntries/16 records and Window/16 of time.
	segmentSplit = 16
	// maxSegmentBytes starts a new segment before one grows past it, so
	// that record offsets fit in 32 bits.
	maxSegmentBytes = 256 << 20
	// maxPrealloc bounds the per-record slices made for a new segment.
	maxPrealloc = 8192
	// segmentExt ends the name of a segment file.
	segmentExt = ".seg"
)

// segment is one file of records. The records' sequence numbers follow on
// from one segment to the next, so the index needs only a record's number
// to find its segment, its place there, and whether it is in bounds.
type segment struct {
	num     uint64   // the number in the file's name
	f       *os.File // nil until the first write
	size    int64    // bytes of valid records in the file
	buf     []byte   // records not written yet; they follow size
	first   uint64   // sequence number of the first record
	hashes  []uint64 // each record's key hash, in order
	offs    []uint32 // each record's offset in the file, in order
	firstAt int64    // when the first record was made, in Unix ns
	lastAt  int64    // when the last record was made, in Unix ns
	dropped bool     // out of bounds; its file is to be deleted
}

// newSegment returns an empty segment whose first record will be first.
func newSegment(num, first uint64, prealloc int) *segment {
	n := min(prealloc, maxPrealloc)
	return &segment{num: num, first: first,
		hashes: make([]uint64, 0, n), offs: make([]uint32, 0, n)}
}

// count returns the number of records in g.
func (g *segment) count() int {
	return len(g.hashes)
}

// last returns the sequence number of g's last record; g must have one.
func (g *segment) last() uint64 {
	return g.first + uint64(len(g.hashes)) - 1
}

// end returns the offset after g's last record.
func (g *segment) end() int64 {
	return g.size + int64(len(g.buf))
}

// span returns the offsets where the record of seq starts and ends.
func (g *segment) span(seq uint64) (int64, int64) {
	i := int(seq - g.first)
	if i+1 < len(g.offs) {
		return int64(g.offs[i]), int64(g.offs[i+1])
	}
	return int64(g.offs[i]), g.end()
}

// push notes a record of hash h at offset off, made at at.
func (g *segment) push(h uint64, off int64, at int64) {
	if g.count() == 0 {
		g.firstAt = at
	}
	g.hashes = append(g.hashes, h)
	g.offs = append(g.offs, uint32(off))
	g.lastAt = at
}

// segmentName returns the file name of segment num.
func segmentName(num uint64) string {
	return fmt.Sprintf("%020d%s", num, segmentExt)
}

// segmentPath returns the path of segment num in dir.
func segmentPath(dir string, num uint64) string {
	return filepath.Join(dir, segmentName(num))
}

// segmentNum returns the number of a segment file's name, and false when
// name is not one.
func segmentNum(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok {
		return 0, false
	}
	num, err := strconv.ParseUint(digits, 10, 64)
	return num, err == nil
}

// add appends the record of key and e to the newest segment, starting a
// new one when that is full, and points the index at it.
func (s *FileStore) add(h uint64, key string, e Entry, now time.Time) {
	g := s.writable(recordLen(key, e.Body), now)
	at := now.UnixNano()
	g.push(h, g.end(), at)
	g.buf = appendRecord(g.buf, key, e, at)
	s.head++
	s.index[h] = s.head
}

// writable returns the segment that takes a record of n bytes made at
// now: the newest one, or a new one when the newest is full.
func (s *FileStore) writable(n int, now time.Time) *segment {
	if len(s.segs) > 0 {
		g := s.segs[len(s.segs)-1]
		if g.count() == 0 || !s.full(g, n, now) {
			return g
		}
	}
	g := newSegment(s.nextNum, s.head+1, s.perSegment)
	g.buf, s.spare = s.spare, nil
	s.nextNum++
	s.segs = append(s.segs, g)
	return g
}

// full reports whether g must not take a record of n bytes made at now.
func (s *FileStore) full(g *segment, n int, now time.Time) bool {
	return g.count() >= s.perSegment ||
		now.Sub(time.Unix(0, g.firstAt)) >= s.segmentAge ||
		g.end()+int64(n) > maxSegmentBytes
}

// live reports whether the record of seq is within MaxEntries of the
// newest one.
func (s *FileStore) live(seq uint64) bool {
	return s.head-seq < uint64(s.opt.MaxEntries)
}

// dead reports whether none of g's records can be returned any more.
func (s *FileStore) dead(g *segment, now time.Time) bool {
	return g.count() == 0 || !s.live(g.last()) ||
		expired(time.Unix(0, g.lastAt), now, s.opt.Window)
}

// prune drops the oldest segments while they are dead. The newest one
// stays, as it takes the next records.
func (s *FileStore) prune(now time.Time) {
	for len(s.segs) > 1 && s.dead(s.segs[0], now) {
		s.drop(s.segs[0])
		s.segs[0] = nil
		s.segs = s.segs[1:]
	}
}

// drop removes g's records from the index and leaves its file for the
// next flush to delete.
func (s *FileStore) drop(g *segment) {
	for i, h := range g.hashes {
		if s.index[h] == g.first+uint64(i) {
			delete(s.index, h)
		}
	}
	g.hashes, g.offs, g.buf, g.dropped = nil, nil, nil, true
	s.doomed = append(s.doomed, g)
}

// segmentOf returns the segment that holds the record of seq.
func (s *FileStore) segmentOf(seq uint64) *segment {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].first > seq })
	return s.segs[i-1]
}
