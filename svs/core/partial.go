package core

import (
	"slices"
	"time"
)

// This file chooses what to send when the state vector is larger than
// Config.MaxVectorBytes (docs/engine.md, "Vectors over the bound").

// sendVector returns the vector to put in a Sync Interest now, and how many
// pairs of the state it leaves out. Under the bound it is the whole state.
// Over it, pairs are taken in this order while they fit: the own current
// pair; the pairs that against (the MergedStateVector of a suppression
// answer, or nil) is behind on; the pairs raised within the last periodic
// interval, most recent first; then the rest in wire order from where the
// last partial vector stopped, so that over successive Sync Interests every
// pair is sent.
//
// [Spec §3] allows this in the sense that matters: a receiver merges what
// it sees and nothing else. What the specification does not foresee is that
// a vector lacking pairs reads as outdated; see fullSize for how receivers
// of this engine tell a vector that may be partial.
func (e *Engine) sendVector(now time.Duration, against *Vector, againstFull bool) (*Vector, int) {
	es := e.state.entries
	if tlvSize(entriesValueSize(es)) <= e.maxBytes {
		return e.state.Clone(), 0
	}
	sel := newSelection(e.maxBytes, len(es))
	if i, ok := e.state.find(e.self, e.boot); ok {
		sel.add(es, i)
	}
	if against != nil {
		e.eachBehind(against, againstFull, func(i int) { sel.add(es, i) })
	}
	var recent []int
	for i, en := range es {
		if t, ok := e.raised[Key{en.Node, en.Boot}]; ok && now-t <= e.periodic {
			recent = append(recent, i)
		}
	}
	slices.SortStableFunc(recent, func(a, b int) int {
		ta, tb := e.raised[Key{es[a].Node, es[a].Boot}], e.raised[Key{es[b].Node, es[b].Boot}]
		return cmpDur(tb, ta)
	})
	for _, i := range recent {
		sel.add(es, i)
	}
	// The rest, in turns.
	start, _ := slices.BinarySearchFunc(es, Entry{Node: e.cursor.Node, Boot: e.cursor.Boot}, compareEntries)
	next := -1
	for k := range es {
		i := (start + k) % len(es)
		if sel.has[i] {
			continue
		}
		if !sel.add(es, i) && next < 0 {
			next = i
		}
	}
	if next >= 0 {
		e.cursor = Key{es[next].Node, es[next].Boot}
	}
	out := &Vector{entries: make([]Entry, 0, len(sel.idx))}
	slices.Sort(sel.idx)
	for _, i := range sel.idx {
		out.entries = append(out.entries, es[i])
	}
	return out, len(es) - len(sel.idx)
}

// selection accumulates pairs under a size bound, accounting for the
// StateVectorEntry of each node exactly once.
type selection struct {
	max     int
	value   int          // StateVector TLV-VALUE size so far
	nodeVal map[Name]int // StateVectorEntry TLV-VALUE size per node taken
	has     []bool
	idx     []int
}

func newSelection(maxBytes, n int) *selection {
	return &selection{max: maxBytes, nodeVal: make(map[Name]int), has: make([]bool, n)}
}

// add takes es[i] if it is not taken yet and fits, and reports whether it
// was taken (or already was).
func (s *selection) add(es []Entry, i int) bool {
	if s.has[i] {
		return true
	}
	en := es[i]
	old, ok := s.nodeVal[en.Node]
	val := old
	if !ok {
		val = tlvSize(len(en.Node))
	}
	val += seqNoEntrySize(en.Boot, en.Seq)
	delta := tlvSize(val)
	if ok {
		delta -= tlvSize(old)
	}
	if tlvSize(s.value+delta) > s.max {
		return false
	}
	s.value += delta
	s.nodeVal[en.Node] = val
	s.has[i] = true
	s.idx = append(s.idx, i)
	return true
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
