package wire

import (
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"
	"github.com/named-data/ndnd/std/security/signer"
	ndnsync "github.com/named-data/ndnd/std/sync"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// benchVector is a 20-entry vector: /ndn/svs/node-NN, realistic boots,
// sequence numbers of assorted widths.
func benchVector(tb testing.TB) *core.Vector {
	tb.Helper()
	v := core.NewVector()
	for i := range 20 {
		v.Set(cname(tb, fmt.Sprintf("/ndn/svs/node-%02d", i)), 1736266473+uint64(i), uint64(1+i*i*37))
	}
	return v
}

func BenchmarkEncodeSyncInterest(b *testing.B) {
	c := newCodec(b, "/ndn/svs", nil, Options{})
	v := benchVector(b)
	buf := make([]byte, 0, 2048)
	b.Run("Vector", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for i := range b.N {
			out, err := c.AppendSyncInterest(buf[:0], v, uint32(i))
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n))
	})
	b.Run("Entries", func(b *testing.B) {
		es := v.Entries()
		b.ReportAllocs()
		for i := range b.N {
			if _, err := c.AppendSyncInterestEntries(buf[:0], es, uint32(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeSyncInterest(b *testing.B) {
	c := newCodec(b, "/ndn/svs", nil, Options{})
	wire, err := c.EncodeSyncInterest(benchVector(b), 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for range b.N {
		v, err := c.DecodeSyncInterest(wire)
		if err != nil || v.Len() != 20 {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeStateVector(b *testing.B) {
	v := benchVector(b)
	es := v.Entries()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for range b.N {
		buf = AppendStateVectorEntries(buf[:0], es)
	}
}

func BenchmarkDecodeStateVector(b *testing.B) {
	sv := EncodeStateVector(benchVector(b))
	b.ReportAllocs()
	for range b.N {
		if _, err := DecodeStateVector(sv); err != nil {
			b.Fatal(err)
		}
	}
}

// The same work done with ndnd v1.5.3's std, as its SvSync does it (SvMap,
// SvsData.Encode, MakeData with DigestSha256, MakeInterest; ReadInterest,
// ReadData, ParseSvsData and rebuilding the map), for comparison.

func BenchmarkNdndEncodeSyncInterest(b *testing.B) {
	v := benchVector(b)
	m := ndnsync.NewSvMap[uint64](0)
	for _, e := range v.Entries() {
		n, err := CoreToName(e.Node)
		if err != nil {
			b.Fatal(err)
		}
		m.Set(n.TlvStr(), e.Boot, e.Seq)
	}
	group := name(b, "/ndn/svs")
	prefix := group.Append(enc.NewVersionComponent(3))
	s := signer.NewSha256Signer()
	b.ReportAllocs()
	for i := range b.N {
		sv := m.Encode(func(s uint64) uint64 { return s })
		content := (&spec_svs.SvsData{StateVector: sv}).Encode()
		data, err := spec.Spec{}.MakeData(prefix, &ndn.DataConfig{ContentType: optional.Some(ndn.ContentTypeBlob)}, content, s)
		if err != nil {
			b.Fatal(err)
		}
		_, err = spec.Spec{}.MakeInterest(prefix, &ndn.InterestConfig{
			Lifetime: optional.Some(time.Second),
			Nonce:    optional.Some(uint32(i)),
		}, data.Wire, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNdndDecodeSyncInterest(b *testing.B) {
	c := newCodec(b, "/ndn/svs", nil, Options{})
	wire, err := c.EncodeSyncInterest(benchVector(b), 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		interest, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(wire))
		if err != nil {
			b.Fatal(err)
		}
		data, _, err := spec.Spec{}.ReadData(enc.NewWireView(interest.AppParam()))
		if err != nil {
			b.Fatal(err)
		}
		params, err := spec_svs.ParseSvsData(enc.NewBufferView(data.Content().Join()), false)
		if err != nil {
			b.Fatal(err)
		}
		m := ndnsync.NewSvMap[uint64](0)
		for _, e := range params.StateVector.Entries {
			for _, s := range e.SeqNoEntries {
				m.Set(e.Name.TlvStr(), s.BootstrapTime, s.SeqNo)
			}
		}
	}
}
