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
// pair is sent. Pairs of nodes on probation (withheld) are
// never sent, and do not count as left out.
//
// [Spec §3] allows this in the sense that matters: a receiver merges what
// it sees and nothing else. What the specification does not foresee is that
// a vector lacking pairs reads as outdated; see fullSize for how receivers
// of this engine tell a vector that may be partial.
func (e *Engine) sendVector(now time.Duration, against *Vector, againstFull bool) (*Vector, int) {
	es := e.state.entries
	withheld := 0
	if e.probation > 0 {
		es = e.sendable()
		withheld = len(e.state.entries) - len(es)
		e.stats.Withheld += uint64(withheld)
	}
	if tlvSize(entriesValueSize(es)) <= e.maxBytes {
		if withheld > 0 {
			return &Vector{entries: es}, 0 // es is a new slice
		}
		return e.state.Clone(), 0
	}
	sel := newSelection(e.maxBytes, len(es))
	// at is the index in es of a pair of the state (sendable ones only).
	at := func(en Entry) (int, bool) { return slices.BinarySearchFunc(es, en, compareEntries) }
	if i, ok := at(Entry{Node: e.self, Boot: e.boot}); ok {
		sel.add(es, i)
	}
	if against != nil {
		e.eachBehind(against, againstFull, func(i int) {
			if k, ok := at(e.state.entries[i]); ok {
				sel.add(es, k)
			}
		})
	}
	type raisedAt struct {
		i int
		t time.Duration
	}
	var recent []raisedAt
	for i, en := range es {
		if t, ok := e.raised[Key{en.Node, en.Boot}]; ok && now-t <= e.periodic {
			recent = append(recent, raisedAt{i, t})
		}
	}
	slices.SortStableFunc(recent, func(a, b raisedAt) int { return cmpDur(b.t, a.t) })
	for _, r := range recent {
		sel.add(es, r.i)
	}
	// The rest, in turns.
	start, _ := at(Entry{Node: e.cursor.Node, Boot: e.cursor.Boot})
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

// sendable returns a new slice of the state's pairs that are not withheld.
func (e *Engine) sendable() []Entry {
	mems := e.membersOfState()
	out := make([]Entry, 0, len(e.state.entries)-min(e.probation, len(e.state.entries)))
	for i := 0; i < len(e.state.entries); {
		node := e.state.entries[i].Node
		j := i + 1
		for j < len(e.state.entries) && e.state.entries[j].Node == node {
			j++
		}
		if !e.withheld(mems[i]) {
			out = append(out, e.state.entries[i:j]...)
		}
		i = j
	}
	return out
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
