package link

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"time"
)

// Limits bound a face's reassembly. Every field must be positive.
type Limits struct {
	// MaxFragments is the largest FragCount accepted. A packet of
	// MaxPacketSize over the smallest MTU a face accepts (576) is 18
	// fragments; DefaultLimits allows 64.
	MaxFragments int
	// MaxPending is how many packets a face reassembles at once; a new one
	// beyond it evicts the oldest.
	MaxPending int
	// Timeout is how long a partial packet is kept after its first fragment.
	Timeout time.Duration
}

// DefaultLimits returns the limits faces use unless configured: NFD's 500 ms
// reassembly timeout, 16 packets in progress per face (ndnd keeps 16 too).
func DefaultLimits() Limits {
	return Limits{MaxFragments: 64, MaxPending: 16, Timeout: 500 * time.Millisecond}
}

// Budget is the memory all reassemblers of a forwarder share: fragments
// held anywhere count against it, and a fragment that would go over it is
// dropped. It is safe for concurrent use.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Used returns the bytes held now.
func (b *Budget) Used() int64 { return b.used.Load() }

func (b *Budget) take(n int) bool {
	if b.used.Add(int64(n)) > b.max {
		b.used.Add(-int64(n))
		return false
	}
	return true
}

func (b *Budget) give(n int) { b.used.Add(-int64(n)) }

// Reassembly errors: each drops the fragment that caused it. Timed-out and
// evicted packets are reported through Reassembler.Dropped.
var (
	ErrFragCount     = errors.New("link: fragment count over the limit")
	ErrFragMismatch  = errors.New("link: fragment does not match its packet")
	ErrFragTooLarge  = errors.New("link: reassembled packet larger than the maximum packet size")
	ErrBudget        = errors.New("link: reassembly memory budget exhausted")
	ErrFragDuplicate = errors.New("link: duplicate fragment")
)

type partialKey struct {
	from netip.AddrPort // the sender on a multi-access face; zero elsewhere
	base uint64         // Sequence - FragIndex
}

type partial struct {
	key      partialKey
	count    int
	got      int
	bytes    int
	deadline time.Time
	frags    [][]byte // grown to count lazily, never beyond MaxFragments
	first    Lp       // header fields of fragment 0, once it arrived
	hasFirst bool
}

// Reassembler puts fragmented packets back together for one face, within
// Limits and a shared Budget. A face that hears many senders (multicast)
// keys packets by sender too. It holds copies of the fragments; nothing it
// returns points into a caller's buffer. Not safe for concurrent use: a
// face's receive goroutine owns it.
type Reassembler struct {
	lim     Limits
	budget  *Budget
	pending []*partial // oldest first; at most lim.MaxPending
	dropped uint64
}

// NewReassembler returns a reassembler for one face.
func NewReassembler(lim Limits, budget *Budget) *Reassembler {
	return &Reassembler{lim: lim, budget: budget}
}

// Dropped returns the number of partial packets given up (timed out,
// evicted, or refused) so far.
func (r *Reassembler) Dropped() uint64 { return r.dropped }

// Pending returns the number of packets in progress.
func (r *Reassembler) Pending() int { return len(r.pending) }

// Add takes one fragment, lp, received from from at now. It returns the
// whole packet and its first fragment's header once every fragment is in,
// or nil and no error while some are missing.
func (r *Reassembler) Add(now time.Time, from netip.AddrPort, lp *Lp) ([]byte, *Lp, error) {
	r.expire(now)
	count := uint64(1)
	if lp.HasFragCount {
		count = lp.FragCount
	}
	if count > uint64(r.lim.MaxFragments) {
		return nil, nil, ErrFragCount
	}
	if !lp.HasSequence || lp.Sequence < lp.FragIndex {
		return nil, nil, ErrFragMismatch
	}
	key := partialKey{from: from, base: lp.Sequence - lp.FragIndex}
	p := r.find(key)
	if p == nil {
		if len(r.pending) >= r.lim.MaxPending {
			r.drop(0)
		}
		p = &partial{key: key, count: int(count), deadline: now.Add(r.lim.Timeout)}
		r.pending = append(r.pending, p)
	}
	if p.count != int(count) {
		r.remove(p)
		return nil, nil, ErrFragMismatch
	}
	i := int(lp.FragIndex)
	if len(p.frags) <= i {
		p.frags = append(p.frags, make([][]byte, i+1-len(p.frags))...)
	}
	if p.frags[i] != nil {
		return nil, nil, ErrFragDuplicate
	}
	if p.bytes+len(lp.Fragment) > MaxPacketSize {
		r.remove(p)
		return nil, nil, ErrFragTooLarge
	}
	if len(lp.Fragment) == 0 {
		r.remove(p)
		return nil, nil, ErrFragMismatch
	}
	if !r.budget.take(len(lp.Fragment)) {
		r.remove(p)
		return nil, nil, ErrBudget
	}
	p.frags[i] = append(make([]byte, 0, len(lp.Fragment)), lp.Fragment...)
	p.bytes += len(lp.Fragment)
	p.got++
	if i == 0 {
		p.first, p.hasFirst = *lp, true
		p.first.PitToken = append([]byte(nil), lp.PitToken...)
		p.first.Fragment = nil
	}
	if p.got < p.count {
		return nil, nil, nil
	}
	whole := make([]byte, 0, p.bytes)
	for _, f := range p.frags {
		whole = append(whole, f...)
	}
	first := p.first
	r.finish(p)
	return whole, &first, nil
}

func (r *Reassembler) find(k partialKey) *partial {
	for _, p := range r.pending {
		if p.key == k {
			return p
		}
	}
	return nil
}

// expire drops the packets whose time is up. They are in order of arrival,
// and so of deadline.
func (r *Reassembler) expire(now time.Time) {
	for len(r.pending) > 0 && now.After(r.pending[0].deadline) {
		r.drop(0)
	}
}

// Expire drops the packets whose time is up; a face calls it when idle so
// that memory held by a sender who went quiet is given back.
func (r *Reassembler) Expire(now time.Time) { r.expire(now) }

func (r *Reassembler) drop(i int) {
	r.dropped++
	r.release(i)
}

func (r *Reassembler) remove(p *partial) {
	for i, q := range r.pending {
		if q == p {
			r.drop(i)
			return
		}
	}
}

func (r *Reassembler) finish(p *partial) {
	for i, q := range r.pending {
		if q == p {
			r.release(i)
			return
		}
	}
}

func (r *Reassembler) release(i int) {
	r.budget.give(r.pending[i].bytes)
	copy(r.pending[i:], r.pending[i+1:])
	r.pending[len(r.pending)-1] = nil
	r.pending = r.pending[:len(r.pending)-1]
}

// Close gives back every byte held.
func (r *Reassembler) Close() {
	for len(r.pending) > 0 {
		r.release(0)
	}
}
