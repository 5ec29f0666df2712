package core

// This file holds the pure vector algebra of [Spec §3]. Every function
// treats a nil *Vector as the empty vector, never modifies its arguments and
// returns values the caller owns.

// Update tells the application that sequence numbers Low through High
// (inclusive) of (Node, Boot) were published and are now known locally.
// 1 ≤ Low ≤ High always holds.
type Update struct {
	Node Name
	Boot uint64
	Low  uint64
	High uint64
}

// Merge returns a new vector holding the union of the (node, boot) pairs of a
// and b, each with the larger of its two sequence numbers.
// [Spec §3] Merge(A, B): union of names and SeqNoEntry elements, maximum seq
// per (name, boot).
//
// Merge is commutative, associative, idempotent and monotone: the result is
// never outdated relative to either argument.
func Merge(a, b *Vector) *Vector {
	out := a.Clone()
	mergeInto(out, b)
	return out
}

// mergeInto raises every pair of dst to at least its value in src and reports
// whether dst changed.
func mergeInto(dst, src *Vector) bool {
	if src == nil {
		return false
	}
	changed := false
	for _, e := range src.entries {
		if e.Seq > dst.Get(e.Node, e.Boot) {
			dst.Set(e.Node, e.Boot, e.Seq)
			changed = true
		}
	}
	return changed
}

// Outdated reports whether a is outdated relative to b: a lacks a
// (node, boot) pair present in b, or holds a strictly lower sequence number
// for one. Both can be outdated relative to each other at once.
// [Spec §3] "A is outdated relative to B if A is missing a name present in B,
// or A has any (name, boot) entry with a strictly smaller seq than B"; a
// missing pair counts as seq 0.
func Outdated(a, b *Vector) bool {
	outdated := false
	walk(a, b, func(_ Name, _ uint64, sa, sb uint64) bool {
		outdated = sa < sb
		return !outdated
	})
	return outdated
}

// Diff returns, in wire order (canonical node order, boot times ascending),
// one Update for every (node, boot) pair where to is ahead of from: the
// sequence numbers from+1 through to that a holder of from has not seen.
// Diff(from, to) is empty exactly when Outdated(from, to) is false. Low is
// never 0 and never above High.
func Diff(from, to *Vector) []Update {
	var out []Update
	walk(from, to, func(node Name, boot, have, seq uint64) bool {
		if seq > have {
			out = append(out, Update{Node: node, Boot: boot, Low: have + 1, High: seq})
		}
		return true
	})
	return out
}

// walk visits every (node, boot) pair of a or b once, in wire order, with
// its sequence number in each (0 where absent), until f returns false. Both
// vectors are already in wire order, so this is a merge: no lookups.
func walk(a, b *Vector, f func(node Name, boot, sa, sb uint64) bool) {
	var ae, be []Entry
	if a != nil {
		ae = a.entries
	}
	if b != nil {
		be = b.entries
	}
	i, j := 0, 0
	for i < len(ae) || j < len(be) {
		c := mergeOrder(ae, be, i, j)
		var ok bool
		switch {
		case c < 0:
			ok = f(ae[i].Node, ae[i].Boot, ae[i].Seq, 0)
			i++
		case c > 0:
			ok = f(be[j].Node, be[j].Boot, 0, be[j].Seq)
			j++
		default:
			ok = f(ae[i].Node, ae[i].Boot, ae[i].Seq, be[j].Seq)
			i++
			j++
		}
		if !ok {
			return
		}
	}
}

// mergeOrder is the step of a merge walk over two entry lists in wire
// order, at positions i of a and j of b (not both exhausted): negative when
// a's entry comes first (or b is exhausted), positive when b's does, 0 when
// both are the same (node, boot) pair.
func mergeOrder(a, b []Entry, i, j int) int {
	switch {
	case i == len(a):
		return 1
	case j == len(b):
		return -1
	case a[i].Node == b[j].Node:
		return cmpUint(a[i].Boot, b[j].Boot)
	}
	return CompareNames(a[i].Node, b[j].Node)
}

// Equal reports whether a and b hold exactly the same pairs and sequence
// numbers.
func Equal(a, b *Vector) bool {
	if a.Len() != b.Len() {
		return false
	}
	return !Outdated(a, b) && !Outdated(b, a)
}
