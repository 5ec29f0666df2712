package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

const (
	testBoot = 1_700_000_000
	testWall = int64(testBoot + 100)
)

// newTestEngine returns an engine for member "a" with default timers and a
// fixed seed.
func newTestEngine(t testing.TB, mutate ...func(*Config)) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Self = nm("a")
	cfg.Boot = testBoot
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	for _, m := range mutate {
		m(&cfg)
	}
	e, err := New(cfg, 0)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// recv feeds v to e at now with the test wall clock.
func recv(e *Engine, now time.Duration, v *Vector) Ready { return e.Receive(now, testWall, v) }

func TestNewStartsSteadyWithPeriodicTimer(t *testing.T) {
	e := newTestEngine(t)
	if e.Phase() != Steady {
		t.Fatalf("phase = %v", e.Phase())
	}
	if d := e.Deadline(); d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("deadline = %v", d)
	}
	if e.Seq() != 0 || e.State().Len() != 0 {
		t.Fatalf("fresh engine has state %v", e.State().Entries())
	}
}

// TestSpec_SeqStartsAtOne: [Spec §3] sequence numbers are 1-based; the first
// publication under a bootstrap time is 1 and 0 is never emitted.
func TestSpec_SeqStartsAtOne(t *testing.T) {
	e := newTestEngine(t)
	seq, rd, err := e.Publish(time.Second)
	if err != nil || seq != 1 {
		t.Fatalf("Publish = %d, %v; want 1", seq, err)
	}
	mustEqual(t, "Send", rd.Send, vec(en("a", testBoot, 1)))
	seq, _, _ = e.Publish(2 * time.Second)
	if seq != 2 {
		t.Fatalf("second Publish = %d, want 2", seq)
	}
	if _, err := e.SetSeq(3*time.Second, 0); !errors.Is(err, ErrSeqNotIncreasing) {
		t.Fatalf("SetSeq(0) = %v", err)
	}
}

// TestSpec_StateKeyedByNodeAndBoot: [Spec §3] a node appears once per
// bootstrap time; each (node, boot) pair is tracked and reported separately,
// and own publications go under (Self, Boot) only.
func TestSpec_StateKeyedByNodeAndBoot(t *testing.T) {
	e := newTestEngine(t)
	rd := recv(e, time.Second, vec(en("b", 100, 7), en("b", 200, 2), en("a", testBoot-50, 4)))
	want := []Update{
		{nm("a"), testBoot - 50, 1, 4},
		{nm("b"), 100, 1, 7},
		{nm("b"), 200, 1, 2},
	}
	if len(rd.Updates) != len(want) {
		t.Fatalf("updates = %v, want %v", rd.Updates, want)
	}
	for i := range want {
		if rd.Updates[i] != want[i] {
			t.Fatalf("updates = %v, want %v", rd.Updates, want)
		}
	}
	seq, _, _ := e.Publish(2 * time.Second)
	if seq != 1 {
		t.Fatalf("own seq under the current boot = %d, want 1 (old boot must not count)", seq)
	}
	mustEqual(t, "state", e.State(), vec(en("a", testBoot-50, 4), en("a", testBoot, 1), en("b", 100, 7), en("b", 200, 2)))
}

// TestSpec_PublishContinuesFromPersistedState: [Spec §3] a member that
// rejoins with its persisted bootstrap time and state continues its
// sequence; with a new bootstrap time it starts again at 1.
func TestSpec_PublishContinuesFromPersistedState(t *testing.T) {
	persisted := vec(en("a", testBoot, 41), en("b", 5, 3))
	e := newTestEngine(t, func(c *Config) { c.InitialState = persisted })
	persisted.Set(nm("a"), testBoot, 1) // the engine owns a copy
	if seq, _, _ := e.Publish(0); seq != 42 {
		t.Fatalf("Publish after restart = %d, want 42", seq)
	}
	e = newTestEngine(t, func(c *Config) { c.InitialState = vec(en("a", testBoot, 41)); c.Boot = testBoot + 60 })
	if seq, _, _ := e.Publish(0); seq != 1 {
		t.Fatalf("Publish under a new boot = %d, want 1", seq)
	}
	mustEqual(t, "state", e.State(), vec(en("a", testBoot, 41), en("a", testBoot+60, 1)))
}

