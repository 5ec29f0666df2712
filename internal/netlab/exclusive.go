package netlab

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Exclusive runs m's tests (call it from TestMain in place of m.Run) while
// no other test binary that calls it runs. The packages whose tests
// measure latency or loss, and those that load the machine (podman labs,
// 40 Mininet hosts), take turns: go test runs two packages at once on two
// cores, and one's load failed the other's figures (CI: a 1 MiB
// publication given up under 20 % loss, receive buffers overflowing,
// while the podman labs ran beside it). The lock is a flock on a file in
// the temporary folder, released when the binary exits, even by a crash.
func Exclusive(m *testing.M) int {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "ndnsvs-netlab-exclusive.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err == nil {
		defer f.Close()
		if unix.Flock(int(f.Fd()), unix.LOCK_EX) == nil {
			defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
		}
	}
	return m.Run()
}
