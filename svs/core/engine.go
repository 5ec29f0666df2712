package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Errors returned by the publication events. They leave the engine unchanged.
var (
	// ErrSeqNotIncreasing is returned by SetSeq when the new sequence
	// number is not above the current one.
	ErrSeqNotIncreasing = errors.New("core: sequence number must increase")
	// ErrSeqExhausted is returned by Publish when the own sequence number is
	// already the largest uint64: a new bootstrap time is needed.
	ErrSeqExhausted = errors.New("core: sequence number space exhausted")
)

// Phase is the state of the engine's Sync Interest timer machine
// ([Spec §4.5]).
type Phase uint8

const (
	// Steady: the group looks synchronized; the timer runs the periodic
	// timeout and is pushed back by every vector that is not outdated.
	Steady Phase = iota
	// Suppression: an outdated vector was heard; the engine aggregates what
	// others send and, when the short suppression timer fires, answers only
	// if nobody covered its state in the meantime.
	Suppression
)

// String returns "steady" or "suppression".
func (p Phase) String() string {
	switch p {
	case Steady:
		return "steady"
	case Suppression:
		return "suppression"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Ready is the batch of actions that one event asks the caller to carry
// out, in this order: persist, deliver updates, send, re-arm the timer.
// Every field is owned by the caller; the engine keeps no reference to it.
type Ready struct {
	// Send is the state vector to put in a Sync Interest now, or nil.
	Send *Vector
	// Updates are new sequence-number ranges for the application, in wire
	// order (canonical node order, then boot time ascending). Deliver them
	// in order.
	Updates []Update
	// Persist is a copy of the local state vector when it changed (nil
	// otherwise). Store it (with Config.Boot) and pass it back as
	// Config.InitialState after a restart.
	Persist *Vector
	// Deadline is when the engine's timer next fires, on the caller's
	// monotonic scale: call Tick at or after it. It is always set.
	Deadline time.Duration
	// Omitted is the number of pairs of the state left out of Send because
	// the whole state is over Config.MaxVectorBytes (0 when Send is the
	// whole state). Worth a warning: the group is larger than one packet.
	Omitted int
}

// Stats are cumulative counters for metrics and tests.
type Stats struct {
	// Sent counts Sync Interests asked for (Ready.Send != nil).
	Sent uint64
	// Received counts vectors passed to Receive.
	Received uint64
	// IgnoredFutureBoot counts vectors ignored whole because a bootstrap
	// time was too far in the future.
	IgnoredFutureBoot uint64
	// Dropped counts outdated vectors dropped in Steady state because every
	// outdated pair had been updated within the suppression period.
	Dropped uint64
	// Suppressions counts entries into Suppression state.
	Suppressions uint64
	// Suppressed counts suppression timers that fired without sending,
	// because others had already covered the local state.
	Suppressed uint64
	// Published counts successful Publish and SetSeq calls.
	Published uint64

	// Pruned counts pairs removed because a newer incarnation of their node
	// superseded them and their grace was over (SupersededGrace).
	Pruned uint64
	// IgnoredSuperseded counts received pairs ignored because they belong
	// to an incarnation older than one the vector holds, and are not held.
	IgnoredSuperseded uint64
	// NewerSelf counts received pairs claiming an incarnation of this
	// member's own name newer than its Boot: another process with the same
	// name, or a forgery. Members that believe it prune this member's pairs
	// once it stops publishing for SupersededGrace; worth an error log.
	NewerSelf uint64
	// OlderSelfRaised counts received pairs that raised the sequence number
	// of an older incarnation of this member's own name over one heard
	// before (such pairs are not kept: IgnoredSuperseded counts them too):
	// a process that stopped does not publish, so after the first news of
	// it, which may be late, more means another live process with this
	// name.
	OlderSelfRaised uint64
	// Partial counts Sync Interests sent with part of the state only, and
	// Omitted the pairs left out of them in total (MaxVectorBytes).
	Partial uint64
	Omitted uint64
	// RefusedMembers counts new node names not admitted to the vector (the
	// admission bucket was empty, or the table was full of established
	// names), once per name per received vector.
	RefusedMembers uint64
	// EvictedMembers counts node names removed to make room for new ones
	// (MaxMembers).
	EvictedMembers uint64
	// Withheld counts the pairs left out of sent vectors, in total,
	// because their node is on probation (see Engine.withheld).
	Withheld uint64
	// Probation is the number of node names on probation now (a gauge,
	// not a counter).
	Probation int
}

// Engine is the SVS v3 protocol state machine of one group member. It does
// no I/O, reads no clock and starts no goroutine: the caller feeds it events
// (Publish, SetSeq, Announce, Receive, Tick) and carries out the Ready each
// event returns.
//
// Time. Every event takes now, a monotonic time.Duration since an origin the
// caller chooses and keeps for the engine's life (for example the driver's
// start); deadlines are returned on the same scale. now must not go
// backwards; if it does the engine uses the largest value it has seen.
// Receive also takes the wall clock in Unix seconds, which only the
// future-bootstrap-time rule needs.
//
// An Engine is not safe for concurrent use: one goroutine (the driver's
// loop) must own it.
type Engine struct {
	// addedSinceCompact counts nodes added since the local vector's names
	// were last compacted (compactNames).
	addedSinceCompact int

	self     Name
	boot     uint64
	periodic time.Duration
	jitter   float64
	suppress time.Duration
	factor   float64
	maxBoot  uint64 // MaxFutureBoot in whole seconds
	rng      *rand.Rand
	grace    time.Duration
	maxBytes int
	// fullBytes is the StateVector size from which a received vector may
	// be partial: 7/8 of maxBytes.
	fullBytes  int
	maxMembers int
	admitBurst float64
	admitRate  float64

	state *Vector

	// raised is when each pair last changed here: raised by a received
	// vector or an own publication, or learned; a pair absent from it never
	// did (InitialState). It serves the recently-updated rule of
	// [Spec §4.5], orders partial vectors and times the grace of superseded
	// incarnations. It holds no more pairs than the state.
	raised map[Key]time.Duration
	// members holds every node name of the state; multi the names that
	// hold more than one incarnation (candidates for pruning).
	members map[Name]*member
	multi   map[Name]struct{}
	// aligned[i] is the member of state.entries[i].Node while alignedOK:
	// walks over the whole state (Receive, partial vectors) read it
	// instead of looking every name up in members. Anything that adds or
	// removes pairs or members calls reshaped.
	aligned   []*member
	alignedOK bool
	// olderSelf holds the highest sequence number heard of each older
	// incarnation of this member's own name (never in the vector), at most
	// maxOlderSelf of them, to tell a live process with the same name from
	// late news of this member's last run.
	olderSelf     map[uint64]uint64
	admitted      uint64 // admission counter (member.order)
	unestablished int
	probation     int // names on probation (member.probation)
	// ownAnsweredAt is when a vector lacking the own pair last counted as
	// outdated while names were on probation (ownAnswered: ever).
	ownAnsweredAt time.Duration
	ownAnswered   bool
	pendingEvict  int // names admitted over MaxMembers by the current event
	tokens        float64
	refill        time.Duration // when tokens were last refilled
	// burstFrom is the admission order of the first name admitted since
	// the bucket was last full: where the current burst of new names
	// began. burstSwept: its first names are on probation too (addMember).
	burstFrom  uint64
	burstSwept bool
	cursor     Key // where the next partial vector resumes its turns

	phase Phase
	// merged is the MergedStateVector, restricted to the node names of the
	// local state (mergeKnown); nil in Steady.
	merged *Vector
	// mergedFull: a vector merged into merged may have been partial, so
	// pairs merged lacks are no evidence.
	mergedFull bool
	// ownHeard: a received vector carried the own current pair at its
	// current seq since this member last sent.
	ownHeard bool
	// ownDoubted: since this member last sent, a vector that may be
	// partial lacked its own pair (and none carried it): no proof either
	// way that the group holds it (OwnDoubted).
	ownDoubted bool
	deadline   time.Duration
	now        time.Duration
	stats      Stats
}

// New returns an engine in Steady state whose periodic timer runs from now.
// It returns an error wrapping ErrInvalidConfig if cfg does not validate.
// New does not send: call Announce to send the first Sync Interest at once
// (recommended at start-up and whenever the face comes back up).
func New(cfg Config, now time.Duration) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		self:       cfg.Self,
		boot:       cfg.Boot,
		periodic:   cfg.PeriodicTimeout,
		jitter:     cfg.PeriodicJitter,
		suppress:   cfg.SuppressionPeriod,
		factor:     cfg.SuppressionFactor,
		maxBoot:    uint64(cfg.MaxFutureBoot / time.Second),
		rng:        cfg.Rand,
		grace:      cfg.SupersededGrace,
		maxBytes:   cfg.MaxVectorBytes,
		fullBytes:  cfg.MaxVectorBytes - cfg.MaxVectorBytes/8,
		maxMembers: cfg.MaxMembers,
		admitBurst: float64(cfg.AdmitBurst),
		admitRate:  cfg.AdmitRate,
		state:      cfg.InitialState.Clone(),
		raised:     make(map[Key]time.Duration),
		members:    make(map[Name]*member),
		multi:      make(map[Name]struct{}),
		olderSelf:  make(map[uint64]uint64),
		tokens:     float64(cfg.AdmitBurst),
		refill:     now,
		now:        now,
	}
	// The persisted state was bounded by the run that wrote it; its names
	// are known members. Older incarnations get their grace from now.
	var prev Name
	first := true
	for _, en := range e.state.entries {
		if first || en.Node != prev {
			e.addMember(now, en.Node, true)
			prev, first = en.Node, false
			continue
		}
		e.multi[en.Node] = struct{}{}
	}
	e.expire(now)
	e.deadline = now + e.periodicTimeout()
	return e, nil
}

