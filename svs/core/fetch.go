package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Default fetch parameters (docs/engine.md, "Fetching").
const (
	// DefaultFetchWindow is how many consecutive sequence numbers of one
	// producer may be in progress at once.
	DefaultFetchWindow = 8
	// DefaultMaxOutstanding caps the fetches on the network at once, over
	// every producer.
	DefaultMaxOutstanding = 64
	// DefaultAttemptTimeout is how long one attempt may take before the
	// Fetcher counts it as timed out: the 4 s Interest lifetime of ndnd
	// and NFD.
	DefaultAttemptTimeout = 4 * time.Second
	// DefaultMaxAttempts is how many attempts a sequence number gets.
	DefaultMaxAttempts = 5
	// DefaultGiveUpAfter bounds the time from a sequence number's first
	// attempt to the start of its last one.
	DefaultGiveUpAfter = time.Minute
	// DefaultBackoffBase and DefaultBackoffMax shape the retry delays:
	// FullJitter(200 ms, 10 s, attempt, u).
	DefaultBackoffBase = 200 * time.Millisecond
	DefaultBackoffMax  = 10 * time.Second
	// DefaultStallAfter is how many sequence numbers of one producer given
	// up in a row, with no success between them, stall it.
	DefaultStallAfter = 4
	// DefaultSupersededBacklog is how many sequence numbers not yet
	// started a superseded incarnation keeps.
	DefaultSupersededBacklog = 64
	// DefaultMaxProducers bounds the (node, boot) pairs the Fetcher holds.
	DefaultMaxProducers = 4096
)

// NoDeadline is FetchReady.Deadline when nothing in the Fetcher is timed:
// no attempt is on the network and no retry is waiting.
const NoDeadline = time.Duration(math.MaxInt64)

// ErrInvalidFetchConfig is wrapped by every error of FetchConfig.Validate
// and NewFetcher.
var ErrInvalidFetchConfig = errors.New("core: invalid fetch config")

// FetchConfig configures a Fetcher. NewFetcher copies it; Rand belongs to
// the Fetcher from then on.
type FetchConfig struct {
	// Window is how many consecutive sequence numbers of one producer
	// (node, boot) may be in progress (on the network or waiting for a
	// retry) at once: a sequence number s is started only if s is less
	// than the lowest one in progress plus Window. So at most Window
	// fetches per producer are outstanding, one slow publication holds
	// back at most Window−1 later ones, and an in-order reader buffers at
	// most Window−1. Larger fetches a backlog faster from a producer that
	// answers. Default 8. Must be positive.
	Window int

	// MaxOutstanding caps the fetches on the network at once, over every
	// producer; producers take turns for it. Default 64. Must be positive.
	MaxOutstanding int

	// AttemptTimeout is how long the Fetcher waits for the result of one
	// attempt before counting it as timed out (FetchTimeout). The driver
	// sets it as the Interest lifetime and may report the timeout itself
	// earlier. Default 4 s. Must be positive.
	AttemptTimeout time.Duration

	// MaxAttempts is how many attempts a sequence number gets before it is
	// given up (GaveUpAttempts). Default 5. Must be positive.
	MaxAttempts int

	// GiveUpAfter bounds the time from a sequence number's first attempt
	// to the start of its last: a retry that would start later is not
	// made, the number is given up (GaveUpDeadline). 0 means no bound (only
	// MaxAttempts). Default 1 min. Must not be negative.
	GiveUpAfter time.Duration

	// BackoffBase and BackoffMax shape the delay before a retry:
	// FullJitter(BackoffBase, BackoffMax, attempt, u), uniform in
	// [0, min(BackoffMax, BackoffBase·2^(attempt−1))). Defaults 200 ms and
	// 10 s. BackoffBase must be positive and BackoffMax at least
	// BackoffBase.
	BackoffBase time.Duration
	BackoffMax  time.Duration

	// StallAfter is how many sequence numbers of one producer given up in
	// a row, with no success between them, stall the producer: everything
	// of it not yet started is given up at once (GaveUpStalled), and until
	// one fetch from it succeeds it gets one sequence number in progress at
	// a time, each newly announced range being given up in turn when that
	// probe fails. So a producer that never answers, or a peer announcing
	// sequence number 10^12, costs at most (Window+StallAfter−1)·MaxAttempts
	// attempts and one report for the rest, not one per sequence number.
	// Default 4. Must be positive.
	StallAfter int

	// SupersededBacklog is how many sequence numbers not yet started an
	// incarnation keeps once a newer boot of its node is wanted; the
	// higher ones are given up (GaveUpSuperseded). Those in progress always
	// finish. A member restarted with its store serves its old
	// publications, so the lowest missing ones are still fetched; one that
	// lost its store never answers, and the stall rule ends those. Default
	// 64. 0 gives up everything not yet started.
	SupersededBacklog uint64

	// MaxProducers bounds the (node, boot) pairs held. A pair with nothing
	// to fetch is forgotten first (the oldest first) when room is needed;
	// when every pair held has work, a Want for a new one is given up at
	// once (GaveUpOverload). Default 4096 (the sync engine holds at most
	// two incarnations of each of its 1024 members). Must be positive.
	MaxProducers int

	// Rand is the Fetcher's only source of randomness (retry jitter).
	// Required.
	Rand *rand.Rand
}

