package core

import (
	"container/heap"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"
)

// Fetcher schedules the fetching of publications announced by the sync
// engine: a pure state machine, like Engine, with no I/O, no clock, no
// goroutine. Its events are Want (a producer's sequence numbers are
// known), Succeeded and Failed (an attempt's result) and Tick (time
// passed); each returns a FetchReady.
//
// Each producer (node, boot) is fetched in order from its lowest missing
// sequence number, with at most Window in progress, and every producer
// shares MaxOutstanding, taking turns. A failed attempt is retried after
// FullJitter; after MaxAttempts attempts, or past GiveUpAfter, the
// sequence number is given up. Wanted numbers are held as ranges, so a
// peer announcing 10^12 costs a range, not 10^12 entries.
//
// Cost: an event costs O(log n) in the attempts in progress plus
// O(Window) for the producers it touches, never a walk over every
// producer (Stats and a Want over MaxProducers walk them).
//
// A Fetcher is not safe for concurrent use: one goroutine owns it. Time is
// the same monotonic scale as the Engine's; if now goes backwards the
// largest value seen is used.
type Fetcher struct {
	cfg   FetchConfig
	rng   *rand.Rand
	now   time.Duration
	prods map[Key]*producer
	// nodes holds the producers of each node name, for supersession.
	nodes map[Name][]*producer
	// runq holds the producers that may start an attempt, in the order
	// they became able to: each starts one and goes to the back, so
	// producers take turns for MaxOutstanding. An entry may be stale (the
	// producer can no longer start); it is skipped.
	runq []*producer
	// timers holds the attempts on the network (by timeout) and the
	// retries not yet due (by retry time). A retry that is due but held
	// back by MaxOutstanding leaves it: a result frees a slot, not time.
	timers  timerHeap
	pushes  uint64 // tie-break of timers, for a deterministic order
	touched uint64 // counter for the least-recently-used idle producer
	stats   FetchStats
	// pending counts the numbers in every producer's pending ranges, as a
	// 128-bit sum (hi, lo) so that removing is exact even past 2^64;
	// ranges counts the ranges. Kept as the ranges change, so that Stats,
	// which the driver reads after every event, does not walk them.
	pendingHi, pendingLo uint64
	ranges               int
}

// producer is one (node, boot) being fetched.
type producer struct {
	key Key
	// horizon is the highest sequence number ever wanted: a Want at or
	// below it was wanted before (fetched, in progress or given up).
	horizon uint64
	// pending are the wanted numbers not started yet: sorted, disjoint,
	// all above every number in progress.
	pending []seqRange
	// inflight are the numbers in progress, ascending; at most Window, all
	// within Window of the first.
	inflight   []*attempt
	streak     int  // give-ups in a row since the last success
	stalled    bool // StallAfter give-ups in a row: one in progress at a time
	superseded bool // a newer boot of the node is wanted
	queued     bool // in Fetcher.runq
	used       uint64
}

type seqRange struct{ low, high uint64 }

// count is high − low + 1; low ≥ 1 always, so it does not overflow.
func (r seqRange) count() uint64 { return r.high - r.low + 1 }

// attempt is one sequence number in progress.
type attempt struct {
	p       *producer
	seq     uint64
	attempt int           // attempts started
	active  bool          // on the network
	ready   bool          // waiting, and its retry is due
	due     time.Duration // active: its timeout; waiting: when to retry
	first   time.Duration // start of the first attempt
	last    FetchError
	hidx    int    // index in Fetcher.timers, −1 when not in it
	order   uint64 // tie-break in Fetcher.timers
}

// NewFetcher returns an empty Fetcher. It returns an error wrapping
// ErrInvalidFetchConfig if cfg does not validate.
func NewFetcher(cfg FetchConfig, now time.Duration) (*Fetcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Fetcher{
		cfg:   cfg,
		rng:   cfg.Rand,
		now:   now,
		prods: make(map[Key]*producer),
		nodes: make(map[Name][]*producer),
	}, nil
}

// Stats returns the Fetcher's counters, in constant time.
func (f *Fetcher) Stats() FetchStats {
	s := f.stats
	s.Producers = len(f.prods)
	s.Ranges = f.ranges
	s.Pending = f.pendingLo
	if f.pendingHi != 0 {
		s.Pending = math.MaxUint64
	}
	return s
}

// addPending and subPending keep the count of pending numbers (n numbers,
// n ≥ 1; a full range of 2^64 numbers is counted as 2^64-1 + 1).
func (f *Fetcher) addPending(r seqRange) {
	var c uint64
	f.pendingLo, c = bits.Add64(f.pendingLo, r.high-r.low, 0)
	f.pendingHi += c
	f.pendingLo, c = bits.Add64(f.pendingLo, 1, 0)
	f.pendingHi += c
}

