package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// metaInfoBlob is MetaInfo{ContentType = 0 (BLOB)}. NDNts omits MetaInfo;
// ndnd v1.5.3 writes it. We write it so that our State Vector Data is byte
// for byte what ndnd v1.5.3 emits (TV7a/TV7b in testdata/vectors.txt), at a cost
// of 5 bytes; every receiver accepts both forms.
var metaInfoBlob = []byte{typeMetaInfo, 3, typeContentType, 1, 0}

// versionComponent3 is the VersionNameComponent v=3.
var versionComponent3 = []byte{typeVersionComponent, 1, SyncVersion}

// EncodeSyncInterest returns the Sync Interest carrying v:
// /<group>/v=3/<ParametersSha256Digest>, no CanBePrefix or MustBeFresh,
// the given Nonce, InterestLifetime as configured (1000 ms by default), and
// ApplicationParameters holding one State Vector Data named /<group>/v=3,
// ContentType BLOB, whose Content is the StateVector TLV of v, signed with
// the Codec's Signer. The Interest itself is unsigned. [Spec §2, §3]
func (c *Codec) EncodeSyncInterest(v *core.Vector, nonce uint32) ([]byte, error) {
	return c.AppendSyncInterestEntries(nil, v.Entries(), nonce)
}

// AppendSyncInterest appends the Sync Interest carrying v to dst, as
// EncodeSyncInterest. On error dst is returned unchanged.
func (c *Codec) AppendSyncInterest(dst []byte, v *core.Vector, nonce uint32) ([]byte, error) {
	return c.AppendSyncInterestEntries(dst, v.Entries(), nonce)
}

// AppendSyncInterestEntries appends the Sync Interest carrying entries to
// dst. entries must be as for AppendStateVectorEntries. With the default
// signer it allocates nothing beyond growing dst. It fails with
// ErrInvalidName if a node name is empty or malformed, and with ErrTooLarge
// if there are more than MaxEntries non-zero pairs or the Interest would
// exceed MaxPacketSize. On error dst is returned unchanged.
func (c *Codec) AppendSyncInterestEntries(dst []byte, entries []core.Entry, nonce uint32) ([]byte, error) {
	svValueLen, err := c.checkEntries(entries)
	if err != nil {
		return dst, err
	}
	if least := c.layout(svValueLen, 0).total; least > MaxPacketSize {
		return dst, fmtTooLarge("Sync Interest of at least %d bytes exceeds %d", least, MaxPacketSize)
	}
	start := len(dst)
	est := c.layout(svValueLen, c.sigEstLen)

	// Write the signed part of the Data where the estimate puts it, sign
	// it, then write the headers in front of it. With DigestSha256 the
	// estimate is exact; otherwise the signed part may have to move.
	out := slices.Grow(dst, est.total)[:start+est.prefix]
	covStart := len(out)
	out = appendTL(out, typeName, len(c.groupValue)+len(versionComponent3))
	out = append(out, c.groupValue...)
	out = append(out, versionComponent3...)
	out = append(out, metaInfoBlob...)
	out = appendTL(out, typeContent, tlvLen(typeStateVector, svValueLen))
	out = appendStateVector(out, entries, svValueLen)
	out = append(out, c.sigInfo...)
	if c.sigTimeAt >= 0 {
		binary.BigEndian.PutUint64(out[len(out)-len(c.sigInfo)+c.sigTimeAt:], c.signatureTime())
	}
	covered := len(out) - covStart

	var digest [sha256.Size]byte
	var sig []byte
	if c.fastDigest {
		digest = sha256.Sum256(out[covStart:])
		sig = digest[:]
	} else {
		sig, err = c.signer.Sign(enc.Wire{out[covStart:]})
		if err != nil {
			return dst, fmt.Errorf("%w: %w", ErrSigner, err)
		}
	}
	act := c.layout(svValueLen, len(sig))
	if act.covered != covered {
		return dst, fmt.Errorf("%w: internal: encoder layout mismatch", ErrMalformed)
	}
	if act.total > MaxPacketSize {
		return dst, fmtTooLarge("Sync Interest of %d bytes exceeds %d", act.total, MaxPacketSize)
	}
	if act.prefix != est.prefix {
		// A length field changed size: move the signed part (memmove).
		newEnd := start + act.prefix + covered
		if newEnd > len(out) {
			out = slices.Grow(out, newEnd-len(out))
		}
		src := out[covStart : covStart+covered]
		out = out[:newEnd]
		copy(out[start+act.prefix:], src)
	}
	out = appendTL(out, typeSignatureValue, len(sig))
	out = append(out, sig...)

	h := out[:start]
	h = appendTL(h, typeInterest, act.interestValue)
	h = appendTL(h, typeName, act.nameValue)
	h = append(h, c.groupValue...)
	h = append(h, versionComponent3...)
	h = append(h, typeParametersDigest, sha256.Size)
	digestAt := len(h)
	h = h[:digestAt+sha256.Size]
	h = append(h, typeNonce, 4)
	h = binary.BigEndian.AppendUint32(h, nonce)
	h = appendNonNegTLV(h, typeInterestLifetime, c.lifetimeMs)
	paramsAt := len(h)
	h = appendTL(h, typeAppParameters, act.dataTLV)
	h = appendTL(h, typeData, act.dataValue)
	if len(h) != start+act.prefix || len(out) != start+act.total {
		return dst, fmt.Errorf("%w: internal: encoder layout mismatch", ErrMalformed)
	}
	// [Spec] NDN packet format v0.3 §5.4: the ParametersSha256Digest covers
	// ApplicationParameters to the end of the (unsigned) Interest.
	digest = sha256.Sum256(out[paramsAt:])
	copy(out[digestAt:], digest[:])
	return out, nil
}

