package svstest

import (
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// FetchSimConfig configures a FetchSim. The zero value is usable: seed 0,
// epoch DefaultEpoch, 10 ms delay and 5 ms jitter on both networks, default
// engine and fetch configurations, no trace.
type FetchSimConfig struct {
	// Seed seeds the run: the sync group and the fetch network each get a
	// random source derived from it.
	Seed uint64
	// Epoch is the wall clock at simulated time 0 (0: DefaultEpoch).
	Epoch int64
	// Delay and Jitter are the one-way delay of every packet of both
	// networks (both zero: 10 ms and 5 ms).
	Delay, Jitter time.Duration
	// Engine is passed to the sync group (Config.Engine).
	Engine func(name string) core.Config
	// Fetch returns a member's fetch configuration; nil means
	// core.DefaultFetchConfig(). Rand is always set by the harness.
	Fetch func(name string) core.FetchConfig
	// Trace receives one line per fetch event, or nil. The sync group's
	// own trace is not written: a fetch scenario is about fetching.
	Trace io.Writer
}

// Answer is how a member answers fetches of its publications.
type Answer uint8

const (
	// AnswerData answers with the publication (subject to loss).
	AnswerData Answer = iota
	// AnswerMute never answers: every attempt times out.
	AnswerMute
	// AnswerNack answers with a Nack.
	AnswerNack
	// AnswerInvalid answers with a Data that fails validation.
	AnswerInvalid
)

// FetchSim is a simulated SVS group whose members fetch every publication
// they learn of: a Sim for the sync layer, one core.Fetcher and one
// core.InOrder per member, and a fetch network with its own loss, where
// each member serves its own publications of every boot it had (a durable
// store) and a name no member has (an attacker's) answers nothing.
//
// After every event it checks that no (node, boot, seq) is fetched twice at
// once by a member, that no producer has more than Window numbers in
// progress and no member more than MaxOutstanding fetches on the network,
// that every number wanted is fetched or given up exactly once, and that
// publications reach the application in order, intact, with given-up
// numbers as gaps in their place (Err).
//
// A FetchSim is not safe for concurrent use; it runs no goroutine and
// never sleeps.
type FetchSim struct {
	cfg     FetchSimConfig
	sync    *Sim
	rng     *rand.Rand
	now     time.Duration
	delay   time.Duration
	jitter  time.Duration
	loss    float64
	members []*fetchMember
	byName  map[string]*fetchMember
	byNode  map[core.Name]*fetchMember
	queue   fetchQueue
	order   uint64
	err     error
}

type fetchMember struct {
	name      string
	node      core.Name
	cfg       core.FetchConfig
	f         *core.Fetcher
	in        *core.InOrder[string]
	answer    Answer
	published map[uint64]uint64 // highest own seq per boot
	prods     map[core.Key]*fetchTrack

	delivered, gaps, skipped uint64
	maxInProgress            int
	maxOutstanding           int
	maxRanges, maxHeld       int
}

// fetchTrack is what one member knows of one producer, for the checks.
type fetchTrack struct {
	horizon  uint64
	resolved []span                // fetched or given up; sorted, disjoint
	onWire   map[uint64]*wireState // attempts whose result has not come
	next     uint64                // next number the application must get
	gaveUp   uint64
	reports  int
}

type wireState struct {
	attempt int
	at      time.Duration
}

type span struct{ lo, hi uint64 }

type fetchEvent struct {
	at      time.Duration
	order   uint64
	to      *fetchMember
	ft      core.Fetch
	kind    core.FetchError // 0: the publication arrived
	payload string
}

type fetchQueue []*fetchEvent

func (q fetchQueue) Len() int { return len(q) }
func (q fetchQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].order < q[j].order
}
func (q fetchQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *fetchQueue) Push(x any)   { *q = append(*q, x.(*fetchEvent)) }
func (q *fetchQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// NewFetchSim returns an empty fetch simulation at time 0.
func NewFetchSim(cfg FetchSimConfig) *FetchSim {
	s := &FetchSim{
		cfg:    cfg,
		sync:   New(Config{Seed: cfg.Seed, Epoch: cfg.Epoch, Delay: cfg.Delay, Jitter: cfg.Jitter, Engine: cfg.Engine}),
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x4645_5443)),
		byName: make(map[string]*fetchMember),
		byNode: make(map[core.Name]*fetchMember),
	}
	if cfg.Delay == 0 && cfg.Jitter == 0 {
		s.delay, s.jitter = 10*time.Millisecond, 5*time.Millisecond
	} else {
		s.delay, s.jitter = max(cfg.Delay, 0), max(cfg.Jitter, 0)
	}
	return s
}

