package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/node"
)

// statusNodeEnv makes TestStatusNodeProcess run a node: this package's
// tests share one in-process forwarder already (attachTestNode, metrics
// off), and ndnd allows one per process.
const statusNodeEnv = "NDNSVS_STATUS_TEST_NODE"

// TestStatusNodeProcess runs a node with a group, its unix socket and its
// metrics listener, publishes once, prints "ready <metrics address>
// <socket>" and runs until its stdin closes. It is the child process of
// startStatusNode.
func TestStatusNodeProcess(t *testing.T) {
	dir := os.Getenv(statusNodeEnv)
	if dir == "" {
		t.Skip("helper process of the status tests")
	}
	c := config.Default()
	c.Node.Name = "/test/status-node"
	c.Node.StateDir = filepath.Join(dir, "state")
	c.Faces.Unix.Path = filepath.Join(dir, "nfd.sock")
	c.Faces.UDP.Enabled = false
	c.Faces.Multicast.Enabled = false
	c.Metrics.Listen = "127.0.0.1:0"
	c.Groups = []config.Group{{Prefix: "/test/status-group"}}
	n, err := node.New(c, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-ran:
		t.Fatal(err)
	}
	s := n.Syncs()["/test/status-group"]
	if _, err := s.PublishSeq(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\nready %s %s\n", n.MetricsAddr(), c.Faces.Unix.Path)
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}

// startStatusNode starts TestStatusNodeProcess and returns its metrics
// listener's URL and its socket's transport; the node stops at cleanup.
func startStatusNode(t *testing.T) (url, transport string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStatusNodeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), statusNodeEnv+"="+t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("status test node: %v", err)
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the status test node exited before it was ready")
			}
			if f := strings.Fields(l); len(f) == 3 && f[0] == "ready" {
				go func() {
					for range lines { // drain the rest
					}
				}()
				return "http://" + f[1], "unix://" + f[2]
			}
		case <-timeout:
			t.Fatal("the status test node was not ready within 30 s")
		}
	}
}

func runStatus(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmd(t, append([]string{"status"}, args...)...)
}

