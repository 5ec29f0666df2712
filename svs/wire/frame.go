package wire

import "bytes"

// NDNLPv2 TLV-TYPEs that SyncInterestOf reads (NDNLPv2, named-data.net
// redmine wiki "NDNLPv2").
const (
	typeLpPacket  = 0x64
	typeFragment  = 0x50
	typeFragCount = 0x53
	typeNack      = 0x0320
)

// SyncInterestOf takes a frame as a face delivers it (an Interest, a Data,
// or an NDNLPv2 LpPacket carrying one of them) and returns the Interest in
// it when that Interest is a candidate Sync Interest of this group: its name
// starts with the group prefix followed by a version component. The result
// aliases frame; ParseSyncInterest makes the full checks.
//
// ok is false with a nil error for every frame that is none of this group's
// business: a Data, a Nack, an IDLE or fragmented LpPacket, an Interest under
// another name. A frame that cannot be read that far fails with an error
// wrapping ErrMalformed (or ErrTooLarge). It never allocates on success.
func (c *Codec) SyncInterestOf(frame []byte) (interest []byte, ok bool, err error) {
	if len(frame) > MaxPacketSize+64 { // room for an LpPacket header
		return nil, false, fmtTooLarge("frame of %d bytes exceeds %d", len(frame), MaxPacketSize)
	}
	typ, vs, ve, err := element(frame, 0, len(frame))
	if err != nil {
		return nil, false, inElement("frame", 0, err)
	}
	if ve != len(frame) {
		return nil, false, inElement("frame", ve, malformedf("%d bytes after the packet", len(frame)-ve))
	}
	if typ == typeLpPacket {
		fs, fe := -1, -1
		for i := vs; i < ve; {
			t, es, ee, err := element(frame, i, ve)
			if err != nil {
				return nil, false, inElement("LpPacket", i, err)
			}
			switch t {
			case typeNack:
				return nil, false, nil
			case typeFragCount:
				if n, ok := ReadNonNeg(frame[es:ee]); !ok || n > 1 {
					return nil, false, nil // fragments are not reassembled
				}
			case typeFragment:
				fs, fe = i, ee
			}
			i = ee
		}
		if fs < 0 {
			return nil, false, nil // IDLE
		}
		frame = frame[fs:fe]
		// The Fragment's TLV-VALUE is the network-layer packet.
		_, vs, _, _ = element(frame, 0, len(frame))
		frame = frame[vs:]
		if typ, vs, ve, err = element(frame, 0, len(frame)); err != nil {
			return nil, false, inElement("LpPacket Fragment", 0, err)
		}
		if ve != len(frame) {
			return nil, false, inElement("LpPacket Fragment", ve, malformedf("%d bytes after the packet", len(frame)-ve))
		}
	}
	if typ != typeInterest {
		return nil, false, nil
	}
	if vs == ve {
		return nil, false, inElement("Interest", 0, malformedf("empty"))
	}
	t, ns, ne, err := element(frame, vs, ve)
	if err != nil {
		return nil, false, inElement("Interest", vs, err)
	}
	if t != typeName {
		return nil, false, inElement("Interest", vs, malformedf("does not start with a Name"))
	}
	name := frame[ns:ne]
	if !bytes.HasPrefix(name, c.groupValue) || len(name) == len(c.groupValue) {
		return nil, false, nil
	}
	if t, _, _, err := element(name, len(c.groupValue), len(name)); err != nil || t != typeVersionComponent {
		return nil, false, nil
	}
	return frame, true, nil
}
