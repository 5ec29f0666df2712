package svs

import (
	"encoding/binary"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// TLV-TYPEs on the way from a Sync Interest to the SignatureTime of its
// State Vector Data (NDN packet format v0.3).
const (
	tlvInterest      = 0x05
	tlvData          = 0x06
	tlvSignatureInfo = 0x16
	tlvAppParameters = 0x24
	tlvSignatureTime = 0x28
)

// signatureTime returns the SignatureTime (Unix milliseconds) of the State
// Vector Data in the Sync Interest pkt, and whether there is one. The
// codec has already checked pkt (or written it), but this walk trusts
// nothing: every read is bounds-checked and anything unexpected is "no
// time". It allocates nothing. The codec does not return the time it
// skips over, so the few elements on the way are walked again here, only
// for packets that brought news and for packets sent.
func signatureTime(pkt []byte) (uint64, bool) {
	// Interest → ApplicationParameters → Data (its first element) →
	// SignatureInfo → SignatureTime.
	v, ok := enter(pkt, tlvInterest)
	if !ok {
		return 0, false
	}
	if v, ok = child(v, tlvAppParameters); !ok {
		return 0, false
	}
	if v, ok = enter(v, tlvData); !ok {
		return 0, false
	}
	if v, ok = child(v, tlvSignatureInfo); !ok {
		return 0, false
	}
	if v, ok = child(v, tlvSignatureTime); !ok {
		return 0, false
	}
	return wire.ReadNonNeg(v)
}

// enter returns the TLV-VALUE of the TLV at the start of b, if its type is
// typ.
func enter(b []byte, typ uint64) ([]byte, bool) {
	t, v, _, ok := nextTLV(b)
	if !ok || t != typ {
		return nil, false
	}
	return v, true
}

// child returns the TLV-VALUE of the first element of type typ in the
// sequence of TLVs b.
func child(b []byte, typ uint64) ([]byte, bool) {
	for len(b) > 0 {
		t, v, rest, ok := nextTLV(b)
		if !ok {
			return nil, false
		}
		if t == typ {
			return v, true
		}
		b = rest
	}
	return nil, false
}

// nextTLV splits the TLV at the start of b into its type, its value and
// what follows it.
func nextTLV(b []byte) (typ uint64, value, rest []byte, ok bool) {
	typ, n, ok := varNum(b)
	if !ok {
		return 0, nil, nil, false
	}
	l, m, ok := varNum(b[n:])
	if !ok || l > uint64(len(b)-n-m) {
		return 0, nil, nil, false
	}
	start := n + m
	end := start + int(l)
	return typ, b[start:end], b[end:], true
}

// varNum reads a VAR-NUMBER and returns it with its length in bytes.
func varNum(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 253:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(binary.BigEndian.Uint16(b[1:])), 3, true
	case 254:
		if len(b) < 5 {
			return 0, 0, false
		}
		return uint64(binary.BigEndian.Uint32(b[1:])), 5, true
	case 255:
		if len(b) < 9 {
			return 0, 0, false
		}
		return binary.BigEndian.Uint64(b[1:]), 9, true
	}
	return uint64(b[0]), 1, true
}