// status asks both the metrics listener and the socket: the table shows
// the group with the node's member, the faces with their counters and the
// routes; -o json has the same, for scripts.
func TestStatusOfARunningNode(t *testing.T) {
	url, transport := startStatusNode(t)

	code, out, errOut := runStatus(t, "--url", url, "--transport", transport)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"node /test/status-node  ready",
		"group /test/status-group  member /test/status-node boot ",
		"MEMBER", "/test/status-node (this node)",
		"Sync latency: 0 samples",
		"FACES", "unix://", "internal://",
		"ROUTES", "/test/status-group ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	t.Logf("ndnsvs-node status:\n%s", out)

	code, out, errOut = runStatus(t, "--url", url, "--transport", transport, "-o", "json")
	if code != exitOK || errOut != "" {
		t.Fatalf("-o json: exit %d, stderr %q", code, errOut)
	}
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if r.Status == nil || len(r.Status.Groups) != 1 || len(r.Status.Groups[0].Members) != 1 {
		t.Fatalf("-o json: status %+v", r.Status)
	}
	m := r.Status.Groups[0].Members[0]
	if m.Name != "/test/status-node" || m.Seq != 1 || !m.Self || m.LastHeard == nil || m.Boot != r.Status.Groups[0].Boot {
		t.Errorf("-o json: member %+v", m)
	}
	routed := false
	for _, rt := range r.Routes {
		routed = routed || rt.Prefix == "/test/status-group"
	}
	if !routed || len(r.Faces) < 2 || len(r.Errors) != 0 {
		t.Errorf("-o json: routes %+v faces %+v errors %q", r.Routes, r.Faces, r.Errors)
	}
	// The socket's face list has the in-process faces' counters: the
	// member's face sent its Sync Interests.
	var sent uint64
	for _, f := range r.Faces {
		if strings.HasPrefix(f.Remote, "internal://") {
			sent += f.InInterests
		}
	}
	if sent < 2 {
		t.Errorf("-o json: the in-process faces gave the forwarder %d Interests, want the announcement and the publication", sent)
	}

	// With one of the two off, the other is shown, and what is missing
	// said on stderr.
	code, out, errOut = runStatus(t, "--url", "none", "--transport", transport)
	if code != exitOK || !strings.Contains(errOut, "metrics listener not asked") || !strings.Contains(out, "ROUTES") || strings.Contains(out, "group /") {
		t.Errorf("--url none: exit %d, stderr %q\n%s", code, errOut, out)
	}
	code, out, errOut = runStatus(t, "--url", url, "--transport", "none")
	if code != exitOK || !strings.Contains(errOut, "unix socket not asked") || !strings.Contains(out, "group /test/status-group") || !strings.Contains(out, "FACES") {
		t.Errorf("--transport none: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// With no node running, status says where it looked and why nothing
// answered, and exits 1; bad flags exit 2.
func TestStatusWithoutANode(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	code, out, errOut := runStatus(t, "--url", "http://127.0.0.1:1", "--transport", "unix://"+sock)
	if code != exitFailure || out != "" ||
		!strings.Contains(errOut, "no node answers") || !strings.Contains(errOut, "127.0.0.1:1") ||
		!strings.Contains(errOut, "connection refused") || !strings.Contains(errOut, sock) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"-o", "yaml"}, {"--url", "ftp://x"}, {"--transport", "tcp://127.0.0.1:6363"}, {"extra"}, {"--config", ""}, {"--nope"},
	} {
		if code, _, errOut := runStatus(t, args...); code != exitUsage || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
	if code, out, _ := runStatus(t, "-h"); code != exitOK || !strings.Contains(out, "Usage:\n  ndnsvs-node status") {
		t.Errorf("-h: exit %d\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "help", "status"); code != exitOK || !strings.Contains(out, "Usage:\n  ndnsvs-node status") {
		t.Errorf("help status: exit %d\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "help"); code != exitOK || !strings.Contains(out, "\n  status ") {
		t.Errorf("help lacks status:\n%s", out)
	}
}

// The configuration says where the node listens: a wildcard metrics
// listener is asked on loopback, a port picked at start cannot be.
func TestStatusTargetsFromConfig(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "n.sock")
	for _, tc := range []struct {
		body, base, sock, err string
	}{
		{fmt.Sprintf("[metrics]\nlisten = \"0.0.0.0:9400\"\n[faces.unix]\npath = %q\n", sock), "http://127.0.0.1:9400", sock, ""},
		{"[metrics]\nlisten = \"[::]:9400\"\n[faces.unix]\nenabled = false\n", "http://[::1]:9400", "", ""},
		{"[metrics]\nenabled = false\n[faces.unix]\nenabled = false\n", "", "", ""},
		{"[metrics]\nlisten = \"127.0.0.1:0\"\n", "", "", "picks a free port"},
	} {
		base, s, err := statusTargets(writeFile(t, tc.body), "", "")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || base != tc.base || s != tc.sock {
			t.Errorf("%q: %q %q %v, want %q %q", tc.body, base, s, err, tc.base, tc.sock)
		}
	}
}

// Names and URIs come from the network: control characters are escaped
// before they reach a terminal.
func TestTermEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"/alice":              "/alice",
		"/a\x1b[2Jb":          `/a\x1b[2Jb`,
		"/caf\u00e9":          "/caf\u00e9",
		"/x\nFAKE LINE":       `/x\nFAKE LINE`,
		"/bad\xffutf8":        `/bad\xffutf8`,
		"/rtl\u202eevil":      `/rtl\u202eevil`,
		"/tab\tseparated\x00": `/tab\tseparated\x00`,
	} {
		if got := term(in); got != want {
			t.Errorf("term(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLatencyQuantile(t *testing.T) {
	l := &node.LatencyStatus{Count: 10, Buckets: []node.BucketStatus{{LE: 0.001, Count: 0}, {LE: 0.002, Count: 10}, {LE: 0.005, Count: 10}}}
	if got := latencyQuantile(0.5, l); got != "1.5ms" {
		t.Errorf("median = %s, want 1.5ms", got)
	}
	l.Count = 12 // two in +Inf
	if got := latencyQuantile(0.99, l); got != "> 5ms" {
		t.Errorf("p99 = %s, want > 5ms", got)
	}
	if got := latencyQuantile(0.5, &node.LatencyStatus{}); got != "-" {
		t.Errorf("empty = %s", got)
	}
}
