package svs

import (
	"bytes"
	"errors"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
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
