package svs

import (
	"slices"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// TLV-TYPEs of a segment Data (NDN packet format v0.3).
const (
	tlvName           = 0x07
	tlvMetaInfo       = 0x14
	tlvContent        = 0x15
	tlvContentType    = 0x18
	tlvFreshness      = 0x19
	tlvFinalBlockID   = 0x1a
	tlvSegmentComp    = 0x32
	tlvSignatureValue = 0x17
	contentTypeNack   = 3
)

// rawSegment reads what the fetch worker needs of a segment Data without
// ndnd's decoder, which allocated a Name and a parsed Data per segment and
// was most of the worker's CPU at 20 members: the name's parts (the job's
// key, the segment number), the FinalBlockId and the Content. Every read
// is bounds-checked. It answers only the common, valid case: ok is false
// for anything else (no FinalBlockId, an application Nack, a segment past
// its FinalBlockId, anything malformed), which then goes the way of
// ndnd's decoder and checkSegment, so that their errors and counters stay
// the only ones. It is for a worker without a Validator: a Validator needs
// ndnd's Data.
func rawSegment(raw []byte) (key []byte, seg uint64, sg segment, ok bool) {
	// The checks ndnpkt makes before ndnd's decoder (one whole packet,
	// every inner length within its element): about 0.3 µs.
	if link.Wellformed(raw) != nil {
		return nil, 0, segment{}, false
	}
	data, ok := enter(raw, tlvData)
	if !ok {
		return nil, 0, segment{}, false
	}
	t, name, rest, ok := nextTLV(data)
	if !ok || t != tlvName {
		return nil, 0, segment{}, false
	}
	// The key is the name without its last component: the components'
	// TLVs as they are, which is enc.Name.TlvStr of the base name.
	last := -1
	for off := 0; off < len(name); {
		_, _, r, ok := nextTLV(name[off:])
		if !ok {
			return nil, 0, segment{}, false
		}
		last = off
		off = len(name) - len(r)
	}
	if last < 0 {
		return nil, 0, segment{}, false
	}
	ct, cv, _, _ := nextTLV(name[last:])
	if ct != tlvSegmentComp {
		return nil, 0, segment{}, false
	}
	if seg, ok = shortestNonNeg(cv); !ok {
		return nil, 0, segment{}, false
	}
	meta, ok := child(rest, tlvMetaInfo)
	if !ok || !knownOrNonCritical(meta, tlvContentType, tlvFreshness, tlvFinalBlockID) {
		return nil, 0, segment{}, false
	}
	if v, has := child(meta, tlvContentType); has {
		if t, ok := shortestNonNeg(v); !ok || t == contentTypeNack {
			return nil, 0, segment{}, false
		}
	}
	fb, ok := child(meta, tlvFinalBlockID)
	if !ok {
		return nil, 0, segment{}, false
	}
	ft, fv, _, ok := nextTLV(fb)
	if !ok || ft != tlvSegmentComp {
		return nil, 0, segment{}, false
	}
	if sg.last, ok = shortestNonNeg(fv); !ok || sg.last < seg || sg.last >= MaxPayloadSize/SegmentSize+1 {
		return nil, 0, segment{}, false
	}
	// The rest must be whole TLVs, with a signature, as ndnd's decoder
	// would require.
	var sigInfo, sigValue bool
	for b := rest; len(b) > 0; {
		t, v, r, ok := nextTLV(b)
		if !ok {
			return nil, 0, segment{}, false
		}
		switch t {
		case tlvMetaInfo:
		case tlvContent:
			sg.content = v
		case tlvSignatureInfo:
			if !plainSignatureInfo(v) {
				return nil, 0, segment{}, false
			}
			sigInfo = true
		case tlvSignatureValue:
			sigValue = true
		default:
			if wire.IsCritical(t) {
				return nil, 0, segment{}, false
			}
		}
		b = r
	}
	if !sigInfo || !sigValue {
		return nil, 0, segment{}, false
	}
	return name[:last], seg, sg, true
}

// knownOrNonCritical reports whether the elements of b are whole TLVs,
// each of a known type or not critical.
func knownOrNonCritical(b []byte, known ...uint64) bool {
	for len(b) > 0 {
		t, _, r, ok := nextTLV(b)
		if !ok {
			return false
		}
		if wire.IsCritical(t) && !slices.Contains(known, t) {
			return false
		}
		b = r
	}
	return true
}

// TLV-TYPEs inside a SignatureInfo.
const (
	tlvSignatureType  = 0x1b
	tlvKeyLocator     = 0x1c
	tlvKeyDigest      = 0x1d
	tlvSignatureNonce = 0x26
	tlvSignatureSeq   = 0x2a
)

// plainSignatureInfo reports whether v, a SignatureInfo's value, holds
// what a segment's does and reads as ndnd's decoder reads it: a
// SignatureType, and optionally a KeyLocator (a Name or a KeyDigest), a
// SignatureNonce, SignatureTime and SignatureSeqNum, with unknown elements
// non-critical. Anything else (a ValidityPeriod, a description: a
// certificate's) goes the long way.
func plainSignatureInfo(v []byte) bool {
	typed := false
	for len(v) > 0 {
		t, val, r, ok := nextTLV(v)
		if !ok {
			return false
		}
		switch t {
		case tlvSignatureType:
			if _, ok := wire.ReadNonNeg(val); !ok {
				return false
			}
			typed = true
		case tlvSignatureTime, tlvSignatureSeq:
			if _, ok := wire.ReadNonNeg(val); !ok {
				return false
			}
		case tlvKeyLocator:
			if !knownOrNonCritical(val, tlvName, tlvKeyDigest) {
				return false
			}
		case tlvSignatureNonce:
		default:
			if wire.IsCritical(t) || t == 0xfd || t == 0x0102 {
				return false
			}
		}
		v = r
	}
	return typed
}

// shortestNonNeg reads a NonNegativeInteger in its shortest encoding (as
// the segments this layer asks for are named; shortestNumber).
func shortestNonNeg(v []byte) (uint64, bool) {
	n, ok := wire.ReadNonNeg(v)
	// 2, 4 or 8 bytes only for a value that needs more than half of them.
	return n, ok && (len(v) == 1 || n>>(4*len(v)) != 0)
}
