package dedupe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// A record is one answer in a segment file, all numbers little-endian:
//
//	length   uint32  bytes after the checksum
//	checksum uint32  CRC-32C of the bytes after it
//	version  uint8   recordVersion
//	at       int64   when it was recorded, in Unix nanoseconds
//	status   uint16  the HTTP status
//	keyLen   uint16  the length of the key
//	key      keyLen bytes
//	body     the rest
const (
	// recordVersion is the version byte of a record.
	recordVersion = 1
	// frameLen is the length and checksum before a record's payload.
	frameLen = 4 + 4
	// fixedLen is the payload before the key: version, time, status and
	// key length.
	fixedLen = 1 + 8 + 2 + 2
	// maxRecordLen bounds a whole record, so that a corrupt length read
	// back cannot make a replay allocate gigabytes.
	maxRecordLen = 16 << 20
)

// castagnoli is the CRC-32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// record is a decoded record. Its slices point into the bytes it was
// decoded from.
type record struct {
	key    []byte
	status int
	at     time.Time
	body   []byte
}

// recordLen returns the length of the record of key and body.
func recordLen(key string, body []byte) int {
	return frameLen + fixedLen + len(key) + len(body)
}

// checkEntry reports why key and e cannot be recorded, if they cannot.
func checkEntry(key string, e Entry) error {
	if len(key) > math.MaxUint16 {
		return fmt.Errorf("key of %d bytes is too long", len(key))
	}
	if e.Status < 0 || e.Status > math.MaxUint16 {
		return fmt.Errorf("status %d is out of range", e.Status)
	}
	if n := recordLen(key, e.Body); n > maxRecordLen {
		return fmt.Errorf("answer of %d bytes is too long", n)
	}
	return nil
}

// appendRecord appends the record of key and e, made at at, to b.
func appendRecord(b []byte, key string, e Entry, at int64) []byte {
	start := len(b)
	n := fixedLen + len(key) + len(e.Body)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, 0) // the checksum, set below
	b = append(b, recordVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(at))
	b = binary.LittleEndian.AppendUint16(b, uint16(e.Status))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(key)))
	b = append(b, key...)
	b = append(b, e.Body...)
	sum := crc32.Checksum(b[start+frameLen:], castagnoli)
	binary.LittleEndian.PutUint32(b[start+4:], sum)
	return b
}

// decodeRecord decodes a whole record, checking its length and checksum.
func decodeRecord(b []byte) (record, error) {
	n, ok := payloadLen(b)
	if !ok || n != len(b)-frameLen {
		return record{}, fmt.Errorf("decode record: %w", ErrCorrupt)
	}
	return decodePayload(b[frameLen:], binary.LittleEndian.Uint32(b[4:]))
}

// payloadLen returns the payload length that a record's frame gives, and
// false when no record can be that long or short.
func payloadLen(frame []byte) (int, bool) {
	if len(frame) < frameLen {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(frame))
	return n, n >= fixedLen && n <= maxRecordLen-frameLen
}

// decodePayload decodes the payload of a record whose checksum is sum.
func decodePayload(p []byte, sum uint32) (record, error) {
	if crc32.Checksum(p, castagnoli) != sum || p[0] != recordVersion {
		return record{}, fmt.Errorf("decode record: %w", ErrCorrupt)
	}
	keyEnd := fixedLen + int(binary.LittleEndian.Uint16(p[11:]))
	if keyEnd > len(p) {
		return record{}, fmt.Errorf("decode record: %w", ErrCorrupt)
	}
	return record{
		key:    p[fixedLen:keyEnd],
		status: int(binary.LittleEndian.Uint16(p[9:])),
		at:     time.Unix(0, int64(binary.LittleEndian.Uint64(p[1:]))),
		body:   p[keyEnd:],
	}, nil
}

// readRecord reads the next record from r into buf, which it may grow,
// and returns it with its length. A record that is torn or corrupt is
// ErrCorrupt; a clean end of r is io.EOF.
func readRecord(r *bufio.Reader, buf *[]byte) (record, int, error) {
	var frame [frameLen]byte
	if _, err := io.ReadFull(r, frame[:]); err != nil {
		return record{}, 0, torn(err)
	}
	n, ok := payloadLen(frame[:])
	if !ok {
		return record{}, 0, fmt.Errorf("read record: %w", ErrCorrupt)
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	p := (*buf)[:n]
	if _, err := io.ReadFull(r, p); err != nil {
		return record{}, 0, torn(err)
	}
	rec, err := decodePayload(p, binary.LittleEndian.Uint32(frame[4:]))
	return rec, frameLen + n, err
}

// torn turns the end of a file inside a record into ErrCorrupt.
func torn(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read record: %w", ErrCorrupt)
	}
	return err
}