// TestSpec_IgnoreVectorWithFutureBootstrapTime: [Spec §3] if any bootstrap
// time is more than 24 h ahead of the wall clock, the whole vector is
// ignored: even entries that precede the offending one in wire order are not
// applied, and the timer and phase are untouched.
func TestSpec_IgnoreVectorWithFutureBootstrapTime(t *testing.T) {
	const wall = int64(testBoot)
	limit := uint64(wall) + 86400
	e := newTestEngine(t)
	deadline := e.Deadline()
	// "a" sorts before "z": the good entry comes first on the wire.
	bad := vec(en("a", 100, 9), en("b", 100, 9), en("z", limit+1, 1))
	rd := e.Receive(time.Second, wall, bad)
	if rd.Updates != nil || rd.Persist != nil || rd.Send != nil {
		t.Fatalf("ignored vector produced actions: %+v", rd)
	}
	if e.State().Len() != 0 || e.Deadline() != deadline || e.Phase() != Steady {
		t.Fatalf("ignored vector changed the engine: state %v deadline %v phase %v", e.State().Entries(), e.Deadline(), e.Phase())
	}
	if e.Stats().IgnoredFutureBoot != 1 {
		t.Fatalf("stats = %+v", e.Stats())
	}
	// Exactly 24 h ahead is accepted.
	rd = e.Receive(2*time.Second, wall, vec(en("a", 100, 9), en("z", limit, 1)))
	if len(rd.Updates) != 2 {
		t.Fatalf("vector at the limit: updates %v", rd.Updates)
	}
	// A wall clock near the end of int64 does not overflow.
	rd = e.Receive(3*time.Second, math.MaxInt64, vec(en("q", math.MaxInt64+86400, 1)))
	if len(rd.Updates) != 1 {
		t.Fatalf("huge wall clock: updates %v", rd.Updates)
	}
	if rd = e.Receive(3*time.Second, math.MaxInt64, vec(en("q", math.MaxUint64, 2))); rd.Updates != nil {
		t.Fatalf("huge wall clock: accepted %v", rd.Updates)
	}
	// A negative wall clock still allows boot times up to MaxFutureBoot.
	e2 := newTestEngine(t)
	if rd := e2.Receive(0, -5, vec(en("b", 86400, 1))); len(rd.Updates) != 1 {
		t.Fatalf("negative wall clock: updates %v", rd.Updates)
	}
	if rd := e2.Receive(0, -5, vec(en("b", 86401, 1))); rd.Updates != nil {
		t.Fatalf("negative wall clock: accepted %v", rd.Updates)
	}
}

// TestSpec_PublishSendsAtOnceAndResetsTimer: [Spec §4.2] a new publication
// sends a Sync Interest immediately and resets the timer to PeriodicTimeout,
// from either state; it asks to persist the new state.
func TestSpec_PublishSendsAtOnceAndResetsTimer(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5)))
	recv(e, 2*time.Second, vec()) // outdated: enters Suppression
	if e.Phase() != Suppression {
		t.Fatalf("setup: phase = %v", e.Phase())
	}
	now := 2*time.Second + time.Millisecond
	seq, rd, err := e.Publish(now)
	if err != nil || seq != 1 {
		t.Fatalf("Publish = %d, %v", seq, err)
	}
	mustEqual(t, "Send", rd.Send, vec(en("a", testBoot, 1), en("b", 1, 5)))
	mustEqual(t, "Persist", rd.Persist, vec(en("a", testBoot, 1), en("b", 1, 5)))
	if e.Phase() != Steady {
		t.Fatalf("phase after publish = %v", e.Phase())
	}
	if d := rd.Deadline - now; d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("deadline after publish = now+%v", d)
	}
	if rd.Deadline != e.Deadline() {
		t.Fatalf("Ready.Deadline %v != Deadline() %v", rd.Deadline, e.Deadline())
	}
}