func (f *Fetcher) subPending(r seqRange) {
	var b uint64
	f.pendingLo, b = bits.Sub64(f.pendingLo, r.high-r.low, 0)
	f.pendingHi -= b
	f.pendingLo, b = bits.Sub64(f.pendingLo, 1, 0)
	f.pendingHi -= b
}

// Deadline returns when Tick should next be called (NoDeadline if only
// other events matter).
func (f *Fetcher) Deadline() time.Duration {
	if len(f.timers) == 0 {
		return NoDeadline
	}
	return f.timers[0].due
}

// InProgress returns how many sequence numbers of (node, boot) are in
// progress (outstanding or waiting for a retry); never more than Window.
func (f *Fetcher) InProgress(node Name, boot uint64) int {
	if p, ok := f.prods[Key{node, boot}]; ok {
		return len(p.inflight)
	}
	return 0
}

// Want says that sequence numbers low through high of (node, boot) exist
// and are to be fetched, as the sync engine's Updates report them. Numbers
// at or below the highest ever wanted for the pair are ignored (they were
// wanted before); numbers between that and low are not wanted (the caller
// has them). A low of 0 counts as 1; low > high wants nothing.
//
// A Want for a newer boot of a node supersedes its older boots: of what
// they have not started, SupersededBacklog numbers stay (the lowest) and the
// rest is given up. A Want for an older boot than one held is superseded
// from the start.
func (f *Fetcher) Want(now time.Duration, node Name, boot, low, high uint64) FetchReady {
	f.advance(now)
	var rd FetchReady
	low = max(low, 1)
	if low <= high {
		f.want(&rd, node, boot, low, high)
	}
	return f.schedule(rd)
}

func (f *Fetcher) want(rd *FetchReady, node Name, boot, low, high uint64) {
	k := Key{node, boot}
	p, ok := f.prods[k]
	if !ok {
		if !f.makeRoom() {
			f.giveUp(rd, k, seqRange{low, high}, 0, 0, GaveUpOverload)
			return
		}
		p = &producer{key: k}
		f.prods[k] = p
		// Supersession, both ways: older boots of the node by this one,
		// and this one by a newer boot already held.
		for _, o := range slices.Clone(f.nodes[node]) { // settle may forget o
			switch {
			case o.key.Boot < boot && !o.superseded:
				o.superseded = true
				f.trimSuperseded(rd, o)
				f.settle(o)
			case o.key.Boot > boot:
				p.superseded = true
			}
		}
		f.nodes[node] = append(f.nodes[node], p)
	}
	f.touched++
	p.used = f.touched
	if high > p.horizon {
		low = max(low, p.horizon+1)
		p.horizon = high
		if n := len(p.pending); n > 0 && p.pending[n-1].high+1 == low {
			p.pending[n-1].high = high
		} else {
			p.pending = append(p.pending, seqRange{low, high})
			f.ranges++
		}
		f.addPending(seqRange{low, high})
		if p.superseded {
			f.trimSuperseded(rd, p)
		}
	}
	f.settle(p)
}

// makeRoom makes room for one more producer, forgetting the least recently
// used idle one if needed, and reports whether there is room.
func (f *Fetcher) makeRoom() bool {
	if len(f.prods) < f.cfg.MaxProducers {
		return true
	}
	var victim *producer
	for _, p := range f.prods {
		if p.idle() && (victim == nil || p.used < victim.used) {
			victim = p
		}
	}
	if victim == nil {
		return false
	}
	f.forget(victim)
	return true
}

func (p *producer) idle() bool { return len(p.pending) == 0 && len(p.inflight) == 0 }

// forget removes an idle producer.
func (f *Fetcher) forget(p *producer) {
	delete(f.prods, p.key)
	ps := f.nodes[p.key.Node]
	if i := slices.Index(ps, p); i >= 0 {
		ps = slices.Delete(ps, i, i+1)
	}
	if len(ps) == 0 {
		delete(f.nodes, p.key.Node)
	} else {
		f.nodes[p.key.Node] = ps
	}
}

// settle puts p in the run queue if it may start something, and forgets
// it if it is superseded and has nothing left: nothing more will come from
// an old incarnation the sync engine is about to prune (a later Want for
// it starts over, and is superseded again at once).
func (f *Fetcher) settle(p *producer) {
	switch {
	case p.superseded && p.idle():
		f.forget(p)
	case !p.queued && f.canStart(p):
		p.queued = true
		f.runq = append(f.runq, p)
	}
}

