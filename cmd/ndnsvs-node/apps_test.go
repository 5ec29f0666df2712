package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/node"
)

// The apps' tests attach to one node run in this process (ndnd's globals
// allow one forwarder per process): loopback only, no UDP, no multicast,
// its unix socket in a directory of its own. It is started by the first
// test that needs it and ends with the process.
var (
	testNodeOnce sync.Once
	testNodeSock string
	testNodeErr  error
)

// attachTestNode starts the shared node if needed and points this test's
// NDN_CLIENT_TRANSPORT at it.
func attachTestNode(t *testing.T) {
	t.Helper()
	testNodeOnce.Do(func() {
		dir, err := mkdirTemp()
		if err != nil {
			testNodeErr = err
			return
		}
		c := config.Default()
		c.Node.Name = "/test/apps-node"
		c.Node.StateDir = filepath.Join(dir, "state")
		c.Faces.Unix.Path = filepath.Join(dir, "nfd.sock")
		c.Faces.UDP.Enabled = false
		c.Faces.Multicast.Enabled = false
		c.Metrics.Enabled = false
		// ndnd v1.5.3's forwarding threads race on shared PIT-CS tree
		// nodes (see svs's TestMain); one thread keeps -race about ours.
		c.Forwarder.Threads = 1
		n, err := node.New(c, slog.New(slog.DiscardHandler), io.Discard)
		if err != nil {
			testNodeErr = err
			return
		}
		ran := make(chan error, 1)
		go func() { ran <- n.Run(context.Background()) }()
		select {
		case <-n.Ready():
			testNodeSock = c.Faces.Unix.Path
		case testNodeErr = <-ran:
		case <-time.After(30 * time.Second):
			testNodeErr = context.DeadlineExceeded
		}
	})
	if testNodeErr != nil {
		t.Fatalf("test node: %v", testNodeErr)
	}
	t.Setenv("NDN_CLIENT_TRANSPORT", "unix://"+testNodeSock)
}

// screen is an app's stdout: safe for concurrent writes, and it signals
// every write so that a test waits for a line without polling.
type screen struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newScreen() *screen { return &screen{changed: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the screen holds want (after from bytes, if given),
// or fails the test after timeout.
func (s *screen) waitFor(t *testing.T, who, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("%s: %q not on screen after %v:\n%s", who, want, timeout, s.String())
		}
	}
}

// runningApp is an app run by a test through runApp.
type runningApp struct {
	out, errs *screen
	cancel    context.CancelFunc
	code      chan int
}

// startApp runs ndnsvs-node <name> args with stdin in; it is stopped at
// cleanup.
func startApp(t *testing.T, name string, stdin io.Reader, args ...string) *runningApp {
	t.Helper()
	a := lookupApp(name)
	if a == nil {
		t.Fatalf("no app %q", name)
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningApp{out: newScreen(), errs: newScreen(), cancel: cancel, code: make(chan int, 1)}
	go func() { r.code <- runApp(ctx, a, args, appIO{stdin: stdin, stdout: r.out, stderr: r.errs}) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the app and returns its exit code (once; later calls
// return -1).
func (r *runningApp) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case c, ok := <-r.code:
		if !ok {
			return -1
		}
		close(r.code)
		return c
	case <-time.After(15 * time.Second):
		t.Errorf("app did not stop within 15s; stderr:\n%s", r.errs.String())
		return -1
	}
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "ndnsvs-apps") }

// Bad flags are usage errors (2), -h prints the flags (0), and
// --attach yes with no node answering fails (1) saying where it looked.
func TestAppFlags(t *testing.T) {
	t.Setenv("NDN_CLIENT_TRANSPORT", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, exitUsage, "-n NAME is required"},
		{[]string{"-n", "/a", "-gp", "/"}, exitUsage, "-gp"},
		{[]string{"-n", "/a", "--attach", "maybe"}, exitUsage, "want auto, yes or no"},
		{[]string{"-n", "/a", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"-n", "/a", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"-n", "/a", "--attach", "yes"}, exitFailure, "none.sock"},
	} {
		var out, errs bytes.Buffer
		code := runApp(context.Background(), lookupApp("alive"), tc.args, appIO{stdin: strings.NewReader(""), stdout: &out, stderr: &errs})
		if code != tc.code || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("alive %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs.String(), tc.code, tc.want)
		}
	}
	for _, a := range apps {
		var out bytes.Buffer
		if code := appMain(a, []string{"-h"}, appIO{stdout: &out, stderr: io.Discard}); code != exitOK ||
			!strings.Contains(out.String(), "ndnsvs-node "+a.name+" -n NAME") || !strings.Contains(out.String(), "-gp PREFIX") {
			t.Errorf("%s -h: exit %d:\n%s", a.name, code, out.String())
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
