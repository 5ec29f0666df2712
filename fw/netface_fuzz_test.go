package fw

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// FuzzFaceDecode runs a datagram face's whole receive path short of the
// forwarding threads: the datagram check, the NDNLP header, reassembly and
// ndnd's network-layer decoder. Whatever arrives, it returns a packet the
// forwarder can take, or nothing; it never panics, and what it holds stays
// within its budget.
func FuzzFaceDecode(f *testing.F) {
	f.Add([]byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00}, []byte{})
	f.Add([]byte{0x05, 0x07, 0x07, 0x03, 0x08, 0x01, 0x61, 0x0c, 0x00}, []byte{})
	f.Add([]byte{0x64, 0x0e, 0x51, 0x08, 0, 0, 0, 0, 0, 0, 0, 5, 0x53, 0x01, 0x02, 0x50, 0x01, 0x05}, []byte{0x64, 0x0e, 0x51, 0x08, 0, 0, 0, 0, 0, 0, 0, 6, 0x52, 0x01, 0x01, 0x53, 0x01, 0x02, 0x50, 0x01, 0x00})
	fwd := &Forwarder{log: slog.New(slog.DiscardHandler), budget: link.NewBudget(1 << 16)}
	nf := &netFace{fwd: fwd, scope: defn.NonLocal, reasm: link.NewReassembler(link.DefaultLimits(), fwd.budget)}
	from := netip.MustParseAddrPort("10.0.0.1:6363")
	f.Fuzz(func(t *testing.T, a, b []byte) {
		now := time.Now()
		for _, dg := range [][]byte{a, b} {
			if link.Datagram(dg, link.MaxPacketSize) != nil || !knownType(dg[0]) {
				continue
			}
			pkt, err := nf.decode(dg, from, now)
			if err != nil || pkt == nil {
				continue
			}
			if (pkt.L3.Interest == nil) == (pkt.L3.Data == nil) || pkt.Name == nil || len(pkt.Raw) != 1 {
				t.Fatalf("decoded a packet the forwarder cannot take: %+v", pkt)
			}
		}
		if fwd.budget.Used() > 1<<16 {
			t.Fatalf("reassembly holds %d bytes", fwd.budget.Used())
		}
	})
}
