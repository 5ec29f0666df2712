package svs

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Defaults of TrackerConfig and HealthConfig.
const (
	// DefaultBeatInterval is how often a member beats, and how often the
	// tracker expects peers to. Five seconds makes a silent peer expire in
	// 15 s (DefaultExpireBeats) for one Sync Interest per member every
	// five seconds: 20 members send four a second.
	DefaultBeatInterval = 5 * time.Second
	// DefaultExpireBeats is how many beat intervals an alive peer may stay
	// silent before it is expired: three, so that two lost Sync Interests
	// in a row do not expire a peer.
	DefaultExpireBeats = 3
	// DefaultConfirmBeats is how many beats the tracker must hear from a
	// peer it does not know before it reports it alive. The first one may
	// be old news (a member that died long ago is still in every vector,
	// and a newcomer learns its last sequence number from them); the
	// second is a sequence number that rose while this member listened.
	DefaultConfirmBeats = 2
)

// TrackerConfig configures a Tracker. Zero fields take the defaults.
type TrackerConfig struct {
	// Interval is the beat interval the tracker expects of its peers:
	// every member of a health group should beat at the same one. 0 means
	// DefaultBeatInterval.
	Interval time.Duration
	// Expire is how many Intervals an alive peer may go without a beat
	// before it is reported expired. Larger tolerates more loss and
	// reports a dead peer later. 0 means DefaultExpireBeats.
	Expire int
	// Confirm is how many beats (sequence number increases, the first
	// sighting included) an unknown peer needs, each within Expire
	// Intervals of the last, before it is reported alive. 1 reports a peer
	// at its first sighting, including peers long dead that a newcomer
	// learns of from the others' vectors. 0 means DefaultConfirmBeats.
	Confirm int
	// MaxPeers bounds the peers the tracker holds. A new peer over it
	// takes the place of the peer expired longest ago, or of an
	// unconfirmed one, or is refused (counted in TrackerStats.Refused).
	// 0 means core.DefaultMaxMembers, the sync group's own bound.
	MaxPeers int
}

func (c TrackerConfig) withDefaults() (TrackerConfig, error) {
	switch {
	case c.Interval < 0:
		return c, fmt.Errorf("%w: negative beat Interval", ErrInvalidConfig)
	case c.Expire < 0:
		return c, fmt.Errorf("%w: negative Expire", ErrInvalidConfig)
	case c.Confirm < 0:
		return c, fmt.Errorf("%w: negative Confirm", ErrInvalidConfig)
	case c.MaxPeers < 0:
		return c, fmt.Errorf("%w: negative MaxPeers", ErrInvalidConfig)
	}
	if c.Interval == 0 {
		c.Interval = DefaultBeatInterval
	}
	if c.Expire == 0 {
		c.Expire = DefaultExpireBeats
	}
	if c.Confirm == 0 {
		c.Confirm = DefaultConfirmBeats
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = core.DefaultMaxMembers
	}
	if c.Interval > time.Duration(1<<62)/time.Duration(c.Expire) {
		return c, fmt.Errorf("%w: Interval × Expire overflows", ErrInvalidConfig)
	}
	return c, nil
}

// PeerEventKind says what happened to a peer.
type PeerEventKind uint8

const (
	// PeerAlive: a peer not known before beat Confirm times.
	PeerAlive PeerEventKind = iota + 1
	// PeerExpired: an alive peer was silent for Expire beat intervals.
	PeerExpired
	// PeerBack: an expired peer beat again.
	PeerBack
)

func (k PeerEventKind) String() string {
	switch k {
	case PeerAlive:
		return "alive"
	case PeerExpired:
		return "expired"
	case PeerBack:
		return "back"
	}
	return fmt.Sprintf("PeerEventKind(%d)", uint8(k))
}

