package fw

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// What SendData gives the forwarder is what ParseFwPacket makes of the
// same Data, for Data made by ndnd's encoder with and without each
// MetaInfo element, content and signature; and a Data it cannot describe
// (another name, an element the forwarder does not read, a truncation)
// is left to Send.
func TestDescribeDataIsTheParse(t *testing.T) {
	names := []enc.Name{
		mustName(t, "/g"),
		append(mustName(t, "/bench/pub/node-7/t=1732800000/seq=42/v=0"), enc.NewSegmentComponent(3)),
		append(mustName(t, "/a"), enc.NewGenericComponent(string(bytes.Repeat([]byte{0xfe}, 252)))),
	}
	ct := func(v ndn.ContentType) optional.Optional[ndn.ContentType] { return optional.Some(v) }
	cfgs := []*ndn.DataConfig{
		{},
		{ContentType: ct(ndn.ContentTypeBlob)},
		{ContentType: ct(ndn.ContentTypeNack), Freshness: optional.Some(4 * time.Second)},
		{Freshness: optional.Some(time.Duration(0))},
		{Freshness: optional.Some(300 * time.Hour), FinalBlockID: optional.Some(enc.NewSegmentComponent(9))},
		{FinalBlockID: optional.Some(enc.NewSegmentComponent(0))},
	}
	signers := []ndn.Signer{sig.NewSha256Signer(), nil}
	contents := []enc.Wire{nil, {[]byte{}}, {bytes.Repeat([]byte("x"), 8000)}}
	n := 0
	for _, name := range names {
		for _, cfg := range cfgs {
			for _, signer := range signers {
				for _, content := range contents {
					d, err := spec.Spec{}.MakeData(name, cfg, content, signer)
					if err != nil {
						t.Fatal(err)
					}
					frame := d.Wire.Join()
					pkt, err := defn.ParseFwPacket(enc.NewBufferView(frame), false)
					if err != nil || pkt.Data == nil {
						t.Fatalf("%s: parse: %v", name, err)
					}
					got, ok := describeData(frame, name)
					if !ok {
						t.Errorf("%s %+v: not described", name, cfg)
						continue
					}
					want := *pkt.Data
					if !got.NameV.Equal(want.NameV) {
						t.Errorf("name %s, parsed %s", got.NameV, want.NameV)
					}
					g := *got
					g.NameV, want.NameV = nil, nil
					if !reflect.DeepEqual(g, want) || !reflect.DeepEqual(got.MetaInfo, pkt.Data.MetaInfo) {
						t.Errorf("%s %+v: described %+v %+v, parsed %+v %+v", name, cfg, g, got.MetaInfo, want, pkt.Data.MetaInfo)
					}
					n++
				}
			}
		}
	}
	d, err := spec.Spec{}.MakeData(names[1], &ndn.DataConfig{}, enc.Wire{[]byte("c")}, sig.NewSha256Signer())
	if err != nil {
		t.Fatal(err)
	}
	frame := d.Wire.Join()
	other := append(mustName(t, "/bench/pub/node-7/t=1732800000/seq=42/v=0"), enc.NewSegmentComponent(4))
	extra := append(bytes.Clone(frame), 0xfd, 0x02, 0x00, 0x00) // an element the forwarder does not read, past the end
	for what, c := range map[string]struct {
		frame []byte
		name  enc.Name
	}{
		"another name":   {frame, other},
		"a prefix":       {frame, names[1][:len(names[1])-1]},
		"truncated":      {frame[:len(frame)-1], names[1]},
		"trailing bytes": {extra, names[1]},
		"an Interest":    {[]byte{0x05, 0x03, 0x07, 0x01, 0x08}, names[0]},
	} {
		if _, ok := describeData(c.frame, c.name); ok {
			t.Errorf("%s: described", what)
		}
	}
	t.Logf("%d Data described as parsed", n)
}