// DefaultFetchConfig returns a FetchConfig with the defaults above; Rand
// is left for the caller to fill in.
func DefaultFetchConfig() FetchConfig {
	return FetchConfig{
		Window:            DefaultFetchWindow,
		MaxOutstanding:    DefaultMaxOutstanding,
		AttemptTimeout:    DefaultAttemptTimeout,
		MaxAttempts:       DefaultMaxAttempts,
		GiveUpAfter:       DefaultGiveUpAfter,
		BackoffBase:       DefaultBackoffBase,
		BackoffMax:        DefaultBackoffMax,
		StallAfter:        DefaultStallAfter,
		SupersededBacklog: DefaultSupersededBacklog,
		MaxProducers:      DefaultMaxProducers,
	}
}

// Validate reports the first problem of c as an error wrapping
// ErrInvalidFetchConfig, or nil.
func (c FetchConfig) Validate() error {
	switch {
	case c.Window <= 0:
		return fmt.Errorf("%w: Window %d is not positive", ErrInvalidFetchConfig, c.Window)
	case c.MaxOutstanding <= 0:
		return fmt.Errorf("%w: MaxOutstanding %d is not positive", ErrInvalidFetchConfig, c.MaxOutstanding)
	case c.AttemptTimeout <= 0:
		return fmt.Errorf("%w: AttemptTimeout %v is not positive", ErrInvalidFetchConfig, c.AttemptTimeout)
	case c.MaxAttempts <= 0:
		return fmt.Errorf("%w: MaxAttempts %d is not positive", ErrInvalidFetchConfig, c.MaxAttempts)
	case c.GiveUpAfter < 0:
		return fmt.Errorf("%w: GiveUpAfter %v is negative", ErrInvalidFetchConfig, c.GiveUpAfter)
	case c.BackoffBase <= 0:
		return fmt.Errorf("%w: BackoffBase %v is not positive", ErrInvalidFetchConfig, c.BackoffBase)
	case c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("%w: BackoffMax %v is below BackoffBase %v", ErrInvalidFetchConfig, c.BackoffMax, c.BackoffBase)
	case c.StallAfter <= 0:
		return fmt.Errorf("%w: StallAfter %d is not positive", ErrInvalidFetchConfig, c.StallAfter)
	case c.MaxProducers <= 0:
		return fmt.Errorf("%w: MaxProducers %d is not positive", ErrInvalidFetchConfig, c.MaxProducers)
	case c.Rand == nil:
		return fmt.Errorf("%w: Rand is nil", ErrInvalidFetchConfig)
	}
	return nil
}

// FetchError is why one attempt failed, as the driver reports it (or
// FetchTimeout when the Fetcher's own AttemptTimeout expired).
type FetchError uint8

