package core

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Tests of the rules that keep the vector bounded (docs/engine.md,
// "Superseded incarnations", "Vectors over the bound", "New members").

const grace = DefaultSupersededGrace

func boots(v *Vector, node string) []uint64 {
	var out []uint64
	for _, en := range v.Entries() {
		if en.Node == nm(node) {
			out = append(out, en.Boot)
		}
	}
	return out
}

func TestRetain(t *testing.T) {
	const now = 100 * time.Second
	g := 10 * time.Second
	tests := []struct {
		name     string
		boots    []uint64
		touched  []time.Duration
		newestAt time.Duration
		pinned   int
		want     []bool
	}{
		{"one boot", []uint64{1}, []time.Duration{never}, never, -1, []bool{true}},
		{"predecessor within grace", []uint64{1, 2}, []time.Duration{95 * time.Second, 95 * time.Second}, 95 * time.Second, -1, []bool{true, true}},
		{"predecessor superseded recently, untouched long", []uint64{1, 2}, []time.Duration{never, 95 * time.Second}, 95 * time.Second, -1, []bool{true, true}},
		{"predecessor past grace", []uint64{1, 2}, []time.Duration{80 * time.Second, 80 * time.Second}, 80 * time.Second, -1, []bool{false, true}},
		{"predecessor still publishing", []uint64{1, 2}, []time.Duration{99 * time.Second, 10 * time.Second}, 10 * time.Second, -1, []bool{true, true}},
		{"only one predecessor: the last touched", []uint64{1, 2, 3}, []time.Duration{98 * time.Second, 95 * time.Second, 95 * time.Second}, 95 * time.Second, -1, []bool{true, false, true}},
		{"tie goes to the higher boot", []uint64{1, 2, 3}, []time.Duration{95 * time.Second, 95 * time.Second, 95 * time.Second}, 95 * time.Second, -1, []bool{false, true, true}},
		{"pinned kept past grace", []uint64{1, 2, 3}, []time.Duration{never, never, never}, never, 0, []bool{true, false, true}},
		{"grace 0 prunes at once", []uint64{1, 2}, []time.Duration{now, now}, now, -1, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gr := g
			if tt.name == "grace 0 prunes at once" {
				gr = 0
			}
			got := Retain(tt.boots, tt.touched, tt.newestAt, now, gr, tt.pinned)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Retain = %v, want %v", got, tt.want)
			}
		})
	}
}

// A superseded incarnation is kept while its grace runs (so that its last
// sequence numbers still spread), then pruned at the first event after it.
func TestRule_SupersededIncarnationKeptForGraceThenPruned(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("b", 100, 5)))
	rd := recv(e, 2*time.Second, vec(en("b", 200, 1)))
	if len(rd.Updates) != 1 || rd.Updates[0] != (Update{nm("b"), 200, 1, 1}) {
		t.Fatalf("updates %v", rd.Updates)
	}
	if got := boots(e.State(), "b"); !slices.Equal(got, []uint64{100, 200}) {
		t.Fatalf("within grace: boots %v", got)
	}
	// Still repairable within the grace.
	if rd := recv(e, 3*time.Second, vec(en("b", 100, 7), en("b", 200, 1))); len(rd.Updates) != 1 || rd.Updates[0] != (Update{nm("b"), 100, 6, 7}) {
		t.Fatalf("tail of the old incarnation: updates %v", rd.Updates)
	}
	rd = e.Tick(3*time.Second + grace + time.Millisecond)
	if got := boots(e.State(), "b"); !slices.Equal(got, []uint64{200}) {
		t.Fatalf("after grace: boots %v", got)
	}
	if rd.Persist == nil || e.Stats().Pruned != 1 {
		t.Fatalf("pruning: persist %v, stats %+v", rd.Persist, e.Stats())
	}
}

