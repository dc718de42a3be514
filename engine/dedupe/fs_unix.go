//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package dedupe

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often lockDir tries again to take a held lock.
const lockPoll = 10 * time.Millisecond

// lockDir opens the lock file at path and takes an exclusive flock on it,
// trying again until timeout; when another process keeps it, it fails with
// ErrLocked. Closing the file releases the lock.
func lockDir(path string, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	err = flock(f)
	for errors.Is(err, syscall.EWOULDBLOCK) && time.Now().Before(deadline) {
		time.Sleep(min(lockPoll, time.Until(deadline)))
		err = flock(f)
	}
	if err == nil {
		return f, nil
	}
	_ = f.Close()
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, ErrLocked
	}
	return nil, fmt.Errorf("lock: %w", err)
}

// flock takes an exclusive lock on f without waiting.
func flock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// syncDir syncs the directory dir, so that the files just made in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
