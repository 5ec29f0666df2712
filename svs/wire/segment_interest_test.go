package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
)

// AppendSegmentInterest writes what ndnd's MakeInterest writes, byte for
// byte, for names of up to 6 components of up to 252 bytes (the Name's and
// the Interest's TLV-LENGTHs take 1 and 3 bytes), segment numbers of 1 to
// 8 bytes, both CanBePrefix values and lifetimes from 0 to 2^32 ms; and
// the forwarder's decoder reads it back with the same fields. (ndnd
// v1.5.3 encodes a component's TLV-LENGTH as a NonNegativeInteger, not a
// VAR-NUMBER: a component of 253 bytes or more comes out malformed, in
// its MakeInterest as in the enc.Name.TlvStr that the worker's keys, and
// so base here, are made with. Such components are not tested.)
func TestAppendSegmentInterestMatchesNdnd(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var base enc.Name
		for range r.IntN(6) {
			v := make([]byte, r.IntN(253))
			for k := range v {
				v[k] = byte(r.Uint32())
			}
			base = append(base, enc.NewGenericBytesComponent(v))
		}
		if i%3 == 0 {
			base = append(base, enc.NewTimestampComponent(r.Uint64()>>r.IntN(64)), enc.NewSequenceNumComponent(r.Uint64()>>r.IntN(64)), enc.NewVersionComponent(0))
		}
		seg := r.Uint64() >> r.IntN(64)
		cbp := r.IntN(2) == 0
		nonce := r.Uint32()
		life := time.Duration(r.Uint64()>>r.IntN(64)%(1<<32)) * time.Millisecond
		got := AppendSegmentInterest([]byte{0xEE}, base.TlvStr(), seg, cbp, nonce, life)
		if got[0] != 0xEE {
			t.Fatal("dst's bytes overwritten")
		}
		got = got[1:]
		name := append(base[:len(base):len(base)], enc.NewSegmentComponent(seg))
		want, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
			CanBePrefix: cbp, Nonce: optional.Some(nonce), Lifetime: optional.Some(life),
		}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := want.Wire.Join(); !bytes.Equal(got, w) {
			t.Fatalf("case %d (%s, seg %d, CanBePrefix %v, nonce %d, %v):\n got %x\nwant %x", i, name, seg, cbp, nonce, life, got, w)
		}
		// Read back by the forwarder's decoder, which takes it from a
		// bare face (fw.Face.Send).
		pkt, err := defn.ParseFwPacket(enc.NewBufferView(got), false)
		if err != nil || pkt.Interest == nil {
			t.Fatalf("case %d: the forwarder's decoder: %v", i, err)
		}
		back := pkt.Interest
		if !back.NameV.Equal(name) || back.CanBePrefixV != cbp || back.NonceV.Unwrap() != nonce || back.InterestLifetimeV.Unwrap() != life {
			t.Fatalf("case %d: read back %+v", i, back)
		}
	}
}

func BenchmarkAppendSegmentInterest(b *testing.B) {
	base := enc.Name{enc.NewGenericComponent("bench"), enc.NewGenericComponent("pub"), enc.NewGenericComponent("m17"),
		enc.NewTimestampComponent(1795984692), enc.NewSequenceNumComponent(1234), enc.NewVersionComponent(0)}
	key := base.TlvStr()
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			_ = AppendSegmentInterest(nil, key, uint64(i%9), false, uint32(i), time.Second)
		}
	})
	b.Run("ndnd", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			name := append(base[:len(base):len(base)], enc.NewSegmentComponent(uint64(i%9)))
			_, _ = spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{Nonce: optional.Some(uint32(i)), Lifetime: optional.Some(time.Second)}, nil, nil)
		}
	})
}
