package wire

import (
	"slices"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

const (
	// DefaultMaxEntries is the default bound on the number of
	// (node, boot) pairs (SeqNoEntry elements) a decoder accepts in one
	// state vector, and an encoder agrees to produce.
	DefaultMaxEntries = 8192
	// MaxPacketSize bounds every input of the decoders (a Sync Interest or
	// a bare StateVector TLV) and every Sync Interest the encoder builds.
	MaxPacketSize = 64 << 10
)

// EncodeStateVector returns the StateVector TLV (0xC9) of v.
// [Spec §3] Entries are in NDN canonical order of node name, one
// StateVectorEntry per node, its SeqNoEntry elements in ascending
// bootstrap time, integers in their minimal NonNegativeInteger form.
// Node names are written as they are; a vector holding an empty or
// malformed core.Name yields bytes that DecodeStateVector rejects.
func EncodeStateVector(v *core.Vector) []byte {
	es := v.Entries()
	return AppendStateVectorEntries(make([]byte, 0, stateVectorLen(es)), es)
}

// AppendStateVector appends the StateVector TLV of v to dst, as
// EncodeStateVector, and returns the extended slice. Beyond growing dst it
// allocates only the slice that v.Entries returns; use
// AppendStateVectorEntries with a cached slice to avoid that one.
func AppendStateVector(dst []byte, v *core.Vector) []byte {
	return AppendStateVectorEntries(dst, v.Entries())
}

// AppendStateVectorEntries appends the StateVector TLV of entries to dst
// and returns the extended slice. It allocates nothing beyond growing dst.
// entries should be in the order core.Vector.Entries returns (node names in
// canonical order, boots ascending, one entry per pair): the entries are
// written in the order given, consecutive entries of the same node share
// one StateVectorEntry, and entries with seq 0 are left out.
func AppendStateVectorEntries(dst []byte, entries []core.Entry) []byte {
	return appendStateVector(dst, entries, stateVectorValueLen(entries))
}

// appendStateVector is AppendStateVectorEntries given the TLV-VALUE length
// n = stateVectorValueLen(entries).
func appendStateVector(dst []byte, entries []core.Entry, n int) []byte {
	dst = slices.Grow(dst, tlvLen(typeStateVector, n))
	dst = appendTL(dst, typeStateVector, n)
	for i := 0; i < len(entries); {
		j, valueLen := nodeRun(entries, i)
		if valueLen > 0 {
			node := entries[i].Node
			dst = appendTL(dst, typeStateVectorEntry, valueLen)
			dst = appendTL(dst, typeName, len(node))
			dst = append(dst, node...)
			for _, e := range entries[i:j] {
				if e.Seq == 0 {
					continue
				}
				dst = appendTL(dst, typeSeqNoEntry, seqNoEntryValueLen(e))
				dst = appendNonNegTLV(dst, typeBootstrapTime, e.Boot)
				dst = appendNonNegTLV(dst, typeSeqNo, e.Seq)
			}
		}
		i = j
	}
	return dst
}

// stateVectorLen is the size of the StateVector TLV of entries.
func stateVectorLen(entries []core.Entry) int {
	return tlvLen(typeStateVector, stateVectorValueLen(entries))
}

// stateVectorValueLen is the size of the StateVector TLV-VALUE of entries.
func stateVectorValueLen(entries []core.Entry) int {
	n := 0
	for i := 0; i < len(entries); {
		j, valueLen := nodeRun(entries, i)
		if valueLen > 0 {
			n += tlvLen(typeStateVectorEntry, valueLen)
		}
		i = j
	}
	return n
}

// nodeRun finds the run entries[i:j] of consecutive entries with the node
// of entries[i], and the TLV-VALUE length of the StateVectorEntry for it
// (0 when every seq in the run is 0, meaning no element is written).
func nodeRun(entries []core.Entry, i int) (j, valueLen int) {
	node := entries[i].Node
	seqs := 0
	for j = i; j < len(entries) && entries[j].Node == node; j++ {
		if entries[j].Seq != 0 {
			seqs += tlvLen(typeSeqNoEntry, seqNoEntryValueLen(entries[j]))
		}
	}
	if seqs == 0 {
		return j, 0
	}
	return j, tlvLen(typeName, len(node)) + seqs
}

func seqNoEntryValueLen(e core.Entry) int {
	return nonNegTLVLen(typeBootstrapTime, e.Boot) + nonNegTLVLen(typeSeqNo, e.Seq)
}

// DecodeStateVector decodes a StateVector TLV that fills b exactly, with
// DefaultMaxEntries as the bound. See DecodeStateVectorLimit.
func DecodeStateVector(b []byte) (*core.Vector, error) {
	return DecodeStateVectorLimit(b, DefaultMaxEntries)
}

// DecodeStateVectorLimit decodes a StateVector TLV that fills b exactly.
// It accepts at most maxEntries SeqNoEntry elements (DefaultMaxEntries if
// maxEntries <= 0) and at most MaxPacketSize bytes; beyond either it
// returns ErrTooLarge.
//
// [Spec §3] Rules, all failures wrap ErrMalformed unless noted:
//   - every TLV is complete and lies within its parent; VAR-NUMBERs are in
//     their shortest form; NonNegativeIntegers are 1, 2, 4 or 8 bytes;
//   - an entry starts with a non-empty, well-formed Name and has at least
//     one SeqNoEntry; a SeqNoEntry has exactly one BootstrapTime followed
//     by exactly one SeqNo;
//   - unknown critical types (<= 31 or odd) are rejected inside
//     StateVector, StateVectorEntry and SeqNoEntry; unknown non-critical
//     ones are skipped;
//   - the v2 SeqNo (0xCC) inside an entry is rejected (also wrapping
//     ErrUnsupportedVersion): it is even, so the generic rule would skip
//     it, but a v2 vector has no boot times and cannot be read as v3;
//   - a SeqNoEntry with seq 0 is accepted and ignored (a missing pair is
//     seq 0 anyway); it still counts towards maxEntries;
//   - entries out of canonical order, and a (node, boot) pair given twice,
//     are accepted: the highest seq wins, as in a merge.
//
// The node names of the result share one string allocated from b; b is not
// retained.
func DecodeStateVectorLimit(b []byte, maxEntries int) (*core.Vector, error) {
	if len(b) > MaxPacketSize {
		return nil, fmtTooLarge("state vector of %d bytes exceeds %d", len(b), MaxPacketSize)
	}
	v, next, err := decodeStateVectorAt(b, 0, len(b), maxEntries, nil)
	if err != nil {
		return nil, err
	}
	if next != len(b) {
		return nil, inElement("StateVector", next, malformedf("%d bytes after the StateVector", len(b)-next))
	}
	return v, nil
}

// DecodeContent decodes the Content of a State Vector Data: one StateVector
// TLV, optionally followed by one MappingData TLV (0xCD), and nothing else.
// [Spec SVS-PS v3] MappingData may be piggybacked after the StateVector;
// ndnd and NDNts reject it, this decoder tolerates it (docs/interop.md, the
// MappingData row). mapping is the whole MappingData TLV, aliasing b, or nil;
// its contents are not checked here. maxEntries is as for
// DecodeStateVectorLimit.
func DecodeContent(b []byte, maxEntries int) (v *core.Vector, mapping []byte, err error) {
	if len(b) > MaxPacketSize {
		return nil, nil, fmtTooLarge("content of %d bytes exceeds %d", len(b), MaxPacketSize)
	}
	return decodeContentAt(b, 0, len(b), maxEntries, nil)
}

// decodeContentAt is DecodeContent on b[i:end], into dst if not nil;
// offsets in errors are relative to b.
func decodeContentAt(b []byte, i, end, maxEntries int, dst *core.Vector) (*core.Vector, []byte, error) {
	v, next, err := decodeStateVectorAt(b, i, end, maxEntries, dst)
	if err != nil {
		return nil, nil, err
	}
	if next == end {
		return v, nil, nil
	}
	typ, _, ve, err := element(b, next, end)
	if err != nil {
		return nil, nil, inElement("Content", next, err)
	}
	if typ != typeMappingData {
		return nil, nil, inElement("Content", next, malformedf("unexpected TLV-TYPE %#x after the StateVector", typ))
	}
	if ve != end {
		return nil, nil, inElement("Content", ve, malformedf("%d bytes after the MappingData", end-ve))
	}
	return v, b[next:ve:ve], nil
}

// decodeStateVectorAt decodes the StateVector TLV starting at b[i:end] and
// returns the offset just past it. It decodes into dst, emptied first,
// when dst is not nil, and into a new vector otherwise.
func decodeStateVectorAt(b []byte, i, end, maxEntries int, dst *core.Vector) (*core.Vector, int, error) {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	typ, vs, ve, err := element(b, i, end)
	if err != nil {
		return nil, 0, inElement("StateVector", i, err)
	}
	if typ != typeStateVector {
		return nil, 0, inElement("StateVector", i, malformedf("TLV-TYPE %#x is not StateVector (0xc9)", typ))
	}
	// A StateVectorEntry takes at least 16 bytes (a one-component name and
	// one SeqNoEntry): size the vector for that many, within the limit.
	d := svDecoder{b: b, base: vs, max: maxEntries, v: dst}
	if dst != nil {
		dst.Reset()
	} else {
		d.v = core.NewVectorSize(min((ve-vs)/16, maxEntries))
	}
	if ve > vs {
		d.names = string(b[vs:ve])
	}
	for j := vs; j < ve; {
		typ, es, ee, err := element(b, j, ve)
		if err != nil {
			return nil, 0, inElement("StateVector", j, err)
		}
		switch {
		case typ == typeStateVectorEntry:
			if err := d.entry(es, ee); err != nil {
				return nil, 0, err
			}
		case IsCritical(typ):
			return nil, 0, inElement("StateVector", j, malformedf("unknown critical TLV-TYPE %#x", typ))
		}
		j = ee
	}
	return d.v, ve, nil
}

// svDecoder holds the state of one StateVector decoding.
type svDecoder struct {
	b     []byte
	names string // b[base:...] as a string; node names are cut from it
	base  int
	count int
	max   int
	v     *core.Vector
}

// entry decodes the TLV-VALUE b[i:end] of a StateVectorEntry.
func (d *svDecoder) entry(i, end int) error {
	var node core.Name
	haveName, seqs := false, 0
	for j := i; j < end; {
		typ, vs, ve, err := element(d.b, j, end)
		if err != nil {
			return inElement("StateVectorEntry", j, err)
		}
		switch {
		case typ == typeName:
			if haveName {
				return inElement("StateVectorEntry", j, malformedf("second Name"))
			}
			if vs == ve {
				return inElement("StateVectorEntry", j, malformedf("empty node name"))
			}
			if err := checkName(d.b[vs:ve]); err != nil {
				return inElement("StateVectorEntry Name", j, err)
			}
			node = core.Name(d.names[vs-d.base : ve-d.base])
			haveName = true
		case typ == typeSeqNoEntry:
			if !haveName {
				return inElement("StateVectorEntry", j, malformedf("SeqNoEntry before Name"))
			}
			d.count++
			if d.count > d.max {
				return inElement("StateVectorEntry", j, fmtTooLarge("more than %d SeqNoEntry elements", d.max))
			}
			boot, seq, err := d.seqNoEntry(vs, ve)
			if err != nil {
				return err
			}
			// [Spec §3] Sequence numbers are 1-based; seq 0 carries no
			// state, and Set(…, 0) would delete a pair seen earlier.
			// A vector in wire order (as every encoder sends it) appends
			// without a lookup; anything else is merged, highest seq winning.
			if seq != 0 && !d.v.Append(core.Entry{Node: node, Boot: boot, Seq: seq}) && seq > d.v.Get(node, boot) {
				d.v.Set(node, boot, seq)
			}
			seqs++
		case typ == typeV2SeqNo:
			return inElement("StateVectorEntry", j, fmtV2("SVS v2 SeqNo (0xcc) in a v3 StateVectorEntry"))
		case IsCritical(typ):
			return inElement("StateVectorEntry", j, malformedf("unknown critical TLV-TYPE %#x", typ))
		}
		j = ve
	}
	if !haveName {
		return inElement("StateVectorEntry", i, malformedf("no Name"))
	}
	if seqs == 0 {
		return inElement("StateVectorEntry", i, malformedf("no SeqNoEntry"))
	}
	return nil
}

// seqNoEntry decodes the TLV-VALUE b[i:end] of a SeqNoEntry.
func (d *svDecoder) seqNoEntry(i, end int) (boot, seq uint64, err error) {
	haveBoot, haveSeq := false, false
	for j := i; j < end; {
		typ, vs, ve, err := element(d.b, j, end)
		if err != nil {
			return 0, 0, inElement("SeqNoEntry", j, err)
		}
		switch {
		case typ == typeBootstrapTime:
			if haveBoot || haveSeq {
				return 0, 0, inElement("SeqNoEntry", j, malformedf("BootstrapTime repeated or after SeqNo"))
			}
			var ok bool
			if boot, ok = ReadNonNeg(d.b[vs:ve]); !ok {
				return 0, 0, inElement("BootstrapTime", j, malformedf("NonNegativeInteger of %d bytes", ve-vs))
			}
			haveBoot = true
		case typ == typeSeqNo:
			if haveSeq || !haveBoot {
				return 0, 0, inElement("SeqNoEntry", j, malformedf("SeqNo repeated or before BootstrapTime"))
			}
			var ok bool
			if seq, ok = ReadNonNeg(d.b[vs:ve]); !ok {
				return 0, 0, inElement("SeqNo", j, malformedf("NonNegativeInteger of %d bytes", ve-vs))
			}
			haveSeq = true
		case IsCritical(typ):
			return 0, 0, inElement("SeqNoEntry", j, malformedf("unknown critical TLV-TYPE %#x", typ))
		}
		j = ve
	}
	if !haveBoot || !haveSeq {
		return 0, 0, inElement("SeqNoEntry", i, malformedf("missing BootstrapTime or SeqNo"))
	}
	return boot, seq, nil
}
