package dedupe

import (
	"errors"
	"os"
	"syscall"
)

// datasync writes f's data to disk, with the metadata needed to read it
// back (its size) but not the rest (its times).
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) { serr = syscall.Fdatasync(int(fd)) })
	return errors.Join(err, serr)
}