// Sync returns the sync group, for its loss, partitions and inspection.
// Publish, Restart and Add go through the FetchSim instead, and the clock
// through Run and Advance.
func (s *FetchSim) Sync() *Sim { return s.sync }

// Now returns the simulated time.
func (s *FetchSim) Now() time.Duration { return s.now }

// Err returns the first invariant violation seen, or nil; the sync group's
// own first.
func (s *FetchSim) Err() error {
	if err := s.sync.Err(); err != nil {
		return err
	}
	return s.err
}

// SetDelay sets the one-way delay and jitter of both networks.
func (s *FetchSim) SetDelay(delay, jitter time.Duration) {
	s.delay, s.jitter = max(delay, 0), max(jitter, 0)
	s.sync.SetDelay(delay, jitter)
}

// SetFetchLoss sets the probability that any one fetch packet (Interest
// or answer) is lost.
func (s *FetchSim) SetFetchLoss(p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: loss %v", ErrBadArgument, p)
	}
	s.loss = p
	return nil
}

// SetAnswer sets how a member answers fetches of its publications.
func (s *FetchSim) SetAnswer(name string, a Answer) error {
	m, err := s.member(name)
	if err != nil {
		return err
	}
	m.answer = a
	return nil
}

// Add adds a member, silently (Join announces it).
func (s *FetchSim) Add(name string) error { return s.add(name, false) }

// Join adds a member that announces itself.
func (s *FetchSim) Join(name string) error { return s.add(name, true) }

func (s *FetchSim) add(name string, announce bool) error {
	if _, ok := s.byName[name]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicateMember, name)
	}
	s.sync.Run(s.now)
	if err := s.sync.AddMember(name, MemberOptions{Announce: announce}); err != nil {
		return err
	}
	fc := core.DefaultFetchConfig()
	if s.cfg.Fetch != nil {
		fc = s.cfg.Fetch(name)
	}
	fc.Rand = rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64()))
	f, err := core.NewFetcher(fc, s.now)
	if err != nil {
		return fmt.Errorf("svstest: member %s: %w", name, err)
	}
	m := &fetchMember{
		name: name, node: NodeName(name), cfg: fc, f: f,
		in:        core.NewInOrder[string](fc.Window),
		published: make(map[uint64]uint64),
		prods:     make(map[core.Key]*fetchTrack),
	}
	s.members = append(s.members, m)
	s.byName[name] = m
	s.byNode[m.node] = m
	s.learn()
	return nil
}

// Publish makes a member publish once and returns its sequence number.
func (s *FetchSim) Publish(name string) (uint64, error) {
	m, err := s.member(name)
	if err != nil {
		return 0, err
	}
	s.sync.Run(s.now)
	seq, err := s.sync.Publish(name)
	if err != nil {
		return 0, err
	}
	m.published[s.sync.Engine(name).Boot()] = seq
	s.learn()
	return seq, nil
}

// Restart restarts a member's sync engine (its fetcher and store go on).
func (s *FetchSim) Restart(name string, o RestartOptions) error {
	if _, err := s.member(name); err != nil {
		return err
	}
	s.sync.Run(s.now)
	if err := s.sync.Restart(name, o); err != nil {
		return err
	}
	s.tracef("%s restarts boot=%d", name, s.sync.Engine(name).Boot())
	s.learn()
	return nil
}

// Announce injects a vector claiming that node (not a member) has
// published seq under boot: a peer announcing what it will never serve.
func (s *FetchSim) Announce(node string, boot, seq uint64) {
	s.sync.Run(s.now)
	s.tracef("inject %s=%d", formatKey(NodeName(node), boot), seq)
	s.sync.Inject(core.NewVector(core.Entry{Node: NodeName(node), Boot: boot, Seq: seq}))
}