// Self returns the member's node name.
func (e *Engine) Self() Name { return e.self }

// Boot returns the member's bootstrap time.
func (e *Engine) Boot() uint64 { return e.boot }

// Seq returns the member's current sequence number under its own
// (Self, Boot); 0 before the first publication.
func (e *Engine) Seq() uint64 { return e.state.Get(e.self, e.boot) }

// State returns a copy of the local state vector.
func (e *Engine) State() *Vector { return e.state.Clone() }

// Phase returns Steady or Suppression.
func (e *Engine) Phase() Phase { return e.phase }

// OwnDoubted reports whether, since this member last sent, a vector that
// may be partial lacked its own current pair and none carried it: the
// group may not hold its pair (its last Sync Interest lost), and nothing
// else will make it send before its periodic timer. A member that has just
// announced announces again then (the driver's confirmer).
func (e *Engine) OwnDoubted() bool { return e.ownDoubted && !e.ownHeard }

// Deadline returns when the timer next fires (see Ready.Deadline).
func (e *Engine) Deadline() time.Duration { return e.deadline }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	st := e.stats
	st.Probation = e.probation
	return st
}

// Publish raises the member's own sequence number by one under
// (Self, Boot) (the first publication gets 1) and returns it.
// [Spec §4.2] On a new publication the member sends a Sync Interest at
// once and resets the timer to PeriodicTimeout; the engine enters Steady
// state. It fails with ErrSeqExhausted, changing nothing, when the
// sequence number is already the largest uint64.
func (e *Engine) Publish(now time.Duration) (uint64, Ready, error) {
	now = e.advance(now)
	cur := e.state.Get(e.self, e.boot)
	if cur == math.MaxUint64 {
		return cur, e.idle(), ErrSeqExhausted
	}
	return cur + 1, e.publish(now, cur+1), nil
}