// PeerEvent reports a change of a peer's liveness.
type PeerEvent struct {
	Kind PeerEventKind
	// Node is the peer's node name. It is shared with the tracker: treat
	// it as read-only.
	Node enc.Name
	// Boot and Seq are the peer's incarnation and sequence number at its
	// last beat.
	Boot, Seq uint64
	// At is when it happened, on the clock of the caller (Tracker) or
	// since the Health started.
	At time.Duration
	// Silent is how long the peer had been silent: since its last beat
	// for PeerExpired and PeerBack, 0 for PeerAlive.
	Silent time.Duration
}

// PeerState is where a peer stands in the tracker.
type PeerState uint8

const (
	// PeerPending: heard, not yet confirmed (fewer than Confirm beats).
	PeerPending PeerState = iota + 1
	// PeerUp: reported alive (or back) and not expired since.
	PeerUp
	// PeerDown: reported expired.
	PeerDown
)

func (s PeerState) String() string {
	switch s {
	case PeerPending:
		return "pending"
	case PeerUp:
		return "up"
	case PeerDown:
		return "down"
	}
	return fmt.Sprintf("PeerState(%d)", uint8(s))
}

// PeerStatus is one peer as the tracker holds it.
type PeerStatus struct {
	Node      enc.Name
	State     PeerState
	Boot, Seq uint64
	// LastBeat is when the tracker last heard the peer's sequence number
	// rise (its clock).
	LastBeat time.Duration
}

// TrackerStats are a tracker's counters.
type TrackerStats struct {
	// Beats counts beats heard: sequence numbers that rose.
	Beats uint64
	// Stale counts updates of an incarnation older than the peer's
	// latest (a restarted peer's old entry in someone's vector), and
	// updates that did not raise the sequence number: neither is a beat.
	Stale uint64
	// Refused counts new peers refused because the tracker held MaxPeers
	// peers, none of them replaceable.
	Refused uint64
	// Evicted counts peers forgotten to make room for new ones.
	Evicted uint64
	// Invalid counts updates whose node name did not decode.
	Invalid uint64
}

// Tracker is the pure core of health sync: it turns the beats of peers
// into PeerAlive, PeerExpired and PeerBack events. It holds no clock, no
// goroutine and no lock: every call takes the current time (any monotonic
// clock of the caller's choice, as a duration since an origin) and returns
// what happened. The caller serialises calls, and calls Tick at or after
// Deadline. Health runs one on a sync group.
type Tracker struct {
	cfg    TrackerConfig
	window time.Duration // Interval × Expire
	peers  map[core.Name]*trackedPeer
	next   time.Duration // no deadline of a peer is before it
	hasNxt bool
	st     TrackerStats
}

type trackedPeer struct {
	name      enc.Name
	state     PeerState
	boot, seq uint64
	last      time.Duration // when the last beat was heard
	beats     int           // beats heard while pending
	downAt    time.Duration // when it expired
}

// NewTracker returns a tracker with no peers, or an error wrapping
// ErrInvalidConfig.
func NewTracker(cfg TrackerConfig) (*Tracker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Tracker{
		cfg:    cfg,
		window: cfg.Interval * time.Duration(cfg.Expire),
		peers:  map[core.Name]*trackedPeer{},
	}, nil
}

// Config returns the tracker's configuration, defaults filled in.
func (t *Tracker) Config() TrackerConfig { return t.cfg }

// Beat tells the tracker that at now it learned sequence number seq of
// incarnation boot of node: an svs.Update's Node, Boot and High. A
// sequence number that rose, or a newer incarnation, is a beat; anything
// else is counted as stale and changes nothing. It returns the event the
// beat causes, if any.
func (t *Tracker) Beat(now time.Duration, node core.Name, boot, seq uint64) (PeerEvent, bool) {
	p := t.peers[node]
	if p == nil {
		name, err := wire.CoreToName(node)
		if err != nil || len(name) == 0 {
			t.st.Invalid++
			return PeerEvent{}, false
		}
		if len(t.peers) >= t.cfg.MaxPeers && !t.evict() {
			t.st.Refused++
			return PeerEvent{}, false
		}
		p = &trackedPeer{name: name, state: PeerPending, boot: boot, seq: seq, last: now, beats: 1}
		t.peers[node] = p
		t.st.Beats++
		t.earlier(now + t.window)
		if t.cfg.Confirm <= 1 {
			p.state = PeerUp
			return p.event(PeerAlive, now, 0), true
		}
		return PeerEvent{}, false
	}
	if boot < p.boot || boot == p.boot && seq <= p.seq {
		t.st.Stale++
		return PeerEvent{}, false
	}
	t.st.Beats++
	silent := now - p.last
	p.boot, p.seq, p.last = boot, seq, now
	switch p.state {
	case PeerPending:
		p.beats++
		if p.beats >= t.cfg.Confirm {
			p.state = PeerUp
			return p.event(PeerAlive, now, 0), true
		}
	case PeerDown:
		// An expired peer has no deadline: it gets one again.
		p.state = PeerUp
		t.earlier(now + t.window)
		return p.event(PeerBack, now, silent), true
	}
	return PeerEvent{}, false
}

