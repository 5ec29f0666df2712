// Package svstest is a deterministic simulation harness for the SVS engine
// (package core): a group of members, a simulated clock and a simulated
// multicast network with per-link loss, delay and jitter, partitions and
// heals. One seeded *rand.Rand drives the network and seeds every engine, so
// a failing seed replays exactly.
//
// A Sim is not safe for concurrent use. It runs no goroutines and never
// sleeps: Run and Step jump the clock from one event to the next (an engine
// deadline or a delivery).
package svstest

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// DefaultEpoch is the wall clock (Unix seconds) at simulated time 0.
const DefaultEpoch = 1_700_000_000

// Errors returned by Sim methods.
var (
	ErrUnknownMember   = errors.New("svstest: unknown member")
	ErrDuplicateMember = errors.New("svstest: member already exists")
	ErrBadArgument     = errors.New("svstest: bad argument")
	// ErrInvariant is wrapped by Err when an engine broke an invariant the
	// harness checks after every event.
	ErrInvariant = errors.New("svstest: invariant violated")
)

// Config configures a Sim. The zero value is usable: seed 0, epoch
// DefaultEpoch, 10 ms delay, 5 ms jitter, default engine timers, no trace.
type Config struct {
	// Seed seeds the one random source of the run.
	Seed uint64
	// Epoch is the wall clock in Unix seconds at simulated time 0; 0 means
	// DefaultEpoch. Members take their bootstrap time from it.
	Epoch int64
	// Delay is the fixed one-way delay of every delivery; Jitter adds a
	// uniform [0, Jitter) to it. Negative values count as 0; both zero
	// means the defaults (10 ms and 5 ms). Use SetDelay for other values.
	Delay, Jitter time.Duration
	// Engine returns the base engine configuration of a member; nil means
	// core.DefaultConfig(). Self, Boot, Rand and InitialState are always
	// set by the harness.
	Engine func(name string) core.Config
	// Trace receives one line per network and protocol event, or nil.
	Trace io.Writer
}

// Sim is a simulated SVS group. Create it with New.
type Sim struct {
	cfg     Config
	rng     *rand.Rand
	now     time.Duration
	delay   time.Duration
	jitter  time.Duration
	members []*member
	byName  map[string]*member

	queue    deliveries
	enqueued uint64

	loss     float64
	linkLoss map[[2]string]float64
	group    map[string]int // partition group of each member; nil when healed

	sent   int
	maxLen int
	err    error
}

type member struct {
	name      string
	node      core.Name
	skew      time.Duration
	eng       *core.Engine
	persisted *core.Vector
	prev      *core.Vector // state after the last event, for invariant checks
	evicted   uint64       // the engine's EvictedMembers after the last event
	sent      int
}

type delivery struct {
	at    time.Duration
	order uint64
	from  string
	to    *member
	v     *core.Vector
}

type deliveries []*delivery

func (d deliveries) Len() int { return len(d) }
func (d deliveries) Less(i, j int) bool {
	if d[i].at != d[j].at {
		return d[i].at < d[j].at
	}
	return d[i].order < d[j].order
}
func (d deliveries) Swap(i, j int) { d[i], d[j] = d[j], d[i] }
func (d *deliveries) Push(x any)   { *d = append(*d, x.(*delivery)) }
func (d *deliveries) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}

// New returns an empty simulation at time 0.
func New(cfg Config) *Sim {
	if cfg.Epoch == 0 {
		cfg.Epoch = DefaultEpoch
	}
	s := &Sim{
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5357_5354)),
		byName:   make(map[string]*member),
		linkLoss: make(map[[2]string]float64),
	}
	if cfg.Delay == 0 && cfg.Jitter == 0 {
		s.delay, s.jitter = 10*time.Millisecond, 5*time.Millisecond
	} else {
		s.delay, s.jitter = max(cfg.Delay, 0), max(cfg.Jitter, 0)
	}
	return s
}

// MemberOptions tunes AddMember.
type MemberOptions struct {
	// Announce makes the new member send its (empty) state vector at once,
	// so that the group answers with what it knows.
	Announce bool
	// Skew offsets the member's wall clock (and so its bootstrap time).
	Skew time.Duration
}

// Add adds a member at the current time without announcing it.
func (s *Sim) Add(name string) error { return s.AddMember(name, MemberOptions{}) }

// Join adds a member at the current time and announces it.
func (s *Sim) Join(name string) error { return s.AddMember(name, MemberOptions{Announce: true}) }

