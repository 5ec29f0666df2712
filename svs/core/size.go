package core

// This file computes the encoded size of a state vector without encoding it,
// so that the engine can keep what it asks to send under
// Config.MaxVectorBytes. The arithmetic follows the StateVector TLV of
// [Spec §3]; svs/wire's encoder writes exactly these bytes (checked by
// TestVectorSizeMatchesWire).

// The StateVector's TLV-TYPEs (StateVector 0xC9, StateVectorEntry 0xCA,
// Name 0x07, SeqNoEntry 0xD2, BootstrapTime 0xD4, SeqNo 0xD6) are all below
// 253: one byte each, which tlvSize counts.

// varNumLen is the size of a TLV VAR-NUMBER in its shortest form.
func varNumLen(n int) int {
	switch {
	case n < 253:
		return 1
	case n <= 0xFFFF:
		return 3
	case uint64(n) <= 0xFFFF_FFFF:
		return 5
	}
	return 9
}

// tlvSize is the size of a TLV whose TLV-TYPE is below 253 and whose
// TLV-VALUE has n bytes.
func tlvSize(n int) int { return 1 + varNumLen(n) + n }

// nonNegSize is the size of a NonNegativeInteger TLV-VALUE.
func nonNegSize(x uint64) int {
	switch {
	case x <= 0xFF:
		return 1
	case x <= 0xFFFF:
		return 2
	case x <= 0xFFFF_FFFF:
		return 4
	}
	return 8
}

// seqNoEntrySize is the size of the SeqNoEntry TLV of one pair.
func seqNoEntrySize(boot, seq uint64) int {
	return tlvSize(tlvSize(nonNegSize(boot)) + tlvSize(nonNegSize(seq)))
}

// VectorSize returns the size in bytes of the StateVector TLV that encodes
// v: one StateVectorEntry per node, holding its Name TLV and one SeqNoEntry
// per bootstrap time. A nil *Vector is the empty vector (2 bytes).
func VectorSize(v *Vector) int {
	var es []Entry
	if v != nil {
		es = v.entries
	}
	return tlvSize(entriesValueSize(es))
}

// entriesValueSize is the StateVector TLV-VALUE size of entries in wire
// order.
func entriesValueSize(es []Entry) int {
	n := 0
	for i := 0; i < len(es); {
		node := es[i].Node
		val := tlvSize(len(node))
		for ; i < len(es) && es[i].Node == node; i++ {
			val += seqNoEntrySize(es[i].Boot, es[i].Seq)
		}
		n += tlvSize(val)
	}
	return n
}