// Once pruned, an old incarnation that peers still carry (ndnd and NDNts
// never prune) is ignored: no Update again, and a vector that carries it is
// not newer.
func TestRule_SupersededIncarnationIgnoredOncePruned(t *testing.T) {
	e := newTestEngine(t)
	recv(e, 0, vec(en("b", 100, 5), en("b", 200, 1)))
	e.Tick(grace + time.Second)
	before := e.Stats().IgnoredSuperseded
	rd := recv(e, grace+2*time.Second, vec(en("b", 100, 9), en("b", 200, 1)))
	if rd.Updates != nil || rd.Persist != nil {
		t.Fatalf("pruned incarnation came back: %+v", rd)
	}
	if e.Phase() != Steady || e.Stats().IgnoredSuperseded != before+1 {
		t.Fatalf("phase %v, stats %+v", e.Phase(), e.Stats())
	}
}

// A node keeps at most two incarnations: the newest, and the one before it
// while its grace runs. A newcomer told of three keeps two.
func TestRule_AtMostTwoIncarnationsPerNode(t *testing.T) {
	e := newTestEngine(t)
	rd := recv(e, 0, vec(en("b", 100, 5), en("b", 200, 3), en("b", 300, 1)))
	if got := boots(e.State(), "b"); !slices.Equal(got, []uint64{200, 300}) {
		t.Fatalf("boots %v", got)
	}
	if len(rd.Updates) != 2 || rd.Updates[0].Boot != 200 || rd.Updates[1].Boot != 300 {
		t.Fatalf("updates %v (none for a pair not kept)", rd.Updates)
	}
	// A fourth incarnation supersedes: 300 is now the predecessor, 200 goes.
	recv(e, time.Second, vec(en("b", 400, 1)))
	if got := boots(e.State(), "b"); !slices.Equal(got, []uint64{300, 400}) {
		t.Fatalf("boots %v", got)
	}
	if e.Stats().Pruned != 1 || e.Stats().IgnoredSuperseded != 1 {
		t.Fatalf("stats %+v", e.Stats())
	}
}

// An old incarnation that keeps publishing is alive (two processes with one
// name, or a forged newer boot): it is kept as long as it does.
func TestRule_OldIncarnationThatKeepsPublishingIsKept(t *testing.T) {
	e := newTestEngine(t)
	recv(e, 0, vec(en("b", 100, 1), en("b", 200, 1)))
	for i := range 10 {
		now := time.Duration(i+1) * grace / 2
		if rd := recv(e, now, vec(en("b", 100, uint64(i+2)))); len(rd.Updates) != 1 {
			t.Fatalf("step %d: updates %v", i, rd.Updates)
		}
	}
	if got := boots(e.State(), "b"); !slices.Equal(got, []uint64{100, 200}) {
		t.Fatalf("boots %v", got)
	}
}

// This member's own current pair is never pruned, even when a vector claims
// a newer incarnation of its name; that claim is counted.
func TestRule_OwnPairNeverPruned(t *testing.T) {
	e := newTestEngine(t)
	e.Publish(0)
	recv(e, time.Second, vec(en("a", testBoot+10, 3)))
	if e.Stats().NewerSelf != 1 {
		t.Fatalf("stats %+v", e.Stats())
	}
	e.Tick(10 * grace)
	if seq, _, _ := e.Publish(10*grace + time.Second); seq != 2 {
		t.Fatalf("Publish = %d, want 2", seq)
	}
	if got := boots(e.State(), "a"); !slices.Equal(got, []uint64{testBoot, testBoot + 10}) {
		t.Fatalf("own boots %v", got)
	}
}

// A member's own earlier incarnation, from InitialState, gets its grace from
// the start and is then pruned.
func TestRule_OwnEarlierIncarnationPrunedAfterGrace(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.InitialState = vec(en("a", testBoot-60, 9)) })
	e.Publish(time.Second)
	if got := boots(e.State(), "a"); !slices.Equal(got, []uint64{testBoot - 60, testBoot}) {
		t.Fatalf("own boots %v", got)
	}
	e.Publish(time.Second + grace + time.Millisecond)
	if got := boots(e.State(), "a"); !slices.Equal(got, []uint64{testBoot}) {
		t.Fatalf("own boots after grace %v", got)
	}
}

