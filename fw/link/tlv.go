package link

import "errors"

// MaxPacketSize is the largest NDN packet, and so the largest frame, a face
// accepts or sends: ndnd's defn.MaxNDNPacketSize, NFD's ndn::MAX_NDN_PACKET_SIZE.
const MaxPacketSize = 8800

// TLV-TYPEs of the frames a face carries.
const (
	TypeInterest = 0x05
	TypeData     = 0x06
	TypeLpPacket = 0x64
)

// Errors of the decoders. A face that meets ErrTooLarge or ErrMalformed on a
// stream closes: the stream cannot be re-synchronised. A datagram that
// fails is dropped alone.
var (
	ErrTooLarge  = errors.New("link: frame larger than the maximum packet size")
	ErrMalformed = errors.New("link: malformed frame")
	errShort     = errors.New("link: truncated")
)

// varNum reads a TLV VAR-NUMBER at the start of b. It returns the value and
// its encoded size, or n == 0 when b ends first. Non-minimal encodings are
// accepted, as NFD and ndnd accept them; values never overflow: an 8-byte
// number is read as a uint64.
func varNum(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch first := b[0]; {
	case first < 253:
		return uint64(first), 1
	case first == 253:
		if len(b) < 3 {
			return 0, 0
		}
		return uint64(b[1])<<8 | uint64(b[2]), 3
	case first == 254:
		if len(b) < 5 {
			return 0, 0
		}
		return uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4]), 5
	default:
		if len(b) < 9 {
			return 0, 0
		}
		var x uint64
		for _, c := range b[1:9] {
			x = x<<8 | uint64(c)
		}
		return x, 9
	}
}

// header reads a TLV-TYPE and TLV-LENGTH at the start of b. It returns
// errShort when b ends inside them.
func header(b []byte) (typ, length uint64, n int, err error) {
	typ, n1 := varNum(b)
	if n1 == 0 {
		return 0, 0, 0, errShort
	}
	length, n2 := varNum(b[n1:])
	if n2 == 0 {
		return 0, 0, 0, errShort
	}
	return typ, length, n1 + n2, nil
}

// FrameSize returns the size of the TLV element that starts b, header
// included, once its header is complete: 0 and no error means more bytes
// are needed. An element whose size would exceed max (at most
// MaxPacketSize) is ErrTooLarge, decided from the header alone, before any
// byte of the value is read. TLV-TYPE 0 is reserved and ErrMalformed.
func FrameSize(b []byte, max int) (int, error) {
	typ, length, n, err := header(b)
	if err != nil {
		if len(b) >= 18 { // two 9-byte numbers: the header cannot be longer
			return 0, ErrMalformed
		}
		return 0, nil
	}
	if typ == 0 {
		return 0, ErrMalformed
	}
	// Compared before adding n: length may be near 2^64.
	if length > uint64(max) || int(length)+n > max {
		return 0, ErrTooLarge
	}
	return n + int(length), nil
}

// Datagram checks that b is exactly one whole TLV element of at most max
// bytes, as a datagram face needs: a datagram is never read as a stream,
// so a header that claims more or fewer bytes than the datagram holds
// drops the datagram, and only it.
func Datagram(b []byte, max int) error {
	size, err := FrameSize(b, max)
	if err != nil {
		return err
	}
	if size == 0 || size != len(b) {
		return ErrMalformed
	}
	return nil
}

// Element splits off the first TLV element of b: its type, its value and
// the bytes after it. ok is false when b does not start with a whole
// element.
func Element(b []byte) (typ uint64, value, rest []byte, ok bool) {
	typ, length, n, err := header(b)
	if err != nil || length > uint64(len(b)-n) {
		return 0, nil, nil, false
	}
	end := n + int(length)
	return typ, b[n:end], b[end:], true
}

// Natural decodes a NonNegativeInteger value: 1, 2, 4 or 8 bytes,
// big-endian.
func Natural(v []byte) (uint64, bool) {
	x, ok, _ := natural(v)
	return x, ok
}
