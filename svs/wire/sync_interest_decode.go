package wire

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// SyncData is what the State Vector Data of a received Sync Interest
// carried.
type SyncData struct {
	// Vector is the decoded state vector; it is never nil on success.
	Vector *core.Vector
	// Mapping is the raw MappingData TLV (0xCD) that followed the
	// StateVector in the Data Content, or nil. It aliases the input.
	Mapping []byte
	// SigType is the SignatureType of the State Vector Data.
	SigType ndn.SigType
	// DataVersion is the version component of the State Vector Data name:
	// 3 from spec-conformant senders, a Unix time in microseconds from
	// ndnd v1.5.2 and v1.5.3.
	DataVersion uint64
}

// DecodeSyncInterest decodes a Sync Interest and returns its vector.
// See ParseSyncInterest.
func (c *Codec) DecodeSyncInterest(b []byte) (*core.Vector, error) {
	si, err := c.ParseSyncInterest(b)
	return si.Vector, err
}

// Interest element ranks, in the order NDN packet format v0.3 §5 fixes.
func interestRank(typ uint64) int {
	switch typ {
	case typeName:
		return 1
	case typeCanBePrefix:
		return 2
	case typeMustBeFresh:
		return 3
	case typeForwardingHint:
		return 4
	case typeNonce:
		return 5
	case typeInterestLifetime:
		return 6
	case typeHopLimit:
		return 7
	case typeAppParameters:
		return 8
	case typeInterestSigInfo:
		return 9
	case typeInterestSigValue:
		return 10
	}
	return 0
}

// interestParts is where the elements of an Interest are (offsets into
// the packet; -1 when absent).
type interestParts struct {
	nameStart, nameEnd int // the Name's TLV-VALUE
	paramsAt, ps, pe   int // the ApplicationParameters element, and its TLV-VALUE
	canBePrefix        bool
}

// interestElements checks that b is exactly one Interest whose known
// elements appear once each, in the order of the packet format, with no
// unknown critical element, a well-formed Name first, and CanBePrefix,
// MustBeFresh, Nonce, InterestLifetime and HopLimit of their sizes
// (ErrMalformed); it says where the parts are.
func interestElements(b []byte) (interestParts, error) {
	in := interestParts{nameStart: -1, nameEnd: -1, paramsAt: -1}
	typ, vs, ve, err := element(b, 0, len(b))
	if err != nil {
		return in, inElement("Interest", 0, err)
	}
	if typ != typeInterest {
		return in, inElement("Interest", 0, malformedf("TLV-TYPE %#x is not Interest", typ))
	}
	if ve != len(b) {
		return in, inElement("Interest", ve, malformedf("%d bytes after the Interest", len(b)-ve))
	}
	rank := 0
	for i := vs; i < ve; {
		typ, es, ee, err := element(b, i, ve)
		if err != nil {
			return in, inElement("Interest", i, err)
		}
		r := interestRank(typ)
		switch {
		case r == 0 && IsCritical(typ):
			return in, inElement("Interest", i, malformedf("unknown critical TLV-TYPE %#x", typ))
		case r == 0:
			// unknown non-critical: skip
		case r <= rank:
			return in, inElement("Interest", i, malformedf("TLV-TYPE %#x repeated or out of order", typ))
		case i == vs && r != 1:
			return in, inElement("Interest", i, malformedf("does not start with a Name"))
		default:
			rank = r
		}
		switch typ {
		case typeName:
			if err := checkName(b[es:ee]); err != nil {
				return in, inElement("Interest Name", i, err)
			}
			in.nameStart, in.nameEnd = es, ee
		case typeCanBePrefix, typeMustBeFresh:
			if ee != es {
				return in, inElement("Interest", i, malformedf("TLV-TYPE %#x is not empty", typ))
			}
			in.canBePrefix = in.canBePrefix || typ == typeCanBePrefix
		case typeNonce:
			if ee-es != 4 {
				return in, inElement("Nonce", i, malformedf("%d bytes, not 4", ee-es))
			}
		case typeInterestLifetime:
			if _, ok := ReadNonNeg(b[es:ee]); !ok {
				return in, inElement("InterestLifetime", i, malformedf("NonNegativeInteger of %d bytes", ee-es))
			}
		case typeHopLimit:
			if ee-es != 1 {
				return in, inElement("HopLimit", i, malformedf("%d bytes, not 1", ee-es))
			}
		case typeAppParameters:
			in.paramsAt, in.ps, in.pe = i, es, ee
		}
		i = ee
	}
	if in.nameStart < 0 {
		return in, inElement("Interest", 0, malformedf("no Name"))
	}
	return in, nil
}