// Advance runs the simulation for d.
func (s *FetchSim) Advance(d time.Duration) { s.Run(s.now + d) }

// Run processes every event up to and including until.
func (s *FetchSim) Run(until time.Duration) {
	for s.Step(until) {
	}
	s.now = max(s.now, until)
	s.sync.Run(s.now)
}

// Step processes the next event (of the sync group or of the fetch layer)
// due at or before limit, and reports whether it did. Sync events go first
// at equal times.
func (s *FetchSim) Step(limit time.Duration) bool {
	// A result due at the same time as a fetcher's deadline goes first: an
	// answer that arrives as the attempt times out counts.
	next := core.NoDeadline
	if len(s.queue) > 0 {
		next = s.queue[0].at
	}
	var ticker *fetchMember
	for _, m := range s.members {
		if d := m.f.Deadline(); d < next {
			next, ticker = d, m
		}
	}
	if s.sync.Step(min(next, limit)) {
		s.now = max(s.now, s.sync.Now())
		s.learn()
		return true
	}
	if next > limit {
		return false
	}
	s.now = max(s.now, next)
	if ticker != nil {
		s.handle(ticker, ticker.f.Tick(s.now))
		return true
	}
	ev := heap.Pop(&s.queue).(*fetchEvent)
	s.result(ev)
	return true
}

// Settled reports whether every member has fetched or given up everything
// it learned of, nothing is in flight, and the sync group is quiet and
// converged.
func (s *FetchSim) Settled() bool {
	if len(s.queue) > 0 || !s.sync.Quiet() || !s.sync.Converged() {
		return false
	}
	for _, m := range s.members {
		st := m.f.Stats()
		if st.Outstanding+st.Waiting > 0 || st.Pending > 0 {
			return false
		}
		for _, t := range m.prods {
			if t.next <= t.horizon {
				return false
			}
		}
	}
	return true
}

// Settle runs until Settled, for at most limit, and returns the time it
// took and whether it got there.
func (s *FetchSim) Settle(limit time.Duration) (time.Duration, bool) {
	start := s.now
	for !s.Settled() {
		if !s.Step(start + limit) {
			s.now = start + limit
			s.sync.Run(s.now)
			return limit, false
		}
	}
	return s.now - start, true
}

// learn feeds every member's fetcher what its sync engine learned since
// the last event, as the driver does with the engine's Updates: every pair
// of its state above what the member wanted before. (The harness checks
// that Updates continue the state; comparing with what was wanted also
// holds across a restart that wiped the state.)
func (s *FetchSim) learn() {
	for _, m := range s.members {
		s.sync.State(m.name).Each(func(en core.Entry) {
			if en.Node == m.node {
				return // its own publications
			}
			t := m.track(core.Key{Node: en.Node, Boot: en.Boot})
			if en.Seq <= t.horizon {
				return
			}
			low := t.horizon + 1
			t.horizon = en.Seq
			m.in.Want(en.Node, en.Boot, low, en.Seq)
			s.handle(m, m.f.Want(s.now, en.Node, en.Boot, low, en.Seq))
		})
	}
}

func (m *fetchMember) track(k core.Key) *fetchTrack {
	t, ok := m.prods[k]
	if !ok {
		t = &fetchTrack{onWire: make(map[uint64]*wireState), next: 1}
		m.prods[k] = t
	}
	return t
}

