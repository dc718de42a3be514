package dedupe

import (
	"bufio"
	"errors"
	"io"
	"os"
	"slices"
	"time"
)

// replayBuffer is the read buffer of a replay.
const replayBuffer = 64 << 10

// load replays the segment files in order to rebuild the index, later
// records winning, then drops what is out of the bounds.
func (s *FileStore) load() error {
	nums, err := segmentNums(s.dir)
	if err != nil {
		return err
	}
	now := s.opt.Now()
	for i, num := range nums {
		if err := s.replay(num, i == len(nums)-1, now); err != nil {
			return err
		}
		s.nextNum = num + 1
	}

	s.prune(now)
	for h, seq := range s.index {
		if !s.live(seq) {
			delete(s.index, h)
		}
	}
	doomed := s.doomed
	s.doomed = nil
	return s.remove(doomed)
}

// segmentNums returns the numbers of the segment files in dir, in order.
func segmentNums(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []uint64
	for _, e := range entries {
		if num, ok := segmentNum(e.Name()); ok && e.Type().IsRegular() {
			nums = append(nums, num)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// replay reads the records of segment num into the index. A torn or
// corrupt record ends the segment: the newest one (last) is cut there, so
// that new records follow the valid ones; an older one keeps its bytes
// but is read no further. An older segment without a valid record is
// dropped.
func (s *FileStore) replay(num uint64, last bool, now time.Time) error {
	f, err := os.OpenFile(segmentPath(s.dir, num), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	g := newSegment(num, s.head+1, s.perSegment)
	g.f = f
	if g.size, err = s.scan(g, now); err != nil {
		_ = f.Close()
		return err
	}

	switch {
	case last:
		err = cutTail(f, g.size)
	case g.count() == 0:
		g.dropped = true
		s.doomed = append(s.doomed, g)
		return nil
	}
	s.segs = append(s.segs, g)
	return err
}

// scan reads g's records in order into the index and returns where the
// valid ones end: at the end of the file or where a record is torn or
// corrupt. The newest record of a hash takes its slot, unless it is out
// of the window, which frees the slot.
func (s *FileStore) scan(g *segment, now time.Time) (int64, error) {
	fi, err := g.f.Stat()
	if err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(g.f, replayBuffer)
	var buf []byte
	off, size := int64(0), min(fi.Size(), maxSegmentBytes)
	for off < size {
		rec, n, err := readRecord(r, &buf)
		if errors.Is(err, ErrCorrupt) || errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}

		h := s.hash(string(rec.key))
		g.push(h, off, rec.at.UnixNano())
		s.head++
		if expired(rec.at, now, s.opt.Window) {
			delete(s.index, h)
		} else {
			s.index[h] = s.head
		}
		off += int64(n)
	}
	return off, nil
}

// cutTail cuts f at size when it is longer, and syncs the cut.
func cutTail(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == size {
		return err
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return datasync(f)
}
