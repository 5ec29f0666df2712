package publab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// loopbackNode runs a node in a network namespace of its own (unshare
// --net: loopback only, down), with its unix socket for the members,
// which run outside it. extra is added to its [node] table.
func loopbackNode(t *testing.T, name, extra string) (*Node, []string) {
	t.Helper()
	netlab.NeedRoot(t, "this test")
	ns := []string{"unshare", "--net"}
	bin := progs.Path(t, "ndnsvs-node")
	return StartNode(t, bin, ns, nodeConfig(name, extra)), ns
}

func nodeConfig(name, extra string) string {
	return fmt.Sprintf("[node]\nname = %q\n%s\n[faces.udp]\nenabled = false\n[faces.multicast]\nenabled = false\n", name, extra)
}

// cachedGroup is a node's default group with its store on (group[i].cache):
// the node's own member keeps what it fetches in <state_dir>/groups/.
const cachedGroup = "\n[[group]]\nprefix = \"/ndn/svs\"\ncache = true\n"

// A member whose store's file system fills up while it publishes back to
// back (3 kB payloads, bbolt on a 4 MiB tmpfs): the Publish that does
// not fit fails with an error that says so (ENOSPC), counted in
// DataStats.PublishErrors and StoreErrors; every publication acknowledged
// before it reached the other member intact; and the full member keeps
// syncing: it goes on receiving the other member's publications, and
// publishes again once there is room (its store's retention, at a restart,
// is not needed: a failed write leaves the store as it was).
func TestFullDiskPublisherKeepsSyncing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: a node and two members")
	}
	n, _ := loopbackNode(t, "/full/node", "")
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	memberBin := progs.Path(t, "pubmember")
	transport := "unix://" + n.Sock
	full := StartMember(t, memberBin, nil, transport, "/full/pub",
		"-store", filepath.Join(dir, "pub.db"), "-sizes", "3000", "-interval", "2ms", "-autostart")
	other := StartMember(t, memberBin, nil, transport, "/full/other", "-sizes", "500", "-count", "20", "-interval", "10ms")
	ms := []*Member{full, other}
	WaitAll(t, ms, time.Minute, func() bool { return len(full.Errs()) > 0 || !full.Alive() },
		func() string {
			return fmt.Sprintf("%d publications and no error: the tmpfs did not fill up", len(full.Pubs()))
		})
	if !full.Alive() {
		t.Fatalf("the full member exited:\n%s", full.Stderr())
	}
	full.Send("stop")
	firstErr := full.Errs()[0]
	if !strings.Contains(firstErr, "no space left on device") {
		t.Errorf("the failed publication's error %q does not say the disk is full", firstErr)
	}
	acked := full.Pubs()
	r := full.Report()
	if pe, se := num(r.Stats["PublishErrors"]), num(r.Stats["StoreErrors"]); pe == 0 || se == 0 {
		t.Errorf("PublishErrors %d, StoreErrors %d: the failures are not counted", pe, se)
	}

	// Every acknowledged publication reached the other member.
	WaitAll(t, ms, time.Minute, func() bool { m, _ := other.Check(acked); return len(m) == 0 },
		func() string {
			m, _ := other.Check(acked)
			return fmt.Sprintf("%d of %d not received: %v", len(m), len(acked), head(m, 5))
		})
	if _, wrong := other.Check(acked); len(wrong) > 0 {
		t.Errorf("received with other payloads: %v", wrong)
	}

	// The full member keeps syncing: it receives the other's publications,
	// fetched while its own store refuses writes.
	other.Send("pub")
	WaitAll(t, ms, time.Minute, func() bool { return len(other.Pubs()) == 20 },
		func() string { return fmt.Sprintf("the other member published %d of 20", len(other.Pubs())) })
	WaitAll(t, ms, time.Minute, func() bool { m, _ := full.Check(other.Pubs()); return len(m) == 0 },
		func() string {
			m, _ := full.Check(other.Pubs())
			return fmt.Sprintf("the full member lacks %d of the other's 20: %v; missed %+v", len(m), head(m, 5), full.MissedReports())
		})
	r = full.Report()
	t.Logf("%d publications of 3000 B acknowledged before the disk was full (%q); %d errors; the full member then received the other's 20 (store errors %d)",
		len(acked), firstErr, len(full.Errs()), num(r.Stats["StoreErrors"]))
}

