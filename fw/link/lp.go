package link

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// NDNLPv2 TLV-TYPEs (https://redmine.named-data.net/projects/nfd/wiki/NDNLPv2).
const (
	typeFragment       = 0x50
	typeSequence       = 0x51
	typeFragIndex      = 0x52
	typeFragCount      = 0x53
	typePitToken       = 0x62
	typeNack           = 0x0320
	typeNackReason     = 0x0321
	typeIncomingFaceID = 0x032C
	typeNextHopFaceID  = 0x0330
	typeCongestionMark = 0x0340
)

// MaxPitToken is the longest PIT token accepted (NDNLPv2 sets no limit;
// NFD's tokens are 8 bytes, ndnd's 6).
const MaxPitToken = 32

// Lp is the part of an NDNLPv2 header the forwarder uses. Its byte slices
// point into the decoded frame.
type Lp struct {
	Sequence, FragIndex, FragCount uint64
	HasSequence                    bool
	HasFragIndex, HasFragCount     bool

	PitToken []byte

	// Nack is set for a Nack: the forwarder takes none, so they are dropped.
	// NackReason is its reason, 0 when it gives none.
	Nack       bool
	NackReason uint64

	NextHopFaceID     uint64
	HasNextHopFaceID  bool
	CongestionMark    uint64
	HasCongestionMark bool
	IncomingFaceID    uint64
	HasIncomingFaceID bool

	// Fragment is the network-layer packet, or a piece of it. Empty in an
	// IDLE packet.
	Fragment []byte
}

// Fragmented reports whether the packet is one of several fragments.
func (lp *Lp) Fragmented() bool {
	return (lp.HasFragCount && lp.FragCount != 1) || (lp.HasFragIndex && lp.FragIndex != 0)
}

var errUnknownCritical = errors.New("link: unknown critical LpPacket field")

// DecodeLp decodes the LpPacket frame (TLV-TYPE 0x64, already checked to be
// one whole element) into lp. Unknown header fields are skipped when
// NDNLPv2 marks them ignorable (TLV-TYPE in [800, 959] with the two low
// bits clear) and are an error otherwise.
func DecodeLp(frame []byte, lp *Lp) error {
	*lp = Lp{}
	typ, length, n, err := header(frame)
	if err != nil || typ != TypeLpPacket || uint64(len(frame)-n) != length {
		return ErrMalformed
	}
	b := frame[n:]
	for len(b) > 0 {
		typ, length, n, err := header(b)
		if err != nil || length > uint64(len(b)-n) {
			return ErrMalformed
		}
		v := b[n : n+int(length)]
		b = b[n+int(length):]
		if typ == typeFragment {
			if len(b) != 0 {
				return fmt.Errorf("%w: field after the fragment", ErrMalformed)
			}
			lp.Fragment = v
			break
		}
		switch typ {
		case typeSequence:
			lp.Sequence, lp.HasSequence, err = natural(v)
		case typeFragIndex:
			lp.FragIndex, lp.HasFragIndex, err = natural(v)
		case typeFragCount:
			lp.FragCount, lp.HasFragCount, err = natural(v)
		case typePitToken:
			if len(v) == 0 || len(v) > MaxPitToken {
				err = ErrMalformed
			}
			lp.PitToken = v
		case typeNack:
			lp.Nack = true
			lp.NackReason, err = nackReason(v)
		case typeNextHopFaceID:
			lp.NextHopFaceID, lp.HasNextHopFaceID, err = natural(v)
		case typeCongestionMark:
			lp.CongestionMark, lp.HasCongestionMark, err = natural(v)
		case typeIncomingFaceID:
			lp.IncomingFaceID, lp.HasIncomingFaceID, err = natural(v)
		default:
			if typ < 800 || typ > 959 || typ&3 != 0 {
				return fmt.Errorf("%w %#x", errUnknownCritical, typ)
			}
		}
		if err != nil {
			return fmt.Errorf("%w: field %#x", ErrMalformed, typ)
		}
	}
	if lp.HasFragCount && (lp.FragCount == 0 || lp.HasFragIndex && lp.FragIndex >= lp.FragCount) {
		return fmt.Errorf("%w: fragment %d of %d", ErrMalformed, lp.FragIndex, lp.FragCount)
	}
	return nil
}

// nackReason reads the NackReason in a Nack's value, 0 when there is none.
func nackReason(v []byte) (uint64, error) {
	for len(v) > 0 {
		typ, length, n, err := header(v)
		if err != nil || length > uint64(len(v)-n) {
			return 0, ErrMalformed
		}
		if typ == typeNackReason {
			r, _, err := natural(v[n : n+int(length)])
			return r, err
		}
		v = v[n+int(length):]
	}
	return 0, nil
}

// natural decodes a NonNegativeInteger: 1, 2, 4 or 8 bytes, big-endian.
func natural(v []byte) (uint64, bool, error) {
	switch len(v) {
	case 1:
		return uint64(v[0]), true, nil
	case 2:
		return uint64(binary.BigEndian.Uint16(v)), true, nil
	case 4:
		return uint64(binary.BigEndian.Uint32(v)), true, nil
	case 8:
		return binary.BigEndian.Uint64(v), true, nil
	}
	return 0, false, ErrMalformed
}

