package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// Built once per test binary.
var (
	buildOnce sync.Once
	buildErr  error
	nodeBin   string
	ndndBin   string
	binDir    string
)

func TestMain(m *testing.M) {
	code := netlab.Exclusive(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds ndnsvs-node and ndnd's CLI (pinned by go.mod's tool line).
func binaries(t *testing.T) (node, ndnd string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ndnsvs-e2e-bin")
		if buildErr != nil {
			return
		}
		nodeBin = filepath.Join(binDir, "ndnsvs-node")
		ndndBin = filepath.Join(binDir, "ndnd")
		for _, b := range [][2]string{
			{nodeBin, "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node"},
			{ndndBin, "github.com/named-data/ndnd/cmd/ndnd"},
		} {
			out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return nodeBin, ndndBin
}

// node is a running ndnsvs-node process.
type node struct {
	t      *testing.T
	cmd    *exec.Cmd
	sock   string
	mu     sync.Mutex
	log    strings.Builder
	exited chan struct{}
	stops  sync.Once // stop runs once: a test may stop a node before its cleanup does
}

// startNode runs ndnsvs-node with the given TOML (the unix socket path is
// appended) and waits for its "node ready" line. With netns set, it runs in
// that network namespace. It is stopped with SIGTERM at cleanup, and must
// exit 0.
func startNode(t *testing.T, netns, toml string) *node {
	t.Helper()
	bin, _ := binaries(t)
	dir := t.TempDir()
	n := &node{t: t, sock: filepath.Join(dir, "nfd.sock"), exited: make(chan struct{})}
	cfgPath := filepath.Join(dir, "node.toml")
	full := toml + fmt.Sprintf("\n[faces.unix]\nenabled = true\npath = %q\n", n.sock)
	// The node's state (its id, its stores) stays in the test's directory,
	// never in the machine's default one.
	stateDir := fmt.Sprintf("state_dir = %q\n", filepath.Join(dir, "state"))
	if strings.Contains(full, "[node]\n") {
		if !strings.Contains(full, "state_dir") {
			full = strings.Replace(full, "[node]\n", "[node]\n"+stateDir, 1)
		}
	} else {
		full += "[node]\n" + stateDir
	}
	if !strings.Contains(toml, "[metrics]") {
		// The metrics listener's default port is one per machine: tests
		// run several nodes at once.
		full += "[metrics]\nlisten = \"127.0.0.1:0\"\n"
	}
	if err := os.WriteFile(cfgPath, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{bin, "run", "--config", cfgPath}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	n.cmd = exec.Command(args[0], args[1:]...)
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		defer close(n.exited)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.log.WriteString(line + "\n")
			n.mu.Unlock()
			if strings.Contains(line, "node ready") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(n.stop)
	select {
	case <-ready:
	case <-n.exited:
		t.Fatalf("node exited before ready:\n%s", n.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("node not ready after 20s:\n%s", n.logs())
	}
	return n
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// alive reports whether the process is still running.
func (n *node) alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// stop interrupts the node and checks that it exits 0 within 15 s. Safe to
// call more than once (a test's own call, then its cleanup).
func (n *node) stop() { n.stops.Do(n.stopOnce) }

func (n *node) stopOnce() {
	if n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { <-n.exited; done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.t.Errorf("node exit: %v\n%s", err, n.logs())
		}
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		n.t.Errorf("node did not stop within 15s\n%s", n.logs())
	}
}

// ndnd runs ndnd's CLI against a node's unix socket and returns its output.
func ndnd(t *testing.T, sock string, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	_, bin := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT=unix://"+sock)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startNdnd starts a long-running ndnd CLI command (a producer) and stops
// it at cleanup.
func startNdnd(t *testing.T, sock string, args ...string) *exec.Cmd {
	t.Helper()
	_, bin := binaries(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT=unix://"+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// pingUntil pings prefix through sock until one ping gets an answer or the
// deadline passes: routes and multicast faces need a moment after start.
func pingUntil(t *testing.T, sock, prefix string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	var out string
	t0 := time.Now()
	for try := 1; time.Now().Before(deadline); try++ {
		var err error
		out, err = ndnd(t, sock, 10*time.Second, "ping", prefix, "-c", "3", "-i", "100", "-t", "1000")
		if err == nil && strings.Contains(out, "content from") {
			t.Logf("ping %s: answered on try %d after %v", prefix, try, time.Since(t0).Round(time.Millisecond))
			return out
		}
	}
	t.Fatalf("no ping answer from %s within %v; last output:\n%s", prefix, within, out)
	return ""
}

// localOnly is a node configuration that opens nothing but its unix socket.
const localOnly = `
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
`

const e2eSecond = time.Second