// AddMember adds a member named name (its node name is /name) with a
// bootstrap time taken from its wall clock.
func (s *Sim) AddMember(name string, o MemberOptions) error {
	if name == "" || strings.ContainsAny(name, " \t|*/") {
		return fmt.Errorf("%w: member name %q", ErrBadArgument, name)
	}
	if _, ok := s.byName[name]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicateMember, name)
	}
	m := &member{name: name, node: NodeName(name), skew: o.Skew}
	if err := s.start(m, s.wall(m), nil); err != nil {
		return err
	}
	s.members = append(s.members, m)
	s.byName[name] = m
	s.tracef("%s joins boot=%d", name, m.eng.Boot())
	if o.Announce {
		s.handle(m, "announce", m.eng.Announce(s.now))
	}
	return nil
}

// start (re)creates m's engine.
func (s *Sim) start(m *member, boot int64, state *core.Vector) error {
	cfg := core.DefaultConfig()
	if s.cfg.Engine != nil {
		cfg = s.cfg.Engine(m.name)
	}
	cfg.Self = m.node
	if boot < 1 {
		return fmt.Errorf("%w: %s would boot at %d", ErrBadArgument, m.name, boot)
	}
	cfg.Boot = uint64(boot)
	cfg.Rand = rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64()))
	cfg.InitialState = state
	eng, err := core.New(cfg, s.now)
	if err != nil {
		return fmt.Errorf("svstest: member %s: %w", m.name, err)
	}
	m.eng = eng
	m.prev = eng.State()
	return nil
}

// RestartOptions tunes Restart.
type RestartOptions struct {
	// NewBoot takes a new bootstrap time (the current wall clock, or the old
	// one plus one second if that is not later) as a node that lost it must.
	// Otherwise the member reuses its bootstrap time, as the spec advises.
	NewBoot bool
	// Wipe loses the persisted state vector too.
	Wipe bool
}

// Restart replaces a member's engine as after a crash: the new engine starts
// from the last persisted state (unless Wipe) and announces itself.
// Deliveries in flight reach the new engine.
func (s *Sim) Restart(name string, o RestartOptions) error {
	m, err := s.member(name)
	if err != nil {
		return err
	}
	boot := int64(m.eng.Boot())
	if o.NewBoot {
		boot = max(s.wall(m), boot+1)
	}
	var state *core.Vector
	if !o.Wipe {
		state = m.persisted
	}
	if err := s.start(m, boot, state); err != nil {
		return err
	}
	if o.Wipe {
		m.persisted = nil
	}
	s.tracef("%s restarts boot=%d state=%s", name, boot, Format(state))
	s.handle(m, "announce", m.eng.Announce(s.now))
	return nil
}

// Publish makes a member publish once and returns its new sequence number.
func (s *Sim) Publish(name string) (uint64, error) {
	m, err := s.member(name)
	if err != nil {
		return 0, err
	}
	seq, rd, err := m.eng.Publish(s.now)
	if err != nil {
		return 0, fmt.Errorf("svstest: %s: %w", name, err)
	}
	s.tracef("%s publish %d", name, seq)
	s.handle(m, "publish", rd)
	return seq, nil
}

// Inject delivers v to every member (subject to loss and delay, as a
// member's Sync Interest would be) as if a sender outside the group had
// sent it: an attacker, or a peer the harness does not run. It counts as
// sent by no member.
func (s *Sim) Inject(v *core.Vector) {
	v = v.Clone()
	s.tracef("inject %d pairs", v.Len())
	for _, to := range s.members {
		if s.rng.Float64() < s.lossProb("*", to.name) {
			continue
		}
		at := s.now + s.delay
		if s.jitter > 0 {
			at += time.Duration(s.rng.Int64N(int64(s.jitter)))
		}
		s.enqueued++
		heap.Push(&s.queue, &delivery{at: at, order: s.enqueued, from: "*", to: to, v: v})
	}
}

// MaxLen returns the largest number of pairs any member's state vector has
// held after any event so far.
func (s *Sim) MaxLen() int { return s.maxLen }

// SetDelay sets the one-way delay and jitter of future deliveries.
func (s *Sim) SetDelay(delay, jitter time.Duration) {
	s.delay, s.jitter = max(delay, 0), max(jitter, 0)
}

// SetLoss sets the probability that any one delivery is lost, on top of
// per-link loss.
func (s *Sim) SetLoss(p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: loss %v", ErrBadArgument, p)
	}
	s.loss = p
	return nil
}

