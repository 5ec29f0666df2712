package link

import (
	"bytes"
	"errors"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// tlv encodes one element (test helper; lengths under 253 or 2^16).
func tlv(typ uint64, value ...[]byte) []byte {
	v := bytes.Join(value, nil)
	return append(appendVarNum(appendVarNum(nil, typ), uint64(len(v))), v...)
}

// claim is a header whose TLV-LENGTH claims n bytes, with few after it.
func claim(typ uint64, n uint64, after ...byte) []byte {
	return append(appendVarNum(appendVarNum(nil, typ), n), after...)
}

// realPackets are packets ndnd's encoder makes, with every field the
// grammar descends into: a signed Interest with a ForwardingHint and
// ApplicationParameters, a Data with MetaInfo (FinalBlockId) and a
// KeyLocator.
func realPackets(t testing.TB) [][]byte {
	name, _ := enc.NameFromStr("/a/b/seg=3/v=7")
	hint, _ := enc.NameFromStr("/hint")
	keyName, _ := enc.NameFromStr("/a/KEY/k")
	ed, err := signer.KeygenEd25519(keyName)
	if err != nil {
		t.Fatal(err)
	}
	intr, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
		CanBePrefix: true, MustBeFresh: true, ForwardingHint: []enc.Name{hint},
		Nonce: optional.Some(uint32(7)), Lifetime: optional.Some(4 * time.Second),
		SigNonce: []byte{1, 2, 3, 4}, SigTime: optional.Some(time.Second),
	}, enc.Wire{[]byte("parameters")}, ed)
	if err != nil {
		t.Fatal(err)
	}
	final := enc.NewSegmentComponent(9)
	data, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{
		ContentType: optional.Some(ndn.ContentTypeBlob), Freshness: optional.Some(time.Second),
		FinalBlockID: optional.Some(final),
	}, enc.Wire{[]byte("content with \x07\xfe\xff\xff\xff\xff inside")}, ed)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{intr.Wire.Join(), data.Wire.Join()}
}

// Wellformed takes what ndnd's encoder makes, and refuses an element
// whose length runs past its parent at every level ndnd's application
// decoder reads, which made that decoder allocate what the packet only
// claimed (the Interest FuzzClassify found: a Name claiming 1.8 GB made it
// ask for 29 GB, and the process died).
func TestWellformed(t *testing.T) {
	for i, p := range realPackets(t) {
		if err := Wellformed(p); err != nil {
			t.Errorf("ndnd's packet %d refused: %v", i, err)
		}
	}
	comp := tlv(0x08, []byte("a"))
	// A name component numbered like a container is a component: its
	// value is not looked into.
	oddComponent := tlv(0x14, claim(0x18, 1<<40))
	for _, c := range []struct {
		name string
		pkt  []byte
		ok   bool
	}{
		{"a name component numbered like MetaInfo", tlv(TypeInterest, tlv(0x07, oddComponent, comp)), true},
		{"Content that looks like a huge element", tlv(TypeData, tlv(0x07, comp), tlv(0x15, claim(0x07, 1<<40))), true},
		{"FuzzClassify's Interest", []byte("\x050\a\xfem00 000000000000000000000000000000000\x0100\x000000000"), false},
		{"a Name claiming 2^31 bytes", tlv(TypeInterest, claim(0x07, 1<<31, 0x08, 0x01, 'a')), false},
		{"a component claiming more than the Name", tlv(TypeInterest, tlv(0x07, claim(0x08, 1<<30, 'a'))), false},
		{"a KeyDigest claiming 2^40 bytes", tlv(TypeData, tlv(0x07, comp), tlv(0x16, tlv(0x1b, []byte{5}), tlv(0x1c, claim(0x1d, 1<<40, 1)))), false},
		{"a KeyLocator Name claiming more", tlv(TypeData, tlv(0x07, comp), tlv(0x16, tlv(0x1c, tlv(0x07, claim(0x08, 200, 1))))), false},
		{"a SignatureNonce claiming 2^40 bytes", tlv(TypeInterest, tlv(0x07, comp), tlv(0x2c, tlv(0x1b, []byte{0}), claim(0x26, 1<<40, 1))), false},
		{"a FinalBlockId claiming more than MetaInfo", tlv(TypeData, tlv(0x07, comp), tlv(0x14, claim(0x1a, 300, 8, 1, 'a'))), false},
		{"a ValidityPeriod's NotBefore claiming more", tlv(TypeData, tlv(0x07, comp), tlv(0x16, tlv(0xfd, claim(0xfe, 100, '2')))), false},
		{"a ForwardingHint Name claiming more", tlv(TypeInterest, tlv(0x07, comp), tlv(0x1e, tlv(0x07, claim(0x08, 99)))), false},
		{"an outer length that is not the packet's", append(tlv(TypeInterest, tlv(0x07, comp)), 0), false},
		{"an LpPacket", tlv(TypeLpPacket, tlv(0x50, tlv(TypeInterest, tlv(0x07, comp)))), false},
		{"a length of 2^64-1", append([]byte{0x05, 0x0b, 0x07, 0xff}, bytes.Repeat([]byte{0xff}, 8)...), false},
	} {
		err := Wellformed(c.pkt)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok %v", c.name, err, c.ok)
		}
		if !c.ok && c.name != "an LpPacket" && !errors.Is(err, ErrNested) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrNested or ErrMalformed", c.name, err)
		}
	}
}

// Whatever Wellformed takes, ndnd's application decoder reads without
// panicking and without allocating what the packet only claims: a fuzzer
// process that allocated gigabytes would die, and fail the target.
func FuzzWellformed(f *testing.F) {
	for _, p := range realPackets(f) {
		f.Add(p)
	}
	f.Add([]byte("\x050\a\xfem00 000000000000000000000000000000000\x0100\x000000000"))
	f.Add(tlv(TypeData, tlv(0x07, tlv(0x08, []byte("a"))), tlv(0x16, tlv(0x1c, claim(0x1d, 1<<40, 1)))))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > MaxPacketSize || Wellformed(pkt) != nil {
			return
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("ndnd's decoder panicked on a packet Wellformed took: %v", r)
				}
			}()
			_, _, _ = spec.ReadPacket(enc.NewBufferView(pkt))
		}()
	})
}

// The cost of the check per packet (docs/decisions.md quotes it).
func BenchmarkWellformed(b *testing.B) {
	ps := realPackets(b)
	for _, p := range ps {
		b.Run(map[byte]string{TypeInterest: "interest", TypeData: "data"}[p[0]], func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if Wellformed(p) != nil {
					b.Fatal("refused")
				}
			}
		})
	}
}