// ReadInterest reads the name and CanBePrefix of an Interest that fills b
// exactly, with the checks of interestElements (ErrMalformed, ErrTooLarge),
// and nothing more: what a publication server needs of a fetch, without
// ndnd's full parse (its signature and parameters are not looked at).
// The name's components alias b.
func ReadInterest(b []byte) (name enc.Name, canBePrefix bool, err error) {
	if len(b) > MaxPacketSize {
		return nil, false, fmtTooLarge("Interest of %d bytes exceeds %d", len(b), MaxPacketSize)
	}
	in, err := interestElements(b)
	if err != nil {
		return nil, false, err
	}
	n, _ := countComponents(b[in.nameStart:in.nameEnd]) // checkName accepted them
	name = make(enc.Name, 0, n)
	for i := in.nameStart; i < in.nameEnd; {
		typ, es, ee, _ := element(b, i, in.nameEnd)
		name = append(name, enc.Component{Typ: enc.TLNum(typ), Val: b[es:ee]})
		i = ee
	}
	return name, in.canBePrefix, nil
}

// ParseSyncInterest decodes a Sync Interest that fills b exactly. It
// checks, in this order, and fails with the sentinel given:
//   - size at most MaxPacketSize (ErrTooLarge);
//   - an Interest whose known elements appear once each, in the order of
//     the packet format, with no unknown critical element (ErrMalformed);
//     CanBePrefix, MustBeFresh, ForwardingHint, HopLimit and an Interest
//     signature are tolerated and ignored (NDNts sets the two flags);
//   - the name is /<group>/v=3/<ParametersSha256Digest> (ErrWrongName,
//     also ErrUnsupportedVersion for another v=N);
//   - the digest matches the ApplicationParameters (ErrBadDigest);
//   - the first TLV of ApplicationParameters is a Data (ErrMalformed; a
//     bare StateVector there is SVS v2 and also ErrUnsupportedVersion);
//     anything after that Data is ignored;
//   - the Data is well formed, named /<group>/v=<version>: v=3 per the
//     spec, or any version, which ndnd v1.5.2 and v1.5.3 send
//     (ErrWrongName); its ContentType, if present, is BLOB (ErrMalformed);
//   - its Content is a StateVector, optionally followed by a MappingData
//     (see DecodeContent; ErrMalformed, ErrTooLarge);
//   - the Validator accepts the Data (ErrValidation).
//
// The boot-time-in-the-future rule is the engine's business, not this
// decoder's. Node names in the result share one string copied from b;
// Mapping aliases b.
func (c *Codec) ParseSyncInterest(b []byte) (SyncData, error) {
	return c.ParseSyncInterestInto(b, nil)
}

// ParseSyncInterestInto is ParseSyncInterest decoding the vector into dst
// (emptied first), which the result's Vector then is, instead of a new
// vector: a receiver that is done with each vector before the next packet
// saves two allocations per packet. A nil dst is ParseSyncInterest. On
// error dst holds whatever was decoded.
func (c *Codec) ParseSyncInterestInto(b []byte, dst *core.Vector) (SyncData, error) {
	if len(b) > MaxPacketSize {
		return SyncData{}, fmtTooLarge("Sync Interest of %d bytes exceeds %d", len(b), MaxPacketSize)
	}
	in, err := interestElements(b)
	if err != nil {
		return SyncData{}, err
	}
	nameEnd, paramsAt, ps, pe, ve := in.nameEnd, in.paramsAt, in.ps, in.pe, len(b)
	if err := c.checkSyncName(b, in.nameStart, nameEnd); err != nil {
		return SyncData{}, err
	}
	if paramsAt < 0 {
		return SyncData{}, inElement("Interest", 0, malformedf("no ApplicationParameters"))
	}
	// [Spec] NDN packet format v0.3 §5.4: the digest covers everything from
	// the ApplicationParameters TLV to the end of the Interest.
	digest := sha256.Sum256(b[paramsAt:ve])
	if !bytes.Equal(digest[:], b[nameEnd-sha256.Size:nameEnd]) {
		return SyncData{}, fmt.Errorf("%w: name has %x, parameters hash to %x", ErrBadDigest, b[nameEnd-sha256.Size:nameEnd], digest)
	}
	if ps == pe {
		return SyncData{}, inElement("ApplicationParameters", paramsAt, malformedf("empty"))
	}
	typ, _, de, err := element(b, ps, pe)
	if err != nil {
		return SyncData{}, inElement("ApplicationParameters", ps, err)
	}
	switch typ {
	case typeData:
	case typeStateVector:
		// NDNts dispatches on this type too: 0xC9 first means SVS v2.
		return SyncData{}, inElement("ApplicationParameters", ps, fmtV2("bare StateVector (SVS v2) instead of a Data"))
	default:
		return SyncData{}, inElement("ApplicationParameters", ps, malformedf("first TLV-TYPE %#x is not Data", typ))
	}
	return c.parseSyncData(b, ps, de, dst)
}