// SetSeq raises the member's own sequence number to seq at once (for
// publications numbered by the application) and acts like Publish. It fails
// with ErrSeqNotIncreasing, changing nothing, unless seq is above Seq().
func (e *Engine) SetSeq(now time.Duration, seq uint64) (Ready, error) {
	now = e.advance(now)
	if cur := e.state.Get(e.self, e.boot); seq <= cur {
		return e.idle(), fmt.Errorf("%w: %d after %d", ErrSeqNotIncreasing, seq, cur)
	}
	return e.publish(now, seq), nil
}

func (e *Engine) publish(now time.Duration, seq uint64) Ready {
	prev := e.state.Get(e.self, e.boot)
	n := e.state.Len()
	e.state.Set(e.self, e.boot, seq)
	if e.state.Len() != n {
		e.reshaped()
	}
	// An own publication is a local update too: an outdated vector that
	// crossed our Sync Interest in flight is then dropped by the
	// recently-updated rule instead of answered (docs/engine.md).
	e.raised[Key{e.self, e.boot}] = now
	if m, ok := e.members[e.self]; !ok {
		e.addMember(now, e.self, true)
	} else if len(e.runOf(e.self)) > 1 {
		// Older incarnations of this member, superseded by this boot now if
		// this is its first publication, get their grace from now.
		if newest, _ := e.state.NewestBoot(e.self); newest == e.boot && prev == 0 {
			m.newestAt = now
		}
		e.multi[e.self] = struct{}{}
	}
	e.stats.Published++
	e.expire(now)
	rd := e.sendNow(now, nil, false)
	rd.Persist = e.state.Clone()
	return rd
}