// A vector that lacks a pair we still keep in its grace, but holds a newer
// boot of the node, is not outdated: its sender would ignore the pair.
func TestRule_LackingASupersededPairIsNotOutdated(t *testing.T) {
	e := newTestEngine(t)
	recv(e, 0, vec(en("b", 100, 5), en("b", 200, 1)))
	recv(e, time.Second, vec(en("b", 200, 1)))
	if e.Phase() != Steady || e.Stats().Suppressions != 0 {
		t.Fatalf("phase %v stats %+v", e.Phase(), e.Stats())
	}
	// Lacking the node altogether still is.
	recv(e, 2*time.Second, vec(en("c", 1, 1)))
	if e.Phase() != Suppression {
		t.Fatalf("phase %v", e.Phase())
	}
}

// manyNames returns n pairs /m0000 … with boot 1 and seq 1.
func manyNames(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = en(fmt.Sprintf("m%04d", i), 1, 1)
	}
	return es
}

// Over MaxVectorBytes, the own pair and the most recently updated pairs are
// sent first, under the bound, and the rest is counted.
func TestRule_PartialVectorCarriesOwnAndNewestFirst(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxVectorBytes = 400; c.MaxMembers = 1000 })
	recv(e, 0, vec(manyNames(100)...))
	// Heard again half a periodic interval later: out of probation.
	recv(e, DefaultPeriodicTimeout/2, vec(manyNames(100)...))
	recv(e, time.Minute, vec(en("m0007", 1, 2), en("m0042", 1, 5)))
	_, rd, _ := e.Publish(time.Minute + time.Second)
	if VectorSize(rd.Send) > 400 {
		t.Fatalf("sent %d bytes", VectorSize(rd.Send))
	}
	for _, want := range []Entry{en("a", testBoot, 1), en("m0007", 1, 2), en("m0042", 1, 5)} {
		if rd.Send.Get(want.Node, want.Boot) != want.Seq {
			t.Fatalf("partial vector %v lacks %v", rd.Send.Entries(), want)
		}
	}
	if rd.Omitted != 101-rd.Send.Len() || e.Stats().Partial != 1 || e.Stats().Omitted != uint64(rd.Omitted) {
		t.Fatalf("omitted %d of 101 (sent %d), stats %+v", rd.Omitted, rd.Send.Len(), e.Stats())
	}
}

// Successive partial vectors take turns through the rest, so every pair is
// sent within a few periodic intervals.
func TestRule_PartialVectorsTakeTurnsThroughEveryPair(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxVectorBytes = 400; c.MaxMembers = 1000 })
	recv(e, 0, vec(manyNames(100)...))
	// Heard again half a periodic interval later: out of probation.
	recv(e, DefaultPeriodicTimeout/2, vec(manyNames(100)...))
	seen := &Vector{}
	now := time.Hour
	for range 10 {
		now = max(now, e.Deadline())
		rd := e.Tick(now)
		if rd.Send == nil {
			t.Fatal("periodic expiry did not send")
		}
		if VectorSize(rd.Send) > 400 {
			t.Fatalf("sent %d bytes", VectorSize(rd.Send))
		}
		mergeInto(seen, rd.Send)
	}
	if seen.Len() != 100 {
		t.Fatalf("ten partial vectors covered %d of 100 pairs", seen.Len())
	}
}

// A vector at 7/8 of MaxVectorBytes or more may be partial: pairs it lacks
// do not make it outdated (else partial vectors would answer each other
// forever). One with a lower seq still is; a small one lacking pairs still
// is.
func TestRule_PossiblyPartialVectorLackingPairsIsNotOutdated(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxVectorBytes = 400; c.MaxMembers = 1000 })
	all := manyNames(100)
	recv(e, 0, vec(all...))
	const p = DefaultPeriodicTimeout / 2 // heard again then: out of probation
	recv(e, p, vec(all...))
	big := vec(all[:20]...) // over 350 bytes
	if VectorSize(big) < 350 || VectorSize(big) > 400 {
		t.Fatalf("test vector of %d bytes", VectorSize(big))
	}
	recv(e, p+time.Second, big)
	if e.Phase() != Steady || e.Stats().Suppressions != 0 {
		t.Fatalf("possibly partial vector: phase %v", e.Phase())
	}
	recv(e, p+2*time.Second, vec(all[:10]...))
	if e.Phase() != Suppression {
		t.Fatalf("small vector lacking pairs: phase %v", e.Phase())
	}
	e2 := newTestEngine(t, func(c *Config) { c.MaxVectorBytes = 400; c.MaxMembers = 1000 })
	recv(e2, 0, vec(append(slices.Clone(all[:20]), en("m0000", 1, 2))...))
	recv(e2, time.Second, big) // m0000 at 1 < 2
	if e2.Phase() != Suppression {
		t.Fatalf("possibly partial vector with a lower seq: phase %v", e2.Phase())
	}
}

