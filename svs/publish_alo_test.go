//go:build !race

// ndnd v1.5.3's std/sync has data races of its own (see interop_test.go):
// left out of -race builds.

package svs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Interop at the data level with ndnd v1.5.3's SvsALO: an SvsALO of group
// /<g> syncs on /<g>/32=svs and names its publications
// /<g>/<node>/t=<boot>/seq=<n>/v=0/seg=<i> (std/sync/svs_alo_data.go,
// segmented by std/object), which is our shared layer with Data.Prefix
// /<g>. Our member joins its sync group; the SvsALO learns and fetches our
// publications (1 byte to 100 KiB) intact, in order, under the names it
// computes itself; and our member learns the SvsALO's by sync (its State
// Vector Data is named /<g>/<node>/t=<boot>/32=svs/v=<µs>, which svs/wire
// accepts for a group ending in 32=svs), fetches them and delivers them
// intact, in order; our segment reader gets them under our shared-layer
// names too.
func TestInteropNdndSvsALOData(t *testing.T) {
	g := testGroup(t)
	syncGroup := g.Clone().Append(enc.NewKeywordComponent("svs"))
	changed := newSignal()

	e, af := newEngine(t)
	client := object.NewClient(e, storage.NewMemoryStore(), nil)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop() })
	aloName := mustName("/alo/p")
	alo, err := ndnsync.NewSvsALO(ndnsync.SvsAloOpts{
		Name: aloName,
		Svs:  ndnsync.SvSyncOpts{Client: client, GroupPrefix: g.Clone()},
	})
	if err != nil {
		t.Fatal(err)
	}
	// SvsALO registers nothing on this forwarder: route its sync group and
	// its data prefix to its face.
	for _, p := range []enc.Name{syncGroup, g.Clone().Append(aloName...)} {
		if err := testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var aloGot []ndnsync.SvsPub
	if err := alo.SubscribePublisher(enc.Name{}, func(p ndnsync.SvsPub) {
		mu.Lock()
		aloGot = append(aloGot, p)
		mu.Unlock()
		changed.Notify()
	}); err != nil {
		t.Fatal(err)
	}
	if err := alo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = alo.Stop() })

	ours := newPubMember(t, syncGroup, "/ours/m", changed, true, func(c *Config) { c.Data.Prefix = g.Clone() })

	sizes := []int{1, 100, SegmentSize + 1, 100 << 10}
	var aloSums, ourSums [][32]byte
	for i, n := range sizes {
		p := payload(uint64(100+i), n)
		if _, _, err := alo.Publish(enc.Wire{p}); err != nil {
			t.Fatal(err)
		}
		aloSums = append(aloSums, sha256.Sum256(p))
		q := payload(uint64(200+i), n)
		publishOK(t, ours, q)
		ourSums = append(ourSums, sha256.Sum256(q))
	}
	aloCount := func() int { mu.Lock(); defer mu.Unlock(); return len(aloGot) }
	waitUntil(t, changed, 30*time.Second, func() bool { return aloCount() == len(sizes) }, func() string {
		return fmt.Sprintf("SvsALO got %d of ours; %+v", aloCount(), ours.s.DataStats())
	})
	aloKey := keyOf(aloName, alo.BootTime())
	waitUntil(t, changed, 30*time.Second, func() bool { return len(ours.received(aloKey)) == len(sizes) }, func() string {
		return fmt.Sprintf("we got %d of SvsALO's; %+v", len(ours.received(aloKey)), ours.s.DataStats())
	})
	for i, msg := range ours.received(aloKey) {
		if msg.Seq != uint64(i+1) || sha256.Sum256(msg.Bytes()) != aloSums[i] {
			t.Errorf("SvsALO's publication %d delivered as seq %d, %d bytes: payload or order differs", i+1, msg.Seq, msg.Size())
		}
	}
	e2, _ := newEngine(t)
	for i := range sizes {
		base := ours.s.data.names.shared(aloName, alo.BootTime(), uint64(i+1))
		var got []byte
		for j, last := uint64(0), uint64(0); j <= last; j++ {
			sg, err := readSegment(expressData(t, e2, base.Append(enc.NewSegmentComponent(j)), false), base, j, wire.DigestSha256)
			if err != nil {
				t.Fatalf("SvsALO's publication %d, segment %d: %v", i+1, j, err)
			}
			last = sg.last
			got = append(got, sg.content...)
		}
		if sha256.Sum256(got) != aloSums[i] {
			t.Errorf("SvsALO's publication %d: %d bytes, payload differs", i+1, len(got))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, p := range aloGot {
		if !p.Publisher.Equal(ours.name) || p.SeqNum != uint64(i+1) || sha256.Sum256(p.Bytes()) != ourSums[i] {
			t.Errorf("SvsALO got %s seq %d, %d bytes: want ours, seq %d, same payload", p.Publisher, p.SeqNum, len(p.Bytes()), i+1)
		}
		want := ours.s.data.names.shared(ours.name, ours.s.Boot(), p.SeqNum)
		if !bytes.Equal(p.DataName.Bytes(), want.Bytes()) {
			t.Errorf("SvsALO's name %s, want %s", p.DataName, want)
		}
	}
	ours.checkErrs(t)
}