// trimSuperseded gives up what a superseded producer has not started
// beyond its lowest SupersededBacklog numbers.
func (f *Fetcher) trimSuperseded(rd *FetchReady, p *producer) {
	keep := f.cfg.SupersededBacklog
	for i := range p.pending {
		r := p.pending[i]
		if n := r.count(); n <= keep {
			keep -= n
			continue
		}
		if keep > 0 {
			p.pending[i].high = r.low + keep - 1
			f.subPending(seqRange{r.low + keep, r.high})
			f.giveUp(rd, p.key, seqRange{r.low + keep, r.high}, 0, 0, GaveUpSuperseded)
			i++
		}
		f.dropPending(rd, p, i, GaveUpSuperseded)
		return
	}
}

// dropPending gives up the pending ranges of p from index i on.
func (f *Fetcher) dropPending(rd *FetchReady, p *producer, i int, why GiveUpReason) {
	for _, r := range p.pending[i:] {
		f.subPending(r)
		f.ranges--
		f.giveUp(rd, p.key, r, 0, 0, why)
	}
	p.pending = p.pending[:i]
}

// giveUp reports r of k as given up.
func (f *Fetcher) giveUp(rd *FetchReady, k Key, r seqRange, attempts int, last FetchError, why GiveUpReason) {
	f.stats.GivenUp = satAdd(f.stats.GivenUp, r.count())
	rd.GiveUps = append(rd.GiveUps, GiveUp{Node: k.Node, Boot: k.Boot, Low: r.low, High: r.high, Attempts: attempts, Last: last, Reason: why})
}

// Succeeded reports that the fetch of ft's sequence number succeeded, in
// any of its attempts (a late answer to an attempt already timed out
// counts). A result for a number not in progress is counted as Late and
// changes nothing.
func (f *Fetcher) Succeeded(now time.Duration, ft Fetch) FetchReady {
	f.advance(now)
	a, i := f.find(ft)
	if a == nil {
		f.stats.Late++
		return f.schedule(FetchReady{})
	}
	p := a.p
	if a.active {
		f.stats.Outstanding--
	} else {
		f.stats.Waiting--
	}
	f.unlink(a, i)
	f.stats.Succeeded++
	p.streak = 0
	p.stalled = false
	f.settle(p)
	return f.schedule(FetchReady{})
}

// Failed reports that attempt ft failed with kind (0 counts as
// FetchOther). Only the attempt on the network counts: the failure of an
// earlier attempt of the same number, or of one not in progress, is Late.
// The number is retried after a backoff, or given up.
func (f *Fetcher) Failed(now time.Duration, ft Fetch, kind FetchError) FetchReady {
	f.advance(now)
	var rd FetchReady
	a, _ := f.find(ft)
	if a == nil || !a.active || a.attempt != ft.Attempt {
		f.stats.Late++
		return f.schedule(rd)
	}
	if kind == 0 {
		kind = FetchOther
	}
	heap.Remove(&f.timers, a.hidx)
	f.fail(&rd, a, kind)
	return f.schedule(rd)
}

// Tick reports that time passed: attempts past AttemptTimeout fail with
// FetchTimeout, and retries that are due start.
func (f *Fetcher) Tick(now time.Duration) FetchReady {
	f.advance(now)
	var rd FetchReady
	for len(f.timers) > 0 && f.timers[0].due <= f.now {
		a := heap.Pop(&f.timers).(*attempt)
		if a.active {
			f.stats.TimedOut++
			f.fail(&rd, a, FetchTimeout)
			continue
		}
		a.ready = true
		f.settle(a.p)
	}
	return f.schedule(rd)
}

// fail ends attempt a (out of the timers) with kind: a retry is planned or
// the number is given up.
func (f *Fetcher) fail(rd *FetchReady, a *attempt, kind FetchError) {
	a.active = false
	a.last = kind
	f.stats.Outstanding--
	f.stats.Failed++
	if a.attempt < f.cfg.MaxAttempts {
		delay := FullJitter(f.cfg.BackoffBase, f.cfg.BackoffMax, a.attempt, f.rng.Float64())
		if f.cfg.GiveUpAfter == 0 || f.now+delay <= a.first+f.cfg.GiveUpAfter {
			f.stats.Waiting++
			a.due = f.now + delay
			if delay == 0 {
				a.ready = true
				f.settle(a.p)
			} else {
				f.push(a)
			}
			return
		}
		f.drop(rd, a, GaveUpDeadline)
		return
	}
	f.drop(rd, a, GaveUpAttempts)
}

