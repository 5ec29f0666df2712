package svs

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	sig "github.com/named-data/ndnd/std/security/signer"
)

// The fetch worker's fast path reads every segment this layer writes, as
// checkSegment does, and leaves to it what it does not: an application
// Nack, a Data without FinalBlockId.
func TestRawSegmentReadsOurSegments(t *testing.T) {
	base := mustName("/g/node/t=1700000000/seq=7/v=0")
	segs, err := encodeSegments(base, bytes.Repeat([]byte("payload "), 2500), sig.NewSha256Signer())
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("%d segments, want several", len(segs))
	}
	var got []byte
	for i, s := range segs {
		key, seg, sg, ok := rawSegment(s)
		if !ok || string(key) != base.TlvStr() || seg != uint64(i) || sg.last != uint64(len(segs)-1) {
			t.Fatalf("segment %d: ok %v, key %x, seg %d, last %d", i, ok, key, seg, sg.last)
		}
		rawAgrees(t, s)
		got = append(got, sg.content...)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte("payload "), 2500)) {
		t.Error("the contents do not add up to the payload")
	}
	nack, err := unavailableData(base.Append(enc.NewSegmentComponent(0)), 7, 7, sig.NewSha256Signer())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := rawSegment(nack); ok {
		t.Error("an application Nack taken by the fast path")
	}
	for cut := 1; cut < len(segs[0]); cut += 7 {
		if _, _, _, ok := rawSegment(segs[0][:cut]); ok {
			t.Fatalf("a segment cut to %d bytes taken", cut)
		}
	}
}