// TestSpec_SteadyUpToDateVectorAppliesAndResetsTimerWithoutSending:
// [Spec §4.5] in Steady state an incoming vector that is up-to-date or newer
// is applied, the application learns [old+1 … new], the timer is reset to
// PeriodicTimeout and nothing is sent (the text, not diagram box 3).
func TestSpec_SteadyUpToDateVectorAppliesAndResetsTimerWithoutSending(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 3)))
	now := 20 * time.Second
	rd := recv(e, now, vec(en("b", 1, 7), en("c", 1, 1)))
	if rd.Send != nil {
		t.Fatalf("sent %v on a newer vector", rd.Send.Entries())
	}
	want := []Update{{nm("b"), 1, 4, 7}, {nm("c"), 1, 1, 1}}
	if len(rd.Updates) != 2 || rd.Updates[0] != want[0] || rd.Updates[1] != want[1] {
		t.Fatalf("updates = %v, want %v", rd.Updates, want)
	}
	mustEqual(t, "Persist", rd.Persist, vec(en("b", 1, 7), en("c", 1, 1)))
	if d := rd.Deadline - now; d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("deadline = now+%v, want periodic", d)
	}
	// An equal vector also pushes the timer back, with no update to persist.
	now = 40 * time.Second
	rd = recv(e, now, vec(en("b", 1, 7), en("c", 1, 1)))
	if rd.Send != nil || rd.Updates != nil || rd.Persist != nil {
		t.Fatalf("equal vector produced %+v", rd)
	}
	if d := rd.Deadline - now; d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("deadline = now+%v, want periodic", d)
	}
}

// TestSpec_SteadyOutdatedVectorEntersSuppression: [Spec §4.5] in Steady
// state an outdated vector first has its newer entries applied, then moves
// the engine to Suppression with the timer at SuppressionTimeout (< c).
func TestSpec_SteadyOutdatedVectorEntersSuppression(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5)))
	now := 10 * time.Second
	// Newer on c, older on b: both apply.
	rd := recv(e, now, vec(en("b", 1, 2), en("c", 1, 4)))
	if len(rd.Updates) != 1 || rd.Updates[0] != (Update{nm("c"), 1, 1, 4}) {
		t.Fatalf("updates = %v", rd.Updates)
	}
	if rd.Send != nil {
		t.Fatal("sent at once on an outdated vector")
	}
	if e.Phase() != Suppression {
		t.Fatalf("phase = %v", e.Phase())
	}
	if d := rd.Deadline - now; d < 0 || d >= 200*time.Millisecond {
		t.Fatalf("deadline = now+%v, want a suppression timeout", d)
	}
	mustEqual(t, "state", e.State(), vec(en("b", 1, 5), en("c", 1, 4)))
	if e.Stats().Suppressions != 1 {
		t.Fatalf("stats = %+v", e.Stats())
	}
}

// TestSpec_MissingPairCountsAsOutdated: [Spec §3] a (node, boot) pair missing
// from the incoming vector counts as seq 0, so the vector is outdated.
func TestSpec_MissingPairCountsAsOutdated(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5), en("b", 2, 1)))
	recv(e, 10*time.Second, vec(en("b", 1, 5))) // lacks (b, 2)
	if e.Phase() != Suppression {
		t.Fatalf("phase = %v, want suppression", e.Phase())
	}
}

// TestSpec_SteadyOutdatedVectorDroppedWhenRecentlyUpdated: [Spec §4.5] if
// every (node, boot) the incoming vector is behind on was updated locally in
// the last SuppressionPeriod, the vector is dropped: Steady state, timer
// untouched. One older pair, or the period running out, prevents the drop.
func TestSpec_SteadyOutdatedVectorDroppedWhenRecentlyUpdated(t *testing.T) {
	t.Run("all recent: dropped", func(t *testing.T) {
		e := newTestEngine(t)
		recv(e, 10*time.Second, vec(en("b", 1, 5), en("c", 1, 2)))
		deadline := e.Deadline()
		rd := recv(e, 10*time.Second+200*time.Millisecond, vec(en("b", 1, 4), en("c", 1, 1)))
		if e.Phase() != Steady || rd.Deadline != deadline || rd.Send != nil {
			t.Fatalf("phase %v deadline %v (was %v) send %v", e.Phase(), rd.Deadline, deadline, rd.Send)
		}
		if e.Stats().Dropped != 1 {
			t.Fatalf("stats = %+v", e.Stats())
		}
	})
	t.Run("one pair not recent: suppression", func(t *testing.T) {
		e := newTestEngine(t)
		recv(e, time.Second, vec(en("c", 1, 2)))
		recv(e, 10*time.Second, vec(en("b", 1, 5), en("c", 1, 2)))
		recv(e, 10*time.Second+50*time.Millisecond, vec(en("b", 1, 4), en("c", 1, 1)))
		if e.Phase() != Suppression {
			t.Fatalf("phase = %v", e.Phase())
		}
	})
	t.Run("period over: suppression", func(t *testing.T) {
		e := newTestEngine(t)
		recv(e, 10*time.Second, vec(en("b", 1, 5)))
		recv(e, 10*time.Second+200*time.Millisecond+1, vec(en("b", 1, 4)))
		if e.Phase() != Suppression {
			t.Fatalf("phase = %v", e.Phase())
		}
	})
	t.Run("own publication counts as an update", func(t *testing.T) {
		e := newTestEngine(t)
		recv(e, time.Second, vec(en("b", 1, 5)))
		e.Publish(10 * time.Second)
		deadline := e.Deadline()
		// b's vector crossed our Sync Interest in flight.
		rd := recv(e, 10*time.Second+10*time.Millisecond, vec(en("b", 1, 5)))
		if e.Phase() != Steady || rd.Deadline != deadline {
			t.Fatalf("phase %v deadline %v (was %v)", e.Phase(), rd.Deadline, deadline)
		}
	})
}

