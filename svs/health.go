package svs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// DefaultHealthEvents is the default bound of Health.Events.
const DefaultHealthEvents = 64

// HealthGroup returns the health group of a sync group: /<group>/health.
// Under the group, it inherits what a node gives the group (the multicast
// strategy, the routes to the network) with no configuration of its own,
// and its Sync Interests (/<group>/health/v=3/...) never mix with the
// group's (/<group>/v=3/...): a beat is not a publication of the group.
func HealthGroup(group enc.Name) enc.Name {
	return group.Append(enc.NewGenericComponent("health"))
}

// Beater is the member of a health group that Health beats through: a
// *Sync. Each beat raises its sequence number by one (PublishSeq), which
// sends a Sync Interest at once. Health must be its only publisher. The
// raise is one step: a member that restarted within its bootstrap second
// learns its earlier incarnation's number from the group, and its next
// beat goes on above it.
type Beater interface {
	PublishSeq(ctx context.Context) (uint64, error)
}

// HealthConfig configures a Health. Zero fields take the defaults.
type HealthConfig struct {
	// Node is this member's node name (the Sync's Config.Node): updates
	// about it are not beats of a peer. Required.
	Node enc.Name
	// Interval is how often this member beats, and how often it expects
	// its peers to (see TrackerConfig.Interval). Each beat is jittered by
	// up to ±10 % so that members started together do not beat together.
	Interval time.Duration
	// Expire, Confirm and MaxPeers configure the tracker (TrackerConfig).
	Expire   int
	Confirm  int
	MaxPeers int
	// Events bounds the channel of Events; events that do not fit are
	// dropped and counted (HealthStats.Dropped), never waited for. 0 means
	// DefaultHealthEvents.
	Events int
	// Logger receives one INFO line per event ("peer alive", "peer
	// expired", "peer back") and DEBUG lines for failed beats. nil
	// discards them.
	Logger *slog.Logger
}

// HealthStats are a Health's counters.
type HealthStats struct {
	// Beats counts this member's own beats (PublishSeq calls that succeeded).
	Beats uint64
	// BeatErrors counts beats that failed (ErrFaceDown while the face is
	// away); the next beat is tried an Interval later.
	BeatErrors uint64
	// Dropped counts events that did not fit in the Events channel.
	Dropped uint64
	// Tracker are the tracker's counters.
	Tracker TrackerStats
}

// Health is health sync, the seed's SVSyncHealth: a member beats on a sync
// group of its own (HealthGroup) at a steady rate, and a Tracker turns its
// peers' beats into events: PeerAlive, PeerExpired, PeerBack.
//
//	h, _ := svs.NewHealth(svs.HealthConfig{Node: node})
//	s, _ := svs.New(e, svs.Config{Group: svs.HealthGroup(group), Node: node, OnUpdate: h.Observe})
//	go s.Run(ctx)
//	go h.Run(ctx, s)
//	for ev := range h.Events() { ... }
//
// Observe runs on the Sync's goroutine and never blocks; Run runs on a
// goroutine of its own, beats and expires peers. Events, Peers and Stats
// may be called from any goroutine. Events are delivered in the order they
// happened, on one channel that Run closes when it returns.
type Health struct {
	self   string // TLV-VALUE of Node, as core.Name
	every  time.Duration
	log    *slog.Logger
	origin time.Time

	mu     sync.Mutex // guards tr, closed and sends on events
	tr     *Tracker
	closed bool
	events chan PeerEvent
	wake   chan struct{} // Observe → Run: the deadline may be earlier

	ran                      atomic.Bool
	beats, beatErrs, dropped atomic.Uint64
}