// drop gives up a (waiting, out of the timers) and applies the stall rule.
func (f *Fetcher) drop(rd *FetchReady, a *attempt, why GiveUpReason) {
	p := a.p
	_, i := f.find(Fetch{Node: p.key.Node, Boot: p.key.Boot, Seq: a.seq})
	f.unlink(a, i)
	f.giveUp(rd, p.key, seqRange{a.seq, a.seq}, a.attempt, a.last, why)
	p.streak++
	if p.streak >= f.cfg.StallAfter {
		if !p.stalled {
			f.stats.Stalls++
		}
		p.stalled = true
		f.dropPending(rd, p, 0, GaveUpStalled)
	}
	f.settle(p)
}

// unlink removes a, at index i of its producer's inflight, from the
// producer and the timers.
func (f *Fetcher) unlink(a *attempt, i int) {
	if a.hidx >= 0 {
		heap.Remove(&f.timers, a.hidx)
	}
	a.p.inflight = slices.Delete(a.p.inflight, i, i+1)
}

// find returns ft's number in progress and its index, or nil.
func (f *Fetcher) find(ft Fetch) (*attempt, int) {
	p, ok := f.prods[Key{ft.Node, ft.Boot}]
	if !ok {
		return nil, 0
	}
	i, ok := slices.BinarySearchFunc(p.inflight, ft.Seq, func(a *attempt, s uint64) int { return cmpUint(a.seq, s) })
	if !ok {
		return nil, 0
	}
	return p.inflight[i], i
}

// canStart reports whether p has a due retry, or a pending number the
// window admits.
func (f *Fetcher) canStart(p *producer) bool {
	for _, a := range p.inflight {
		if a.ready {
			return true
		}
	}
	if len(p.pending) == 0 {
		return false
	}
	window := uint64(f.cfg.Window)
	if p.stalled {
		window = 1
	}
	n := uint64(len(p.inflight))
	return n < window && (n == 0 || p.pending[0].low-p.inflight[0].seq < window)
}

// schedule starts what may start, the producers of the run queue taking
// turns, one attempt each, and sets rd's deadline.
func (f *Fetcher) schedule(rd FetchReady) FetchReady {
	for f.stats.Outstanding < f.cfg.MaxOutstanding && len(f.runq) > 0 {
		p := f.runq[0]
		f.runq[0] = nil
		f.runq = f.runq[1:]
		p.queued = false
		if f.prods[p.key] != p || !f.startOne(&rd, p) {
			continue // stale: forgotten, or nothing to start any more
		}
		f.settle(p)
	}
	if len(f.runq) == 0 && cap(f.runq) > 4*f.cfg.MaxOutstanding {
		f.runq = nil // let a large backing array go
	}
	rd.Deadline = f.Deadline()
	return rd
}

// startOne starts one attempt for p if it may: its lowest due retry, else
// its lowest pending number if the window admits it.
func (f *Fetcher) startOne(rd *FetchReady, p *producer) bool {
	for _, a := range p.inflight {
		if a.ready {
			a.ready = false
			f.stats.Waiting--
			f.stats.Retried++
			f.launch(rd, a)
			return true
		}
	}
	if !f.canStart(p) {
		return false
	}
	seq := p.pending[0].low
	if p.pending[0].low == p.pending[0].high {
		p.pending = slices.Delete(p.pending, 0, 1)
		f.ranges--
	} else {
		p.pending[0].low++
	}
	f.subPending(seqRange{seq, seq})
	a := &attempt{p: p, seq: seq, first: f.now, hidx: -1}
	p.inflight = append(p.inflight, a) // pending lies above every number in progress
	f.launch(rd, a)
	return true
}

func (f *Fetcher) launch(rd *FetchReady, a *attempt) {
	a.attempt++
	a.active = true
	a.due = f.now + f.cfg.AttemptTimeout
	f.push(a)
	f.stats.Outstanding++
	f.stats.Started++
	rd.Start = append(rd.Start, Fetch{Node: a.p.key.Node, Boot: a.p.key.Boot, Seq: a.seq, Attempt: a.attempt})
}

func (f *Fetcher) push(a *attempt) {
	f.pushes++
	a.order = f.pushes
	heap.Push(&f.timers, a)
}

func (f *Fetcher) advance(now time.Duration) {
	f.now = max(f.now, now)
}

// timerHeap orders attempts by due time, then by when they were pushed.
type timerHeap []*attempt

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].order < h[j].order
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx = i
	h[j].hidx = j
}
func (h *timerHeap) Push(x any) {
	a := x.(*attempt)
	a.hidx = len(*h)
	*h = append(*h, a)
}
func (h *timerHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	a.hidx = -1
	*h = old[:len(old)-1]
	return a
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