// handle carries out a FetchReady of member m and checks it.
func (s *FetchSim) handle(m *fetchMember, rd core.FetchReady) {
	for _, ft := range rd.Start {
		k := core.Key{Node: ft.Node, Boot: ft.Boot}
		t := m.track(k)
		if ft.Seq == 0 || ft.Seq > t.horizon || t.isResolved(ft.Seq) {
			s.fail("%s: fetch of %s#%d, not wanted or already resolved", m.name, formatKey(ft.Node, ft.Boot), ft.Seq)
		}
		if w, ok := t.onWire[ft.Seq]; ok && s.now < w.at+m.cfg.AttemptTimeout {
			s.fail("%s: attempt %d of %s#%d while attempt %d, started %s, is on the wire", m.name, ft.Attempt, formatKey(ft.Node, ft.Boot), ft.Seq, w.attempt, fmtDur(w.at))
		}
		t.onWire[ft.Seq] = &wireState{attempt: ft.Attempt, at: s.now}
		s.tracef("%s fetch %s#%d (%d)", m.name, formatKey(ft.Node, ft.Boot), ft.Seq, ft.Attempt)
		s.send(m, ft)
	}
	for _, g := range rd.GiveUps {
		k := core.Key{Node: g.Node, Boot: g.Boot}
		t := m.track(k)
		if g.Low == 0 || g.High > t.horizon || !t.resolve(g.Low, g.High) {
			s.fail("%s: give-up of %s#%d..%d, not wanted or already resolved", m.name, formatKey(g.Node, g.Boot), g.Low, g.High)
		}
		for seq := range t.onWire {
			if seq >= g.Low && seq <= g.High {
				delete(t.onWire, seq)
			}
		}
		t.gaveUp += g.Count()
		t.reports++
		what := fmt.Sprintf("%s#%d", formatKey(g.Node, g.Boot), g.Low)
		if g.High > g.Low {
			what += fmt.Sprintf("..%d", g.High)
		}
		if g.Attempts > 0 {
			s.tracef("%s gives up %s after %d attempts (%s, last %s)", m.name, what, g.Attempts, g.Reason, g.Last)
		} else {
			s.tracef("%s gives up %s (%s, %d never attempted)", m.name, what, g.Reason, g.Count())
		}
		s.release(m, m.in.GaveUp(g))
	}
	st := m.f.Stats()
	if st.Outstanding < 0 || st.Waiting < 0 {
		s.fail("%s: fetcher gauges went negative: %+v", m.name, st)
	}
	if st.Outstanding > m.cfg.MaxOutstanding {
		s.fail("%s: %d outstanding, over MaxOutstanding %d", m.name, st.Outstanding, m.cfg.MaxOutstanding)
	}
	m.maxOutstanding = max(m.maxOutstanding, st.Outstanding)
	m.maxRanges = max(m.maxRanges, st.Ranges)
	m.maxHeld = max(m.maxHeld, st.Outstanding+st.Waiting)
	for k := range m.prods {
		n := m.f.InProgress(k.Node, k.Boot)
		if n > m.cfg.Window {
			s.fail("%s: %d of %s in progress, over the window %d", m.name, n, formatKey(k.Node, k.Boot), m.cfg.Window)
		}
		m.maxInProgress = max(m.maxInProgress, n)
	}
}

// send puts one attempt on the fetch network: the Interest to the
// producer, its answer back.
func (s *FetchSim) send(m *fetchMember, ft core.Fetch) {
	if s.rng.Float64() < s.loss {
		s.tracef("%s fetch %s#%d (%d) lost", m.name, formatKey(ft.Node, ft.Boot), ft.Seq, ft.Attempt)
		return
	}
	p, ok := s.byNode[ft.Node]
	if !ok || p.answer == AnswerMute || ft.Seq > p.published[ft.Boot] {
		return // nobody answers; the attempt times out
	}
	ev := &fetchEvent{to: m, ft: ft}
	switch p.answer {
	case AnswerNack:
		ev.kind = core.FetchNack
	case AnswerInvalid:
		ev.kind = core.FetchInvalid
	default:
		ev.payload = payload(ft.Node, ft.Boot, ft.Seq)
	}
	if s.rng.Float64() < s.loss {
		s.tracef("%s answer %s#%d (%d) lost", p.name, formatKey(ft.Node, ft.Boot), ft.Seq, ft.Attempt)
		return
	}
	ev.at = s.now + 2*s.delay
	if s.jitter > 0 {
		ev.at += time.Duration(s.rng.Int64N(int64(s.jitter))) + time.Duration(s.rng.Int64N(int64(s.jitter)))
	}
	s.order++
	ev.order = s.order
	heap.Push(&s.queue, ev)
}