// Announce sends the local state vector at once and re-arms the periodic
// timer, as a Steady timer expiry would. Use it at start-up, so that a new
// or restarted member learns the group state within a round trip instead of
// a periodic interval, and when connectivity comes back.
func (e *Engine) Announce(now time.Duration) Ready {
	now = e.advance(now)
	changed := e.expire(now)
	rd := e.sendNow(now, nil, false)
	if changed {
		rd.Persist = e.state.Clone()
	}
	return rd
}

// sendNow emits the local vector (or as much of it as fits, see
// sendVector, with against and againstFull as there) and enters Steady
// state.
// [Spec §4.2, §4.5] Sending resets the timer to PeriodicTimeout.
func (e *Engine) sendNow(now time.Duration, against *Vector, againstFull bool) Ready {
	send, omitted := e.sendVector(now, against, againstFull)
	e.ownHeard, e.ownDoubted = false, false
	e.enterSteady(now)
	e.stats.Sent++
	if omitted > 0 {
		e.stats.Partial++
		e.stats.Omitted += uint64(omitted)
	}
	return Ready{Send: send, Deadline: e.deadline, Omitted: omitted}
}

// Tick tells the engine that time has passed. If now is at or after the
// deadline, the timer fires once; the next deadline is computed from now.
func (e *Engine) Tick(now time.Duration) Ready {
	now = e.advance(now)
	changed := e.expire(now)
	var rd Ready
	switch {
	case now < e.deadline:
		rd = e.idle()
	case e.phase == Suppression:
		// [Spec §4.5] Suppression timer expiry: if MergedStateVector is
		// outdated relative to the local vector, emit an up-to-date Sync
		// Interest; either way move to Steady state. Outdated here is
		// judged as for a received vector (behind), so that pairs that
		// receivers would ignore, or that a partial vector merely left
		// out, do not make us answer.
		if outdated, _ := e.behind(now, e.merged, e.mergedFull); outdated {
			rd = e.sendNow(now, e.merged, e.mergedFull)
			break
		}
		e.stats.Suppressed++
		e.enterSteady(now)
		rd = e.idle()
	default:
		// [Spec §4.5] Steady timer expiry: emit a Sync Interest with the
		// local vector and reset the timer to PeriodicTimeout.
		rd = e.sendNow(now, nil, false)
	}
	if changed {
		rd.Persist = e.state.Clone()
	}
	return rd
}