// TestSpec_SuppressionAggregatesWithoutResettingTimer: [Spec §4.5] in
// Suppression state every incoming vector is applied and merged into
// MergedStateVector; the timer keeps its deadline.
func TestSpec_SuppressionAggregatesWithoutResettingTimer(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5), en("c", 1, 5)))
	recv(e, 10*time.Second, vec(en("b", 1, 1)))
	deadline := e.Deadline()
	// Newer (d) and up-to-date vectors alike leave the timer alone.
	rd := recv(e, 10*time.Second+time.Millisecond, vec(en("b", 1, 5), en("c", 1, 5), en("d", 1, 2)))
	if rd.Deadline != deadline || e.Phase() != Suppression {
		t.Fatalf("deadline %v (was %v), phase %v", rd.Deadline, deadline, e.Phase())
	}
	if len(rd.Updates) != 1 || rd.Updates[0] != (Update{nm("d"), 1, 1, 2}) {
		t.Fatalf("updates = %v", rd.Updates)
	}
	mustEqual(t, "merged", e.merged, vec(en("b", 1, 5), en("c", 1, 5), en("d", 1, 2)))
}

// TestSpec_SuppressionExpirySendsWhenMergedIsOutdated: [Spec §4.5] when the
// suppression timer fires and MergedStateVector is outdated relative to the
// local vector, the engine sends the local vector and returns to Steady with
// a periodic timer.
func TestSpec_SuppressionExpirySendsWhenMergedIsOutdated(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5), en("c", 1, 5)))
	recv(e, 10*time.Second, vec(en("b", 1, 1)))
	recv(e, 10*time.Second+time.Millisecond, vec(en("b", 1, 5))) // still lacks c
	now := e.Deadline()
	if rd := e.Tick(now - 1); rd.Send != nil {
		t.Fatal("fired before the deadline")
	}
	rd := e.Tick(now)
	mustEqual(t, "Send", rd.Send, vec(en("b", 1, 5), en("c", 1, 5)))
	if e.Phase() != Steady || e.merged != nil {
		t.Fatalf("phase %v merged %v", e.Phase(), e.merged)
	}
	if d := rd.Deadline - now; d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("deadline = now+%v", d)
	}
}

// TestSpec_SuppressionExpiryStaysSilentWhenMergedIsUpToDate: [Spec §4.5]
// when someone else covered the local state during Suppression, the timer
// expiry sends nothing and returns to Steady with a periodic timer.
func TestSpec_SuppressionExpiryStaysSilentWhenMergedIsUpToDate(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5), en("c", 1, 5)))
	recv(e, 10*time.Second, vec(en("b", 1, 1)))
	recv(e, 10*time.Second+time.Millisecond, vec(en("b", 1, 5), en("c", 1, 6)))
	now := e.Deadline()
	rd := e.Tick(now)
	if rd.Send != nil {
		t.Fatalf("sent %v although merged is up to date", rd.Send.Entries())
	}
	if e.Phase() != Steady {
		t.Fatalf("phase %v", e.Phase())
	}
	if d := rd.Deadline - now; d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("deadline = now+%v", d)
	}
	if e.Stats().Suppressed != 1 {
		t.Fatalf("stats = %+v", e.Stats())
	}
}

