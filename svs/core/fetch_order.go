package core

import (
	"errors"
	"slices"
)

// ErrTooFar is returned by InOrder.Arrived for a publication more than
// MaxBuffered numbers ahead of the next one its producer owes; it is not
// kept.
var ErrTooFar = errors.New("core: publication too far ahead of the next one in order")

// Release is one item an InOrder hands to the application, in sequence
// order per producer: a publication (Gap nil; Seq and Value) or a run of
// given-up numbers (Gap set, its Low..High the part of a GiveUp reached
// now; Seq and Value zero).
type Release[T any] struct {
	Node  Name
	Boot  uint64
	Seq   uint64
	Value T
	Gap   *GiveUp
}

// InOrderStats counts what an InOrder did.
type InOrderStats struct {
	// Released counts publications released; Gaps gap releases and
	// Skipped the numbers they covered (saturating).
	Released uint64
	Gaps     uint64
	Skipped  uint64
	// Duplicates counts publications not wanted or no longer wanted
	// (released already, given up, never wanted); Refused those beyond
	// MaxBuffered (ErrTooFar).
	Duplicates uint64
	Refused    uint64
	// Buffered is how many publications wait for an earlier one now.
	Buffered int
}

// InOrder releases each producer's publications to the application in
// sequence order, at most once each, with the numbers the Fetcher gave up
// reported as gaps in their place. It is the optional in-order layer over
// a Fetcher: feed it the same Wants, every publication fetched (Arrived)
// and every GiveUp.
//
// Fed by a Fetcher with window W, it buffers at most W−1 publications per
// producer (the Fetcher never starts a number W or more above one still in
// progress); MaxBuffered caps it whatever the feed. It keeps, per
// producer, the ranges still owed and the gaps not yet reached, never
// one entry per missing number.
//
// An InOrder is not safe for concurrent use.
type InOrder[T any] struct {
	maxBuf int
	prods  map[Key]*orderQueue[T]
	stats  InOrderStats
}

type orderQueue[T any] struct {
	horizon uint64
	owed    []seqRange // wanted, not released; sorted, disjoint
	gaps    []GiveUp   // given up, not reached; sorted by Low
	buf     map[uint64]T
}

// NewInOrder returns an empty InOrder that buffers at most maxBuffered
// publications per producer (at least 1).
func NewInOrder[T any](maxBuffered int) *InOrder[T] {
	return &InOrder[T]{maxBuf: max(maxBuffered, 1), prods: make(map[Key]*orderQueue[T])}
}

// Stats returns the counters.
func (o *InOrder[T]) Stats() InOrderStats {
	s := o.stats
	for _, q := range o.prods {
		s.Buffered += len(q.buf)
	}
	return s
}

// Next returns the next number (node, boot) owes, and false if it owes
// none.
func (o *InOrder[T]) Next(node Name, boot uint64) (uint64, bool) {
	q, ok := o.prods[Key{node, boot}]
	if !ok || len(q.owed) == 0 {
		return 0, false
	}
	return q.owed[0].low, true
}

// Want says that low through high of (node, boot) are owed, with the same
// rule as Fetcher.Want: numbers at or below the highest wanted before are
// ignored, numbers between it and low are not owed.
func (o *InOrder[T]) Want(node Name, boot, low, high uint64) {
	low = max(low, 1)
	if low > high {
		return
	}
	k := Key{node, boot}
	q, ok := o.prods[k]
	if !ok {
		q = &orderQueue[T]{buf: make(map[uint64]T)}
		o.prods[k] = q
	}
	if high <= q.horizon {
		return
	}
	low = max(low, q.horizon+1)
	q.horizon = high
	if n := len(q.owed); n > 0 && q.owed[n-1].high+1 == low {
		q.owed[n-1].high = high
	} else {
		q.owed = append(q.owed, seqRange{low, high})
	}
}

// Forget drops everything held for (node, boot), for a producer the
// application no longer follows.
func (o *InOrder[T]) Forget(node Name, boot uint64) { delete(o.prods, Key{node, boot}) }