// SetLinkLoss sets the loss probability of deliveries from one member to
// another ("*" matches every member) until Heal.
func (s *Sim) SetLinkLoss(from, to string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: loss %v", ErrBadArgument, p)
	}
	for _, n := range []string{from, to} {
		if n != "*" {
			if _, err := s.member(n); err != nil {
				return err
			}
		}
	}
	s.linkLoss[[2]string{from, to}] = p
	return nil
}

// Partition splits the members into groups that cannot reach each other.
// Members not listed form one more group together. It replaces any earlier
// partition.
func (s *Sim) Partition(groups ...[]string) error {
	g := make(map[string]int)
	for i, names := range groups {
		for _, n := range names {
			if _, err := s.member(n); err != nil {
				return err
			}
			if _, dup := g[n]; dup {
				return fmt.Errorf("%w: %s in two groups", ErrBadArgument, n)
			}
			g[n] = i + 1
		}
	}
	s.group = g
	return nil
}

// Heal removes partitions and per-link loss. The global loss set by SetLoss
// stays.
func (s *Sim) Heal() {
	s.group = nil
	clear(s.linkLoss)
}

// Now returns the simulated time.
func (s *Sim) Now() time.Duration { return s.now }

// Sent returns the number of Sync Interests sent by all members.
func (s *Sim) Sent() int { return s.sent }

// SentBy returns the number of Sync Interests a member sent (0 if unknown).
func (s *Sim) SentBy(name string) int {
	if m, ok := s.byName[name]; ok {
		return m.sent
	}
	return 0
}

// Members returns the member names in the order they joined.
func (s *Sim) Members() []string {
	out := make([]string, len(s.members))
	for i, m := range s.members {
		out[i] = m.name
	}
	return out
}

// State returns a copy of a member's state vector (nil if unknown).
func (s *Sim) State(name string) *core.Vector {
	if m, ok := s.byName[name]; ok {
		return m.eng.State()
	}
	return nil
}

// Engine returns a member's engine for inspection (Phase, Stats, Deadline),
// or nil. Driving it directly bypasses the harness.
func (s *Sim) Engine(name string) *core.Engine {
	if m, ok := s.byName[name]; ok {
		return m.eng
	}
	return nil
}

// Err returns the first invariant violation seen, or nil.
func (s *Sim) Err() error { return s.err }

// Converged reports whether every member holds the same state vector, up
// to superseded incarnations: a pair one member still keeps in its grace
// and another has pruned (or never took) does not count, as long as both
// hold a newer boot of its node.
func (s *Sim) Converged() bool {
	// prev is each member's state after its last event, so this needs no
	// copies.
	for _, m := range s.members[min(1, len(s.members)):] {
		if !Same(m.prev, s.members[0].prev) {
			return false
		}
	}
	return true
}

// Same reports whether a and b agree on every pair, except pairs that one
// lacks while holding a newer boot of the same node (superseded
// incarnations, which members prune at different times).
func Same(a, b *core.Vector) bool {
	return covers(a, b) && covers(b, a)
}

// covers reports whether every pair of b is in a with the same seq, or
// superseded in a.
func covers(a, b *core.Vector) bool {
	ok := true
	pairs(b, a, func(en core.Entry, seq uint64, newer, _ bool) bool {
		ok = seq == en.Seq || (seq == 0 && newer)
		return ok
	})
	return ok
}

// Quiet reports whether nothing is in flight and every member is Steady.
func (s *Sim) Quiet() bool {
	if len(s.queue) > 0 {
		return false
	}
	for _, m := range s.members {
		if m.eng.Phase() != core.Steady {
			return false
		}
	}
	return true
}

// Stabilize runs until the group has converged and is quiet, for at most
// limit, and returns the time it took and whether it got there.
func (s *Sim) Stabilize(limit time.Duration) (time.Duration, bool) {
	start := s.now
	for !(s.Converged() && s.Quiet()) {
		if !s.Step(start + limit) {
			s.now = start + limit
			return limit, false
		}
	}
	return s.now - start, true
}

// Advance runs the simulation for d.
func (s *Sim) Advance(d time.Duration) { s.Run(s.now + d) }

// Run processes every event up to and including until, then sets the clock
// to until.
func (s *Sim) Run(until time.Duration) {
	for s.Step(until) {
	}
	if until > s.now {
		s.now = until
	}
}

