package link

import (
	"errors"
	"fmt"
)

// ErrNested is a network-layer packet with an element, inside one that
// ndnd's decoder reads field by field, whose length runs past its parent.
var ErrNested = errors.New("link: an element's length runs past its parent")

// ndnd v1.5.3's packet decoder (std/ndn/spec_2022, which its engine,
// management and this project's svs use) makes a slice of an element's
// TLV-LENGTH before it checks that the bytes are there: a Name claiming
// 2^31 bytes makes it allocate 40 GB for the components, a KeyDigest or
// SignatureNonce claiming as much a slice of that size, and the process
// dies of it (out of memory is no panic that recover can catch;
// FuzzClassify found the Name case in a 52-byte Interest). The
// forwarder's own decoder reads only the outer fields and passes
// SignatureInfo, ApplicationParameters and the like through unread, so
// such a packet crossed the node to every member and application.
//
// Wellformed walks a packet as that decoder does, and checks that every
// element's length fits in its parent, at every level the decoder
// descends into: with it, no length the decoder trusts can be larger than
// the packet. Values the decoder keeps whole (Content,
// ApplicationParameters, a name component) are not looked into.

// Grammar is, for an element a decoder reads field by field, which of its
// children are read field by field too, and how: a few entries each,
// scanned in order (faster than a map at this size). Other decoders of
// ndnd's generated kind (the LVS trust schema model) use it with Within.
type Grammar []Child

// Child is an element a Grammar descends into.
type Child struct {
	Type  uint64
	Inner Grammar // nil: a sequence of elements, not looked into
}

var (
	nameGrammar  Grammar // components: TLV-TYPE, TLV-LENGTH, opaque value
	validity     Grammar // NotBefore, NotAfter
	metaInfo     Grammar // ContentType, FreshnessPeriod, FinalBlockId
	keyLocator   = Grammar{{0x07, nameGrammar}}
	sigInfo      = Grammar{{0x1c, keyLocator}, {0xfd, validity}}
	delegation   = Grammar{{0x07, nameGrammar}}
	forwardHint  = Grammar{{0x07, nameGrammar}, {0x1f, delegation}}
	interestBody = Grammar{{0x07, nameGrammar}, {0x1e, forwardHint}, {0x2c, sigInfo}}
	dataBody     = Grammar{{0x07, nameGrammar}, {0x14, metaInfo}, {0x16, sigInfo}}
)

// Wellformed checks an Interest or Data packet, one whole element.
func Wellformed(pkt []byte) error {
	typ, length, n, err := header(pkt)
	if err != nil {
		return ErrMalformed
	}
	if length != uint64(len(pkt)-n) {
		return ErrMalformed
	}
	switch typ {
	case TypeInterest:
		return Within(pkt[n:], interestBody)
	case TypeData:
		return Within(pkt[n:], dataBody)
	}
	return fmt.Errorf("link: TLV-TYPE %d is no Interest or Data", typ)
}

// Within checks that b is a sequence of whole elements, and, recursively,
// the values of the children g names: ErrNested if not. A Grammar is
// finite and acyclic, so the depth is bounded.
func Within(b []byte, g Grammar) error {
	for len(b) > 0 {
		typ, length, n, err := header(b)
		if err != nil || length > uint64(len(b)-n) {
			return ErrNested
		}
		for _, c := range g {
			if c.Type == typ {
				if err := Within(b[n:n+int(length)], c.Inner); err != nil {
					return err
				}
				break
			}
		}
		b = b[n+int(length):]
	}
	return nil
}
