package svstest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Scenarios for the bounds of the vector (docs/engine.md, "Superseded
// incarnations", "Vectors over the bound"; docs/decisions.md, "A flood of
// fake names").

// 800 restarts with a new bootstrap time (every fourth also losing its
// state) do not grow anyone's vector: a node holds at most its newest
// incarnation and the one before it. Before pruning, the vector grew by one
// pair per restart (802 pairs here), past one packet at about 800.
func TestRestartsDoNotGrowTheVector(t *testing.T) {
	s := newGroup(t, 1, 3)
	for _, m := range s.Members() {
		if _, err := s.Publish(m); err != nil {
			t.Fatal(err)
		}
	}
	s.Advance(time.Second)
	const restarts = 800
	for i := range restarts {
		if err := s.Restart("m00", RestartOptions{NewBoot: true, Wipe: i%4 == 3}); err != nil {
			t.Fatal(err)
		}
		s.Advance(500 * time.Millisecond)
		if _, err := s.Publish("m00"); err != nil {
			t.Fatal(err)
		}
		s.Advance(1500 * time.Millisecond)
	}
	if got := s.MaxLen(); got > 4 {
		t.Errorf("after %d restarts a vector held %d pairs, want at most 4 (two incarnations of m00, m01, m02)", restarts, got)
	}
	if _, ok := s.Stabilize(2 * time.Minute); !ok {
		t.Fatalf("not converged: %v", s.differences())
	}
	s.Advance(core.DefaultSupersededGrace + 40*time.Second) // the grace, and a periodic interval to act on it
	boot := s.Engine("m00").Boot()
	for _, m := range s.Members() {
		st := s.State(m)
		if st.Get(NodeName("m00"), boot) != 1 {
			t.Errorf("%s: m00's last incarnation at %d, want 1: %s", m, st.Get(NodeName("m00"), boot), Format(st))
		}
		// After the grace, the superseded incarnations are gone.
		if st.Len() != 3 {
			t.Errorf("%s holds %d pairs after the grace: %s", m, st.Len(), Format(st))
		}
	}
	// Each restart costs its announcement, its publication and at most a
	// few answers: no storm.
	if per := float64(s.Sent()) / restarts; per > 4 {
		t.Errorf("%.1f Sync Interests per restart", per)
	}
	t.Logf("%d restarts: max %d pairs, %d Sync Interests, m01 pruned %d", restarts, s.MaxLen(), s.Sent(), s.Engine("m01").Stats().Pruned)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// newBigGroup returns a group of n members that have each published once,
// every 40 ms (25 new names a second, under core's AdmitRate of 32/s, so
// that no name is admitted on probation), and learned each other.
func newBigGroup(t *testing.T, seed uint64, n int, cfg Config) *Sim {
	return newGroupAtPace(t, seed, n, 40*time.Millisecond, cfg)
}

// newGroupAtPace is newBigGroup with the members publishing every apart.
func newGroupAtPace(t *testing.T, seed uint64, n int, apart time.Duration, cfg Config) *Sim {
	t.Helper()
	cfg.Seed = seed
	s := New(cfg)
	for i := range n {
		if err := s.Add(fmt.Sprintf("m%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range s.Members() {
		if _, err := s.Publish(m); err != nil {
			t.Fatal(err)
		}
		s.Advance(apart)
	}
	if _, ok := s.Stabilize(time.Minute); !ok {
		t.Fatalf("group of %d did not converge: %d differ", n, len(s.differences()))
	}
	// Names that came faster than the admission rate were admitted on
	// probation (core's "A flood of fake names"); they leave it when heard
	// again half a periodic interval later, which costs some Sync
	// Interests in the first minute. The tests measure the group once it
	// has settled.
	for limit := s.Now() + 3*time.Minute; ; s.Advance(time.Second) {
		onProbation := 0
		for _, m := range s.Members() {
			onProbation += s.Engine(m).Stats().Probation
		}
		if onProbation == 0 {
			break
		}
		if s.Now() > limit {
			t.Fatalf("group of %d: %d names still on probation after 3 min", n, onProbation)
		}
	}
	return s
}

// A group of 400 members, whose vector (8.4 KB) is over the default bound
// (8000 bytes), keeps syncing with partial vectors, without a storm: a
// quiet group still sends about one Sync Interest per periodic interval,
// since a vector that may be partial is not outdated for the pairs it
// lacks; each publication still costs one; every publication reaches every
// member.
func TestPartialVectorsKeepA400MemberGroupSyncing(t *testing.T) {
	const n = 400
	s := newBigGroup(t, 3, n, Config{})
	if size := core.VectorSize(s.State("m000")); size <= core.DefaultMaxVectorBytes {
		t.Fatalf("vector of %d bytes is not over the bound", size)
	}
	sent, supp := s.Sent(), suppressions(s)
	s.Advance(10 * time.Minute)
	quiet := s.Sent() - sent
	// Every Sync Interest of a quiet group is a periodic one: nobody
	// found a partial vector outdated. With 400 timers spread over 6 s,
	// about one more fires within a delivery (15 ms) of the first of each
	// round, so rounds 27-33 s apart cost about two each: at most 2 ×
	// 600/27 = 44 (41 seen, as with whole vectors).
	if got := suppressions(s) - supp; got != 0 {
		t.Errorf("quiet group of %d over the bound: %d suppressions", n, got)
	}
	if quiet < 18 || quiet > 44 {
		t.Errorf("quiet group of %d over the bound: %d Sync Interests in 10 min, want 18..44", n, quiet)
	}
	var partial uint64
	for _, m := range s.Members() {
		partial += s.Engine(m).Stats().Partial
	}
	if partial == 0 {
		t.Errorf("no partial vector sent")
	}
	r := rand.New(rand.NewPCG(3, 3))
	sent = s.Sent()
	const pubs = 100
	for range pubs {
		m := fmt.Sprintf("m%03d", r.IntN(n))
		seq, err := s.Publish(m)
		if err != nil {
			t.Fatal(err)
		}
		s.Advance(100 * time.Millisecond)
		for _, o := range s.Members() {
			if got := s.State(o).Get(NodeName(m), s.Engine(m).Boot()); got != seq {
				t.Fatalf("%s has %s at %d 100 ms after it published %d", o, m, got, seq)
			}
		}
	}
	if extra := s.Sent() - sent - pubs; extra > 5 {
		t.Errorf("%d publications cost %d Sync Interests", pubs, s.Sent()-sent)
	}
	t.Logf("n=%d: quiet %d Sync Interests in 10 min; %d publications, %d Sync Interests", n, quiet, pubs, s.Sent()-sent)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// A member joining a group whose vector is over the bound learns all of
// it, from partial answers and then from the periodic Sync Interests that
// take turns through the vector.
func TestNewcomerLearnsAGroupOverTheBound(t *testing.T) {
	const n = 150 // 3.2 KB of vector, over a bound of 1500 bytes
	s := newBigGroup(t, 4, n, Config{Engine: func(string) core.Config {
		c := core.DefaultConfig()
		c.MaxVectorBytes = 1500
		return c
	}})
	if err := s.Join("new"); err != nil {
		t.Fatal(err)
	}
	took, ok := s.Stabilize(10 * time.Minute)
	if !ok {
		t.Fatalf("newcomer holds %d of %d pairs after 10 min", s.State("new").Len(), n)
	}
	t.Logf("newcomer learned %d members in %v, %d Sync Interests", n, took, s.Sent())
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// A flood of 150,000 fake member names in 2 s (300 vectors of 500) does not
// stop five real members from learning each other's publications, each
// within 100 ms, and every vector stays bounded by MaxMembers.
func TestFloodOfFakeNamesDoesNotStopRealMembers(t *testing.T) {
	for _, maxMembers := range []int{core.DefaultMaxMembers, 64} {
		t.Run(fmt.Sprint("MaxMembers=", maxMembers), func(t *testing.T) { flood(t, maxMembers) })
	}
}

func flood(t *testing.T, maxMembers int) {
	s := New(Config{Seed: 5, Engine: func(string) core.Config {
		c := core.DefaultConfig()
		c.MaxMembers = maxMembers
		return c
	}})
	for i := range 5 {
		if err := s.Add(fmt.Sprintf("m%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		for _, m := range s.Members() {
			if _, err := s.Publish(m); err != nil {
				t.Fatal(err)
			}
			s.Advance(50 * time.Millisecond)
		}
	}
	const total, perVector = 150_000, 500
	vectors := total / perVector
	step := 2 * time.Second / time.Duration(vectors)
	fake := 0
	check := func(m string, seq uint64) {
		t.Helper()
		for _, o := range s.Members() {
			if got := s.State(o).Get(NodeName(m), s.Engine(m).Boot()); got != seq {
				t.Fatalf("%s has %s at %d, want %d", o, m, got, seq)
			}
		}
	}
	for i := range vectors {
		v := &core.Vector{}
		for range perVector {
			v.Set(NodeName(fmt.Sprintf("fake%06d", fake)), uint64(DefaultEpoch), 1)
			fake++
		}
		s.Inject(v)
		if i%10 == 0 { // a real publication every 67 ms
			m := s.Members()[(i/10)%5]
			seq, err := s.Publish(m)
			if err != nil {
				t.Fatal(err)
			}
			s.Advance(100 * time.Millisecond)
			check(m, seq)
			continue
		}
		s.Advance(step)
	}
	s.Advance(10 * time.Second)
	for _, m := range s.Members() {
		check(m, s.Engine(m).Seq())
	}
	limit := maxMembers + 5
	if got := s.MaxLen(); got > limit {
		t.Errorf("a vector held %d pairs, want at most %d", got, limit)
	}
	var refused, evicted uint64
	for _, m := range s.Members() {
		st := s.Engine(m).Stats()
		refused += st.RefusedMembers
		evicted += st.EvictedMembers
	}
	t.Logf("flood of %d fake names: max %d pairs per vector, %d refused and %d evicted over 5 members, %d Sync Interests", total, s.MaxLen(), refused, evicted, s.Sent())
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// A group whose members all appear within a second (200 names at 200 a
// second, far over the admission rate) takes most of them on probation
// (core's "A flood of fake names"): it converges, every name leaves
// probation (newGroupAtPace waits for that), and then the group is as
// quiet as one formed at a steady pace: no suppression, about one Sync
// Interest per periodic interval.
func TestGroupFormedInABurstSettles(t *testing.T) {
	const n = 200
	s := newGroupAtPace(t, 5, n, 5*time.Millisecond, Config{})
	var withheld uint64
	for _, m := range s.Members() {
		withheld += s.Engine(m).Stats().Withheld
	}
	if withheld == 0 {
		t.Fatal("no pair was ever withheld: not a burst")
	}
	sent, supp := s.Sent(), suppressions(s)
	s.Advance(10 * time.Minute)
	quiet := s.Sent() - sent
	t.Logf("%d pairs withheld while settling (%d Sync Interests in all); then %d in 10 min quiet", withheld, sent, quiet)
	if got := suppressions(s) - supp; got != 0 {
		t.Errorf("settled group: %d suppressions in 10 min", got)
	}
	if quiet < 18 || quiet > 44 {
		t.Errorf("settled group: %d Sync Interests in 10 min, want 18..44", quiet)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// suppressions is the sum of the members' Suppressions.
func suppressions(s *Sim) (n uint64) {
	for _, m := range s.Members() {
		n += s.Engine(m).Stats().Suppressions
	}
	return n
}
