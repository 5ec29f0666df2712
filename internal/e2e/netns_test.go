package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// lan is a virtual LAN (netlab.NewLAN): a bridge in its own network
// namespace and one namespace per host, each joined to the bridge by a veth
// pair. Every address is inside these namespaces; nothing touches the
// machine's own interfaces.
type lan struct {
	t     *testing.T
	hosts []string // namespace names
	addrs []string // IPv4 address of each host
}

// lanFaces is a node on a LAN: UDP on every address, and multicast.
const lanFaces = `
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = true
`

// udpOnly is a node reached by unicast UDP only (neighbours, on-demand
// faces): multicast off.
const udpOnly = `
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = false
`

// newLAN creates n hosts on one bridge, addressed 192.0.2.1..n/24
// (TEST-NET-1, never routed), or skips the test when it cannot.
func newLAN(t *testing.T, n int) *lan {
	t.Helper()
	netlab.NeedRoot(t, "this test")
	l := netlab.NewLAN(t, "svs", "192.0.2", n)
	return &lan{t: t, hosts: l.Hosts, addrs: l.Addrs}
}

// Two nodes on one LAN find each other through UDP multicast with no
// neighbour configured: an Interest under the sync group from one reaches a
// producer behind the other.
func TestTwoNodesFindEachOtherByMulticast(t *testing.T) {
	l := newLAN(t, 2)
	cfg := lanFaces
	a := startNode(t, l.hosts[0], cfg)
	b := startNode(t, l.hosts[1], cfg)
	if !strings.Contains(a.logs(), "network_faces=1") || !strings.Contains(b.logs(), "network_faces=1") {
		t.Fatalf("want one multicast face per node\nA:\n%s\nB:\n%s", a.logs(), b.logs())
	}
	startNdnd(t, b.sock, "pingserver", "/ndn/svs/b")
	pingUntil(t, a.sock, "/ndn/svs/b", 15*e2eSecond)
	startNdnd(t, a.sock, "pingserver", "/ndn/svs/a")
	pingUntil(t, b.sock, "/ndn/svs/a", 15*e2eSecond)
}

// Two nodes joined by configured unicast UDP neighbours, multicast off,
// reach each other.
func TestTwoNodesThroughUnicastNeighbours(t *testing.T) {
	l := newLAN(t, 2)
	cfg := func(peer string) string {
		return fmt.Sprintf(`
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = false
[[neighbor]]
uri = "udp4://%s:6363"
`, peer)
	}
	a := startNode(t, l.hosts[0], cfg(l.addrs[1]))
	b := startNode(t, l.hosts[1], cfg(l.addrs[0]))
	startNdnd(t, b.sock, "pingserver", "/ndn/svs/b")
	pingUntil(t, a.sock, "/ndn/svs/b", 15*e2eSecond)
	startNdnd(t, a.sock, "pingserver", "/ndn/svs/a")
	pingUntil(t, b.sock, "/ndn/svs/a", 15*e2eSecond)
}

// Two nodes joined by a configured TCP neighbour on one side.
func TestTwoNodesThroughTCPNeighbour(t *testing.T) {
	l := newLAN(t, 2)
	// B listens before A dials: ndnd retries a failed TCP connection only
	// every reconnect interval (10 s).
	b := startNode(t, l.hosts[1], `
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
[faces.tcp]
enabled = true
listen = ["0.0.0.0:6363"]
`)
	a := startNode(t, l.hosts[0], fmt.Sprintf(`
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
[[neighbor]]
uri = "tcp4://%s:6363"
`, l.addrs[1]))
	startNdnd(t, b.sock, "pingserver", "/ndn/svs/b")
	pingUntil(t, a.sock, "/ndn/svs/b", 20*e2eSecond)
}

// A node started with no network interface (a container whose link its
// orchestrator adds after it started, an edge device whose Wi-Fi comes up
// after boot) opens its multicast face when the link comes up and reaches
// the LAN without a restart; when the link goes, the face goes.
func TestNodeFollowsALinkAddedAfterStart(t *testing.T) {
	netlab.NeedRoot(t, "this test")
	l := netlab.NewLAN(t, "hp", "192.0.2", 1)
	late := netlab.NewNamespace(t, fmt.Sprintf("hplate%d", os.Getpid()%100000))
	cfg := lanFaces
	a := startNode(t, late, cfg)
	b := startNode(t, l.Hosts[0], cfg)
	if !strings.Contains(a.logs(), "network_faces=0") {
		t.Fatalf("want no network face before the link exists:\n%s", a.logs())
	}
	t0 := time.Now()
	before := len(a.logs())
	l.Attach(t, late)
	waitLog(t, a, "multicast face", before)
	t.Logf("multicast face opened %v after the link was added", time.Since(t0).Round(time.Millisecond))
	startNdnd(t, b.sock, "pingserver", "/ndn/svs/b")
	pingUntil(t, a.sock, "/ndn/svs/b", 15*e2eSecond)
	startNdnd(t, a.sock, "pingserver", "/ndn/svs/a")
	pingUntil(t, b.sock, "/ndn/svs/a", 15*e2eSecond)

	before = len(a.logs())
	l.Detach(t, late)
	waitLog(t, a, "multicast face closed", before)
}

// A neighbour given by a DNS name is followed when the name moves to
// another address (a Kubernetes pod made again, a compose service
// recreated): the node resolves it again (here every second, from
// /etc/hosts of its namespace, which ip netns exec mounts from
// /etc/netns/<ns>/hosts) and its face and routes go to the new address.
func TestNeighbourByNameFollowsItsAddress(t *testing.T) {
	l := newLAN(t, 3)
	dir := "/etc/netns/" + l.hosts[0]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	hosts := dir + "/hosts"
	point := func(addr string) {
		// Written in place: the bind mount holds the file, not its name.
		if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"+addr+" peer.test\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	point(l.addrs[1])
	quiet := udpOnly
	b := startNode(t, l.hosts[1], quiet)
	c := startNode(t, l.hosts[2], quiet)
	a := startNode(t, l.hosts[0], quiet+`
[[neighbor]]
uri = "udp4://peer.test:6363"
resolve_every = "1s"
`)
	startNdnd(t, b.sock, "pingserver", "/ndn/svs/b")
	startNdnd(t, c.sock, "pingserver", "/ndn/svs/c")
	pingUntil(t, a.sock, "/ndn/svs/b", 15*e2eSecond)

	before := len(a.logs())
	t0 := time.Now()
	point(l.addrs[2])
	waitLog(t, a, "neighbour moved", before)
	t.Logf("followed the name %v after it moved", time.Since(t0).Round(time.Millisecond))
	pingUntil(t, a.sock, "/ndn/svs/c", 15*e2eSecond)
}