// Receive processes a state vector decoded from an incoming Sync Interest.
// wallUnix is the caller's wall clock in seconds since the Unix epoch. v is
// only read, never retained; a nil v is the empty vector.
func (e *Engine) Receive(now time.Duration, wallUnix int64, v *Vector) Ready {
	now = e.advance(now)
	e.stats.Received++

	// [Spec §3] A receiver SHOULD ignore the whole vector if any
	// BootstrapTime is more than 24 h in the future. Checked for every
	// entry before anything is applied.
	if e.futureBoot(wallUnix, v) {
		e.stats.IgnoredFutureBoot++
		return e.idle()
	}
	changed := e.expire(now)

	// [Spec §4.5] Apply newer entries to the local vector (in both states)
	// and store the current time as the last update time of each updated
	// (node, boot). Sequence numbers only go up: only pairs where v is
	// ahead are updates. One walk over both vectors (both in wire order),
	// a node at a time: known pairs are raised in place, new ones and
	// pruned ones are applied afterwards.
	var updates []Update
	var adds []Entry
	var drops []Key
	// [Spec §3] The incoming vector is outdated if it lacks a (node, boot)
	// pair we hold or has a lower seq for one; runBehind says which pairs
	// do not count. Decided a node at a time in the same walk, on the
	// node's pairs as they are once the vector is applied.
	outdated, recent := false, true
	ownLacking := false // v lacks the own current pair (it may be partial)
	full := lazyFull{e: e, v: v}
	behind := func(k Key, m *member, lacking bool) {
		if e.noEvidence(k.Node, m, lacking) {
			return
		}
		if k.Node == e.self && lacking && e.probation > 0 {
			// Members that hold this one on probation leave its pair
			// out: answered at most once a periodic interval, else a
			// group formed in a burst answers itself for ever
			// (svstest's TestGroupFormedInABurstSettles).
			if e.ownAnswered && now-e.ownAnsweredAt < e.periodic {
				return
			}
			e.ownAnswered, e.ownAnsweredAt = true, now
		}
		outdated = true
		if recent {
			if t, ok := e.raised[k]; !ok || now-t > e.suppress {
				recent = false
			}
		}
	}
	local, mems := e.state.entries, e.membersOfState()
	var incoming []Entry
	if v != nil {
		incoming = v.entries
	}
	i, j := 0, 0
	for i < len(local) || j < len(incoming) {
		var node Name
		switch {
		case i == len(local):
			node = incoming[j].Node
		case j == len(incoming), CompareNames(local[i].Node, incoming[j].Node) <= 0:
			node = local[i].Node
		default:
			node = incoming[j].Node
		}
		i2, j2 := i, j
		for i2 < len(local) && local[i2].Node == node {
			i2++
		}
		for j2 < len(incoming) && incoming[j2].Node == node {
			j2++
		}
		run, in := local[i:i2], incoming[j:j2]
		if e.probation > 0 && len(run) > 0 && len(in) > 0 {
			e.reheard(now, node)
		}
		if node == e.self {
			k := slices.IndexFunc(run, func(en Entry) bool { return en.Boot == e.boot })
			h := slices.IndexFunc(in, func(en Entry) bool { return en.Boot == e.boot })
			switch {
			case k >= 0 && h < 0:
				ownLacking = true
			case k >= 0 && in[h].Seq >= run[k].Seq:
				e.ownHeard = true
			}
		}
		switch {
		case len(in) == 0:
			for _, l := range run {
				if !full.get() {
					behind(Key{node, l.Boot}, mems[i], true)
				}
			}
		case len(run) == 1 && len(in) == 1 && run[0].Boot == in[0].Boot:
			// The common case: one incarnation, known.
			switch l := &run[0]; {
			case in[0].Seq > l.Seq:
				if node == e.self && l.Boot < e.boot {
					e.stats.OlderSelfRaised++ // see receiveKnown
				}
				updates = append(updates, Update{Node: node, Boot: l.Boot, Low: l.Seq + 1, High: in[0].Seq})
				l.Seq = in[0].Seq
				e.touch(now, Key{node, l.Boot})
				if e.unestablished > 0 {
					e.establish(mems[i])
				}
			case in[0].Seq < l.Seq:
				behind(Key{node, l.Boot}, mems[i], false)
			}
		case len(run) == 0:
			adds, updates = e.receiveNew(now, node, in, adds, updates)
		default:
			n := len(drops)
			adds, drops, updates = e.receiveKnown(now, node, run, in, adds, drops, updates)
			runBehind(run, in, drops[n:], &full, func(k Key, lacking bool) { behind(k, mems[i], lacking) })
		}
		i, j = i2, j2
	}
	e.dropPairs(drops)
	for _, en := range adds {
		e.state.Set(en.Node, en.Boot, en.Seq)
	}
	if len(adds) > 0 {
		e.reshaped()
		e.compactNames(len(adds))
	}
	e.evict()

	switch {
	case e.phase == Suppression:
		// [Spec §4.5] Suppression state, every incoming Sync Interest:
		// aggregate it into MergedStateVector. The timer is not reset.
		e.mergeKnown(v)
		e.mergedFull = e.mergedFull || full.get()
	case !outdated && ownLacking && !e.ownHeard:
		// A vector that may be partial and lacks our own pair, and no
		// vector heard since we last sent carried it: perhaps its sender
		// left it out, perhaps nobody took it (admission buckets empty).
		// Not outdated, so no answer; but no proof that the group has our
		// pair either, so the periodic timer is left to run, and our next
		// periodic Sync Interest carries it (docs/engine.md, "Vectors over
		// the bound"). A member that has just announced asks OwnDoubted
		// and announces again sooner.
		e.ownDoubted = true
	case !outdated:
		// [Spec §4.5] Steady state, incoming vector up-to-date or newer:
		// reset the timer to PeriodicTimeout and do not send. This is what
		// suppresses periodic Sync Interests group-wide.
		e.enterSteady(now)
	case recent:
		// [Spec §4.5] Steady state, incoming vector outdated, but every
		// (node, boot) it is behind on was updated here within the last
		// SuppressionPeriod: drop it. It most likely crossed the update in
		// flight. The timer is left alone, as a dropped Interest was never
		// heard.
		e.stats.Dropped++
	default:
		// [Spec §4.5] Steady state, incoming vector outdated: move to
		// Suppression state with MergedStateVector := the incoming vector
		// and the timer reset to SuppressionTimeout.
		e.phase = Suppression
		e.merged = &Vector{}
		e.mergeKnown(v)
		e.mergedFull = full.get()
		e.deadline = now + e.suppressionTimeout()
		e.stats.Suppressions++
	}

	rd := e.idle()
	if len(updates) > 0 {
		rd.Updates = updates
	}
	if len(updates) > 0 || changed || len(drops) > 0 {
		rd.Persist = e.state.Clone()
	}
	return rd
}