// checkSyncName checks that b[ns:ne], an Interest Name TLV-VALUE that
// checkName accepted, is /<group>/v=3/<ParametersSha256Digest>.
func (c *Codec) checkSyncName(b []byte, ns, ne int) error {
	name := b[ns:ne]
	if !bytes.HasPrefix(name, c.groupValue) {
		return fmt.Errorf("%w: Sync Interest name is not under the group %s", ErrWrongName, c.group)
	}
	i := ns + len(c.groupValue)
	if i == ne {
		return fmt.Errorf("%w: Sync Interest name has no v=3 component", ErrWrongName)
	}
	typ, vs, ve, _ := element(b, i, ne)
	if typ != typeVersionComponent {
		return fmt.Errorf("%w: Sync Interest name has component type %#x where v=3 belongs", ErrWrongName, typ)
	}
	if ver, ok := ReadNonNeg(b[vs:ve]); !ok || ver != SyncVersion || ve-vs != 1 {
		if ok && ver != SyncVersion {
			return fmt.Errorf("%w: %w: Sync Interest name has v=%d", ErrWrongName, ErrUnsupportedVersion, ver)
		}
		// A v=3 in another byte form is another name to NDN forwarding.
		return fmt.Errorf("%w: Sync Interest version component is not v=3 (%x)", ErrWrongName, b[vs:ve])
	}
	if ve == ne {
		return fmt.Errorf("%w: Sync Interest name has no ParametersSha256DigestComponent", ErrWrongName)
	}
	typ, _, de, _ := element(b, ve, ne)
	if typ != typeParametersDigest || de != ne {
		return fmt.Errorf("%w: Sync Interest name does not end with v=3/<ParametersSha256DigestComponent>", ErrWrongName)
	}
	return nil
}

// Data element ranks, in the order NDN packet format v0.3 §4 fixes.
func dataRank(typ uint64) int {
	switch typ {
	case typeName:
		return 1
	case typeMetaInfo:
		return 2
	case typeContent:
		return 3
	case typeSignatureInfo:
		return 4
	case typeSignatureValue:
		return 5
	}
	return 0
}

// ParseSyncData decodes a State Vector Data that fills b exactly: the
// first TLV of a Sync Interest's ApplicationParameters, for a caller that
// has already parsed and checked the Interest (its name and parameters
// digest). It applies the Data checks of ParseSyncInterest.
func (c *Codec) ParseSyncData(b []byte) (SyncData, error) {
	if len(b) > MaxPacketSize {
		return SyncData{}, fmtTooLarge("State Vector Data of %d bytes exceeds %d", len(b), MaxPacketSize)
	}
	typ, _, ve, err := element(b, 0, len(b))
	if err != nil {
		return SyncData{}, inElement("Data", 0, err)
	}
	if typ != typeData {
		return SyncData{}, inElement("Data", 0, malformedf("TLV-TYPE %#x is not Data", typ))
	}
	if ve != len(b) {
		return SyncData{}, inElement("Data", ve, malformedf("%d bytes after the Data", len(b)-ve))
	}
	return c.parseSyncData(b, 0, ve, nil)
}

