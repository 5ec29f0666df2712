package svs

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// The decoders a fetched or served frame reaches, fuzzed: every input is
// an error or a well-formed result, never a panic.

// FuzzReadSegment: readSegment on any bytes, for segment 0 and 1 of one
// base name. Seeds are real segments of a two-segment publication, and
// the producer's application Nack.
func FuzzReadSegment(f *testing.F) {
	base := mustName("/fuzz/node/32=svs/t=1700000000/seq=7/v=0")
	segs, err := encodeSegments(base, bytes.Repeat([]byte("payload "), 1200), sig.NewSha256Signer())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range segs {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	if nack, err := unavailableData(base, 7, 7, sig.NewSha256Signer()); err == nil {
		f.Add(nack, uint8(0))
	}
	f.Fuzz(func(t *testing.T, raw []byte, idx uint8) {
		rawAgrees(t, raw)
		s, err := readSegment(raw, base, uint64(idx%2), nil)
		if err != nil {
			if !errors.Is(err, ErrBadData) && !errors.Is(err, errUnavailable) {
				t.Fatalf("error %v wraps neither ErrBadData nor errUnavailable", err)
			}
			return
		}
		if s.last < uint64(idx%2) {
			t.Fatalf("segment %d accepted with last segment %d", idx%2, s.last)
		}
	})
}

// rawAgrees checks that what rawSegment accepts, ndnd's decoder and
// checkSegment accept too, with the same key, segment, last segment and
// content: the fetch worker's fast path changes nothing but the cost.
func rawAgrees(t *testing.T, raw []byte) {
	t.Helper()
	key, seg, sg, ok := rawSegment(raw)
	if !ok {
		return
	}
	data, covered, err := ndnpkt.Data(raw)
	if err != nil {
		t.Fatalf("rawSegment accepted what ndnd's decoder refuses: %v", err)
	}
	name := data.Name()
	if len(name) == 0 || string(key) != name[:len(name)-1].TlvStr() || seg != name[len(name)-1].NumberVal() {
		t.Fatalf("rawSegment read key %x seg %d from %s", key, seg, name)
	}
	want, err := checkSegment(data, covered, name[:len(name)-1], seg, nil)
	if err != nil {
		t.Fatalf("rawSegment accepted what checkSegment refuses: %v", err)
	}
	if want.last != sg.last || !bytes.Equal(want.content, sg.content) {
		t.Fatalf("rawSegment read last %d and %d bytes, checkSegment %d and %d", sg.last, len(sg.content), want.last, len(want.content))
	}
}

// FuzzClassify: classify on any frame; what it returns aliases the frame.
func FuzzClassify(f *testing.F) {
	base := mustName("/fuzz/node/32=svs/t=1700000000/seq=7/v=0")
	segs, err := encodeSegments(base, []byte("hello"), sig.NewSha256Signer())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(segs[0])
	f.Add([]byte{0x64, 0x05, 0x50, 0x03, 0x05, 0x01, 0x00}) // an LpPacket around a truncated Interest
	f.Add([]byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00})
	f.Fuzz(func(t *testing.T, frame []byte) {
		kind, l3, _, _ := classify(frame)
		if kind == frameOther && l3 != nil {
			t.Fatal("an unclassified frame with a packet")
		}
	})
}