// TestSpec_SteadyExpirySendsLocalVector: [Spec §4.5] when the Steady timer
// fires the engine sends its local vector and resets the timer to
// PeriodicTimeout. Tick fires at most once per call.
func TestSpec_SteadyExpirySendsLocalVector(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5)))
	e.Publish(2 * time.Second)
	d := e.Deadline()
	if rd := e.Tick(d - 1); rd.Send != nil || rd.Deadline != d {
		t.Fatalf("early Tick = %+v", rd)
	}
	late := d + 5*time.Minute // a caller that oversleeps gets one send
	rd := e.Tick(late)
	mustEqual(t, "Send", rd.Send, vec(en("a", testBoot, 1), en("b", 1, 5)))
	if rd.Persist != nil || rd.Updates != nil {
		t.Fatalf("timer expiry produced %+v", rd)
	}
	if next := rd.Deadline - late; next < 27*time.Second || next > 33*time.Second {
		t.Fatalf("deadline = now+%v", next)
	}
	if rd := e.Tick(late); rd.Send != nil {
		t.Fatal("fired twice")
	}
}

// TestSpec_LowerIncomingSeqNeverLowersLocal: a lower incoming sequence
// number never lowers the local one, in either state.
func TestSpec_LowerIncomingSeqNeverLowersLocal(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 9)))
	e.Publish(2 * time.Second)
	e.Publish(3 * time.Second)
	recv(e, 10*time.Second, vec(en("a", testBoot, 1), en("b", 1, 2)))
	recv(e, 10*time.Second+time.Millisecond, vec())
	mustEqual(t, "state", e.State(), vec(en("a", testBoot, 2), en("b", 1, 9)))
	if seq, _, _ := e.Publish(11 * time.Second); seq != 3 {
		t.Fatalf("Publish = %d, want 3", seq)
	}
}

// TestSpec_OwnEntryLearnedFromGroup: a member that kept its bootstrap time
// but lost its state learns its own sequence number back from the group and
// continues above it, so it never reuses a sequence number the group knows.
func TestSpec_OwnEntryLearnedFromGroup(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("a", testBoot, 17)))
	if seq, _, _ := e.Publish(2 * time.Second); seq != 18 {
		t.Fatalf("Publish = %d, want 18", seq)
	}
}

// TestSpec_TimersConfigurable: every timer comes from Config.
func TestSpec_TimersConfigurable(t *testing.T) {
	e := newTestEngine(t, func(c *Config) {
		c.PeriodicTimeout = 10 * time.Second
		c.PeriodicJitter = 0
		c.SuppressionPeriod = 2 * time.Second
		c.SuppressionFactor = 0.5
		c.MaxFutureBoot = time.Hour
	})
	if e.Deadline() != 10*time.Second {
		t.Fatalf("periodic deadline = %v, want 10s", e.Deadline())
	}
	recv(e, time.Second, vec(en("b", 1, 5)))
	// Updated 1.5 s ago: within the 2 s window, so dropped.
	recv(e, 2500*time.Millisecond, vec())
	if e.Phase() != Steady {
		t.Fatalf("phase = %v, want steady (recent update)", e.Phase())
	}
	recv(e, 3500*time.Millisecond, vec())
	if e.Phase() != Suppression {
		t.Fatalf("phase = %v", e.Phase())
	}
	if d := e.Deadline() - 3500*time.Millisecond; d < 0 || d >= 2*time.Second {
		t.Fatalf("suppression deadline now+%v, want < 2s", d)
	}
	if rd := e.Receive(4*time.Second, testWall, vec(en("z", uint64(testWall)+3601, 1))); rd.Updates != nil {
		t.Fatal("MaxFutureBoot not applied")
	}
}