// touch records that pair k changed now.
func (e *Engine) touch(now time.Duration, k Key) { e.raised[k] = now }

// receiveNew handles the pairs in of a node name the vector does not hold:
// if the name is admitted, its newest incarnation and the one before (whose
// grace starts now) are added and reported; older ones are ignored.
func (e *Engine) receiveNew(now time.Duration, node Name, in []Entry, adds []Entry, updates []Update) ([]Entry, []Update) {
	if !e.admit(now, node) {
		return adds, updates
	}
	e.addMember(now, node, false)
	// The newest and the one before it; and the own pair, always.
	first := max(len(in)-2, 0)
	kept := 0
	for k, en := range in {
		if node == e.self && en.Boot > e.boot {
			e.stats.NewerSelf++
		}
		if k < first && !(node == e.self && en.Boot == e.boot) {
			e.stats.IgnoredSuperseded++
			continue
		}
		adds = append(adds, en)
		updates = append(updates, Update{Node: node, Boot: en.Boot, Low: 1, High: en.Seq})
		e.touch(now, Key{node, en.Boot})
		kept++
	}
	if kept > 1 {
		e.multi[node] = struct{}{}
	}
	return adds, updates
}

// receiveKnown handles the pairs in of a node whose incarnations run the
// vector holds (both in wire order): held pairs are raised; a boot newer
// than every held one is a new incarnation and is added; a boot older than
// the newest held one that is not held is superseded and ignored. Then the
// node's incarnations are pruned to what Retain keeps.
func (e *Engine) receiveKnown(now time.Duration, node Name, run, in []Entry, adds []Entry, drops []Key, updates []Update) ([]Entry, []Key, []Update) {
	m := e.members[node]
	newest := run[len(run)-1].Boot
	var fresh []Entry // new incarnations, ascending
	a := 0
	for _, en := range in {
		for a < len(run) && run[a].Boot < en.Boot {
			a++
		}
		switch {
		case a < len(run) && run[a].Boot == en.Boot:
			if l := &run[a]; en.Seq > l.Seq {
				if node == e.self && l.Boot < e.boot {
					// Held because this member had not published
					// when it first heard of it.
					e.stats.OlderSelfRaised++
				}
				updates = append(updates, Update{Node: node, Boot: l.Boot, Low: l.Seq + 1, High: en.Seq})
				l.Seq = en.Seq
				e.touch(now, Key{node, l.Boot})
				e.establish(m)
			}
		case en.Boot > newest:
			fresh = append(fresh, en)
			if node == e.self && en.Boot > e.boot {
				e.stats.NewerSelf++
			}
		case node == e.self && en.Boot == e.boot:
			// The own current pair, which this member does not hold
			// (it lost its state) below a newer claim of its name: it is
			// pinned, and [Spec §3] learning it keeps the member from
			// reusing a sequence number the group has seen.
			adds = append(adds, en)
			updates = append(updates, Update{Node: node, Boot: en.Boot, Low: 1, High: en.Seq})
			e.touch(now, Key{node, en.Boot})
			e.multi[node] = struct{}{}
		default:
			e.stats.IgnoredSuperseded++
			if node == e.self && en.Boot < e.boot {
				e.olderSelfHeard(en)
			}
		}
	}
	if len(fresh) == 0 {
		if len(run) > 1 {
			var kept int
			drops, kept = e.applyRetain(now, node, run, drops)
			if kept < 2 {
				delete(e.multi, node)
			}
		}
		return adds, drops, updates
	}
	// A new incarnation: what is kept is decided over the held ones and
	// the new ones together, before anything new is reported.
	m.newestAt = now
	e.establish(m)
	all := make([]Entry, 0, len(run)+len(fresh))
	all = append(all, run...)
	all = append(all, fresh...)
	for _, en := range fresh {
		e.raised[Key{node, en.Boot}] = now
	}
	var dropped []Key
	dropped, kept := e.applyRetain(now, node, all, nil)
	gone := func(b uint64) bool {
		for _, k := range dropped {
			if k.Boot == b {
				return true
			}
		}
		return false
	}
	for _, en := range fresh {
		k := Key{node, en.Boot}
		if gone(en.Boot) {
			delete(e.raised, k)
			e.stats.IgnoredSuperseded++
			continue
		}
		adds = append(adds, en)
		updates = append(updates, Update{Node: node, Boot: en.Boot, Low: 1, High: en.Seq})
	}
	for _, en := range run {
		if gone(en.Boot) {
			drops = append(drops, Key{node, en.Boot})
		}
	}
	if kept > 1 {
		e.multi[node] = struct{}{}
	} else {
		delete(e.multi, node)
	}
	return adds, drops, updates
}

