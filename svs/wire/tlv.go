package wire

import (
	"encoding/binary"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// TLV-TYPE numbers. [Spec] NDN packet format v0.3 and SVS v3 §3.
const (
	typeInterest          = 0x05
	typeData              = 0x06
	typeName              = 0x07
	typeNonce             = 0x0A
	typeInterestLifetime  = 0x0C
	typeMustBeFresh       = 0x12
	typeMetaInfo          = 0x14
	typeContent           = 0x15
	typeSignatureInfo     = 0x16
	typeSignatureValue    = 0x17
	typeContentType       = 0x18
	typeFreshnessPeriod   = 0x19
	typeFinalBlockID      = 0x1A
	typeSignatureType     = 0x1B
	typeKeyLocator        = 0x1C
	typeSignatureTime     = 0x28
	typeForwardingHint    = 0x1E
	typeCanBePrefix       = 0x21
	typeHopLimit          = 0x22
	typeAppParameters     = 0x24
	typeInterestSigInfo   = 0x2C
	typeInterestSigValue  = 0x2E
	typeValidityPeriod    = 0xFD
	typeStateVector       = 0xC9
	typeStateVectorEntry  = 0xCA
	typeV2SeqNo           = 0xCC
	typeMappingData       = 0xCD
	typeSeqNoEntry        = 0xD2
	typeBootstrapTime     = 0xD4
	typeSeqNo             = 0xD6
	typeImplicitDigest    = 0x01
	typeParametersDigest  = 0x02
	typeVersionComponent  = 0x36
	typeTimestampComp     = 0x38
	typeSequenceNumComp   = 0x3A
	maxComponentType      = 0xFFFF
	digestComponentLength = 32
)

// IsCritical reports whether an unrecognized element of this type must
// cause the enclosing element to be rejected. [Spec] NDN packet format v0.3
// §1.3: types 0–31 and all odd types are critical.
func IsCritical(typ uint64) bool {
	return typ <= 31 || typ&1 == 1
}

// varNumLen is the size of x encoded as a minimal VAR-NUMBER.
func varNumLen(x uint64) int {
	switch {
	case x < 253:
		return 1
	case x <= 0xFFFF:
		return 3
	case x <= 0xFFFFFFFF:
		return 5
	}
	return 9
}

// appendVarNum appends x as a minimal VAR-NUMBER.
func appendVarNum(dst []byte, x uint64) []byte {
	switch {
	case x < 253:
		return append(dst, byte(x))
	case x <= 0xFFFF:
		return append(dst, 253, byte(x>>8), byte(x))
	case x <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32(append(dst, 254), uint32(x))
	}
	return binary.BigEndian.AppendUint64(append(dst, 255), x)
}

// nonNegLen is the size of x encoded as a minimal NonNegativeInteger
// (1, 2, 4 or 8 bytes).
func nonNegLen(x uint64) int {
	switch {
	case x <= 0xFF:
		return 1
	case x <= 0xFFFF:
		return 2
	case x <= 0xFFFFFFFF:
		return 4
	}
	return 8
}

// appendNonNeg appends x as a minimal NonNegativeInteger.
func appendNonNeg(dst []byte, x uint64) []byte {
	switch {
	case x <= 0xFF:
		return append(dst, byte(x))
	case x <= 0xFFFF:
		return binary.BigEndian.AppendUint16(dst, uint16(x))
	case x <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32(dst, uint32(x))
	}
	return binary.BigEndian.AppendUint64(dst, x)
}

// tlvLen is the size of a whole TLV element with the given type and
// TLV-VALUE length.
func tlvLen(typ uint64, valueLen int) int {
	return varNumLen(typ) + varNumLen(uint64(valueLen)) + valueLen
}

// appendTL appends a TLV-TYPE and TLV-LENGTH.
func appendTL(dst []byte, typ uint64, valueLen int) []byte {
	return appendVarNum(appendVarNum(dst, typ), uint64(valueLen))
}

// appendNonNegTLV appends a whole TLV element whose value is a minimal
// NonNegativeInteger.
func appendNonNegTLV(dst []byte, typ, x uint64) []byte {
	return appendNonNeg(appendTL(dst, typ, nonNegLen(x)), x)
}

// nonNegTLVLen is the size of appendNonNegTLV's output.
func nonNegTLVLen(typ, x uint64) int {
	return tlvLen(typ, nonNegLen(x))
}

// ReadNonNeg decodes a NonNegativeInteger. [Spec] NDN packet format v0.3
// §1.4: the value is 1, 2, 4 or 8 bytes; any other width is invalid. A
// wider-than-needed width among those four is accepted. It is the link
// layer's reader (link.Natural), which the forwarder's faces use too.
func ReadNonNeg(b []byte) (uint64, bool) { return link.Natural(b) }

// readVarNum decodes the VAR-NUMBER at b[i:end]. It rejects truncation and
// encodings longer than needed (FD 00 05 for 5), so that every number, and
// therefore every name, has exactly one accepted byte form.
func readVarNum(b []byte, i, end int) (x uint64, next int, err error) {
	if i >= end {
		return 0, i, errTruncated
	}
	first := b[i]
	var n int
	switch {
	case first < 253:
		return uint64(first), i + 1, nil
	case first == 253:
		n = 2
	case first == 254:
		n = 4
	default:
		n = 8
	}
	if end-i-1 < n {
		return 0, i, errTruncated
	}
	v := b[i+1 : i+1+n]
	switch n {
	case 2:
		x = uint64(binary.BigEndian.Uint16(v))
	case 4:
		x = uint64(binary.BigEndian.Uint32(v))
	default:
		x = binary.BigEndian.Uint64(v)
	}
	if varNumLen(x) != 1+n {
		return 0, i, errNonMinimalVarNum
	}
	return x, i + 1 + n, nil
}

// element decodes the TLV element starting at b[i:end]: its type and the
// bounds [vs, ve) of its value. ve is also the offset of the next element.
// The caller guarantees 0 <= i <= end <= len(b).
func element(b []byte, i, end int) (typ uint64, vs, ve int, err error) {
	// Nearly every element of a Sync Interest has a one-byte TLV-TYPE
	// (1..252) and TLV-LENGTH (0..252).
	if i+2 <= end {
		if t, l := b[i], b[i+1]; t-1 < 252 && l < 253 {
			if int(l) > end-i-2 {
				return 0, 0, 0, errLengthPastEnd
			}
			return uint64(t), i + 2, i + 2 + int(l), nil
		}
	}
	return elementSlow(b, i, end)
}

// elementSlow is element for multi-byte VAR-NUMBERs and the error cases.
func elementSlow(b []byte, i, end int) (typ uint64, vs, ve int, err error) {
	typ, i, err = readVarNum(b, i, end)
	if err != nil {
		return 0, 0, 0, err
	}
	if typ == 0 {
		return 0, 0, 0, errZeroType
	}
	l, i, err := readVarNum(b, i, end)
	if err != nil {
		return 0, 0, 0, err
	}
	if l > uint64(end-i) {
		return 0, 0, 0, errLengthPastEnd
	}
	return typ, i, i + int(l), nil
}

// checkName verifies that b is a well-formed Name TLV-VALUE: a sequence of
// components, each with a type in 1..65535 and, for the two digest
// component types, a 32-byte value. It does not require a non-empty name.
func checkName(b []byte) error {
	_, err := countComponents(b)
	return err
}

// countComponents is checkName that also counts the components.
func countComponents(b []byte) (int, error) {
	n := 0
	for i := 0; i < len(b); n++ {
		typ, vs, ve, err := element(b, i, len(b))
		if err != nil {
			return 0, err
		}
		if typ > maxComponentType {
			return 0, errComponentType
		}
		if (typ == typeImplicitDigest || typ == typeParametersDigest) && ve-vs != digestComponentLength {
			return 0, errDigestComponent
		}
		i = ve
	}
	return n, nil
}