// Tick expires the alive peers silent for Expire Intervals at now, and
// forgets the unconfirmed ones as silent (their next beat counts as a
// first sighting). It returns the PeerExpired events in the order the
// peers went silent (by name for equal times).
func (t *Tracker) Tick(now time.Duration) []PeerEvent {
	if !t.hasNxt || now < t.next {
		return nil
	}
	var evs []PeerEvent
	t.hasNxt = false
	for node, p := range t.peers {
		due := p.last + t.window
		switch {
		case p.state == PeerDown:
			continue
		case due > now:
			t.earlier(due)
			continue
		case p.state == PeerPending:
			delete(t.peers, node)
		default:
			p.state, p.downAt = PeerDown, now
			evs = append(evs, p.event(PeerExpired, now, now-p.last))
		}
	}
	slices.SortFunc(evs, func(a, b PeerEvent) int {
		return cmp.Or(cmp.Compare(a.At-a.Silent, b.At-b.Silent), a.Node.Compare(b.Node))
	})
	return evs
}

// Deadline returns the time at which Tick may have something to do, and
// false when no peer can expire (none, or all expired). It may be earlier
// than needed (a peer beat since), never later.
func (t *Tracker) Deadline() (time.Duration, bool) { return t.next, t.hasNxt }

// Peers returns the peers the tracker holds, by name.
func (t *Tracker) Peers() []PeerStatus {
	out := make([]PeerStatus, 0, len(t.peers))
	for _, p := range t.peers {
		out = append(out, PeerStatus{Node: p.name, State: p.state, Boot: p.boot, Seq: p.seq, LastBeat: p.last})
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return a.Node.Compare(b.Node) })
	return out
}

// Stats returns the tracker's counters.
func (t *Tracker) Stats() TrackerStats { return t.st }

// earlier lowers the deadline to d if d is before it.
func (t *Tracker) earlier(d time.Duration) {
	if !t.hasNxt || d < t.next {
		t.next, t.hasNxt = d, true
	}
}

// evict forgets one peer to make room: the one expired longest ago, else
// the unconfirmed one heard longest ago (it may be a name that never beats
// again). Alive peers are never evicted. It reports whether it made room.
func (t *Tracker) evict() bool {
	var victim core.Name
	var vp *trackedPeer
	for node, p := range t.peers {
		if p.state == PeerUp {
			continue
		}
		if vp == nil || evictsBefore(p, vp) || !evictsBefore(vp, p) && node < victim {
			victim, vp = node, p
		}
	}
	if vp == nil {
		return false
	}
	delete(t.peers, victim)
	t.st.Evicted++
	return true
}

// evictsBefore orders eviction candidates: expired peers first, the one
// expired longest ago first; then unconfirmed ones, the one heard longest
// ago first.
func evictsBefore(a, b *trackedPeer) bool {
	if a.state != b.state {
		return a.state == PeerDown
	}
	if a.state == PeerDown {
		return a.downAt < b.downAt
	}
	return a.last < b.last
}

func (p *trackedPeer) event(k PeerEventKind, now, silent time.Duration) PeerEvent {
	return PeerEvent{Kind: k, Node: p.name, Boot: p.boot, Seq: p.seq, At: now, Silent: silent}
}
