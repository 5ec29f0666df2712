package wire

import (
	"fmt"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// NameToCore returns the core.Name of n: its Name TLV-VALUE. It does not
// check n; CoreToName and the encoders do.
func NameToCore(n enc.Name) core.Name {
	var sb strings.Builder
	sb.Grow(nameValueLen(n))
	var tl [18]byte
	for _, c := range n {
		sb.Write(appendTL(tl[:0], uint64(c.Typ), len(c.Val)))
		sb.Write(c.Val)
	}
	return core.Name(sb.String())
}

// CoreToName parses a core.Name into an enc.Name whose components share one
// fresh copy of the bytes. It fails with ErrInvalidName unless n is a
// sequence of well-formed components (the empty name gives an empty
// enc.Name).
func CoreToName(n core.Name) (enc.Name, error) {
	b := []byte(n)
	count, err := countComponents(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	out := make(enc.Name, 0, count)
	for i := 0; i < len(b); {
		typ, vs, ve, err := element(b, i, len(b))
		if err != nil { // cannot happen after countComponents
			return nil, fmt.Errorf("%w: %w", ErrInvalidName, err)
		}
		out = append(out, enc.Component{Typ: enc.TLNum(typ), Val: b[vs:ve:ve]})
		i = ve
	}
	return out, nil
}

// nameValue returns the Name TLV-VALUE of n.
func nameValue(n enc.Name) []byte {
	b := make([]byte, 0, nameValueLen(n))
	for _, c := range n {
		b = appendTL(b, uint64(c.Typ), len(c.Val))
		b = append(b, c.Val...)
	}
	return b
}

func nameValueLen(n enc.Name) int {
	l := 0
	for _, c := range n {
		l += tlvLen(uint64(c.Typ), len(c.Val))
	}
	return l
}

// PublicationName returns /<node>/<group>/t=<boot>/seq=<seq>, the name of
// publication seq of node's incarnation boot. [Spec §2] t= is a
// TimestampNameComponent (0x38) holding the bootstrap time in SECONDS (not
// the microseconds of the generic naming convention); seq= is a
// SequenceNumNameComponent (0x3A). The result shares the component values
// of node and group.
func PublicationName(node, group enc.Name, boot, seq uint64) enc.Name {
	n := make(enc.Name, 0, len(node)+len(group)+2)
	n = append(n, node...)
	n = append(n, group...)
	return append(n,
		enc.NewTimestampComponent(boot),
		enc.NewSequenceNumComponent(seq))
}

// ParsePublicationName splits /<node>/<group>/t=<boot>/seq=<seq> given the
// group. node is a sub-slice of name and must be non-empty. t= and seq=
// must be NonNegativeIntegers of 1, 2, 4 or 8 bytes. Anything else fails
// with ErrWrongName.
func ParsePublicationName(name, group enc.Name) (node enc.Name, boot, seq uint64, err error) {
	n := len(name)
	if n < len(group)+3 {
		return nil, 0, 0, fmt.Errorf("%w: %s is too short for /<node>/<group>/t=<boot>/seq=<seq>", ErrWrongName, name)
	}
	tc, sc := name[n-2], name[n-1]
	var ok bool
	if tc.Typ != enc.TypeTimestampNameComponent {
		return nil, 0, 0, fmt.Errorf("%w: %s has no t=<boot> component", ErrWrongName, name)
	}
	if boot, ok = ReadNonNeg(tc.Val); !ok {
		return nil, 0, 0, fmt.Errorf("%w: %s: t= is not a NonNegativeInteger", ErrWrongName, name)
	}
	if sc.Typ != enc.TypeSequenceNumNameComponent {
		return nil, 0, 0, fmt.Errorf("%w: %s has no seq=<seq> component", ErrWrongName, name)
	}
	if seq, ok = ReadNonNeg(sc.Val); !ok {
		return nil, 0, 0, fmt.Errorf("%w: %s: seq= is not a NonNegativeInteger", ErrWrongName, name)
	}
	nodeLen := n - 2 - len(group)
	if !name[nodeLen : n-2].Equal(group) {
		return nil, 0, 0, fmt.Errorf("%w: %s is not in group %s", ErrWrongName, name, group)
	}
	return name[:nodeLen:nodeLen], boot, seq, nil
}