// checkEntries validates the node names and counts the pairs of entries,
// and returns the StateVector TLV-VALUE length.
func (c *Codec) checkEntries(entries []core.Entry) (int, error) {
	n, pairs := 0, 0
	for i := 0; i < len(entries); {
		j, valueLen := nodeRun(entries, i)
		if valueLen > 0 {
			node := entries[i].Node
			if len(node) == 0 {
				return 0, fmt.Errorf("%w: empty node name", ErrInvalidName)
			}
			if err := checkName([]byte(node)); err != nil {
				return 0, fmt.Errorf("%w: node name %q: %w", ErrInvalidName, node, err)
			}
			for _, e := range entries[i:j] {
				if e.Seq != 0 {
					pairs++
				}
			}
			n += tlvLen(typeStateVectorEntry, valueLen)
		}
		i = j
	}
	if pairs > c.maxEntries {
		return 0, fmtTooLarge("vector of %d pairs exceeds %d", pairs, c.maxEntries)
	}
	return n, nil
}

// interestLayout holds the sizes of the parts of a Sync Interest.
type interestLayout struct {
	covered       int // Data Name, MetaInfo, Content, SignatureInfo
	dataValue     int
	dataTLV       int
	nameValue     int // Interest Name TLV-VALUE
	interestValue int
	total         int
	prefix        int // bytes before the covered part
}

func (c *Codec) layout(svValueLen, sigLen int) interestLayout {
	var l interestLayout
	l.covered = tlvLen(typeName, len(c.groupValue)+len(versionComponent3)) +
		len(metaInfoBlob) +
		tlvLen(typeContent, tlvLen(typeStateVector, svValueLen)) +
		len(c.sigInfo)
	l.dataValue = l.covered + tlvLen(typeSignatureValue, sigLen)
	l.dataTLV = tlvLen(typeData, l.dataValue)
	l.nameValue = len(c.groupValue) + len(versionComponent3) + tlvLen(typeParametersDigest, sha256.Size)
	l.interestValue = tlvLen(typeName, l.nameValue) +
		tlvLen(typeNonce, 4) +
		nonNegTLVLen(typeInterestLifetime, c.lifetimeMs) +
		tlvLen(typeAppParameters, l.dataTLV)
	l.total = tlvLen(typeInterest, l.interestValue)
	l.prefix = l.total - l.dataValue
	return l
}

// ParamsDigest returns the ParametersSha256Digest component value (the last
// name component) of the Sync Interest in pkt, as a slice of pkt. A sender
// needs it to build the Interest's name for its engine without parsing the
// packet again with ndnd. It reports false if pkt is not an Interest whose
// name ends in a ParametersSha256DigestComponent.
func ParamsDigest(pkt []byte) ([]byte, bool) {
	typ, vs, ve, err := element(pkt, 0, len(pkt))
	if err != nil || typ != typeInterest {
		return nil, false
	}
	typ, ns, ne, err := element(pkt, vs, ve)
	if err != nil || typ != typeName {
		return nil, false
	}
	var last []byte
	for i := ns; i < ne; {
		ctyp, cs, ce, err := element(pkt, i, ne)
		if err != nil {
			return nil, false
		}
		last = nil
		if ctyp == typeParametersDigest && ce-cs == sha256.Size {
			last = pkt[cs:ce:ce]
		}
		i = ce
	}
	return last, last != nil
}