const (
	// FetchTimeout: no answer within the Interest lifetime.
	FetchTimeout FetchError = iota + 1
	// FetchNack: the network answered with a Nack (no route, congestion).
	FetchNack
	// FetchInvalid: a Data came back but failed validation, or its
	// segments did not reassemble.
	FetchInvalid
	// FetchOther: any other failure the driver met (a face down, a store
	// error).
	FetchOther
)

// String returns timeout, nack, invalid, other, or none for the zero value.
func (k FetchError) String() string {
	switch k {
	case 0:
		return "none"
	case FetchTimeout:
		return "timeout"
	case FetchNack:
		return "nack"
	case FetchInvalid:
		return "invalid"
	case FetchOther:
		return "other"
	}
	return fmt.Sprintf("FetchError(%d)", uint8(k))
}

// GiveUpReason says why sequence numbers were given up.
type GiveUpReason uint8

const (
	// GaveUpAttempts: MaxAttempts attempts failed.
	GaveUpAttempts GiveUpReason = iota + 1
	// GaveUpDeadline: the next retry would start after GiveUpAfter.
	GaveUpDeadline
	// GaveUpStalled: the producer stalled (StallAfter give-ups in a row);
	// these were never attempted.
	GaveUpStalled
	// GaveUpSuperseded: a newer boot of the node is wanted and these were
	// beyond SupersededBacklog; never attempted.
	GaveUpSuperseded
	// GaveUpOverload: MaxProducers pairs with work were held; never
	// attempted.
	GaveUpOverload
)

// String returns attempts, deadline, stalled, superseded or overload.
func (r GiveUpReason) String() string {
	switch r {
	case GaveUpAttempts:
		return "attempts"
	case GaveUpDeadline:
		return "deadline"
	case GaveUpStalled:
		return "stalled"
	case GaveUpSuperseded:
		return "superseded"
	case GaveUpOverload:
		return "overload"
	}
	return fmt.Sprintf("GiveUpReason(%d)", uint8(r))
}

// Fetch is one attempt to start: fetch publication Seq of (Node, Boot).
// Attempt counts from 1; pass the Fetch back to Succeeded or Failed.
type Fetch struct {
	Node    Name
	Boot    uint64
	Seq     uint64
	Attempt int
}

// GiveUp reports that sequence numbers Low through High (inclusive) of
// (Node, Boot) will not be fetched. Each wanted sequence number is given up
// at most once, and never after it was reported fetched. Attempts is how
// many attempts were made (0 for a range never attempted, which may be
// huge: one report, not one per number) and Last the error of the last
// one (0 if none).
type GiveUp struct {
	Node     Name
	Boot     uint64
	Low      uint64
	High     uint64
	Attempts int
	Last     FetchError
	Reason   GiveUpReason
}

// Count returns the number of sequence numbers the report covers, High −
// Low + 1 (Low is at least 1, so it does not overflow).
func (g GiveUp) Count() uint64 { return g.High - g.Low + 1 }

// FetchReady is the batch of actions one Fetcher event asks for: start the
// fetches in Start (in order), tell the application of GiveUps (in order),
// and call Tick at or after Deadline (NoDeadline: only on other events).
// The caller owns it.
type FetchReady struct {
	Start    []Fetch
	GiveUps  []GiveUp
	Deadline time.Duration
}

// FetchStats are the Fetcher's counters for metrics and tests: cumulative
// counts first, then gauges of what it holds now.
type FetchStats struct {
	// Started counts attempts started (first attempts and retries);
	// Retried the retries among them.
	Started uint64
	Retried uint64
	// Succeeded counts sequence numbers fetched.
	Succeeded uint64
	// Failed counts attempts that failed (reported by Failed, or timed out
	// by AttemptTimeout); TimedOut those the Fetcher timed out itself.
	Failed   uint64
	TimedOut uint64
	// GivenUp counts sequence numbers given up (a range counts its size,
	// saturating); Stalls counts producers that stalled.
	GivenUp uint64
	Stalls  uint64
	// Late counts results for fetches that were not outstanding: a second
	// answer, an answer after a give-up, a stale attempt's failure.
	Late uint64

	// Outstanding is how many attempts are on the network now; Waiting
	// how many sequence numbers wait for a retry; Pending how many wanted
	// ones are not started yet (saturating at the largest uint64); Ranges
	// how many disjoint ranges hold them; Producers how many (node, boot)
	// pairs are held.
	// The Fetcher's memory is proportional to Outstanding + Waiting +
	// Ranges + Producers, never to Pending.
	Outstanding int
	Waiting     int
	Pending     uint64
	Ranges      int
	Producers   int
}