// A suppression answer over the bound carries first what the vectors heard
// were behind on.
func TestRule_SuppressionAnswerCarriesWhatOthersLack(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxVectorBytes = 400; c.MaxMembers = 1000 })
	all := manyNames(100)
	recv(e, 0, vec(all...))
	for i := range all { // each raised since: established, off probation
		all[i].Seq = 2
	}
	recv(e, time.Second, vec(all...))
	recv(e, time.Minute, vec(en("m0099", 1, 1))) // a newcomer's small vector
	if e.Phase() != Suppression {
		t.Fatalf("phase %v", e.Phase())
	}
	rd := e.Tick(e.Deadline())
	if rd.Send == nil || rd.Omitted == 0 {
		t.Fatalf("answer %+v", rd)
	}
	// Everything it sent is something the newcomer lacked, and it is full.
	if rd.Send.Get(nm("m0099"), 1) != 0 && rd.Send.Len() < 10 {
		t.Fatalf("answer %v", rd.Send.Entries())
	}
	if VectorSize(rd.Send) < 350 {
		t.Fatalf("answer of %d bytes, want it filled", VectorSize(rd.Send))
	}
}

// New names enter at most AdmitBurst at once, then AdmitRate per second;
// the rest is refused, counted, and taken from a later vector.
func TestRule_NewMembersAdmittedAtBoundedPace(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.AdmitBurst = 10; c.AdmitRate = 1 })
	flood := vec(manyNames(30)...)
	rd := recv(e, 0, flood)
	if len(rd.Updates) != 10 || e.State().Len() != 10 || e.Stats().RefusedMembers != 20 {
		t.Fatalf("updates %d, state %d, stats %+v", len(rd.Updates), e.State().Len(), e.Stats())
	}
	rd = recv(e, 5*time.Second, flood)
	if len(rd.Updates) != 5 || e.State().Len() != 15 {
		t.Fatalf("5 s later: updates %d, state %d", len(rd.Updates), e.State().Len())
	}
	// Known names are never refused.
	if rd := recv(e, 5*time.Second, vec(en("m0000", 1, 2))); len(rd.Updates) != 1 {
		t.Fatalf("known name: updates %v", rd.Updates)
	}
}

// With MaxMembers names held, a new name evicts the oldest name that never
// changed since it was first heard; when every name has, it is refused.
func TestRule_FullTableEvictsOldestUnchangedName(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 4 })
	recv(e, 0, vec(en("b", 1, 1), en("c", 1, 1), en("d", 1, 1), en("f", 1, 1)))
	recv(e, time.Second, vec(en("b", 1, 2), en("d", 1, 2))) // b and d are established
	recv(e, 2*time.Second, vec(en("x", 1, 1)))
	want := vec(en("b", 1, 2), en("d", 1, 2), en("f", 1, 1), en("x", 1, 1))
	mustEqual(t, "after one new name", e.State(), want)
	recv(e, 3*time.Second, vec(en("y", 1, 1), en("z", 1, 1)))
	want = vec(en("b", 1, 2), en("d", 1, 2), en("y", 1, 1), en("z", 1, 1))
	mustEqual(t, "after two more", e.State(), want)
	recv(e, 4*time.Second, vec(en("y", 1, 2), en("z", 1, 2)))
	recv(e, 5*time.Second, vec(en("w", 1, 1)))
	if e.State().Get(nm("w"), 1) != 0 || e.Stats().RefusedMembers != 1 || e.Stats().EvictedMembers != 3 {
		t.Fatalf("table of established names: state %v, stats %+v", e.State().Entries(), e.Stats())
	}
	// This member's own name does not count and is never refused.
	if _, _, err := e.Publish(6 * time.Second); err != nil || e.State().Get(nm("a"), testBoot) != 1 {
		t.Fatalf("own publication: %v", err)
	}
}

