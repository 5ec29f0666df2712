package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestSyncInterestOf(t *testing.T) {
	c, err := NewCodec(name(t, "/ndn/svs"), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	si := tv(t, "TV7b") // a Sync Interest of /ndn/svs
	lp := func(fields ...[]byte) []byte { return tlv(typeLpPacket, fields...) }
	pitToken := tlv(0x62, []byte{1, 2, 3, 4, 5, 6})
	other := rawInterest(nv(t, "/ndn/svs/node-a/t=1/seq=3"), stdMiddle, nil, nil)
	v2 := tv(t, "TV8")
	tests := []struct {
		name    string
		frame   []byte
		want    []byte // the Interest returned; nil: not ok
		wantErr error
	}{
		{"bare Sync Interest", si, si, nil},
		{"in an LpPacket with a PIT token", lp(pitToken, tlv(typeFragment, si)), si, nil},
		{"in an LpPacket that says it is fragment 1 of 1", lp(tlv(0x53, []byte{1}), tlv(typeFragment, si)), si, nil},
		{"SVS v2 name: a candidate, for ParseSyncInterest to refuse", v2, v2, nil},
		{"Interest under another name of the group", other, nil, nil},
		{"Interest of another group", rawInterest(nv(t, "/ndn/svsx/v=3"), stdMiddle, nil, nil), nil, nil},
		{"the group name alone", rawInterest(nv(t, "/ndn/svs"), stdMiddle, nil, nil), nil, nil},
		{"a Data", tv(t, "TV7a"), nil, nil},
		{"a Nack", lp(tlv(typeNack), tlv(typeFragment, si)), nil, nil},
		{"IDLE LpPacket", lp(pitToken), nil, nil},
		{"fragment 1 of 2", lp(tlv(0x53, []byte{2}), tlv(typeFragment, si[:20])), nil, nil},
		{"empty frame", nil, nil, ErrMalformed},
		{"truncated", si[:len(si)-1], nil, ErrMalformed},
		{"bytes after the packet", append(bytes.Clone(si), 0), nil, ErrMalformed},
		{"Fragment holds a truncated packet", lp(tlv(typeFragment, si[:10])), nil, ErrMalformed},
		{"Interest without a Name first", tlv(typeInterest, tlv(typeNonce, []byte{1, 2, 3, 4})), nil, ErrMalformed},
		{"empty Interest", tlv(typeInterest), nil, ErrMalformed},
		{"oversized", tlv(typeInterest, make([]byte, MaxPacketSize+100)), nil, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := c.SyncInterestOf(tt.frame)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || ok {
					t.Fatalf("ok %v, err %v; want %v", ok, err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("err %v", err)
			case (tt.want != nil) != ok || !bytes.Equal(got, tt.want):
				t.Fatalf("ok %v, Interest %x; want %x", ok, got, tt.want)
			}
		})
	}
	// What it finds decodes, and aliases the frame.
	frame := lp(pitToken, tlv(typeFragment, si))
	got, ok, err := c.SyncInterestOf(frame)
	if !ok || err != nil || &got[0] != &frame[len(frame)-len(si)] {
		t.Fatalf("not the frame's own bytes: ok %v, err %v", ok, err)
	}
	if _, err := c.ParseSyncInterest(got); err != nil {
		t.Fatalf("ParseSyncInterest: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = c.SyncInterestOf(frame) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

// FuzzSyncInterestOf: no frame makes it panic, what it returns is part of
// the frame, and ParseSyncInterest can be given it.
func FuzzSyncInterestOf(f *testing.F) {
	f.Add(tv(f, "TV7b"))
	f.Add(tv(f, "TV8"))
	f.Add(tlv(typeLpPacket, tlv(0x62, []byte{1}), tlv(typeFragment, tv(f, "TV7b"))))
	c, err := NewCodec(name(f, "/ndn/svs"), nil, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, ok, err := c.SyncInterestOf(frame)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
		if !ok {
			return
		}
		if !bytes.Contains(frame, got) || len(got) == 0 {
			t.Fatalf("returned %x, not part of the frame", got)
		}
		_, _ = c.ParseSyncInterest(got)
	})
}