// mergeKnown merges v into MergedStateVector, keeping only the pairs of
// node names the local state holds: merged only serves to tell whether the
// local state has something the group lacks (behind), and names we do not
// hold cannot tell that. So merged never outgrows the local state, however
// many names a flood of vectors carries during one suppression period. It
// walks both vectors once.
func (e *Engine) mergeKnown(v *Vector) {
	if v == nil || len(v.entries) == 0 {
		return
	}
	a, b := e.merged.entries, v.entries
	out := make([]Entry, 0, len(a)+min(len(b), len(e.state.entries)))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch c := mergeOrder(a, b, i, j); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			if _, ok := e.members[b[j].Node]; ok {
				out = append(out, b[j])
			}
			j++
		default:
			en := a[i]
			en.Seq = max(en.Seq, b[j].Seq)
			out = append(out, en)
			i++
			j++
		}
	}
	e.merged.entries = out
	e.merged.index = nil
}

// mayBePartial reports whether v is large enough (7/8 of MaxVectorBytes)
// that its sender may have left pairs out of it.
func (e *Engine) mayBePartial(v *Vector) bool {
	if v == nil {
		return false
	}
	return VectorSize(v) >= e.fullBytes
}

// lazyFull is mayBePartial(v), computed once and only if asked: most
// received vectors lack no pair, and then their size is not needed.
type lazyFull struct {
	e          *Engine
	v          *Vector
	done, full bool
}

func (l *lazyFull) get() bool {
	if !l.done {
		l.full, l.done = l.e.mayBePartial(l.v), true
	}
	return l.full
}

// runBehind calls behind for every pair of one node that a received vector
// is behind on, given the node's local pairs run (already raised), those of
// them being dropped, and the node's received pairs in (both in wire
// order): see eachBehind for the rule.
func runBehind(run, in []Entry, dropped []Key, full *lazyFull, behind func(k Key, lacking bool)) {
	for _, l := range run {
		if slices.ContainsFunc(dropped, func(k Key) bool { return k.Boot == l.Boot }) {
			continue
		}
		var seq uint64
		for _, en := range in {
			if en.Boot == l.Boot {
				seq = en.Seq
				break
			}
		}
		switch {
		case seq >= l.Seq:
			continue
		case seq == 0 && ((len(in) > 0 && in[len(in)-1].Boot > l.Boot) || full.get()):
			continue
		}
		behind(Key{l.Node, l.Boot}, seq == 0)
	}
}

// behind reports whether v is outdated relative to the local state, and if
// so whether every pair it is behind on was updated here within the
// suppression period.
func (e *Engine) behind(now time.Duration, v *Vector, full bool) (outdated, recent bool) {
	recent = true
	e.eachBehind(v, full, func(i int) {
		outdated = true
		if recent {
			k := Key{e.state.entries[i].Node, e.state.entries[i].Boot}
			if t, ok := e.raised[k]; !ok || now-t > e.suppress {
				recent = false
			}
		}
	})
	return outdated, recent
}

