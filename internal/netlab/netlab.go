// Package netlab gives end-to-end tests their hosts: network namespaces
// joined by a bridge, addressed in a documentation range that is never
// routed, and the programs they run, built once per test binary. Nothing
// touches the machine's own interfaces; everything is removed at cleanup,
// failure included.
package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// NeedRoot skips the test, saying why, unless it can make network
// namespaces: it runs as root and iproute2's ip is installed. what names
// the test for the message.
func NeedRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("skipped: %s runs nodes in network namespaces, which needs root", what)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the ip command (iproute2) is not installed")
	}
}

// Sh runs a command and fails the test with its output if it fails.
func Sh(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// LAN is a set of hosts on one bridge.
type LAN struct {
	Hosts []string // namespace names, for ip netns exec
	Addrs []string // the IPv4 address of each host's eth0

	bridge string // the bridge's namespace
	net    string // the first three bytes of the addresses
	ports  int    // bridge ports made so far
}

// lans numbers the LANs of a process, so that names never repeat.
var lans atomic.Int64

// NewLAN creates n hosts named <tag>h<pid>.<k>-<i>, each with an eth0 on a
// bridge that lives in a namespace of its own, addressed <net>.1 to <net>.n
// /24 (net is the first three bytes of a documentation range, such as
// "198.51.100": TEST-NET-2). Every namespace is deleted at cleanup.
func NewLAN(t testing.TB, tag, net string, n int) *LAN {
	t.Helper()
	id := strconv.Itoa(os.Getpid()%100000) + "." + strconv.FormatInt(lans.Add(1)%100, 10)
	br := tag + "br" + id
	Sh(t, "ip", "netns", "add", br)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", br).Run() })
	Sh(t, "ip", "-n", br, "link", "add", "br0", "type", "bridge")
	Sh(t, "ip", "-n", br, "link", "set", "br0", "up")
	l := &LAN{bridge: br, net: net}
	for i := 1; i <= n; i++ {
		ns := NewNamespace(t, fmt.Sprintf("%sh%s-%d", tag, id, i))
		l.Hosts = append(l.Hosts, ns)
		l.Addrs = append(l.Addrs, l.Attach(t, ns))
	}
	return l
}

// NewNamespace creates the network namespace name with only its loopback,
// up; it is deleted at cleanup.
func NewNamespace(t testing.TB, name string) string {
	t.Helper()
	Sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	Sh(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// Attach gives namespace ns an eth0 on the LAN's bridge, up, with the
// LAN's next address, which it returns: a host joining the LAN, or getting
// its link after it started (as a container does).
func (l *LAN) Attach(t testing.TB, ns string) string {
	t.Helper()
	l.ports++
	port := fmt.Sprintf("p%d", l.ports)
	addr := fmt.Sprintf("%s.%d", l.net, l.ports)
	Sh(t, "ip", "-n", l.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	Sh(t, "ip", "-n", l.bridge, "link", "set", port, "master", "br0")
	Sh(t, "ip", "-n", l.bridge, "link", "set", port, "up")
	Sh(t, "ip", "-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
	Sh(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	return addr
}

// Detach removes the eth0 that Attach gave ns (its link goes away, as a
// container's does when its orchestrator takes it off a network).
func (l *LAN) Detach(t testing.TB, ns string) {
	t.Helper()
	Sh(t, "ip", "-n", ns, "link", "del", "eth0")
}

// Programs builds a set of programs once, the first time one is asked for.
// Remove deletes them; call it from TestMain after the tests ran.
type Programs struct {
	pkgs map[string]string // name -> import path
	once sync.Once
	err  error
	dir  string
	bins map[string]string
}

// NewPrograms returns the programs named by pkgs (name -> import path),
// not yet built.
func NewPrograms(pkgs map[string]string) *Programs {
	return &Programs{pkgs: pkgs, bins: map[string]string{}}
}

// Path builds every program on the first call and returns the path of the
// one named name; a build failure fails the test.
func (p *Programs) Path(t testing.TB, name string) string {
	t.Helper()
	p.once.Do(func() {
		p.dir, p.err = os.MkdirTemp("", "ndnsvs-netlab-bin")
		if p.err != nil {
			return
		}
		for n, pkg := range p.pkgs {
			out := filepath.Join(p.dir, n)
			if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
				p.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
			p.bins[n] = out
		}
	})
	if p.err != nil {
		t.Fatal(p.err)
	}
	return p.bins[name]
}

// Remove deletes the built programs.
func (p *Programs) Remove() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}
