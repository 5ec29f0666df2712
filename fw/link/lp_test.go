package link

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

func packet(n int) []byte {
	// A Data of n bytes in all, with a 3-byte length header.
	p := append([]byte{TypeData, 0xFD, byte((n - 4) >> 8), byte(n - 4)}, make([]byte, n-4)...)
	for i := 4; i < n; i++ {
		p[i] = byte(i)
	}
	return p
}

// encodeAll returns the frames Encode emits, copied.
func encodeAll(t *testing.T, pkt []byte, h *Header, mtu int, seq *uint64) [][]byte {
	t.Helper()
	var frames [][]byte
	_, err := Encode(nil, pkt, h, mtu, seq, func(f []byte) error {
		if len(f) > mtu {
			t.Fatalf("frame of %d bytes over an MTU of %d", len(f), mtu)
		}
		if err := Datagram(f, MaxPacketSize); err != nil {
			t.Fatalf("frame is not one element: %v", err)
		}
		frames = append(frames, append([]byte(nil), f...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func TestEncodeFragmentsAndReassembles(t *testing.T) {
	token := []byte{0, 1, 0, 0, 0, 7}
	for _, mtu := range []int{576, 1420, 8800} {
		for _, size := range []int{100, 575, 576, 1400, 1420, 4000, 8800} {
			for _, h := range []Header{{}, {PitToken: token, HasCongestionMark: true, CongestionMark: 1}} {
				seq := uint64(1) << 40
				frames := encodeAll(t, packet(size), &h, mtu, &seq)
				r := NewReassembler(DefaultLimits(), NewBudget(1<<20))
				var got []byte
				var hdr *Lp
				for i, f := range frames {
					if f[0] != TypeLpPacket {
						if len(frames) != 1 || !bytes.Equal(f, packet(size)) {
							t.Fatalf("mtu %d size %d: bare frame %d", mtu, size, i)
						}
						got, hdr = f, &Lp{}
						continue
					}
					var lp Lp
					if err := DecodeLp(f, &lp); err != nil {
						t.Fatalf("mtu %d size %d: frame %d: %v", mtu, size, i, err)
					}
					if !lp.Fragmented() {
						got, hdr = lp.Fragment, &lp
						continue
					}
					w, first, err := r.Add(time.Now(), netip.AddrPort{}, &lp)
					if err != nil {
						t.Fatalf("mtu %d size %d: fragment %d: %v", mtu, size, i, err)
					}
					if w != nil {
						got, hdr = w, first
					}
				}
				if !bytes.Equal(got, packet(size)) {
					t.Fatalf("mtu %d size %d: reassembled %d bytes, want %d", mtu, size, len(got), size)
				}
				if !bytes.Equal(hdr.PitToken, h.PitToken) || hdr.HasCongestionMark != h.HasCongestionMark {
					t.Fatalf("mtu %d size %d: header %+v, want %+v", mtu, size, hdr, h)
				}
				if r.Pending() != 0 || r.budget.Used() != 0 {
					t.Fatalf("mtu %d size %d: %d pending, %d bytes held", mtu, size, r.Pending(), r.budget.Used())
				}
			}
		}
	}
}

func TestEncodeWithoutFragmentationRefusesWhatDoesNotFit(t *testing.T) {
	_, err := Encode(nil, packet(2000), &Header{}, 1420, nil, func([]byte) error { return nil })
	if !errors.Is(err, ErrMTU) {
		t.Fatalf("%v, want ErrMTU", err)
	}
}

// lpFrag builds a fragment by hand, as a hostile sender would.
func lpFrag(seq, index, count uint64, payload []byte) []byte {
	var in []byte
	in = appendNatural(in, typeSequence, seq)
	in = appendNatural(in, typeFragIndex, index)
	in = appendNatural(in, typeFragCount, count)
	in = appendVarNum(append(in, typeFragment), uint64(len(payload)))
	in = append(in, payload...)
	return append(appendVarNum([]byte{TypeLpPacket}, uint64(len(in))), in...)
}

func TestReassemblyBounds(t *testing.T) {
	now := time.Now()
	add := func(r *Reassembler, from netip.AddrPort, frame []byte, at time.Time) ([]byte, error) {
		var lp Lp
		if err := DecodeLp(frame, &lp); err != nil {
			return nil, err
		}
		w, _, err := r.Add(at, from, &lp)
		return w, err
	}
	budget := NewBudget(64 << 10)
	r := NewReassembler(DefaultLimits(), budget)
	a := netip.MustParseAddrPort("10.0.0.1:6363")
	b := netip.MustParseAddrPort("10.0.0.2:6363")

	// A fragment claiming 2^62 or 2,000,000 fragments costs nothing.
	for _, count := range []uint64{1 << 62, 2_000_000, 65} {
		if _, err := add(r, a, lpFrag(5, 0, count, []byte{1}), now); !errors.Is(err, ErrFragCount) {
			t.Fatalf("FragCount %d: %v, want ErrFragCount", count, err)
		}
	}
	// Index out of range is malformed.
	if _, err := add(r, a, lpFrag(5, 3, 3, []byte{1}), now); !errors.Is(err, ErrMalformed) {
		t.Fatalf("index 3 of 3: %v", err)
	}
	// Two senders with the same sequence on one multicast face do not mix.
	if w, err := add(r, a, lpFrag(10, 0, 2, []byte{1}), now); w != nil || err != nil {
		t.Fatal(w, err)
	}
	if w, err := add(r, b, lpFrag(11, 1, 2, []byte{9}), now); w != nil || err != nil {
		t.Fatal(w, err)
	}
	if w, err := add(r, a, lpFrag(11, 1, 2, []byte{2}), now); err != nil || !bytes.Equal(w, []byte{1, 2}) {
		t.Fatalf("got %v %v, want [1 2]", w, err)
	}
	// A packet over the maximum size is refused and its memory given back.
	big := make([]byte, 5000)
	add(r, a, lpFrag(20, 0, 2, big), now)
	if _, err := add(r, a, lpFrag(21, 1, 2, big), now); !errors.Is(err, ErrFragTooLarge) {
		t.Fatalf("10000 bytes: %v", err)
	}
	// Partial packets time out; pending packets are bounded.
	for i := range 100 {
		add(r, a, lpFrag(uint64(1000+10*i), 0, 2, big[:1000]), now)
	}
	if r.Pending() > DefaultLimits().MaxPending {
		t.Fatalf("%d pending", r.Pending())
	}
	r.Expire(now.Add(time.Second))
	if r.Pending() != 1 || budget.Used() != 1 { // b's one byte is left: it timed out too
		r.Expire(now.Add(2 * time.Second))
	}
	r.Expire(now.Add(2 * time.Second))
	if r.Pending() != 0 || budget.Used() != 0 {
		t.Fatalf("after the timeout: %d pending, %d bytes", r.Pending(), budget.Used())
	}
	// The shared budget caps memory across reassemblers.
	small := NewBudget(3000)
	r1, r2 := NewReassembler(DefaultLimits(), small), NewReassembler(DefaultLimits(), small)
	add(r1, a, lpFrag(1, 0, 2, big[:2000]), now)
	if _, err := add(r2, a, lpFrag(1, 0, 2, big[:2000]), now); !errors.Is(err, ErrBudget) {
		t.Fatalf("over the budget: %v", err)
	}
	r1.Close()
	r2.Close()
	if small.Used() != 0 {
		t.Fatalf("%d bytes held after Close", small.Used())
	}
}

func TestDecodeLpFields(t *testing.T) {
	var in []byte
	in = appendVarNum(append(in, typePitToken), 6)
	in = append(in, 1, 2, 3, 4, 5, 6)
	in = appendNatural(in, typeNextHopFaceID, 300)
	in = appendNatural(in, typeCongestionMark, 1)
	in = appendNatural(in, 0x0348, 7) // TxSequence: ignorable
	in = append(in, typeFragment, 2, TypeInterest, 0)
	frame := append(appendVarNum([]byte{TypeLpPacket}, uint64(len(in))), in...)
	var lp Lp
	if err := DecodeLp(frame, &lp); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lp.PitToken, []byte{1, 2, 3, 4, 5, 6}) || lp.NextHopFaceID != 300 || !lp.HasCongestionMark ||
		!bytes.Equal(lp.Fragment, []byte{TypeInterest, 0}) || lp.Fragmented() {
		t.Fatalf("%+v", lp)
	}
	// An unknown field that is not ignorable drops the packet.
	bad := append([]byte{TypeLpPacket, 5, 0x54, 1, 0}, typeFragment, 0)
	bad[1] = byte(len(bad) - 2)
	if err := DecodeLp(bad, &lp); err == nil {
		t.Fatal("unknown critical field accepted")
	}
}

func FuzzLp(f *testing.F) {
	f.Add(lpFrag(5, 0, 1<<62, []byte{1}), uint16(1420))
	f.Add(lpFrag(5, 1, 2, []byte{1, 2, 3}), uint16(576))
	f.Add([]byte{TypeLpPacket, 4, typeFragment, 2, TypeInterest, 0}, uint16(8800))
	f.Fuzz(func(t *testing.T, frame []byte, mtu uint16) {
		r := NewReassembler(Limits{MaxFragments: 8, MaxPending: 4, Timeout: time.Second}, NewBudget(20000))
		now := time.Now()
		// The frame split into fragments and fed in a shuffled order, with
		// the frame itself: nothing panics, memory stays in the budget.
		var lp Lp
		if Datagram(frame, MaxPacketSize) == nil && DecodeLp(frame, &lp) == nil && lp.Fragmented() {
			r.Add(now, netip.AddrPort{}, &lp)
		}
		seq := uint64(rand.Uint32())
		var frags [][]byte
		Encode(nil, frame, &Header{PitToken: []byte{0, 1, 2, 3, 4, 5}}, int(mtu), &seq, func(b []byte) error {
			frags = append(frags, append([]byte(nil), b...))
			return nil
		})
		rand.Shuffle(len(frags), func(i, j int) { frags[i], frags[j] = frags[j], frags[i] })
		for _, fr := range frags {
			if fr[0] != TypeLpPacket {
				continue
			}
			if err := DecodeLp(fr, &lp); err != nil {
				t.Fatalf("our own fragment does not decode: %v", err)
			}
			if w, _, _ := r.Add(now, netip.AddrPort{}, &lp); w != nil && len(frags) > 1 && !bytes.Equal(w, frame) {
				t.Fatalf("reassembled %d bytes, want %d", len(w), len(frame))
			}
			if r.budget.Used() > 20000 {
				t.Fatalf("budget exceeded: %d", r.budget.Used())
			}
		}
		r.Close()
		if r.budget.Used() != 0 {
			t.Fatalf("%d bytes held after Close", r.budget.Used())
		}
	})
}
