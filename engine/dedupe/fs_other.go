//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package dedupe

import (
	"os"
	"time"
)

// lockDir opens the lock file at path.
//
// BUG: this platform has no flock, so a second process is not kept out
// of the directory.
func lockDir(path string, _ time.Duration) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// syncDir does nothing: a directory cannot be synced on this platform.
func syncDir(string) error {
	return nil
}