// A flood of fake names (150,000 in 2 s) leaves the vector bounded, and the
// members that changed before it (real ones) in it and still learnable.
func TestRule_EstablishedMembersSurviveAFlood(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 64 })
	recv(e, 0, vec(en("real1", 1, 1), en("real2", 1, 1)))
	recv(e, time.Second, vec(en("real1", 1, 2), en("real2", 1, 2)))
	const total, perPacket = 150_000, 500
	for p := range total / perPacket {
		es := make([]Entry, perPacket)
		for k := range es {
			es[k] = Entry{Node: nm(fmt.Sprintf("fake%06d", p*perPacket+k)), Boot: 1, Seq: 1}
		}
		recv(e, 2*time.Second+time.Duration(p)*2*time.Second/(total/perPacket), vec(es...))
		if n := e.State().Len(); n > 64+2 {
			t.Fatalf("packet %d: %d pairs", p, n)
		}
	}
	rd := recv(e, 5*time.Second, vec(en("real1", 1, 3)))
	if len(rd.Updates) != 1 || rd.Updates[0] != (Update{nm("real1"), 1, 3, 3}) {
		t.Fatalf("real member after the flood: updates %v", rd.Updates)
	}
	if e.State().Get(nm("real2"), 1) != 2 {
		t.Fatalf("real2 lost: %v", e.State().Get(nm("real2"), 1))
	}
	st := e.Stats()
	if fakes := uint64(e.State().Len() - 2); st.RefusedMembers+st.EvictedMembers+fakes != total || st.RefusedMembers < total*99/100 {
		t.Fatalf("stats %+v", st)
	}
	if len(e.members) > 64+1 || len(e.raised) > 64+2 {
		t.Fatalf("tables: %d members, %d raised", len(e.members), len(e.raised))
	}
}

// MergedStateVector only keeps names the local state holds, so a flood of
// vectors during one suppression period cannot grow it.
func TestRule_MergedVectorHoldsOnlyKnownNames(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.AdmitBurst = 1; c.AdmitRate = 1e-9 })
	recv(e, 0, vec(en("b", 1, 5)))
	recv(e, time.Second, vec(en("c", 1, 1))) // refused; lacks b: suppression
	if e.Phase() != Suppression {
		t.Fatalf("phase %v", e.Phase())
	}
	for i := range 50 {
		recv(e, time.Second, vec(manyNames(100)[i*2:i*2+2]...))
	}
	if e.merged.Len() != 0 {
		t.Fatalf("merged holds %d pairs of unknown names", e.merged.Len())
	}
	recv(e, time.Second, vec(en("b", 1, 5)))
	if rd := e.Tick(e.Deadline()); rd.Send != nil {
		t.Fatalf("answered although b was covered: %v", rd.Send.Entries())
	}
}

// A member that lost its state learns its own current pair from the group
// even below a newer claim of its name, and continues above it.
func TestRule_OwnPairLearnedBelowANewerClaim(t *testing.T) {
	e := newTestEngine(t)
	recv(e, 0, vec(en("a", testBoot+10, 1)))
	rd := recv(e, time.Second, vec(en("a", testBoot, 4), en("a", testBoot+10, 1)))
	if len(rd.Updates) != 1 || rd.Updates[0] != (Update{nm("a"), testBoot, 1, 4}) {
		t.Fatalf("updates %v", rd.Updates)
	}
	if seq, _, _ := e.Publish(2 * time.Second); seq != 5 {
		t.Fatalf("Publish = %d, want 5", seq)
	}
}

