package core

import (
	"slices"
	"strings"
)

// Name is an NDN name held as the TLV-VALUE of its Name TLV: the
// concatenated name components, without the outer 0x07 type and length.
// It is comparable and usable as a map key. The engine never decodes a Name
// beyond what canonical ordering needs.
type Name string

// Key identifies one incarnation of a member: its node name and the
// bootstrap time (seconds since the Unix epoch) it joined with.
// [Spec §3] State is keyed by (node name, bootstrap time).
type Key struct {
	Node Name
	Boot uint64
}

// Entry is one (node, boot, seq) triple of a state vector.
type Entry struct {
	Node Name
	Boot uint64
	Seq  uint64
}

// Vector is a state vector: the highest sequence number known for every
// (node, boot) pair. A missing pair counts as sequence number 0.
// The zero value is an empty vector ready to use. A Vector is not safe for
// concurrent use.
//
// Entries are kept in wire order at all times, so Entries costs a copy, not
// a sort: a vector is encoded for every Sync Interest sent, and updating the
// sequence number of a known pair is by far the most common change.
type Vector struct {
	entries []Entry     // wire order
	index   map[Key]int // position of each pair in entries; built on demand, nil after a reshuffle
}

// indexFrom is the size from which a lookup builds the index; below it, a
// scan of the entries is cheaper than hashing.
const indexFrom = 16

// NewVector returns a vector holding the given entries. Later entries for the
// same (node, boot) pair win only if their sequence number is higher.
func NewVector(entries ...Entry) *Vector {
	v := &Vector{}
	for _, e := range entries {
		if e.Seq > v.Get(e.Node, e.Boot) {
			v.Set(e.Node, e.Boot, e.Seq)
		}
	}
	return v
}

// NewVectorSize returns an empty vector with room for n pairs, for a
// decoder that knows about how many are coming.
func NewVectorSize(n int) *Vector {
	if n <= 0 {
		return &Vector{}
	}
	return &Vector{entries: make([]Entry, 0, n)}
}

// Reset empties v and keeps its room, for a decoder that reuses one vector
// for packet after packet.
func (v *Vector) Reset() {
	clear(v.entries) // no hold on the names of the last vector
	v.entries = v.entries[:0]
	v.index = nil
}