// A node started on a state directory whose store another running node
// holds, or whose store file is damaged: it does not start, and says which
// file and why; the node that holds the store keeps syncing; the damaged
// file is left as it was (nothing is overwritten or removed).
func TestNodeStoreLockedOrCorruptAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: starts three nodes")
	}
	state := t.TempDir()
	extra := fmt.Sprintf("state_dir = %q", state)
	netlab.NeedRoot(t, "this test")
	ns := []string{"unshare", "--net"}
	a := StartNode(t, progs.Path(t, "ndnsvs-node"), ns, nodeConfig("/lock/node", extra)+cachedGroup)
	memberBin := progs.Path(t, "pubmember")
	pub := StartMember(t, memberBin, nil, "unix://"+a.Sock, "/lock/pub", "-sizes", "100", "-count", "5", "-interval", "10ms", "-autostart")
	sub := StartMember(t, memberBin, nil, "unix://"+a.Sock, "/lock/sub")
	ms := []*Member{pub, sub}
	WaitAll(t, ms, 30*time.Second, func() bool { m, _ := sub.Check(pub.Pubs()); return len(pub.Pubs()) == 5 && len(m) == 0 },
		func() string { return "the first five publications not received" })

	// A second node on the same state directory and name.
	out, code := runNodeToExit(t, ns, nodeConfig("/lock/node", extra)+cachedGroup)
	t.Logf("second node on the same store: exit %d: %s", code, lastLines(out, 3))
	if code == 0 || !strings.Contains(out, "locked") || !strings.Contains(out, state) {
		t.Errorf("second node: exit %d, want a failure that names the store under %s and says it is locked:\n%s", code, state, out)
	}
	// The first goes on.
	if !a.Alive() {
		t.Fatalf("the first node exited:\n%s", a.Logs())
	}
	pub.Send("pub")
	WaitAll(t, ms, 30*time.Second, func() bool { m, _ := sub.Check(pub.Pubs()); return len(pub.Pubs()) == 10 && len(m) == 0 },
		func() string {
			return fmt.Sprintf("after the second node: %d published, not all received", len(pub.Pubs()))
		})

	// Damage the store of the stopped node and start it again.
	pub.Kill()
	sub.Kill()
	a.Kill()
	stores, _ := filepath.Glob(filepath.Join(state, "groups", "*", "*.db"))
	if len(stores) != 1 {
		t.Fatalf("stores under %s: %v, want one", state, stores)
	}
	f, err := os.OpenFile(stores[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 8192), 0); err != nil { // both meta pages
		t.Fatal(err)
	}
	f.Close()
	damaged, err := os.ReadFile(stores[0])
	if err != nil {
		t.Fatal(err)
	}
	out, code = runNodeToExit(t, ns, nodeConfig("/lock/node", extra)+cachedGroup)
	t.Logf("node on a damaged store: exit %d: %s", code, lastLines(out, 3))
	if code == 0 || !strings.Contains(out, "corrupt") || !strings.Contains(out, stores[0]) {
		t.Errorf("node on a damaged store: exit %d, want a failure that names %s and says it is corrupt:\n%s", code, stores[0], out)
	}
	if now, err := os.ReadFile(stores[0]); err != nil || !bytes.Equal(now, damaged) {
		t.Errorf("the damaged store was changed or removed (%v)", err)
	}
}

// runNodeToExit runs the node with toml (and a unix socket of its own)
// and returns its stderr and exit code; a node still running after 20 s
// is killed and fails the test.
func runNodeToExit(t *testing.T, prefix []string, toml string) (string, int) {
	t.Helper()
	dir, err := os.MkdirTemp("", "publab")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "node.toml")
	body := toml + fmt.Sprintf("\n[faces.unix]\nenabled = true\npath = %q\n[metrics]\nenabled = false\n", filepath.Join(dir, "nfd.sock"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append(append([]string{}, prefix...), progs.Path(t, "ndnsvs-node"), "run", "--config", cfg)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the node did not exit within 20 s:\n%s", out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], " | ")
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}

// num reads a counter of a report's Stats (JSON numbers decode as
// float64).
func num(v any) uint64 {
	switch x := v.(type) {
	case float64:
		return uint64(x)
	case string:
		n, _ := strconv.ParseUint(x, 10, 64)
		return n
	}
	return 0
}