// eachBehind calls f with the index of every local pair that v is behind
// on: v holds it with a lower seq, or lacks it. A lacking pair does not
// count when v may be partial (full), nor when v holds a newer boot of the
// same node: its sender then ignores the pair as superseded, so sending it
// would not help.
// [Spec §3] "A is outdated relative to B if A is missing a name present in
// B, or A has any (name, boot) entry with a strictly smaller seq than B";
// the two exceptions are this engine's (docs/engine.md).
func (e *Engine) eachBehind(v *Vector, full bool, f func(i int)) {
	local, mems := e.state.entries, e.membersOfState()
	var incoming []Entry
	if v != nil {
		incoming = v.entries
	}
	j := 0
	for i := 0; i < len(local); {
		node := local[i].Node
		for j < len(incoming) && CompareNames(incoming[j].Node, node) < 0 {
			j++
		}
		j2 := j
		for j2 < len(incoming) && incoming[j2].Node == node {
			j2++
		}
		in := incoming[j:j2]
		for ; i < len(local) && local[i].Node == node; i++ {
			l := local[i]
			var seq uint64
			for _, en := range in {
				if en.Boot == l.Boot {
					seq = en.Seq
					break
				}
			}
			switch {
			case seq >= l.Seq:
				continue
			case seq == 0 && (full || (len(in) > 0 && in[len(in)-1].Boot > l.Boot)):
				continue
			case e.noEvidence(node, mems[i], seq == 0):
				continue
			}
			f(i)
		}
		j = j2
	}
}

// futureBoot reports whether v holds a bootstrap time more than
// MaxFutureBoot after wallUnix.
func (e *Engine) futureBoot(wallUnix int64, v *Vector) bool {
	if v == nil {
		return false
	}
	limit := e.maxBoot
	if wallUnix > 0 {
		if uint64(wallUnix) > math.MaxUint64-limit {
			return false // nothing is beyond the end of time
		}
		limit += uint64(wallUnix)
	}
	for _, en := range v.entries {
		if en.Boot > limit {
			return true
		}
	}
	return false
}

func (e *Engine) enterSteady(now time.Duration) {
	e.phase = Steady
	e.merged = nil
	e.mergedFull = false
	// [Spec §4.5] When entering Steady state, reset the timer to
	// PeriodicTimeout.
	e.deadline = now + e.periodicTimeout()
}

// periodicTimeout draws the next periodic timeout.
// [Spec §4.1] PeriodicTimeout ±PeriodicJitter, uniform.
// It is at least 1 ns, so that a Steady expiry always moves the deadline
// past now, however small the configured timeout.
func (e *Engine) periodicTimeout() time.Duration {
	return max(Jitter(e.periodic, e.jitter, e.rng.Float64()), 1)
}

// suppressionTimeout draws the next suppression timeout.
// [Spec §4.1] SuppressionTimeout with v uniform in [0, SuppressionPeriod).
func (e *Engine) suppressionTimeout() time.Duration {
	v := time.Duration(e.rng.Int64N(int64(e.suppress)))
	return SuppressionTimeout(e.suppress, e.factor, v)
}

// advance returns now, or the latest time seen if now went backwards.
func (e *Engine) advance(now time.Duration) time.Duration {
	if now < e.now {
		return e.now
	}
	e.now = now
	return now
}

// idle is a Ready with nothing to do but wait for the deadline.
func (e *Engine) idle() Ready { return Ready{Deadline: e.deadline} }

// maxOlderSelf bounds Engine.olderSelf: a flood of forged old boots of this
// member's name costs a few entries.
const maxOlderSelf = 8

// olderSelfHeard records a pair of an older incarnation of this member's own
// name, and counts it in OlderSelfRaised when it raises a number heard
// before: a process that stopped publishes nothing more.
func (e *Engine) olderSelfHeard(en Entry) {
	prev, ok := e.olderSelf[en.Boot]
	switch {
	case ok && en.Seq > prev:
		e.stats.OlderSelfRaised++
		e.olderSelf[en.Boot] = en.Seq
	case !ok:
		if len(e.olderSelf) >= maxOlderSelf {
			oldest := en.Boot
			for b := range e.olderSelf {
				oldest = min(oldest, b)
			}
			if oldest == en.Boot {
				return
			}
			delete(e.olderSelf, oldest)
		}
		e.olderSelf[en.Boot] = en.Seq
	}
}

// compactNames gathers the local vector's node names into one string
// after new nodes came (Vector.CompactNames), at most once per quarter of
// the vector's size in added nodes once it holds over 256 entries, so
// that a flood of new names does not copy them all at every packet.
func (e *Engine) compactNames(added int) {
	e.addedSinceCompact += added
	if n := e.state.Len(); n > 256 && e.addedSinceCompact < n/4 {
		return
	}
	e.addedSinceCompact = 0
	e.state.CompactNames()
}
