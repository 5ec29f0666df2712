package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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
	self     Name
	boot     uint64
	periodic time.Duration
	jitter   float64
	suppress time.Duration
	factor   float64
	maxBoot  uint64 // MaxFutureBoot in whole seconds
	rng      *rand.Rand

	state *Vector
	// lastUpdate is when each (node, boot) pair was last raised locally, by a
	// received vector or an own publication. Only entries younger than
	// SuppressionPeriod matter; older ones are pruned.
	lastUpdate map[Key]time.Duration
	pruned     time.Duration // when lastUpdate was last pruned

	phase    Phase
	merged   *Vector // MergedStateVector; nil in Steady
	deadline time.Duration
	now      time.Duration
	stats    Stats
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
		state:      cfg.InitialState.Clone(),
		lastUpdate: make(map[Key]time.Duration),
		now:        now,
	}
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

// Deadline returns when the timer next fires (see Ready.Deadline).
func (e *Engine) Deadline() time.Duration { return e.deadline }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats { return e.stats }

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
	e.state.Set(e.self, e.boot, seq)
	// An own publication is a local update too: an outdated vector that
	// crossed our Sync Interest in flight is then dropped by the
	// recently-updated rule instead of answered (docs/engine.md).
	e.lastUpdate[Key{e.self, e.boot}] = now
	e.stats.Published++
	rd := e.sendNow(now)
	rd.Persist = e.state.Clone()
	return rd
}

// Announce sends the local state vector at once and re-arms the periodic
// timer, as a Steady timer expiry would. Use it at start-up, so that a new
// or restarted member learns the group state within a round trip instead of
// a periodic interval, and when connectivity comes back.
func (e *Engine) Announce(now time.Duration) Ready {
	return e.sendNow(e.advance(now))
}

// sendNow emits the local vector and enters Steady state.
// [Spec §4.2, §4.5] Sending resets the timer to PeriodicTimeout.
func (e *Engine) sendNow(now time.Duration) Ready {
	e.enterSteady(now)
	e.stats.Sent++
	return Ready{Send: e.state.Clone(), Deadline: e.deadline}
}

// Tick tells the engine that time has passed. If now is at or after the
// deadline, the timer fires once; the next deadline is computed from now.
func (e *Engine) Tick(now time.Duration) Ready {
	now = e.advance(now)
	if now < e.deadline {
		return e.idle()
	}
	switch e.phase {
	case Suppression:
		// [Spec §4.5] Suppression timer expiry: if MergedStateVector is
		// outdated relative to the local vector, emit an up-to-date Sync
		// Interest; either way move to Steady state.
		if Outdated(e.merged, e.state) {
			return e.sendNow(now)
		}
		e.stats.Suppressed++
		e.enterSteady(now)
		return e.idle()
	default:
		// [Spec §4.5] Steady timer expiry: emit a Sync Interest with the
		// local vector and reset the timer to PeriodicTimeout.
		return e.sendNow(now)
	}
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

	// [Spec §3] The incoming vector is outdated if it lacks a (node, boot)
	// pair we hold or has a lower seq for one. Only pairs where we are
	// ahead matter here, and applying the incoming vector cannot change
	// them, so this is decided while applying.
	// [Spec §4.5] Apply newer entries to the local vector (in both states)
	// and store the current time as the last update time of each updated
	// (node, boot). Sequence numbers only go up: only pairs where v is
	// ahead are updates.
	// One merge walk over both vectors (both in wire order) does it all:
	// known pairs are raised in place, new ones inserted afterwards.
	outdated, recent := false, true
	var updates []Update
	newPairs := 0
	local := e.state.entries
	var incoming []Entry
	if v != nil {
		incoming = v.entries
	}
	behind := func(k Key) { // we are ahead of v on k
		outdated = true
		if recent {
			if t, ok := e.lastUpdate[k]; !ok || now-t > e.suppress {
				recent = false
			}
		}
	}
	i, j := 0, 0
	for i < len(local) || j < len(incoming) {
		switch c := mergeOrder(local, incoming, i, j); {
		case c < 0:
			behind(Key{local[i].Node, local[i].Boot})
			i++
		case c > 0:
			in := incoming[j]
			updates = append(updates, Update{Node: in.Node, Boot: in.Boot, Low: 1, High: in.Seq})
			newPairs++
			j++
		default:
			l, in := &local[i], incoming[j]
			switch {
			case in.Seq > l.Seq:
				updates = append(updates, Update{Node: l.Node, Boot: l.Boot, Low: l.Seq + 1, High: in.Seq})
				l.Seq = in.Seq
				e.lastUpdate[Key{l.Node, l.Boot}] = now
			case in.Seq < l.Seq:
				behind(Key{l.Node, l.Boot})
			}
			i++
			j++
		}
	}
	if newPairs > 0 {
		for _, u := range updates {
			// Known pairs hold a seq of at least 1, so only new ones
			// start at 1.
			if u.Low == 1 {
				e.state.Set(u.Node, u.Boot, u.High)
				e.lastUpdate[Key{u.Node, u.Boot}] = now
			}
		}
	}
	e.pruneLastUpdate(now)

	switch {
	case e.phase == Suppression:
		// [Spec §4.5] Suppression state, every incoming Sync Interest:
		// aggregate it into MergedStateVector. The timer is not reset.
		mergeInto(e.merged, v)
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
		e.merged = v.Clone()
		e.deadline = now + e.suppressionTimeout()
		e.stats.Suppressions++
	}

	rd := e.idle()
	if len(updates) > 0 {
		rd.Updates = updates
		rd.Persist = e.state.Clone()
	}
	return rd
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
	// [Spec §4.5] When entering Steady state, reset the timer to
	// PeriodicTimeout.
	e.deadline = now + e.periodicTimeout()
}

// pruneLastUpdate forgets update times older than the suppression period;
// they can no longer make a vector droppable.
func (e *Engine) pruneLastUpdate(now time.Duration) {
	// Entries older than the suppression period are never read (see
	// Receive), so pruning once per period keeps the map small without
	// a walk over it at every packet.
	if now-e.pruned < e.suppress {
		return
	}
	e.pruned = now
	for k, t := range e.lastUpdate {
		if now-t > e.suppress {
			delete(e.lastUpdate, k)
		}
	}
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