// parseSyncData decodes the State Vector Data at b[i:end].
func (c *Codec) parseSyncData(b []byte, i, end int, dst *core.Vector) (SyncData, error) {
	_, vs, ve, _ := element(b, i, end) // the caller has read it once
	var (
		si                    SyncData
		nameAt                = -1
		nameStart, nameEnd    int
		contentAt, cs, ce     = -1, 0, 0
		sigInfoAt, sigInfoEnd = -1, 0
		haveSigValue          bool
		rank                  int
	)
	for j := vs; j < ve; {
		typ, es, ee, err := element(b, j, ve)
		if err != nil {
			return SyncData{}, inElement("Data", j, err)
		}
		r := dataRank(typ)
		switch {
		case r == 0 && IsCritical(typ):
			return SyncData{}, inElement("Data", j, malformedf("unknown critical TLV-TYPE %#x", typ))
		case r == 0:
			// unknown non-critical, e.g. ndnd's CrossSchema (600): skip
		case r <= rank:
			return SyncData{}, inElement("Data", j, malformedf("TLV-TYPE %#x repeated or out of order", typ))
		case j == vs && r != 1:
			return SyncData{}, inElement("Data", j, malformedf("does not start with a Name"))
		default:
			rank = r
		}
		switch typ {
		case typeName:
			if err := checkName(b[es:ee]); err != nil {
				return SyncData{}, inElement("Data Name", j, err)
			}
			nameAt, nameStart, nameEnd = j, es, ee
		case typeMetaInfo:
			if err := checkMetaInfo(b, es, ee); err != nil {
				return SyncData{}, err
			}
		case typeContent:
			contentAt, cs, ce = j, es, ee
		case typeSignatureInfo:
			st, err := readSignatureInfo(b, es, ee)
			if err != nil {
				return SyncData{}, err
			}
			si.SigType = st
			sigInfoAt, sigInfoEnd = j, ee
		case typeSignatureValue:
			haveSigValue = true
		}
		j = ee
	}
	if nameAt < 0 {
		return SyncData{}, inElement("Data", i, malformedf("no Name"))
	}
	if sigInfoAt < 0 || !haveSigValue {
		return SyncData{}, inElement("Data", i, malformedf("no SignatureInfo or SignatureValue"))
	}
	ver, err := c.checkDataName(b, nameStart, nameEnd)
	if err != nil {
		return SyncData{}, err
	}
	si.DataVersion = ver
	if contentAt < 0 {
		return SyncData{}, inElement("Data", i, malformedf("no Content"))
	}
	si.Vector, si.Mapping, err = decodeContentAt(b, cs, ce, c.maxEntries, dst)
	if err != nil {
		return SyncData{}, err
	}
	if c.validator != nil {
		// ndnd's decoder, kept within the packet's bounds.
		data, _, err := ndnpkt.Data(b[i:end])
		if err != nil {
			return SyncData{}, fmt.Errorf("%w: ndnd cannot parse the State Vector Data: %w", ErrMalformed, err)
		}
		// [Spec] NDN packet format v0.3 §3.1: the signature covers Name
		// through SignatureInfo.
		if err := c.validator.Validate(data, enc.Wire{b[nameAt:sigInfoEnd]}); err != nil {
			return SyncData{}, fmt.Errorf("%w: %w", ErrValidation, err)
		}
	}
	return si, nil
}

// checkDataName checks that b[ns:ne] is /<group>/v=<version> and returns
// the version. [Spec §3] The name is /<group-prefix>/v=3; ndnd v1.5.2 and
// v1.5.3 put a Unix time in microseconds there instead, so any version is
// accepted (NDNts accepts only v=3; we send only v=3). A group whose last
// component is 32=svs is also an ndnd SvsALO's sync group, whose members
// name their State Vector Data /<prefix>/<node>/t=<boot>/32=svs/v=<µs>
// (SvsALO's data prefix, then 32=svs): that form is accepted too.
func (c *Codec) checkDataName(b []byte, ns, ne int) (uint64, error) {
	if !bytes.HasPrefix(b[ns:ne], c.groupValue) {
		if ver, ok := c.aloDataName(b, ns, ne); ok {
			return ver, nil
		}
		return 0, fmt.Errorf("%w: State Vector Data name is not under the group %s", ErrWrongName, c.group)
	}
	i := ns + len(c.groupValue)
	if i == ne {
		return 0, fmt.Errorf("%w: State Vector Data name has no version component", ErrWrongName)
	}
	typ, vs, ve, _ := element(b, i, ne)
	ver, ok := ReadNonNeg(b[vs:ve])
	if typ != typeVersionComponent || !ok || ve != ne {
		return 0, fmt.Errorf("%w: State Vector Data name is not /<group>/v=<version>", ErrWrongName)
	}
	return ver, nil
}

