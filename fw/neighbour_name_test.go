package fw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
)

// A neighbour by name: no face while the name does not resolve (no error),
// a face and its routes once it does, and a new face, with the routes,
// when the name moves; the old face is closed. Loopback addresses only.
func TestNamedNeighbourFollowsItsName(t *testing.T) {
	var mu sync.Mutex
	answer, fail := netip.Addr{}, errors.New("no such host")
	resolve := func(_ context.Context, network, host string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		if network != "ip4" || host != "peer.test" {
			t.Errorf("resolve(%q, %q)", network, host)
		}
		if !answer.IsValid() {
			return nil, fail
		}
		return []netip.Addr{answer}, nil
	}
	point := func(a string) {
		mu.Lock()
		answer = netip.MustParseAddr(a)
		mu.Unlock()
	}
	prefix := mustName(t, "/named-neighbour/g")
	n := keepNeighbour(t, "udp4://peer.test:6363", []enc.Name{prefix}, 50*time.Millisecond, resolve)
	current := func() (*netFace, netip.AddrPort) {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.face, n.addr
	}
	waitFor := func(want string) *netFace {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if f, a := current(); f != nil && a.String() == want {
				return f
			}
			if time.Now().After(deadline) {
				f, a := current()
				t.Fatalf("neighbour at %v (face %v), want %s", a, f != nil, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	hops := func() []uint64 {
		var out []uint64
		for _, h := range table.FibStrategyTable.FindNextHopsEnc(prefix) {
			out = append(out, h.Nexthop)
		}
		return out
	}

	time.Sleep(150 * time.Millisecond) // a few rounds that do not resolve
	if f, _ := current(); f != nil {
		t.Fatal("a face before the name resolved")
	}
	point("127.0.0.2")
	first := waitFor("127.0.0.2:6363")
	if got := hops(); !slices.Equal(got, []uint64{first.FaceID()}) {
		t.Errorf("routes %v, want the face %d", got, first.FaceID())
	}
	if !slices.Contains(testFwd.NetworkFaces(), first.FaceID()) {
		t.Error("the face is not one of NetworkFaces")
	}

	point("127.0.0.3")
	second := waitFor("127.0.0.3:6363")
	if got := hops(); !slices.Equal(got, []uint64{second.FaceID()}) {
		t.Errorf("routes %v after the move, want the new face %d", got, second.FaceID())
	}
	if first.up.Load() {
		t.Error("the old face is still up")
	}
	if nf := testFwd.NetworkFaces(); slices.Contains(nf, first.FaceID()) || !slices.Contains(nf, second.FaceID()) {
		t.Errorf("NetworkFaces %v: want %d, not %d", nf, second.FaceID(), first.FaceID())
	}

	for _, bad := range []string{"udp4://192.0.2.1:6363", "udp4://peer.test", "http://peer.test:80", "udp4://peer.test:0"} {
		if _, err := testFwd.keepNeighbour(bad, nil, 0, resolve); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// A name that resolves to the node's own UDP listener gets no face (one
// configuration lists every pod of a StatefulSet, this one too), and gets
// one when it moves elsewhere; the check knows a listener bound to one
// address from one bound to every address.
func TestNamedNeighbourSkipsItself(t *testing.T) {
	l := udpListener(t)
	port := l.conn.LocalAddr().(*net.UDPAddr).Port
	var mu sync.Mutex
	answer := netip.MustParseAddr("127.0.0.1")
	resolve := func(context.Context, string, string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		return []netip.Addr{answer}, nil
	}
	n := keepNeighbour(t, fmt.Sprintf("udp4://self.test:%d", port), nil, 20*time.Millisecond, resolve)
	state := func() (*netFace, bool) {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.face, n.self
	}
	time.Sleep(100 * time.Millisecond) // several rounds
	if f, self := state(); f != nil || !self {
		t.Fatalf("face %v, self %v: want no face to the node's own listener", f != nil, self)
	}
	mu.Lock()
	answer = netip.MustParseAddr("127.0.0.2") // the same port, another address
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if f, self := state(); f != nil && !self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no face after the name moved off the node's own address")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if !testFwd.ownUDPAddress("udp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))) {
		t.Error("the listener's own address is not the node's")
	}
	for _, other := range []string{"127.0.0.2", "192.0.2.1"} {
		if testFwd.ownUDPAddress("udp4", netip.AddrPortFrom(netip.MustParseAddr(other), uint16(port))) {
			t.Errorf("%s:%d is the node's, with a listener on 127.0.0.1 only", other, port)
		}
	}
	if testFwd.ownUDPAddress("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))) {
		t.Error("a TCP neighbour is checked against the UDP listeners")
	}
}

// keepNeighbour keeps a neighbour by name on the test forwarder, stopped
// and its face closed at cleanup.
func keepNeighbour(t *testing.T, uri string, prefixes []enc.Name, every time.Duration,
	resolve func(context.Context, string, string) ([]netip.Addr, error)) *namedNeighbour {
	t.Helper()
	n, err := testFwd.keepNeighbour(uri, prefixes, every, resolve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Close()
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.face != nil {
			n.face.Close()
		}
	})
	return n
}