// A vector that may be partial and lacks our own pair, when no vector since
// our last send carried it, is not outdated (no answer) but leaves the
// periodic timer running, so that our next periodic Sync Interest brings
// the pair to members that refused it (OwnDoubted tells the driver, which
// announces again sooner after a start); once a vector carried our pair,
// such vectors reset the timer as usual.
func TestRule_PartialVectorLackingOwnPairLeavesTimerRunning(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxVectorBytes = 400; c.MaxMembers = 1000 })
	all := manyNames(20) // 383 bytes: may be partial
	recv(e, 0, vec(all...))
	e.Publish(time.Second)
	deadline := e.Deadline()
	if e.OwnDoubted() {
		t.Fatal("in doubt after a send, before any vector")
	}
	recv(e, 2*time.Second, vec(all...))
	if e.Phase() != Steady || e.Deadline() != deadline {
		t.Fatalf("phase %v, deadline %v moved from %v", e.Phase(), e.Deadline(), deadline)
	}
	if !e.OwnDoubted() {
		t.Fatal("a partial vector lacking our pair left no doubt (OwnDoubted)")
	}
	recv(e, 3*time.Second, vec(append(slices.Clone(all[:19]), en("a", testBoot, 1))...))
	if e.Deadline() == deadline {
		t.Fatal("a vector carrying our pair did not reset the timer")
	}
	if e.OwnDoubted() {
		t.Fatal("still in doubt after a vector carried our pair")
	}
	deadline = e.Deadline()
	recv(e, 4*time.Second, vec(all...))
	if e.Deadline() == deadline {
		t.Fatal("after our pair was heard, a partial vector lacking it did not reset the timer")
	}
}

// An older incarnation of this member's own name that is raised after it is
// held is another live process with the name: counted, so that the driver
// can say so. The first news of it (this member's own last run, learned
// late) is not.
func TestRule_OlderIncarnationOfOwnNameRaisedIsCounted(t *testing.T) {
	e := newTestEngine(t)
	e.Publish(0)
	recv(e, time.Second, vec(en("a", testBoot-10, 5)))
	if got := e.Stats().OlderSelfRaised; got != 0 {
		t.Fatalf("first news of an older own incarnation counted: %d", got)
	}
	recv(e, 2*time.Second, vec(en("a", testBoot-10, 6)))
	recv(e, 3*time.Second, vec(en("a", testBoot-10, 6), en("b", 100, 1)))
	recv(e, 4*time.Second, vec(en("a", testBoot-10, 8)))
	if got := e.Stats().OlderSelfRaised; got != 2 {
		t.Fatalf("OlderSelfRaised = %d, want 2 (two raises)", got)
	}
	if e.Stats().NewerSelf != 0 {
		t.Fatalf("stats %+v", e.Stats())
	}
}

// The same before this member publishes, when its name's older incarnation
// is held in the vector.
func TestRule_OlderIncarnationOfOwnNameRaisedBeforePublishing(t *testing.T) {
	e := newTestEngine(t)
	recv(e, time.Second, vec(en("a", testBoot-10, 5)))
	recv(e, 2*time.Second, vec(en("a", testBoot-10, 7)))
	if got := e.Stats().OlderSelfRaised; got != 1 {
		t.Fatalf("OlderSelfRaised = %d, want 1", got)
	}
}