// Fetcher schedules the fetching of publications announced by the sync
// engine: a pure state machine, like Engine, with no I/O, no clock, no
// goroutine. Its events are Want (a producer's sequence numbers are
// known), Succeeded and Failed (an attempt's result) and Tick (time
// passed); each returns a FetchReady.
//
// Each producer (node, boot) is fetched in order from its lowest missing
// sequence number, with at most Window in progress, and every producer
// shares MaxOutstanding. A failed attempt is retried after FullJitter;
// after MaxAttempts attempts, or past GiveUpAfter, the sequence number is
// given up. Wanted numbers are held as ranges, so a peer announcing 10^12
// costs a range, not 10^12 entries.
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
	// busy holds the producers with work (pending or in progress), in the
	// order they got it; cursor is where the next turn starts, so that
	// producers take turns for MaxOutstanding.
	busy     []*producer
	cursor   int
	touched  uint64 // counter for the least-recently-used idle producer
	deadline time.Duration
	stats    FetchStats
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
	busy       bool // in Fetcher.busy
	used       uint64
}

type seqRange struct{ low, high uint64 }

func (r seqRange) count() uint64 { return r.high - r.low + 1 }

// attempt is one sequence number in progress.
type attempt struct {
	seq     uint64
	attempt int           // attempts started
	active  bool          // on the network (else waiting for a retry)
	due     time.Duration // active: its timeout; waiting: when to retry
	first   time.Duration // start of the first attempt
	last    FetchError
}

// NewFetcher returns an empty Fetcher. It returns an error wrapping
// ErrInvalidFetchConfig if cfg does not validate.
func NewFetcher(cfg FetchConfig, now time.Duration) (*Fetcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Fetcher{
		cfg:      cfg,
		rng:      cfg.Rand,
		now:      now,
		prods:    make(map[Key]*producer),
		nodes:    make(map[Name][]*producer),
		deadline: NoDeadline,
	}, nil
}

// Stats returns the Fetcher's counters. It walks the producers with work
// to count Pending and Ranges.
func (f *Fetcher) Stats() FetchStats {
	s := f.stats
	s.Producers = len(f.prods)
	for _, p := range f.busy {
		s.Ranges += len(p.pending)
		for _, r := range p.pending {
			s.Pending = satAdd(s.Pending, r.count())
		}
	}
	return s
}

// Deadline returns when Tick should next be called (NoDeadline if only
// other events matter).
func (f *Fetcher) Deadline() time.Duration { return f.deadline }

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
	f.schedule(&rd)
	return rd
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
		for _, o := range f.nodes[node] {
			switch {
			case o.key.Boot < boot && !o.superseded:
				o.superseded = true
				f.trimSuperseded(rd, o)
			case o.key.Boot > boot:
				p.superseded = true
			}
		}
		f.nodes[node] = append(f.nodes[node], p)
	}
	f.touched++
	p.used = f.touched
	if high <= p.horizon {
		return
	}
	low = max(low, p.horizon+1)
	p.horizon = high
	if n := len(p.pending); n > 0 && p.pending[n-1].high+1 == low {
		p.pending[n-1].high = high
	} else {
		p.pending = append(p.pending, seqRange{low, high})
	}
	f.markBusy(p)
	if p.superseded {
		f.trimSuperseded(rd, p)
	}
}