func payload(node core.Name, boot, seq uint64) string {
	return fmt.Sprintf("%s#%d", formatKey(node, boot), seq)
}

// result hands an attempt's result to its fetcher.
func (s *FetchSim) result(ev *fetchEvent) {
	m, ft := ev.to, ev.ft
	k := core.Key{Node: ft.Node, Boot: ft.Boot}
	t := m.track(k)
	if w, ok := t.onWire[ft.Seq]; ok && w.attempt == ft.Attempt {
		delete(t.onWire, ft.Seq)
	}
	name := fmt.Sprintf("%s#%d (%d)", formatKey(ft.Node, ft.Boot), ft.Seq, ft.Attempt)
	if ev.kind != 0 {
		before := m.f.Stats().Late
		rd := m.f.Failed(s.now, ft, ev.kind)
		s.tracef("%s <- %s %s%s", m.name, ev.kind, name, late(m.f.Stats().Late > before))
		s.handle(m, rd)
		return
	}
	before := m.f.Stats().Succeeded
	rd := m.f.Succeeded(s.now, ft)
	accepted := m.f.Stats().Succeeded > before
	s.tracef("%s <- %s%s", m.name, name, late(!accepted))
	if accepted {
		if !t.resolve(ft.Seq, ft.Seq) {
			s.fail("%s: %s fetched twice, or after a give-up", m.name, name)
		}
		delete(t.onWire, ft.Seq)
		rel, err := m.in.Arrived(ft.Node, ft.Boot, ft.Seq, ev.payload)
		if err != nil {
			s.fail("%s: in order: %v", m.name, err)
		}
		s.release(m, rel)
	} else if !t.isResolved(ft.Seq) {
		s.fail("%s: %s refused though not resolved", m.name, name)
	}
	s.handle(m, rd)
}

func late(b bool) string {
	if b {
		return " late"
	}
	return ""
}

// release checks what the in-order layer releases: each producer's
// numbers in order, each once, publications intact.
func (s *FetchSim) release(m *fetchMember, rel []core.Release[string]) {
	for _, r := range rel {
		k := core.Key{Node: r.Node, Boot: r.Boot}
		t := m.track(k)
		if r.Gap != nil {
			if r.Gap.Low != t.next || r.Gap.High > t.horizon {
				s.fail("%s: gap %s#%d..%d released, want %d next", m.name, formatKey(r.Node, r.Boot), r.Gap.Low, r.Gap.High, t.next)
			}
			t.next = r.Gap.High + 1
			m.gaps++
			m.skipped += r.Gap.Count()
			continue
		}
		if r.Seq != t.next {
			s.fail("%s: %s#%d released, want %d next", m.name, formatKey(r.Node, r.Boot), r.Seq, t.next)
		}
		if want := payload(r.Node, r.Boot, r.Seq); r.Value != want {
			s.fail("%s: %s#%d released as %q, want %q", m.name, formatKey(r.Node, r.Boot), r.Seq, r.Value, want)
		}
		t.next = r.Seq + 1
		m.delivered++
	}
}

// isResolved reports whether seq was fetched or given up.
func (t *fetchTrack) isResolved(seq uint64) bool {
	_, found := slices.BinarySearchFunc(t.resolved, seq, func(sp span, s uint64) int {
		switch {
		case sp.hi < s:
			return -1
		case sp.lo > s:
			return 1
		}
		return 0
	})
	return found
}