func TestPublishExhausted(t *testing.T) {
	e := newTestEngine(t)
	if _, err := e.SetSeq(0, math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	before := e.Stats()
	seq, rd, err := e.Publish(time.Second)
	if !errors.Is(err, ErrSeqExhausted) || seq != math.MaxUint64 || rd.Send != nil {
		t.Fatalf("Publish = %d, %+v, %v", seq, rd, err)
	}
	if e.Stats() != before {
		t.Fatal("failed Publish changed stats")
	}
}

func TestSetSeq(t *testing.T) {
	e := newTestEngine(t)
	rd, err := e.SetSeq(time.Second, 10)
	if err != nil || rd.Send == nil || e.Seq() != 10 {
		t.Fatalf("SetSeq = %+v, %v; seq %d", rd, err, e.Seq())
	}
	if _, err := e.SetSeq(2*time.Second, 10); !errors.Is(err, ErrSeqNotIncreasing) {
		t.Fatalf("SetSeq(10) again = %v", err)
	}
	if seq, _, _ := e.Publish(3 * time.Second); seq != 11 {
		t.Fatalf("Publish = %d", seq)
	}
}

func TestAnnounce(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 1, 5)))
	rd := e.Announce(2 * time.Second)
	mustEqual(t, "Send", rd.Send, vec(en("b", 1, 5)))
	if rd.Persist != nil {
		t.Fatal("Announce asked to persist")
	}
	if e.Stats().Sent != 1 || e.Stats().Published != 0 {
		t.Fatalf("stats = %+v", e.Stats())
	}
}

func TestReceiveNilVector(t *testing.T) {
	e := newTestEngine(t)
	if rd := recv(e, time.Second, nil); rd.Updates != nil || e.Phase() != Steady {
		t.Fatalf("nil vector on empty state: %+v, %v", rd, e.Phase())
	}
	recv(e, 2*time.Second, vec(en("b", 1, 1)))
	recv(e, 3*time.Second, nil)
	if e.Phase() != Suppression {
		t.Fatalf("nil vector is the empty vector, so outdated; phase %v", e.Phase())
	}
	e.Tick(e.Deadline()) // merged is the empty vector: must send
	if e.Stats().Sent != 1 {
		t.Fatalf("stats = %+v", e.Stats())
	}
}

func TestTimeGoingBackwardsIsClamped(t *testing.T) {
	e := newTestEngine(t)
	e.Publish(time.Minute)
	d := e.Deadline()
	rd := e.Tick(0)
	if rd.Send != nil || rd.Deadline != d {
		t.Fatalf("Tick(0) after 1m = %+v", rd)
	}
	_, rd, _ = e.Publish(time.Second) // treated as 1m
	if rd.Deadline < time.Minute+27*time.Second {
		t.Fatalf("deadline %v computed from a time in the past", rd.Deadline)
	}
}

func TestReadyIsOwnedByCaller(t *testing.T) {
	e := newTestEngine(t)
	in := vec(en("b", 1, 5))
	rd := recv(e, time.Second, in)
	in.Set(nm("b"), 1, 1)
	rd.Persist.Set(nm("x"), 1, 1)
	_, rd, _ = e.Publish(2 * time.Second)
	rd.Send.Set(nm("y"), 1, 1)
	rd.Persist.Set(nm("z"), 1, 1)
	e.State().Set(nm("w"), 1, 1)
	mustEqual(t, "state", e.State(), vec(en("a", testBoot, 1), en("b", 1, 5)))
}

func TestPhaseString(t *testing.T) {
	if Steady.String() != "steady" || Suppression.String() != "suppression" || Phase(9).String() != "Phase(9)" {
		t.Fatal("Phase.String")
	}
}

// The update times follow the state: a pair dropped from the state leaves
// no time behind.
func TestUpdateTimesFollowTheState(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 2 })
	for i := range 100 {
		recv(e, time.Duration(i)*time.Second, vec(en(fmt.Sprintf("n%02d", i), 1, 1)))
		recv(e, time.Duration(i)*time.Second, vec(en("b", uint64(i+1), 1)))
	}
	if len(e.raised) > e.State().Len() {
		t.Fatalf("%d update times for %d pairs", len(e.raised), e.State().Len())
	}
}

func TestTinyPeriodicTimeoutStillAdvances(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.PeriodicTimeout = 1; c.PeriodicJitter = 0.99 })
	now := e.Deadline()
	for range 10 {
		rd := e.Tick(now)
		if rd.Deadline <= now {
			t.Fatalf("deadline %v not after now %v", rd.Deadline, now)
		}
		now = rd.Deadline
	}
}