// Step processes the next event if it is due at or before limit, and
// reports whether it did. Deliveries due at the same time go first, in the
// order they were sent; then engine deadlines, in member order.
func (s *Sim) Step(limit time.Duration) bool {
	var next *member
	for _, m := range s.members {
		if next == nil || m.eng.Deadline() < next.eng.Deadline() {
			next = m
		}
	}
	if len(s.queue) > 0 && s.queue[0].at <= limit && (next == nil || s.queue[0].at <= next.eng.Deadline()) {
		d := heap.Pop(&s.queue).(*delivery)
		s.now = max(s.now, d.at)
		s.receive(d)
		return true
	}
	if next == nil || next.eng.Deadline() > limit {
		return false
	}
	s.now = max(s.now, next.eng.Deadline())
	wasSuppressing := next.eng.Phase() == core.Suppression
	rd := next.eng.Tick(s.now)
	switch {
	case rd.Send == nil && wasSuppressing:
		s.tracef("%s suppression over, silent", next.name)
		s.handle(next, "", rd)
	case wasSuppressing:
		s.handle(next, "suppression", rd)
	default:
		s.handle(next, "timer", rd)
	}
	return true
}

func (s *Sim) receive(d *delivery) {
	m := d.to
	before := m.eng.Stats()
	rd := m.eng.Receive(s.now, s.wall(m), d.v)
	after := m.eng.Stats()
	prefix := m.name + " <- " + d.from
	switch {
	case after.IgnoredFutureBoot > before.IgnoredFutureBoot:
		s.tracef("%s ignored: bootstrap time too far in the future", prefix)
	case after.Suppressions > before.Suppressions:
		s.tracef("%s outdated: suppression for %s", prefix, fmtDur(rd.Deadline-s.now))
	case after.Dropped > before.Dropped:
		s.tracef("%s outdated: dropped, recently updated", prefix)
	}
	s.handle(m, "", rd)
}

// handle carries out a Ready for member m and checks invariants.
func (s *Sim) handle(m *member, why string, rd core.Ready) {
	cur := m.eng.State()
	replay := m.prev
	if len(rd.Updates) > 0 {
		replay = m.prev.Clone()
	}
	for _, u := range rd.Updates {
		s.tracef("%s update %s [%d..%d]", m.name, formatKey(u.Node, u.Boot), u.Low, u.High)
		if u.Low == 0 || u.Low > u.High || u.Low != replay.Get(u.Node, u.Boot)+1 {
			s.fail("%s: update %s [%d..%d] after %d", m.name, formatKey(u.Node, u.Boot), u.Low, u.High, replay.Get(u.Node, u.Boot))
		}
		replay.Set(u.Node, u.Boot, u.High)
	}
	evicted := m.eng.Stats().EvictedMembers
	if lost, ok := wentDown(m.prev, cur, evicted > m.evicted); ok {
		s.fail("%s: state went down on %s: %s -> %s", m.name, lost, Format(m.prev), Format(cur))
	}
	if rd.Persist != nil {
		m.persisted = rd.Persist
	}
	s.maxLen = max(s.maxLen, cur.Len())
	m.evicted = evicted
	m.prev = cur
	if rd.Send == nil {
		return
	}
	s.sent++
	m.sent++
	s.tracef("%s send %s (%s)", m.name, Format(rd.Send), why)
	for _, to := range s.members {
		if to == m {
			continue
		}
		if s.group != nil && s.group[m.name] != s.group[to.name] {
			continue
		}
		if s.rng.Float64() < s.lossProb(m.name, to.name) {
			s.tracef("%s -> %s lost", m.name, to.name)
			continue
		}
		at := s.now + s.delay
		if s.jitter > 0 {
			at += time.Duration(s.rng.Int64N(int64(s.jitter)))
		}
		s.enqueued++
		heap.Push(&s.queue, &delivery{at: at, order: s.enqueued, from: m.name, to: to, v: rd.Send})
	}
}

// lossProb combines the global loss with the matching link rules.
func (s *Sim) lossProb(from, to string) float64 {
	keep := 1 - s.loss
	for _, k := range [][2]string{{from, to}, {from, "*"}, {"*", to}, {"*", "*"}} {
		if p, ok := s.linkLoss[k]; ok {
			keep *= 1 - p
		}
	}
	return 1 - keep
}

func (s *Sim) member(name string) (*member, error) {
	m, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMember, name)
	}
	return m, nil
}

// wall is m's wall clock in Unix seconds.
func (s *Sim) wall(m *member) int64 {
	return s.cfg.Epoch + int64((s.now+m.skew)/time.Second)
}

func (s *Sim) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w at %s: %s", ErrInvariant, fmtDur(s.now), fmt.Sprintf(format, args...))
	}
	s.tracef("INVARIANT VIOLATED: "+format, args...)
}