// makeRoom makes room for one more producer, forgetting the least recently
// used idle one if needed, and reports whether there is room.
func (f *Fetcher) makeRoom() bool {
	if len(f.prods) < f.cfg.MaxProducers {
		return true
	}
	var victim *producer
	for _, p := range f.prods {
		if !p.busy && (victim == nil || p.used < victim.used) {
			victim = p
		}
	}
	if victim == nil {
		return false
	}
	f.forget(victim)
	return true
}

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
		f.giveUp(rd, p.key, r, 0, 0, why)
	}
	p.pending = p.pending[:i]
}

// giveUp reports r of k as given up.
func (f *Fetcher) giveUp(rd *FetchReady, k Key, r seqRange, attempts int, last FetchError, why GiveUpReason) {
	f.stats.GivenUp = satAdd(f.stats.GivenUp, r.count())
	rd.GiveUps = append(rd.GiveUps, GiveUp{Node: k.Node, Boot: k.Boot, Low: r.low, High: r.high, Attempts: attempts, Last: last, Reason: why})
}

// Succeeded reports that the fetch of f's sequence number succeeded, in
// any of its attempts (a late answer to an attempt already timed out
// counts). A result for a number not in progress is counted as Late and
// changes nothing.
func (f *Fetcher) Succeeded(now time.Duration, ft Fetch) FetchReady {
	f.advance(now)
	var rd FetchReady
	p, i := f.find(ft)
	if p == nil {
		f.stats.Late++
	} else {
		a := p.inflight[i]
		if a.active {
			f.stats.Outstanding--
		} else {
			f.stats.Waiting--
		}
		p.inflight = slices.Delete(p.inflight, i, i+1)
		f.stats.Succeeded++
		p.streak = 0
		p.stalled = false
	}
	f.schedule(&rd)
	return rd
}

// Failed reports that attempt ft failed with kind (0 counts as
// FetchOther). Only the attempt on the network counts: the failure of an
// earlier attempt of the same number, or of one not in progress, is Late.
// The number is retried after a backoff, or given up.
func (f *Fetcher) Failed(now time.Duration, ft Fetch, kind FetchError) FetchReady {
	f.advance(now)
	var rd FetchReady
	p, i := f.find(ft)
	if p == nil || !p.inflight[i].active || p.inflight[i].attempt != ft.Attempt {
		f.stats.Late++
	} else {
		if kind == 0 {
			kind = FetchOther
		}
		f.fail(&rd, p, i, kind)
	}
	f.schedule(&rd)
	return rd
}

// Tick reports that time passed: attempts past AttemptTimeout fail with
// FetchTimeout, and retries that are due start.
func (f *Fetcher) Tick(now time.Duration) FetchReady {
	f.advance(now)
	var rd FetchReady
	for j := 0; j < len(f.busy); j++ {
		p := f.busy[j]
		for i := 0; i < len(p.inflight); {
			a := p.inflight[i]
			if !a.active || a.due > f.now {
				i++
				continue
			}
			f.stats.TimedOut++
			if !f.fail(&rd, p, i, FetchTimeout) {
				continue // given up: i is now the next one
			}
			i++
		}
	}
	f.schedule(&rd)
	return rd
}

// fail ends attempt i of p with kind: a retry is planned (true) or the
// number is given up and removed (false).
func (f *Fetcher) fail(rd *FetchReady, p *producer, i int, kind FetchError) bool {
	a := p.inflight[i]
	a.active = false
	a.last = kind
	f.stats.Outstanding--
	f.stats.Failed++
	if a.attempt < f.cfg.MaxAttempts {
		delay := FullJitter(f.cfg.BackoffBase, f.cfg.BackoffMax, a.attempt, f.rng.Float64())
		if f.cfg.GiveUpAfter == 0 || f.now+delay <= a.first+f.cfg.GiveUpAfter {
			a.due = f.now + delay
			f.stats.Waiting++
			return true
		}
		f.drop(rd, p, i, GaveUpDeadline)
		return false
	}
	f.drop(rd, p, i, GaveUpAttempts)
	return false
}