// resolve adds lo..hi to the resolved numbers and reports false if any of
// them was resolved already.
func (t *fetchTrack) resolve(lo, hi uint64) bool {
	i, _ := slices.BinarySearchFunc(t.resolved, lo, func(sp span, s uint64) int { return cmpU(sp.lo, s) })
	if (i > 0 && t.resolved[i-1].hi >= lo) || (i < len(t.resolved) && t.resolved[i].lo <= hi) {
		return false
	}
	t.resolved = slices.Insert(t.resolved, i, span{lo, hi})
	// Merge with the neighbours so that a producer fetched in order holds
	// one span.
	if i+1 < len(t.resolved) && t.resolved[i].hi+1 == t.resolved[i+1].lo {
		t.resolved[i].hi = t.resolved[i+1].hi
		t.resolved = slices.Delete(t.resolved, i+1, i+2)
	}
	if i > 0 && t.resolved[i-1].hi+1 == t.resolved[i].lo {
		t.resolved[i-1].hi = t.resolved[i].hi
		t.resolved = slices.Delete(t.resolved, i, i+1)
	}
	return true
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FetchTotals sums what the members fetched.
type FetchTotals struct {
	// Wanted counts the numbers the members learned of (others'
	// publications, per member); Delivered those released to the
	// application, Skipped those released as gaps, in Gaps releases.
	Wanted, Delivered, Skipped, Gaps uint64
	// Started, Retried, Failed and GivenUp sum the fetchers' counters.
	Started, Retried, Failed, GivenUp uint64
	// MaxInProgress is the most numbers of one producer any member had in
	// progress at once; MaxOutstanding the most fetches one member had on
	// the network; MaxHeld the most numbers one member had in progress
	// (on the network or waiting for a retry) and MaxRanges the most
	// ranges of numbers not started: with Producers, what a fetcher's
	// memory grows with.
	MaxInProgress, MaxOutstanding, MaxHeld, MaxRanges int
}

// Totals returns the sums over every member.
func (s *FetchSim) Totals() FetchTotals {
	var t FetchTotals
	for _, m := range s.members {
		for _, tr := range m.prods {
			t.Wanted += tr.horizon
		}
		t.Delivered += m.delivered
		t.Skipped += m.skipped
		t.Gaps += m.gaps
		st := m.f.Stats()
		t.Started += st.Started
		t.Retried += st.Retried
		t.Failed += st.Failed
		t.GivenUp += st.GivenUp
		t.MaxInProgress = max(t.MaxInProgress, m.maxInProgress)
		t.MaxOutstanding = max(t.MaxOutstanding, m.maxOutstanding)
		t.MaxHeld = max(t.MaxHeld, m.maxHeld)
		t.MaxRanges = max(t.MaxRanges, m.maxRanges)
	}
	return t
}

// GaveUp returns how many numbers of node (any boot) member name gave up,
// and in how many reports.
func (s *FetchSim) GaveUp(name, node string) (numbers uint64, reports int) {
	m, ok := s.byName[name]
	if !ok {
		return 0, 0
	}
	n := NodeName(node)
	for k, t := range m.prods {
		if k.Node == n {
			numbers += t.gaveUp
			reports += t.reports
		}
	}
	return numbers, reports
}

// FetcherStats returns a member's fetcher counters (zero if unknown).
func (s *FetchSim) FetcherStats(name string) core.FetchStats {
	if m, ok := s.byName[name]; ok {
		return m.f.Stats()
	}
	return core.FetchStats{}
}

// DescribeFetch returns one line per member: what it delivered, skipped
// and its fetcher's counters and gauges.
func (s *FetchSim) DescribeFetch() []string {
	out := make([]string, 0, len(s.members))
	for _, m := range s.members {
		st := m.f.Stats()
		out = append(out, fmt.Sprintf("%s delivered=%d skipped=%d gaps=%d started=%d retried=%d failed=%d timedout=%d givenup=%d stalls=%d late=%d outstanding=%d waiting=%d pending=%d ranges=%d producers=%d",
			m.name, m.delivered, m.skipped, m.gaps, st.Started, st.Retried, st.Failed, st.TimedOut, st.GivenUp, st.Stalls, st.Late, st.Outstanding, st.Waiting, st.Pending, st.Ranges, st.Producers))
	}
	return out
}

func (s *FetchSim) member(name string) (*fetchMember, error) {
	m, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMember, name)
	}
	return m, nil
}

func (s *FetchSim) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w at %s: %s", ErrInvariant, fmtDur(s.now), fmt.Sprintf(format, args...))
	}
	s.tracef("INVARIANT VIOLATED: "+format, args...)
}

func (s *FetchSim) tracef(format string, args ...any) {
	if s.cfg.Trace == nil {
		return
	}
	line := fmt.Sprintf(format, args...)
	fmt.Fprintf(s.cfg.Trace, "%10s %s\n", fmtDur(s.now), strings.TrimRight(line, " "))
}