// CompactNames puts the node names of v into one new string, in wire
// order. Names come from the packets that first carried them, each cut
// from a string of its own; a receiver walks its vector against every
// incoming one (Engine.Receive), and with the names scattered over the
// heap the comparisons were mostly cache misses (memeqbody, 3 % of the
// CPU of a 20-member group publishing).
func (v *Vector) CompactNames() {
	// A node's entries are adjacent (wire order): its first carries the
	// name into the string, the others share it.
	first := func(i int) bool { return i == 0 || v.entries[i].Node != v.entries[i-1].Node }
	size := 0
	for i, e := range v.entries {
		if first(i) {
			size += len(e.Node)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for i, e := range v.entries {
		if first(i) {
			b.WriteString(string(e.Node))
		}
	}
	all, off := b.String(), 0
	for i := range v.entries {
		if !first(i) {
			v.entries[i].Node = v.entries[i-1].Node
			continue
		}
		n := len(v.entries[i].Node)
		v.entries[i].Node, off = Name(all[off:off+n]), off+n
	}
	v.index = nil // its keys hold the old strings
}

// find returns the position of (node, boot) in entries.
func (v *Vector) find(node Name, boot uint64) (int, bool) {
	if len(v.entries) < indexFrom {
		for i := range v.entries {
			if v.entries[i].Boot == boot && v.entries[i].Node == node {
				return i, true
			}
		}
		return 0, false
	}
	if v.index == nil {
		v.index = make(map[Key]int, len(v.entries))
		for i, e := range v.entries {
			v.index[Key{e.Node, e.Boot}] = i
		}
	}
	i, ok := v.index[Key{node, boot}]
	return i, ok
}

// Get returns the sequence number of (node, boot), 0 when absent. A nil
// *Vector reads as empty.
func (v *Vector) Get(node Name, boot uint64) uint64 {
	if v == nil {
		return 0
	}
	if i, ok := v.find(node, boot); ok {
		return v.entries[i].Seq
	}
	return 0
}

// Set records seq for (node, boot). Setting 0 removes the pair. v must not
// be nil.
func (v *Vector) Set(node Name, boot, seq uint64) {
	i, ok := v.find(node, boot)
	switch {
	case ok && seq != 0:
		v.entries[i].Seq = seq
	case ok:
		v.entries = slices.Delete(v.entries, i, i+1)
		v.index = nil
	case seq != 0:
		v.insert(Entry{Node: node, Boot: boot, Seq: seq})
	}
}

// Append adds e if it sorts after every pair of v, which is how a decoder
// meets the entries of a vector in wire order, at the cost of one
// comparison and no lookup. It reports false, changing nothing, when e does
// not sort last (or its Seq is 0); the caller then uses Get and Set.
func (v *Vector) Append(e Entry) bool {
	n := len(v.entries)
	if e.Seq == 0 || (n > 0 && compareEntries(v.entries[n-1], e) >= 0) {
		return false
	}
	v.entries = append(v.entries, e)
	if v.index != nil {
		v.index[Key{e.Node, e.Boot}] = n
	}
	return true
}

// insert adds a new pair at its place in wire order. Appending, as a decoder
// reading a vector in wire order does, costs one comparison.
func (v *Vector) insert(e Entry) {
	n := len(v.entries)
	if n == 0 || compareEntries(v.entries[n-1], e) < 0 {
		v.entries = append(v.entries, e)
		if v.index != nil {
			v.index[Key{e.Node, e.Boot}] = n
		}
		return
	}
	i, _ := slices.BinarySearchFunc(v.entries, e, compareEntries)
	v.entries = slices.Insert(v.entries, i, e)
	v.index = nil
}

// compareEntries orders entries by node name (canonical order), then boot.
func compareEntries(a, b Entry) int {
	if c := CompareNames(a.Node, b.Node); c != 0 {
		return c
	}
	return cmpUint(a.Boot, b.Boot)
}

// Len returns the number of (node, boot) pairs with a non-zero sequence
// number. A nil *Vector reads as empty.
func (v *Vector) Len() int {
	if v == nil {
		return 0
	}
	return len(v.entries)
}

// Entries returns the vector's entries in wire order: nodes in NDN canonical
// name order, and for each node its bootstrap times ascending. The slice is
// the caller's. A nil *Vector reads as empty.
func (v *Vector) Entries() []Entry {
	if v == nil {
		return []Entry{}
	}
	return slices.Clone(v.entries)
}

// Each calls f for every entry in wire order, without copying; f must not
// change v.
func (v *Vector) Each(f func(Entry)) {
	if v == nil {
		return
	}
	for _, e := range v.entries {
		f(e)
	}
}

// Clone returns an independent copy of v. Cloning a nil *Vector returns an
// empty vector.
func (v *Vector) Clone() *Vector {
	c := &Vector{}
	if v != nil && len(v.entries) > 0 {
		c.entries = slices.Clone(v.entries)
	}
	return c
}

// CompareNames orders two names in NDN canonical order: component by
// component, first by TLV-TYPE, then by TLV-LENGTH (shorter first), then by
// the value bytes; a name sorts before its extensions.
//
// For names whose VAR-NUMBERs are in their shortest form, which is every
// name the wire decoder accepts and every name NameToCore makes, that order
// is the byte order of the TLV-VALUEs, so this is a plain byte comparison:
// the shortest forms of VAR-NUMBERs (x < 253, then FD, FE, FF with
// big-endian values) sort as the numbers do, and up to the first byte
// where two names differ they hold the same components. For other byte
// strings it is still a total order, just not the canonical one.
func CompareNames(a, b Name) int {
	return strings.Compare(string(a), string(b))
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// NewestBoot returns the largest bootstrap time v holds for node, and false
// if it holds none. A nil *Vector reads as empty.
func (v *Vector) NewestBoot(node Name) (uint64, bool) {
	if v == nil {
		return 0, false
	}
	es := v.entries
	i, _ := slices.BinarySearchFunc(es, node, func(en Entry, n Name) int { return CompareNames(en.Node, n) })
	var boot uint64
	ok := false
	for ; i < len(es) && es[i].Node == node; i++ {
		boot, ok = es[i].Boot, true
	}
	return boot, ok
}