// drop gives up number i in progress (not on the network) and applies the
// stall rule.
func (f *Fetcher) drop(rd *FetchReady, p *producer, i int, why GiveUpReason) {
	a := p.inflight[i]
	p.inflight = slices.Delete(p.inflight, i, i+1)
	f.giveUp(rd, p.key, seqRange{a.seq, a.seq}, a.attempt, a.last, why)
	p.streak++
	if p.streak >= f.cfg.StallAfter {
		if !p.stalled {
			f.stats.Stalls++
		}
		p.stalled = true
		f.dropPending(rd, p, 0, GaveUpStalled)
	}
}

// find returns the producer of ft and the index of ft's number in
// progress, or nil.
func (f *Fetcher) find(ft Fetch) (*producer, int) {
	p, ok := f.prods[Key{ft.Node, ft.Boot}]
	if !ok {
		return nil, 0
	}
	i, ok := slices.BinarySearchFunc(p.inflight, ft.Seq, func(a *attempt, s uint64) int { return cmpUint(a.seq, s) })
	if !ok {
		return nil, 0
	}
	return p, i
}

// schedule starts what may start, producers taking turns, one number per
// producer per turn; then it drops idle producers from busy and computes
// the deadline.
func (f *Fetcher) schedule(rd *FetchReady) {
	for progress := true; progress && f.stats.Outstanding < f.cfg.MaxOutstanding; {
		progress = false
		n := len(f.busy)
		for j := 0; j < n && f.stats.Outstanding < f.cfg.MaxOutstanding; j++ {
			p := f.busy[(f.cursor+j)%n]
			if f.startOne(rd, p) {
				progress = true
			}
		}
	}
	if n := len(f.busy); n > 0 {
		f.cursor = (f.cursor + 1) % n
	}
	f.deadline = NoDeadline
	kept := f.busy[:0]
	for _, p := range f.busy {
		if len(p.pending) == 0 && len(p.inflight) == 0 {
			p.busy = false
			if p.superseded {
				// Nothing more will come from an old incarnation that
				// the sync engine is about to prune; a later Want for it
				// starts over (and is superseded again at once).
				f.forget(p)
			}
			continue
		}
		kept = append(kept, p)
		for _, a := range p.inflight {
			// A due retry still waiting is held back by MaxOutstanding:
			// a result frees a slot, not time.
			if a.active || a.due > f.now {
				f.deadline = min(f.deadline, a.due)
			}
		}
	}
	clear(f.busy[len(kept):])
	f.busy = kept
	if f.cursor >= len(f.busy) {
		f.cursor = 0
	}
	rd.Deadline = f.deadline
}

// startOne starts one attempt for p if it may: the lowest due retry, else
// the lowest pending number if the window allows.
func (f *Fetcher) startOne(rd *FetchReady, p *producer) bool {
	for _, a := range p.inflight {
		if !a.active && a.due <= f.now {
			f.stats.Waiting--
			f.stats.Retried++
			f.launch(rd, p, a)
			return true
		}
	}
	if len(p.pending) == 0 {
		return false
	}
	seq := p.pending[0].low
	window := uint64(f.cfg.Window)
	if p.stalled {
		window = 1
	}
	if len(p.inflight) >= int(window) || (len(p.inflight) > 0 && seq-p.inflight[0].seq >= window) {
		return false
	}
	if p.pending[0].low == p.pending[0].high {
		p.pending = slices.Delete(p.pending, 0, 1)
	} else {
		p.pending[0].low++
	}
	a := &attempt{seq: seq, first: f.now}
	p.inflight = append(p.inflight, a) // pending lies above every number in progress
	f.launch(rd, p, a)
	return true
}

func (f *Fetcher) launch(rd *FetchReady, p *producer, a *attempt) {
	a.attempt++
	a.active = true
	a.due = f.now + f.cfg.AttemptTimeout
	f.stats.Outstanding++
	f.stats.Started++
	rd.Start = append(rd.Start, Fetch{Node: p.key.Node, Boot: p.key.Boot, Seq: a.seq, Attempt: a.attempt})
}

func (f *Fetcher) markBusy(p *producer) {
	if !p.busy {
		p.busy = true
		f.busy = append(f.busy, p)
	}
}

func (f *Fetcher) advance(now time.Duration) {
	f.now = max(f.now, now)
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