// checkMetaInfo checks the MetaInfo TLV-VALUE b[i:end]: ContentType, if
// present, must be BLOB (0); a State Vector Data is never anything else.
func checkMetaInfo(b []byte, i, end int) error {
	for j := i; j < end; {
		typ, vs, ve, err := element(b, j, end)
		if err != nil {
			return inElement("MetaInfo", j, err)
		}
		switch {
		case typ == typeContentType:
			ct, ok := ReadNonNeg(b[vs:ve])
			if !ok {
				return inElement("ContentType", j, malformedf("NonNegativeInteger of %d bytes", ve-vs))
			}
			if ct != uint64(ndn.ContentTypeBlob) {
				return inElement("ContentType", j, malformedf("ContentType %d is not BLOB", ct))
			}
		case typ == typeFreshnessPeriod:
			if _, ok := ReadNonNeg(b[vs:ve]); !ok {
				return inElement("FreshnessPeriod", j, malformedf("NonNegativeInteger of %d bytes", ve-vs))
			}
		case typ == typeFinalBlockID:
		case IsCritical(typ):
			return inElement("MetaInfo", j, malformedf("unknown critical TLV-TYPE %#x", typ))
		}
		j = ve
	}
	return nil
}

// readSignatureInfo returns the SignatureType in the SignatureInfo
// TLV-VALUE b[i:end]. KeyLocator and ValidityPeriod are known and left to
// the Validator; other non-critical elements (SignatureNonce,
// SignatureTime, which ndnd main adds, SignatureSeqNum) are skipped.
func readSignatureInfo(b []byte, i, end int) (ndn.SigType, error) {
	st, have := uint64(0), false
	for j := i; j < end; {
		typ, vs, ve, err := element(b, j, end)
		if err != nil {
			return 0, inElement("SignatureInfo", j, err)
		}
		switch {
		case typ == typeSignatureType:
			if have {
				return 0, inElement("SignatureInfo", j, malformedf("second SignatureType"))
			}
			var ok bool
			if st, ok = ReadNonNeg(b[vs:ve]); !ok {
				return 0, inElement("SignatureType", j, malformedf("NonNegativeInteger of %d bytes", ve-vs))
			}
			if st > math.MaxInt32 {
				return 0, inElement("SignatureType", j, malformedf("SignatureType %d out of range", st))
			}
			have = true
		case typ == typeKeyLocator, typ == typeValidityPeriod:
		case IsCritical(typ):
			return 0, inElement("SignatureInfo", j, malformedf("unknown critical TLV-TYPE %#x", typ))
		}
		j = ve
	}
	if !have {
		return 0, inElement("SignatureInfo", i, malformedf("no SignatureType"))
	}
	return ndn.SigType(st), nil
}

// keywordSVS is the name component 32=svs (a KeywordNameComponent, type 32)
// that ends an ndnd SvsALO's sync group.
var keywordSVS = []byte{32, 3, 's', 'v', 's'}

// aloDataName reports whether b[ns:ne] is an SvsALO member's State Vector
// Data name for this group, /<prefix>/<node...>/t=<boot>/32=svs/v=<n> where
// the group is /<prefix>/32=svs, and returns its version.
func (c *Codec) aloDataName(b []byte, ns, ne int) (uint64, bool) {
	prefix, ok := bytes.CutSuffix(c.groupValue, keywordSVS)
	if !ok || !bytes.HasPrefix(b[ns:ne], prefix) {
		return 0, false
	}
	// The components after the prefix: at least a node name component,
	// t=<boot>, 32=svs and v=<n>, the last three in that order.
	var starts []int
	for i := ns + len(prefix); i < ne; {
		typ, _, ve, err := element(b, i, ne)
		if err != nil || typ == 0 {
			return 0, false
		}
		starts = append(starts, i)
		i = ve
	}
	k := len(starts)
	if k < 4 {
		return 0, false
	}
	typ, vs, ve, _ := element(b, starts[k-1], ne)
	ver, ok := ReadNonNeg(b[vs:ve])
	if typ != typeVersionComponent || !ok {
		return 0, false
	}
	if !bytes.Equal(b[starts[k-2]:starts[k-1]], keywordSVS) {
		return 0, false
	}
	if typ, _, _, _ := element(b, starts[k-3], ne); typ != typeTimestampComp {
		return 0, false
	}
	return ver, true
}