// Names that arrive in a burst (a flood of fake names, each heard once)
// are held on probation: learned and reported, but left out of the
// vectors this member sends, and a received vector lacking them is not
// outdated. So after a flood the vectors keep their quiet size
// (docs/decisions.md, "A flood of fake names"). The burst shows past its
// first quietAdmissions names; those go on probation then too.
func TestRule_NamesOfABurstAreWithheldOnProbation(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 1000 })
	rd := recv(e, 0, vec(manyNames(200)...))
	if len(rd.Updates) != 200 {
		t.Fatalf("%d updates, want all 200 names learned", len(rd.Updates))
	}
	st := e.Stats()
	if st.Probation != 200 {
		t.Fatalf("probation %d, want all 200", st.Probation)
	}
	_, rd, _ = e.Publish(time.Second)
	if n := rd.Send.Len(); n != 1 {
		t.Fatalf("sent %d pairs, want the own alone", n)
	}
	if rd.Omitted != 0 || e.Stats().Partial != 0 || e.Stats().Withheld != 200 {
		t.Fatalf("omitted %d, stats %+v", rd.Omitted, e.Stats())
	}
	// A vector with the own pair and the first names, lacking the rest,
	// is up to date: no suppression, no answer.
	recv(e, 2*time.Second, rd.Send)
	if e.phase != Steady {
		t.Fatalf("a vector lacking only names on probation: phase %v", e.phase)
	}
	// A name on probation that is raised is established and sent.
	late := manyNames(200)[150]
	late.Seq = 2
	recv(e, 3*time.Second, vec(late))
	_, rd, _ = e.Publish(4 * time.Second)
	if rd.Send.Get(late.Node, late.Boot) != 2 || e.Stats().Probation != 200-1 {
		t.Fatalf("raised name not sent: %v, stats %+v", rd.Send.Entries(), e.Stats())
	}
	// So is one heard again half a periodic interval after it came.
	again := manyNames(200)[160]
	recv(e, DefaultPeriodicTimeout/2-time.Millisecond, vec(again))
	if e.Stats().Probation != 200-1 {
		t.Fatal("a name heard again too soon left probation")
	}
	recv(e, DefaultPeriodicTimeout/2, vec(again))
	_, rd, _ = e.Publish(DefaultPeriodicTimeout/2 + time.Second)
	if rd.Send.Get(again.Node, again.Boot) != 1 || e.Stats().Probation != 200-2 {
		t.Fatalf("name heard again not sent: stats %+v", e.Stats())
	}
}

// A flood as it comes, one fake name per Sync Interest: every name of it
// is on probation, its first quietAdmissions too, and this member's
// vectors carry its own pair alone. Names learned before the burst, at a
// steady pace, are not swept in (the bucket was full again between them).
// Before, the flood's first names stayed in every vector for good: after
// the hostile suite's flood each node sent datagrams of about 850 bytes
// instead of 234, twice as often.
func TestRule_AFloodsFirstNamesAreOnProbationToo(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 1000 })
	e.Publish(0)
	before := []Entry{en("real1", 1, 1), en("real2", 1, 1)}
	recv(e, time.Second, vec(before[0]))
	recv(e, 20*time.Second, vec(before[1])) // the bucket full again in between
	flood := manyNames(100)
	for i, f := range flood {
		recv(e, 30*time.Second+time.Duration(i)*time.Microsecond, vec(f))
	}
	if st := e.Stats(); st.Probation != len(flood) {
		t.Fatalf("probation %d, want the whole flood's %d", st.Probation, len(flood))
	}
	_, rd, _ := e.Publish(31 * time.Second)
	if rd.Send.Len() != 1+len(before) {
		t.Fatalf("sent %v, want the own pair and the two names from before the flood", rd.Send.Entries())
	}
	for _, b := range before {
		if rd.Send.Get(b.Node, b.Boot) != 1 {
			t.Fatalf("%v not sent: %v", b.Node, rd.Send.Entries())
		}
	}
}

// Names admitted at a steady pace, under the admission rate, are never on
// probation: a group that grows is relayed as before.
func TestRule_NamesAtASteadyPaceAreNotOnProbation(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 1000 })
	names := manyNames(200)
	for i, n := range names {
		recv(e, time.Duration(i)*100*time.Millisecond, vec(n)) // 10/s, under 32/s
	}
	if st := e.Stats(); st.Probation != 0 || st.Withheld != 0 {
		t.Fatalf("stats %+v", st)
	}
	_, rd, _ := e.Publish(time.Minute)
	if rd.Send.Len() != 201 {
		t.Fatalf("sent %d pairs, want 201", rd.Send.Len())
	}
}

