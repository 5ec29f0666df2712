package wire

import (
	"errors"
	"time"
)

// SegmentData describes one segment of a publication for
// EncodeSegmentData.
type SegmentData struct {
	// Base is the publication's name without the segment: its components,
	// TLV-encoded, without the Name's own TL (enc.Name.TlvStr).
	Base      string
	Seg, Last uint64 // this segment's number, and the last one's (FinalBlockId)
	Freshness time.Duration
	Content   []byte
	// SigType is the SignatureType; KeyLocator, if not empty, the
	// TLV-VALUE of the KeyLocator's Name.
	SigType    uint64
	KeyLocator string
	// Sign signs the covered part (Name through SignatureInfo); SigMax
	// bounds the length of what it returns.
	Sign   func(covered []byte) ([]byte, error)
	SigMax int
}

// maxTLLen is the longest TLV-TYPE plus TLV-LENGTH of a Data (a one-byte
// type and a nine-byte length).
const maxTLLen = 10

// EncodeSegmentData encodes and signs a segment Data as ndnd's spec_2022
// MakeData does for a publication (ContentType Blob, FreshnessPeriod in
// milliseconds, FinalBlockId, SignatureInfo with the type and the
// KeyLocator if any), into one new buffer: the covered part is written
// once, signed in place, and the Data's TL put in front of it. MakeData
// encodes into pieces, signs them and joins them with a copy of the
// content; with the garbage its pieces leave, it took 144 µs of CPU for a
// 64 KiB publication, a third of it the SHA-256.
func EncodeSegmentData(s SegmentData) ([]byte, error) {
	ms := uint64(s.Freshness.Milliseconds())
	nameLen := len(s.Base) + nonNegTLVLen(typeSegmentComponent, s.Seg)
	lastLen := nonNegTLVLen(typeSegmentComponent, s.Last) // FinalBlockId's value
	metaLen := nonNegTLVLen(typeContentType, 0) + nonNegTLVLen(typeFreshnessPeriod, ms) + tlvLen(typeFinalBlockID, lastLen)
	sigInfoLen := nonNegTLVLen(typeSignatureType, s.SigType)
	if s.KeyLocator != "" {
		sigInfoLen += tlvLen(typeKeyLocator, tlvLen(typeName, len(s.KeyLocator)))
	}
	covered := tlvLen(typeName, nameLen) + tlvLen(typeMetaInfo, metaLen) +
		tlvLen(typeContent, len(s.Content)) + tlvLen(typeSignatureInfo, sigInfoLen)
	buf := make([]byte, maxTLLen, maxTLLen+covered+tlvLen(typeSignatureValue, s.SigMax))
	buf = appendTL(buf, typeName, nameLen)
	buf = append(buf, s.Base...)
	buf = appendNonNegTLV(buf, typeSegmentComponent, s.Seg)
	buf = appendTL(buf, typeMetaInfo, metaLen)
	buf = appendNonNegTLV(buf, typeContentType, 0)
	buf = appendNonNegTLV(buf, typeFreshnessPeriod, ms)
	buf = appendTL(buf, typeFinalBlockID, lastLen)
	buf = appendNonNegTLV(buf, typeSegmentComponent, s.Last)
	buf = appendTL(buf, typeContent, len(s.Content))
	buf = append(buf, s.Content...)
	buf = appendTL(buf, typeSignatureInfo, sigInfoLen)
	buf = appendNonNegTLV(buf, typeSignatureType, s.SigType)
	if s.KeyLocator != "" {
		buf = appendTL(buf, typeKeyLocator, tlvLen(typeName, len(s.KeyLocator)))
		buf = appendTL(buf, typeName, len(s.KeyLocator))
		buf = append(buf, s.KeyLocator...)
	}
	if len(buf) != maxTLLen+covered {
		return nil, errors.New("wire: segment Data length miscounted") // a bug here, never input
	}
	sig, err := s.Sign(buf[maxTLLen:])
	if err != nil {
		return nil, err
	}
	if len(sig) > s.SigMax {
		return nil, errors.New("wire: signature longer than its bound")
	}
	buf = appendTL(buf, typeSignatureValue, len(sig))
	buf = append(buf, sig...)
	inner := len(buf) - maxTLLen
	start := maxTLLen - varNumLen(typeData) - varNumLen(uint64(inner))
	appendTL(buf[start:start], typeData, inner)
	return buf[start:len(buf):len(buf)], nil
}