// NewHealth checks cfg and returns a Health with no peers, or an error
// wrapping ErrInvalidConfig.
func NewHealth(cfg HealthConfig) (*Health, error) {
	if len(cfg.Node) == 0 {
		return nil, fmt.Errorf("%w: empty Node", ErrInvalidConfig)
	}
	if cfg.Events < 0 {
		return nil, fmt.Errorf("%w: negative Events", ErrInvalidConfig)
	}
	tr, err := NewTracker(TrackerConfig{Interval: cfg.Interval, Expire: cfg.Expire, Confirm: cfg.Confirm, MaxPeers: cfg.MaxPeers})
	if err != nil {
		return nil, err
	}
	n := cfg.Events
	if n == 0 {
		n = DefaultHealthEvents
	}
	h := &Health{
		self:   string(wire.NameToCore(cfg.Node)),
		every:  tr.Config().Interval,
		log:    cfg.Logger,
		origin: time.Now(),
		tr:     tr,
		events: make(chan PeerEvent, n),
		wake:   make(chan struct{}, 1),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// Events returns the channel of peer events. Run closes it when it
// returns.
func (h *Health) Events() <-chan PeerEvent { return h.events }

// Observe is the Config.OnUpdate of the health group's Sync: every Update
// about another member is a beat of it. It never blocks for long (a lock
// held only for bookkeeping); it may be called before Run, and does
// nothing once Run has returned.
func (h *Health) Observe(u Update) {
	if string(u.Node) == h.self {
		return // this member's earlier incarnations: not a peer
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	before, had := h.tr.Deadline()
	if ev, ok := h.tr.Beat(h.now(), u.Node, u.Boot, u.High); ok {
		h.deliver(ev)
	}
	if d, ok := h.tr.Deadline(); ok && (!had || d < before) {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// Run beats through b (at once, then every Interval) and expires silent
// peers until ctx ends (it returns ctx's error) or b's Sync stops (it
// returns the error, wrapping ErrClosed). A beat that fails because the
// face is down is counted and retried at the next Interval. Run closes
// Events when it returns; it may be called once (ErrRunning).
func (h *Health) Run(ctx context.Context, b Beater) error {
	if !h.ran.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer func() {
		h.mu.Lock()
		h.closed = true
		close(h.events)
		h.mu.Unlock()
	}()
	rng := newRand()
	beat := time.NewTimer(0)
	defer beat.Stop()
	expire := time.NewTimer(time.Hour)
	defer expire.Stop()
	h.arm(expire)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-beat.C:
			if _, err := b.PublishSeq(ctx); err != nil {
				switch {
				case errors.Is(err, ErrFaceDown):
					h.beatErrs.Add(1)
					h.log.Debug("health: beat not sent", "err", err)
				case ctx.Err() != nil:
					return ctx.Err()
				default:
					return fmt.Errorf("svs: health: beat: %w", err)
				}
			} else {
				h.beats.Add(1)
			}
			beat.Reset(jitter(rng, h.every))
		case <-expire.C:
			h.mu.Lock()
			for _, ev := range h.tr.Tick(h.now()) {
				h.deliver(ev)
			}
			h.mu.Unlock()
			h.arm(expire)
		case <-h.wake:
			h.arm(expire)
		}
	}
}

// arm sets t to the tracker's deadline (an hour away when there is none:
// a beat heard meanwhile wakes Run).
func (h *Health) arm(t *time.Timer) {
	h.mu.Lock()
	d, ok := h.tr.Deadline()
	h.mu.Unlock()
	wait := time.Hour
	if ok {
		wait = max(0, d-h.now())
	}
	t.Reset(wait)
}

// jitter returns d ± 10 %.
func jitter(r *rand.Rand, d time.Duration) time.Duration {
	span := d / 5
	if span <= 0 {
		return d
	}
	return d - span/2 + time.Duration(r.Int64N(int64(span)))
}

// deliver logs ev and offers it to Events, dropping it if the channel is
// full. Called with h.mu held, so events enter the channel in the order
// they happened, and never after it is closed.
func (h *Health) deliver(ev PeerEvent) {
	switch ev.Kind {
	case PeerAlive:
		h.log.Info("peer alive", "peer", ev.Node, "boot", ev.Boot)
	case PeerExpired:
		h.log.Info("peer expired", "peer", ev.Node, "silent", ev.Silent.Round(time.Millisecond))
	case PeerBack:
		h.log.Info("peer back", "peer", ev.Node, "boot", ev.Boot, "silent", ev.Silent.Round(time.Millisecond))
	}
	select {
	case h.events <- ev:
	default:
		h.dropped.Add(1)
	}
}

func (h *Health) now() time.Duration { return time.Since(h.origin) }

// Peers returns the peers the tracker holds, by name.
func (h *Health) Peers() []PeerStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tr.Peers()
}

// Stats returns the Health's counters.
func (h *Health) Stats() HealthStats {
	h.mu.Lock()
	ts := h.tr.Stats()
	h.mu.Unlock()
	return HealthStats{Beats: h.beats.Load(), BeatErrors: h.beatErrs.Load(), Dropped: h.dropped.Load(), Tracker: ts}
}