// Names evicted to make room (the oldest unestablished, on probation or
// not) leave the probation count with them.
func TestRule_EvictedNamesLeaveProbation(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 100 })
	recv(e, 0, vec(manyNames(100)...))
	others := make([]Entry, 50)
	for i := range others {
		others[i] = en(fmt.Sprintf("x%04d", i), 1, 1)
	}
	recv(e, time.Second, vec(others...))
	st := e.Stats()
	if st.EvictedMembers != 50 {
		t.Fatalf("stats %+v", st)
	}
	held := 0
	for _, m := range e.members {
		if m.probation {
			held++
		}
	}
	if st.Probation != held {
		t.Fatalf("probation gauge %d, %d names on probation", st.Probation, held)
	}
}

// While names are on probation, a vector lacking the own pair is still
// outdated: a member whose first Sync Interest was lost answers at once
// (the bigvector lab's wave member did not, and nobody ever learned it).
func TestRule_OwnPairLackingCountsDuringProbation(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MaxMembers = 1000 })
	e.Publish(0)
	recv(e, time.Second, vec(manyNames(200)...))
	if e.Stats().Probation == 0 {
		t.Fatal("no names on probation")
	}
	if rd := e.Tick(e.Deadline()); rd.Send == nil || e.Phase() != Steady {
		t.Fatalf("the first vector's suppression: phase %v, sent %v", e.Phase(), rd.Send)
	}
	recv(e, 2*time.Second, vec(manyNames(200)...)) // lacks our pair again
	if e.Phase() != Suppression {
		t.Fatalf("a vector lacking the own pair: phase %v", e.Phase())
	}
}

// The sweep's corner: a member that got some of a flood's first names only
// in a vector this member sent before the burst showed holds them as
// ordinary names, while this member now withholds them. It answers this
// member's vectors, which lack them, until this member hears them again
// half a periodic interval after they came, which establishes them here;
// from then on the two agree and the answering stops.
func TestRule_NamesSentBeforeTheBurstShowedAgreeAfterHalfAPeriod(t *testing.T) {
	a := newTestEngine(t, func(c *Config) { c.MaxMembers = 1000 })
	r := newTestEngine(t, func(c *Config) { c.MaxMembers = 1000; c.Self = nm("r") })
	flood := manyNames(100)
	a.Publish(0)
	for i, f := range flood[:10] {
		recv(a, time.Duration(i+1)*time.Microsecond, vec(f))
	}
	_, early, _ := a.Publish(time.Millisecond) // the 10 first names, not yet on probation
	if early.Send.Len() != 11 {
		t.Fatalf("early vector %v, want the own pair and 10 names", early.Send.Entries())
	}
	for i, f := range flood[10:] {
		recv(a, 2*time.Millisecond+time.Duration(i)*time.Microsecond, vec(f))
	}
	if a.Stats().Probation != len(flood) {
		t.Fatalf("a: probation %d, want %d", a.Stats().Probation, len(flood))
	}
	recv(r, 3*time.Millisecond, early.Send) // r: 11 new names at once, under quietAdmissions
	if r.Stats().Probation != 0 {
		t.Fatalf("r: probation %d, want 0", r.Stats().Probation)
	}

	// answered reports whether r answers a publication of a at now, and
	// hands r's answer to a.
	answered := func(now time.Duration) bool {
		_, rd, _ := a.Publish(now)
		recv(r, now, rd.Send)
		if r.Phase() != Suppression {
			return false
		}
		d := r.Deadline() // the end of r's suppression period
		ans := r.Tick(d)
		if ans.Send == nil {
			t.Fatalf("r in suppression sent nothing at %v", d)
		}
		recv(a, d, ans.Send)
		return true
	}
	half := DefaultPeriodicTimeout / 2
	for _, now := range []time.Duration{time.Second, 5 * time.Second, half - time.Second} {
		if !answered(now) {
			t.Fatalf("r did not answer a's vector lacking its names at %v", now)
		}
	}
	answered(half + time.Second) // a hears the names again half a period on: established
	if p := a.Stats().Probation; p != len(flood)-10 {
		t.Fatalf("a: probation %d after hearing the 10 names again, want %d", p, len(flood)-10)
	}
	if answered(half + 2*time.Second) {
		t.Fatal("r still answers once a sends the names it holds")
	}
}
