//go:build !race

package secinterop

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
)

// One forwarder serves every test (ndnd's globals allow one per process),
// with no network listener: nothing leaves the machine. Every group lives under
// testRoot, which is multicast, as a sync group's prefix must be.
var testFwd *fw.Forwarder

// testSock is the forwarder's unix socket, for the NDNts member (a
// separate process). It is the only listener: a local socket.
var testSock string

const testRoot = "secinterop"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "secinterop")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testSock = filepath.Join(dir, "nfd.sock")
	cfg := fw.DefaultConfig()
	cfg.Unix = fw.UnixConfig{Enabled: true, Path: testSock, Mode: 0o600}
	cfg.ForwarderLogLevel = slog.LevelError
	testFwd = fwtest.MustStart(cfg, "/"+testRoot)
	// The forwarder is not closed: process exit ends it (see
	// svs/main_test.go for why Close races with ndnd's forwarding threads).
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var groupSeq atomic.Uint64

// testGroup returns a group of its own for the test,
// /secinterop/<test>/<n>, and its components as quoted LVS strings, for
// the schema. A group per call keeps a Sync Interest of an earlier test
// (same vector, so same name) from being aggregated with a new one in the
// forwarder's PIT.
func testGroup(t testing.TB) (enc.Name, string) {
	t.Helper()
	test := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	n := groupSeq.Add(1)
	group := fwtest.Name(fmt.Sprintf("/%s/%s/%d", testRoot, test, n))
	return group, fmt.Sprintf("%q/%q/\"%d\"", testRoot, test, n)
}

// signal is a level-triggered wake-up: Notify never blocks, and a waiter
// re-checks its condition after every wake-up.
type signal chan struct{}

func newSignal() signal { return make(signal, 1) }

func (s signal) Notify() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// waitUntil waits until cond holds, re-checking it whenever sig fires, and
// fails the test after timeout with what(). cond is evaluated only when
// something changed: no polling.
func waitUntil(t testing.TB, sig signal, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	if !heard(sig, timeout, cond) {
		t.Fatalf("timed out after %v: %s", timeout, what())
	}
}

// heard waits up to timeout for cond, re-checking it when sig fires.
func heard(sig signal, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-sig:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}
