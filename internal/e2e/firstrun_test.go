package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// startNodeArgv starts the node binary under a wrapper (argv before the
// binary, such as unshare), with the configuration at cfgPath, and waits
// for its "node ready" line, as startNode does for its own.
func startNodeArgv(t *testing.T, wrapper []string, cfgPath, sock string) *node {
	t.Helper()
	bin, _ := binaries(t)
	n := &node{t: t, sock: sock, exited: make(chan struct{})}
	args := append(append([]string{}, wrapper...), bin, "run", "--config", cfgPath)
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
		var once sync.Once
		for sc.Scan() {
			n.mu.Lock()
			n.log.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
			if strings.Contains(sc.Text(), "node ready") {
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

var readyName = regexp.MustCompile(`msg="node ready".* name=(\S+)`)

// nameOf returns the name in the node's ready line.
func nameOf(t *testing.T, n *node) string {
	t.Helper()
	m := readyName.FindStringSubmatch(n.logs())
	if m == nil {
		t.Fatalf("no name in the ready line:\n%s", n.logs())
	}
	return m[1]
}

// waitLog waits for a log line of the node that contains want; the node
// writes its log to a pipe this test reads, so a bounded wait is the only
// signal there is.
func waitLog(t *testing.T, n *node, want string, after int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(n.logs()[after:], want) {
			return
		}
		select {
		case <-n.exited:
			t.Fatalf("node exited while waiting for %q:\n%s", want, n.logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no log line with %q within 10s:\n%s", want, n.logs()[after:])
}

// Two nodes that share a host name, each in network and UTS namespaces of
// its own (as containers are), take different default names, and a node
// keeps its name across a restart.
func TestDefaultNamesAreUniqueAndKept(t *testing.T) {
	netlab.NeedRoot(t, "TestDefaultNamesAreUniqueAndKept")
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: unshare (util-linux) is not installed")
	}
	const host = "same-host"
	// unshare gives the node a network namespace with nothing in it, and a
	// host name of its own.
	wrapper := []string{"unshare", "--uts", "--net", "sh", "-c", "hostname " + host + ` && exec "$0" "$@"`}
	start := func(dir string) *node {
		sock := filepath.Join(dir, "nfd.sock")
		cfg := filepath.Join(dir, "node.toml")
		body := fmt.Sprintf("[node]\nstate_dir = %q\n[faces.unix]\npath = %q\n[faces.udp]\nenabled = false\n[faces.multicast]\nenabled = false\n[metrics]\nenabled = false\n",
			filepath.Join(dir, "state"), sock)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return startNodeArgv(t, wrapper, cfg, sock)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	a := start(dirA)
	b := start(dirB)
	nameA, nameB := nameOf(t, a), nameOf(t, b)
	t.Logf("default names: %s and %s", nameA, nameB)
	prefix := "/ndnsvs-node/" + host + "/"
	if !strings.HasPrefix(nameA, prefix) || !strings.HasPrefix(nameB, prefix) {
		t.Errorf("names %s, %s do not start with %s", nameA, nameB, prefix)
	}
	if nameA == nameB {
		t.Fatalf("two installations with one host name share the name %s", nameA)
	}
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Join(dirA, "state"), 0o700}, {filepath.Join(dirA, "state", "node-id"), 0o600}} {
		fi, err := os.Stat(p.path)
		if err != nil || fi.Mode().Perm() != p.mode {
			t.Errorf("%s: %v, mode %v, want %#o", p.path, err, fi.Mode(), p.mode)
		}
	}

	// Stopped by hand; the cleanup collects its exit status.
	if err := a.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	again := start(dirA)
	if got := nameOf(t, again); got != nameA {
		t.Errorf("after a restart the node is %s, was %s", got, nameA)
	}
}

// A configured group is given the socket, with the mode, before the first
// application connects; the ready line gives the exact NDN_CLIENT_TRANSPORT,
// and a client set to it reaches the node.
func TestSocketGroupAndClientTransport(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: giving the socket to a group the process is not in needs root")
	}
	const gid = 4242 // need not exist: a numeric group is taken as is
	dir := t.TempDir()
	sock, cfg := filepath.Join(dir, "nfd.sock"), filepath.Join(dir, "node.toml")
	body := localOnly + fmt.Sprintf("[node]\nname = \"/e2e/group\"\n[metrics]\nenabled = false\n[faces.unix]\npath = %q\ngroup = \"%d\"\n", sock, gid)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNodeArgv(t, nil, cfg, sock)
	fi, err := os.Stat(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Gid != gid || fi.Mode().Perm() != 0o660 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket gid %d mode %v, want gid %d and 0660", st.Gid, fi.Mode(), gid)
	}

	want := "client_transport=unix://" + n.sock
	if !strings.Contains(n.logs(), want+" ") && !strings.Contains(n.logs(), want+"\n") {
		t.Fatalf("ready line lacks %s:\n%s", want, n.logs())
	}
	// The value as printed, given to ndnd's client as is.
	_, bin := binaries(t)
	cmd := exec.Command(bin, "fw", "status")
	cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+strings.TrimPrefix(want, "client_transport="))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "uptime=") { // the forwarder's status dataset answered
		t.Errorf("ndnd fw status through the printed transport: %v\n%s", err, out)
	}
}

// SIGHUP re-reads the file: the node keeps running with its socket, a new
// log level takes effect, a key that needs a restart is named, and a bad
// file is refused with the node as it was.
func TestSIGHUPReloads(t *testing.T) {
	base := localOnly + "[metrics]\nenabled = false\n"
	n := startNode(t, "", base+"[node]\nname = \"/e2e/hup\"\n")
	cfg := filepath.Join(filepath.Dir(n.sock), "node.toml")
	write := func(body string) {
		t.Helper()
		full := body + fmt.Sprintf("\n[faces.unix]\nenabled = true\npath = %q\n", n.sock)
		if err := os.WriteFile(cfg, []byte(full), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hup := func() int {
		t.Helper()
		mark := len(n.logs())
		if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return mark
	}

	// At info, a SIGHUP's debug line does not show; the change to debug does.
	write(base + "[node]\nname = \"/e2e/hup\"\n[log]\nlevel = \"debug\"\n")
	mark := hup()
	waitLog(t, n, "configuration reloaded", mark)
	if strings.Contains(n.logs()[mark:], "reading the configuration again") {
		t.Errorf("a debug line showed before the level changed:\n%s", n.logs()[mark:])
	}
	if !strings.Contains(n.logs()[mark:], "key=log.level from=info to=debug") {
		t.Errorf("no line for the level change:\n%s", n.logs()[mark:])
	}
	// Now debug lines show.
	waitLog(t, n, "reading the configuration again", hup())

	// A key that needs a restart is named and keeps its value: the ping
	// responder still answers.
	write(base + "[node]\nname = \"/e2e/hup\"\nping = false\n[log]\nlevel = \"debug\"\n")
	waitLog(t, n, "needs a restart", hup())
	if !strings.Contains(n.logs(), "key=node.ping") {
		t.Errorf("the restart line does not name node.ping:\n%s", n.logs())
	}

	// A bad file: an error, and nothing changes.
	write("[log]\nlevel = \"loud\"\n")
	waitLog(t, n, "configuration not reloaded", hup())

	if !n.alive() {
		t.Fatal("node died")
	}
	if fi, err := os.Stat(n.sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket after SIGHUP: %v", err)
	}
	pingUntil(t, n.sock, "/e2e/hup", 10*time.Second)
}