// Arrived takes publication seq of (node, boot) and returns what can now be
// released, in order. A publication not owed, or owed but already given
// up, is counted as a duplicate and dropped.
func (o *InOrder[T]) Arrived(node Name, boot, seq uint64, v T) ([]Release[T], error) {
	k := Key{node, boot}
	q, ok := o.prods[k]
	if !ok || !contains(q.owed, seq) || inGap(q.gaps, seq) {
		o.stats.Duplicates++
		return nil, nil
	}
	if _, dup := q.buf[seq]; dup {
		o.stats.Duplicates++
		return nil, nil
	}
	if seq-q.owed[0].low >= uint64(o.maxBuf) {
		o.stats.Refused++
		return nil, ErrTooFar
	}
	q.buf[seq] = v
	return o.release(k, q), nil
}

// GaveUp takes a Fetcher's GiveUp and returns what can now be released.
// Publications buffered inside its range are dropped as duplicates (a
// Fetcher never gives up a number it reported fetched).
func (o *InOrder[T]) GaveUp(g GiveUp) []Release[T] {
	k := Key{g.Node, g.Boot}
	q, ok := o.prods[k]
	if !ok || g.Low == 0 || g.Low > g.High {
		return nil
	}
	o.dropBuffered(q, g.Low, g.High)
	i, _ := slices.BinarySearchFunc(q.gaps, g.Low, func(x GiveUp, s uint64) int { return cmpUint(x.Low, s) })
	q.gaps = slices.Insert(q.gaps, i, g)
	return o.release(k, q)
}

// release releases from the front of q's owed numbers while the next one
// has arrived or lies in a gap.
func (o *InOrder[T]) release(k Key, q *orderQueue[T]) []Release[T] {
	var out []Release[T]
	for len(q.owed) > 0 {
		next := q.owed[0].low
		if v, ok := q.buf[next]; ok {
			delete(q.buf, next)
			out = append(out, Release[T]{Node: k.Node, Boot: k.Boot, Seq: next, Value: v})
			o.stats.Released++
			q.consume(next)
			continue
		}
		for len(q.gaps) > 0 && q.gaps[0].High < next {
			q.gaps = q.gaps[1:]
		}
		if len(q.gaps) == 0 || q.gaps[0].Low > next {
			break
		}
		end := min(q.gaps[0].High, q.owed[0].high)
		o.dropBuffered(q, next, end)
		gap := q.gaps[0]
		gap.Low, gap.High = next, end
		out = append(out, Release[T]{Node: k.Node, Boot: k.Boot, Gap: &gap})
		o.stats.Gaps++
		o.stats.Skipped = satAdd(o.stats.Skipped, end-next+1)
		if end == q.gaps[0].High {
			q.gaps = q.gaps[1:]
		} else {
			q.gaps[0].Low = end + 1
		}
		q.consume(end)
	}
	if len(q.gaps) == 0 {
		q.gaps = nil // let the backing array go
	}
	return out
}

// dropBuffered drops the publications buffered in low..high, which a gap
// covers, as duplicates.
func (o *InOrder[T]) dropBuffered(q *orderQueue[T], low, high uint64) {
	for s := range q.buf {
		if low <= s && s <= high {
			delete(q.buf, s)
			o.stats.Duplicates++
		}
	}
}

// consume removes the owed numbers up to and including through, which lies
// in the first owed range.
func (q *orderQueue[T]) consume(through uint64) {
	if through >= q.owed[0].high {
		q.owed = slices.Delete(q.owed, 0, 1)
		return
	}
	q.owed[0].low = through + 1
}

// inGap reports whether s lies in one of the gaps, sorted by Low. Gaps
// from one Fetcher are disjoint, but a caller may add its own (a producer
// that says it holds none of a range) that overlap them, so this does not
// assume it; a producer has few gaps (its numbers in progress, and the
// ranges given up whole).
func inGap(gs []GiveUp, s uint64) bool {
	for _, g := range gs {
		if g.Low > s {
			return false
		}
		if s <= g.High {
			return true
		}
	}
	return false
}

// contains reports whether s lies in one of the sorted disjoint ranges rs.
func contains(rs []seqRange, s uint64) bool {
	i, _ := slices.BinarySearchFunc(rs, s, func(r seqRange, s uint64) int {
		switch {
		case r.high < s:
			return -1
		case r.low > s:
			return 1
		}
		return 0
	})
	return i < len(rs) && rs[i].low <= s && s <= rs[i].high
}