func (s *Sim) tracef(format string, args ...any) {
	if s.cfg.Trace == nil {
		return
	}
	fmt.Fprintf(s.cfg.Trace, "%10s %s\n", fmtDur(s.now), fmt.Sprintf(format, args...))
}

// fmtDur prints a duration as seconds with millisecond precision.
func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// NodeName returns the node name /name: one GenericNameComponent per
// slash-separated part of name, as a core.Name (TLV-VALUE). Parts longer
// than 252 bytes are truncated; it is meant for short test names.
func NodeName(name string) core.Name {
	var b []byte
	for _, p := range strings.Split(strings.Trim(name, "/"), "/") {
		if p == "" {
			continue
		}
		if len(p) > 252 {
			p = p[:252]
		}
		b = append(b, 0x08, byte(len(p)))
		b = append(b, p...)
	}
	return core.Name(b)
}

// FormatName prints a name built by NodeName back as /a/b; other component
// types print as type=hex.
func FormatName(n core.Name) string {
	var sb strings.Builder
	s := string(n)
	for len(s) >= 2 {
		typ, l := s[0], int(s[1])
		if typ >= 253 || l >= 253 || len(s) < 2+l {
			break
		}
		v := s[2 : 2+l]
		if typ == 0x08 {
			fmt.Fprintf(&sb, "/%s", v)
		} else {
			fmt.Fprintf(&sb, "/%d=%x", typ, v)
		}
		s = s[2+l:]
	}
	if s != "" {
		fmt.Fprintf(&sb, "/?%x", s)
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

func formatKey(n core.Name, boot uint64) string {
	return fmt.Sprintf("%s@%d", FormatName(n), boot)
}

// Format prints a vector in wire order as {/a@boot=seq ...}.
func Format(v *core.Vector) string {
	parts := make([]string, 0, v.Len())
	for _, e := range v.Entries() {
		parts = append(parts, fmt.Sprintf("%s=%d", formatKey(e.Node, e.Boot), e.Seq))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Describe returns one line per member: name, boot, own seq, phase, time to
// the next deadline and state vector.
func (s *Sim) Describe() []string {
	out := make([]string, 0, len(s.members))
	for _, m := range s.members {
		e := m.eng
		out = append(out, fmt.Sprintf("%s boot=%d seq=%d %s next=+%s %s",
			m.name, e.Boot(), e.Seq(), e.Phase(), fmtDur(e.Deadline()-s.now), Format(e.State())))
	}
	return out
}

// differences describes which members disagree with the first one.
func (s *Sim) differences() []string {
	var out []string
	if len(s.members) == 0 {
		return nil
	}
	ref := s.members[0]
	for _, m := range s.members[1:] {
		if !Same(m.eng.State(), ref.eng.State()) {
			out = append(out, fmt.Sprintf("%s %s != %s %s", m.name, Format(m.eng.State()), ref.name, Format(ref.eng.State())))
		}
	}
	slices.Sort(out)
	return out
}

// wentDown reports a pair of prev that cur holds at a lower seq, or lacks
// although cur holds no newer boot of its node. Losing a pair is allowed
// only to the pruning of superseded incarnations, and, when evicted (the
// engine evicted names in this event), to a name gone altogether.
func wentDown(prev, cur *core.Vector, evicted bool) (string, bool) {
	lost := ""
	pairs(prev, cur, func(en core.Entry, s uint64, newer, named bool) bool {
		if s >= en.Seq || (s == 0 && (newer || (!named && evicted))) {
			return true
		}
		lost = formatKey(en.Node, en.Boot)
		return false
	})
	return lost, lost != ""
}

// pairs calls f for every pair en of a, in wire order, with b's seq for
// it, whether b holds a newer boot of its node, and whether b holds the
// node at all, until f returns false. It walks both vectors once.
func pairs(a, b *core.Vector, f func(en core.Entry, seq uint64, newer, named bool) bool) {
	ae, be := a.Entries(), b.Entries()
	j := 0
	for i := 0; i < len(ae); {
		node := ae[i].Node
		for j < len(be) && core.CompareNames(be[j].Node, node) < 0 {
			j++
		}
		j2 := j
		for j2 < len(be) && be[j2].Node == node {
			j2++
		}
		run := be[j:j2]
		for ; i < len(ae) && ae[i].Node == node; i++ {
			en := ae[i]
			var seq uint64
			for _, o := range run {
				if o.Boot == en.Boot {
					seq = o.Seq
				}
			}
			newer := len(run) > 0 && run[len(run)-1].Boot > en.Boot
			if !f(en, seq, newer, len(run) > 0) {
				return
			}
		}
		j = j2
	}
}