// A Data sent with SendData answers the Interest it names, as one sent
// with Send, and is counted alike; one it cannot describe goes through
// Send and answers too.
func TestSendDataAnswers(t *testing.T) {
	cons, _ := newEngine(t)
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = af.Close() })
	prefix := mustName(t, "/test/senddata")
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	af.OnFrame(func(frame []byte) {
		pkt, err := defn.ParseFwPacket(enc.NewBufferView(frame), false)
		if err != nil || pkt.Interest == nil {
			return
		}
		name := pkt.Interest.NameV.Clone()
		content := []byte("described")
		if name[len(name)-1].String() == "other" {
			content = []byte("sent") // an element SendData does not describe: through Send
		}
		d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{content}, sig.NewSha256Signer())
		if err != nil {
			t.Error(err)
			return
		}
		frame = d.Wire.Join()
		if string(content) == "sent" {
			frame = append(frame[:0:0], frame...)
			frame[1] += 4 // Data TLV-LENGTH; then an empty non-critical element of type 256
			frame = append(frame, 0xfd, 0x01, 0x00, 0x00)
		}
		if err := af.SendData(frame, name); err != nil {
			t.Error(err)
		}
	})
	af.OnError(func(error) {})
	if err := af.Open(); err != nil {
		t.Fatal(err)
	}
	before := faceInfoOf(t, af.FaceID())
	// Names enough to land on each of the forwarder's threads.
	lasts := []string{"other"}
	threads := map[int]bool{}
	for i := 0; i < 16; i++ {
		last := fmt.Sprint("n", i)
		lasts = append(lasts, last)
		threads[ndnfw.HashNameToFwThread(append(prefix, enc.NewGenericComponent(last)))] = true
	}
	if len(threads) < 2 {
		t.Fatalf("the names reach threads %v only", threads)
	}
	for _, last := range lasts {
		got, err := fetch(t, cons, append(prefix, enc.NewGenericComponent(last)))
		if err != nil {
			t.Fatalf("%s: %v", last, err)
		}
		want := "described"
		if last == "other" {
			want = "sent"
		}
		if string(got) != want {
			t.Errorf("%s: content %q, want %q", last, got, want)
		}
	}
	if after := faceInfoOf(t, af.FaceID()); after.InData != before.InData+uint64(len(lasts)) {
		t.Errorf("InData %d, want %d", after.InData, before.InData+uint64(len(lasts)))
	}
}

// Whatever the bytes (a cacher serves Data it fetched from the network),
// describeData never panics, and what it describes ParseFwPacket parses
// alike.
func FuzzDescribeData(f *testing.F) {
	name := append(mustName(f, "/bench/pub/n/t=1/seq=2/v=0"), enc.NewSegmentComponent(0))
	for _, cfg := range []*ndn.DataConfig{{}, {Freshness: optional.Some(time.Second), FinalBlockID: optional.Some(enc.NewSegmentComponent(0))}} {
		d, err := spec.Spec{}.MakeData(name, cfg, enc.Wire{[]byte("seed")}, sig.NewSha256Signer())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d.Wire.Join())
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, ok := describeData(frame, name)
		if !ok {
			return
		}
		pkt, err := defn.ParseFwPacket(enc.NewBufferView(frame), false)
		if err != nil || pkt.Data == nil {
			t.Fatalf("described, but ParseFwPacket: %v", err)
		}
		want := *pkt.Data
		g := *got
		if !g.NameV.Equal(want.NameV) {
			t.Fatalf("name %s, parsed %s", g.NameV, want.NameV)
		}
		g.NameV, want.NameV = nil, nil
		if !reflect.DeepEqual(g, want) || !reflect.DeepEqual(got.MetaInfo, pkt.Data.MetaInfo) {
			t.Fatalf("described %+v %+v, parsed %+v %+v", g, got.MetaInfo, want, pkt.Data.MetaInfo)
		}
	})
}
