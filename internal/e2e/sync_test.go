package e2e

import (
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/interop/ndnts"
)

// Members of one sync group on two machines sync through two nodes that
// found each other by multicast, with nothing configured: NDNts members on
// each node's unix socket learn every publication of the other's.
func TestSyncAcrossTwoNodesByMulticast(t *testing.T) {
	if err := ndnts.Available(); err != nil {
		t.Skip(err)
	}
	l := newLAN(t, 2)
	cfg := lanFaces
	a := startNode(t, l.hosts[0], cfg+"\n[node]\nname = \"/e2e/node-a\"\n")
	b := startNode(t, l.hosts[1], cfg+"\n[node]\nname = \"/e2e/node-b\"\n")
	const publish = 3
	pa := ndnts.Start(t, ndnts.Options{
		Socket: a.sock, Group: "/ndn/svs", Node: "/member/a",
		Publish: publish, StartDelay: 500 * time.Millisecond,
		Expect:   map[string]uint64{"/member/b": publish},
		Timeout:  30 * time.Second,
		Periodic: 2 * time.Second, // see docs/interop.md: NDNts can delay a publication until then
		Linger:   3 * time.Second,
	})
	pb := ndnts.Start(t, ndnts.Options{
		Socket: b.sock, Group: "/ndn/svs", Node: "/member/b",
		Publish: publish, StartDelay: 500 * time.Millisecond,
		Expect:   map[string]uint64{"/member/a": publish},
		Timeout:  30 * time.Second,
		Periodic: 2 * time.Second,
		Linger:   3 * time.Second,
	})
	for _, p := range []*ndnts.Peer{pa, pb} {
		if _, err := p.WaitDone(35 * time.Second); err != nil {
			t.Fatalf("%s: %v\nnode A:\n%s\nnode B:\n%s", p.Opts.Node, err, a.logs(), b.logs())
		}
		if r := p.Rejects(); len(r) > 0 {
			t.Errorf("%s rejected vectors: %v", p.Opts.Node, r)
		}
	}
}