// appendVarNum appends a TLV VAR-NUMBER.
func appendVarNum(b []byte, v uint64) []byte {
	switch {
	case v < 253:
		return append(b, byte(v))
	case v <= 0xFFFF:
		return append(b, 253, byte(v>>8), byte(v))
	case v <= 0xFFFFFFFF:
		return append(b, 254, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 255, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func varNumLen(v uint64) int {
	switch {
	case v < 253:
		return 1
	case v <= 0xFFFF:
		return 3
	case v <= 0xFFFFFFFF:
		return 5
	}
	return 9
}

func appendNatural(b []byte, typ, v uint64) []byte {
	b = appendVarNum(b, typ)
	switch {
	case v <= 0xFF:
		return append(b, 1, byte(v))
	case v <= 0xFFFF:
		return append(b, 2, byte(v>>8), byte(v))
	case v <= 0xFFFFFFFF:
		return append(b, 4, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 8), v)
}

func naturalLen(typ, v uint64) int {
	n := 1
	switch {
	case v <= 0xFF:
	case v <= 0xFFFF:
		n = 2
	case v <= 0xFFFFFFFF:
		n = 4
	default:
		n = 8
	}
	return varNumLen(typ) + 1 + n
}

// Header is what a face adds to a packet it sends: the LpPacket fields
// other than fragmentation, which Encode adds itself.
type Header struct {
	PitToken          []byte
	CongestionMark    uint64
	HasCongestionMark bool
	IncomingFaceID    uint64
	HasIncomingFaceID bool
}

func (h *Header) empty() bool {
	return len(h.PitToken) == 0 && !h.HasCongestionMark && !h.HasIncomingFaceID
}

func (h *Header) size() int {
	n := 0
	if len(h.PitToken) > 0 {
		n += 1 + varNumLen(uint64(len(h.PitToken))) + len(h.PitToken)
	}
	if h.HasIncomingFaceID {
		n += naturalLen(typeIncomingFaceID, h.IncomingFaceID)
	}
	if h.HasCongestionMark {
		n += naturalLen(typeCongestionMark, h.CongestionMark)
	}
	return n
}

func (h *Header) append(b []byte) []byte {
	if len(h.PitToken) > 0 {
		b = appendVarNum(append(b, typePitToken), uint64(len(h.PitToken)))
		b = append(b, h.PitToken...)
	}
	if h.HasIncomingFaceID {
		b = appendNatural(b, typeIncomingFaceID, h.IncomingFaceID)
	}
	if h.HasCongestionMark {
		b = appendNatural(b, typeCongestionMark, h.CongestionMark)
	}
	return b
}

// fragOverhead is the most a fragment's own fields add: Sequence (fixed 8
// bytes), FragIndex and FragCount (up to 2 bytes each), the Fragment's
// header (up to 4) and the LpPacket's (up to 4).
const fragOverhead = (1 + 1 + 8) + 2*(1+1+2) + 4 + 4

// ErrMTU means a packet cannot be sent over the link: it does not fit and
// the link does not fragment, or the MTU leaves no room for a fragment.
var ErrMTU = errors.New("link: packet larger than the MTU")

// Encode calls emit with each frame that carries pkt, a whole network-layer
// packet, over a link with the given MTU: the packet itself when it needs
// no header and fits, one LpPacket when it fits with its header, else (when
// seq is not nil) fragments numbered from *seq, which Encode advances. The
// frame passed to emit is valid only during the call; buf is scratch space
// reused across calls (Encode returns it, grown as needed).
func Encode(buf []byte, pkt []byte, h *Header, mtu int, seq *uint64, emit func([]byte) error) ([]byte, error) {
	if h.empty() && len(pkt) <= mtu {
		return buf, emit(pkt)
	}
	hs := h.size()
	if whole := hs + 1 + varNumLen(uint64(len(pkt))) + len(pkt); whole+1+varNumLen(uint64(whole)) <= mtu {
		b := appendVarNum(append(buf[:0], TypeLpPacket), uint64(whole))
		b = h.append(b)
		b = appendVarNum(append(b, typeFragment), uint64(len(pkt)))
		b = append(b, pkt...)
		return b, emit(b)
	}
	if seq == nil {
		return buf, ErrMTU
	}
	room := mtu - hs - fragOverhead
	if room < 64 {
		return buf, ErrMTU
	}
	count := (len(pkt) + room - 1) / room
	for i := 0; i < count; i++ {
		piece := pkt[i*room : min((i+1)*room, len(pkt))]
		inner := 1 + 1 + 8 + naturalLen(typeFragIndex, uint64(i)) + naturalLen(typeFragCount, uint64(count)) +
			hs + 1 + varNumLen(uint64(len(piece))) + len(piece)
		b := appendVarNum(append(buf[:0], TypeLpPacket), uint64(inner))
		b = binary.BigEndian.AppendUint64(append(b, typeSequence, 8), *seq)
		*seq++
		b = appendNatural(b, typeFragIndex, uint64(i))
		b = appendNatural(b, typeFragCount, uint64(count))
		b = h.append(b)
		b = appendVarNum(append(b, typeFragment), uint64(len(piece)))
		b = append(b, piece...)
		buf = b
		if err := emit(b); err != nil {
			return buf, err
		}
	}
	return buf, nil
}