// FuzzParseDataNames: the served layers' name parsers on any name.
func FuzzParseDataNames(f *testing.F) {
	d := &dataNames{prefix: mustName("/fuzz/shared"), group: mustName("/fuzz"), self: mustName("/fuzz/node")}
	f.Add(d.perNode(1700000000, 7).Bytes(), false)
	f.Add(d.shared(mustName("/other"), 1700000000, 7).Bytes(), true)
	f.Fuzz(func(t *testing.T, wireName []byte, canBePrefix bool) {
		// The names come from ndnd's decoder, which ndnpkt keeps from
		// panicking the process (data_server.go).
		name, err := func() (name enc.Name, err error) {
			defer func() {
				if recover() != nil {
					err = ndnpkt.ErrPanicked
				}
			}()
			return enc.NameFromBytes(wireName)
		}()
		if err != nil {
			return
		}
		// What a parser accepts names the publication it says: the
		// layer's name for (node, boot, seq) is a prefix of it.
		if r, ok := d.parseShared(name, canBePrefix); ok {
			if !r.shared || !d.shared(r.node, r.boot, r.seq)[:len(d.prefix)+len(r.node)+2].IsPrefix(name) {
				t.Fatalf("shared %v parsed as %+v", name, r)
			}
		}
		if r, ok := d.parsePerNode(name, canBePrefix); ok {
			if r.shared || !d.perNode(r.boot, r.seq).IsPrefix(name) {
				t.Fatalf("per-node %v parsed as %+v", name, r)
			}
		}
	})
}

// FuzzServeInline: a producer that answers on the forwarding thread
// (dataServer.inline, a MemoryStorage) given any frame as classify reads
// it: never a panic there, and every answer is a Data the Interest asked
// for (its name under the Interest's).
func FuzzServeInline(f *testing.F) {
	names := dataNames{prefix: mustName("/fuzz"), group: mustName("/fuzz"), self: mustName("/fuzz/node")}
	store, err := NewMemoryStorage(StorageConfig{})
	if err != nil {
		f.Fatal(err)
	}
	const boot = 1700000000
	signer := sig.NewSha256Signer()
	var pubs []Publication
	for seq := uint64(1); seq <= 3; seq++ {
		segs, err := encodeSegments(names.shared(names.self, boot, seq), bytes.Repeat([]byte{byte(seq)}, int(seq)*SegmentSize/2), signer)
		if err != nil {
			f.Fatal(err)
		}
		pubs = append(pubs, Publication{Boot: boot, Seq: seq, Segments: segs})
	}
	if err := store.Reserve(boot, 10); err != nil {
		f.Fatal(err)
	}
	if err := store.PutOwn(pubs...); err != nil {
		f.Fatal(err)
	}
	var announced atomic.Uint64
	announced.Store(5) // 4 and 5 announced, not held: answered with a Nack
	var answers [][]byte
	d := &dataServer{names: &names, store: store, signer: signer, boot: boot, limit: 8, announced: &announced,
		ctr: &dataCounters{}, ignored: &atomic.Uint64{}, in: newMailbox[serveReq](), inline: true,
		sendData: func(frame []byte, _ enc.Name) error { answers = append(answers, frame); return nil }}
	for _, n := range []enc.Name{
		names.shared(names.self, boot, 3).Append(enc.NewSegmentComponent(1)),
		names.perNode(boot, 3).Append(enc.NewSegmentComponent(0)),
		names.shared(names.self, boot, 4).Append(enc.NewSegmentComponent(0)),
	} {
		f.Add(wire.AppendSegmentInterest(nil, n[:len(n)-1].TlvStr(), n[len(n)-1].NumberVal(), false, 1, time.Second))
		f.Add(wire.AppendSegmentInterest(nil, n[:len(n)-1].TlvStr(), n[len(n)-1].NumberVal(), true, 1, time.Second))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		kind, _, name, canBePrefix := classify(frame)
		if kind != frameInterest {
			return
		}
		answers = answers[:0]
		d.offer(serveReq{name: name, canBePrefix: canBePrefix})
		if d.in.len() != 0 {
			t.Fatal("an inline server queued the Interest")
		}
		for _, a := range answers {
			data, _, err := ndnpkt.Data(a)
			if err != nil {
				t.Fatalf("answer to %s is not a Data: %v", name, err)
			}
			if !name.IsPrefix(data.Name()) {
				t.Fatalf("answer %s to an Interest for %s", data.Name(), name)
			}
		}
	})
}
