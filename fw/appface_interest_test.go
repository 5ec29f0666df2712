package fw

import (
	"bytes"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// What SendInterest gives the forwarder is what ParseFwPacket makes of the
// same Interest, as svs/wire.AppendSegmentInterest encodes it: the name
// (equal, and hashed alike, for the PIT and the CS), CanBePrefix, Nonce,
// InterestLifetime, and nothing else.
func TestDescribeInterestIsTheParse(t *testing.T) {
	bases := []enc.Name{
		mustName(t, "/g"),
		mustName(t, "/bench/pub/node-7/t=1732800000/seq=42/v=0"),
		append(mustName(t, "/a"), enc.NewGenericComponent(string(bytes.Repeat([]byte{0xfe}, 252)))),
	}
	segs := []uint64{0, 1, 252, 253, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<64 - 1}
	lifetimes := []time.Duration{0, time.Millisecond, time.Second, 4 * time.Second, 300 * time.Second}
	for _, base := range bases {
		for _, seg := range segs {
			for i, lt := range lifetimes {
				cbp := i%2 == 1
				nonce := uint32(seg*2654435761) ^ uint32(i)
				frame := wire.AppendSegmentInterest(nil, base.TlvStr(), seg, cbp, nonce, lt)
				pkt, err := defn.ParseFwPacket(enc.NewBufferView(frame), false)
				if err != nil || pkt.Interest == nil {
					t.Fatalf("%s seg %d: parse: %v", base, seg, err)
				}
				name := append(base[:len(base):len(base)], enc.NewSegmentComponent(seg))
				got, want := describeInterest(name, cbp, nonce, lt), pkt.Interest
				switch {
				case !got.NameV.Equal(want.NameV), got.NameV.Hash() != want.NameV.Hash(),
					got.NameV.String() != want.NameV.String():
					t.Errorf("name %s, parsed %s", got.NameV, want.NameV)
				case got.CanBePrefixV != want.CanBePrefixV, got.MustBeFreshV != want.MustBeFreshV,
					got.NonceV != want.NonceV, got.InterestLifetimeV != want.InterestLifetimeV,
					want.ForwardingHintV != nil, want.HopLimitV != nil,
					want.ApplicationParameters, want.SignatureInfo, want.SignatureValue:
					t.Errorf("%s: described %+v, parsed %+v", name, got, want)
				}
			}
		}
	}
}

// An Interest handed over with SendInterest is forwarded and answered as
// one handed over with Send, and counted alike.
func TestSendInterestForwards(t *testing.T) {
	prod, pf := newEngine(t)
	serve(t, prod, pf.FaceID(), mustName(t, "/test/sendinterest"), []byte("seg"))
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = af.Close() })
	got := make(chan []byte, 1)
	af.OnFrame(func(frame []byte) {
		select {
		case got <- bytes.Clone(frame):
		default:
		}
	})
	af.OnError(func(error) {})
	if err := af.Open(); err != nil {
		t.Fatal(err)
	}
	base := mustName(t, "/test/sendinterest/pub")
	frame := wire.AppendSegmentInterest(nil, base.TlvStr(), 3, false, 77, 2*time.Second)
	name := append(base[:len(base):len(base)], enc.NewSegmentComponent(3))
	before := faceInfoOf(t, af.FaceID())
	if err := af.SendInterest(frame, name, false, 77, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		pkt, err := defn.ParseFwPacket(enc.NewBufferView(d), false)
		if err != nil || pkt.Data == nil || !pkt.Data.NameV.Equal(name) {
			t.Fatalf("got %x (%v), want the Data of %s", d, err, name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no Data for an Interest sent with SendInterest")
	}
	after := faceInfoOf(t, af.FaceID())
	if after.InInterests != before.InInterests+1 || after.InBytes != before.InBytes+uint64(len(frame)) {
		t.Errorf("counters: before %+v, after %+v", before, after)
	}
	_ = af.Close()
	if err := af.SendInterest(frame, name, false, 78, time.Second); err != ErrClosed {
		t.Errorf("SendInterest on a closed face: %v, want ErrClosed", err)
	}
}

func faceInfoOf(t *testing.T, id uint64) FaceInfo {
	t.Helper()
	for _, fi := range testFwd.Faces() {
		if fi.ID == id {
			return fi
		}
	}
	t.Fatalf("face %d not in Faces", id)
	return FaceInfo{}
}
