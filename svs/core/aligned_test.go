package core

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// churnEngine is an engine set to churn its table: a small MaxMembers
// (eviction), a burst size just over quietAdmissions (probation), a short
// grace (pruning) and a small vector bound (partial vectors), holding at
// start the own name under an older boot (so the first publication adds
// the own current pair to a known member) and two others.
func churnEngine(tb testing.TB, seed uint64) *Engine {
	return newTestEngine(tb, func(c *Config) {
		c.Self = nm("/g/self")
		c.Rand = rand.New(rand.NewPCG(seed, 8))
		c.MaxMembers = 24
		c.AdmitBurst = 40
		c.AdmitRate = 5
		c.SupersededGrace = time.Second
		c.MaxVectorBytes = 400
		c.InitialState = NewVector(
			Entry{Node: nm("/g/self"), Boot: testBoot - 1, Seq: 5},
			Entry{Node: nm("/g/n00"), Boot: testBoot, Seq: 3},
			Entry{Node: nm("/g/n01"), Boot: testBoot, Seq: 1},
		)
	})
}

// churn applies steps events to e, each drawn with pick (a number in
// [0, n)): vectors received from peers among 60 names and 3 boots,
// publications and timer expiries, with time moving on. After every event
// it checks that no pair held before and after went down, and that the
// members read by walks over the state (membersOfState) are, whenever the
// engine reuses them, those the members map holds; half the time it reads
// them as a walk would, so that the next event finds them reused.
func churn(tb testing.TB, e *Engine, steps int, pick func(n int) int) {
	tb.Helper()
	check := func(step int, what string) {
		tb.Helper()
		if !e.alignedOK {
			return
		}
		if len(e.aligned) != len(e.state.entries) {
			tb.Fatalf("step %d (%s): %d members for %d pairs", step, what, len(e.aligned), len(e.state.entries))
		}
		for i, en := range e.state.entries {
			if e.aligned[i] != e.members[en.Node] {
				tb.Fatalf("step %d (%s): pair %d (%s) has a stale member", step, what, i, en.Node)
			}
		}
	}
	var now time.Duration
	for step := range steps {
		before := e.State()
		var what string
		switch k := pick(10); {
		case k < 6:
			what = "receive"
			now += time.Duration(pick(200)) * time.Millisecond
			v := &Vector{}
			for range 1 + pick(12) {
				v.Set(nm(fmt.Sprintf("/g/n%02d", pick(60))), testBoot+uint64(pick(3)), 1+uint64(pick(9)))
			}
			recv(e, now, v)
		case k < 8:
			what = "publish"
			now += time.Duration(pick(300)) * time.Millisecond
			if _, _, err := e.Publish(now); err != nil {
				tb.Fatal(err)
			}
		default:
			what = "tick"
			now = max(now, e.Deadline())
			e.Tick(now)
		}
		for _, en := range before.entries {
			if got := e.state.Get(en.Node, en.Boot); got != 0 && got < en.Seq {
				tb.Fatalf("step %d (%s): %s boot %d went down from %d to %d", step, what, en.Node, en.Boot, en.Seq, got)
			}
		}
		check(step, what)
		if pick(2) == 0 {
			e.membersOfState()
			check(step, what+", then read")
		}
	}
}

// TestAlignedMembersFollowTheState churns 60 seeded engines, and wants the
// paths that add and remove pairs and members all taken.
func TestAlignedMembersFollowTheState(t *testing.T) {
	var sawProbation, evicted, pruned, withheld uint64
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		e := churnEngine(t, seed)
		churn(t, e, 500, func(n int) int {
			if n == 10 && e.Stats().Probation > 0 { // once per step
				sawProbation++
			}
			return r.IntN(n)
		})
		st := e.Stats()
		evicted += st.EvictedMembers
		pruned += st.Pruned
		withheld += st.Withheld
	}
	if sawProbation == 0 || evicted == 0 || pruned == 0 || withheld == 0 {
		t.Fatalf("paths not taken: probation seen %d times, %d evicted, %d pruned, %d withheld", sawProbation, evicted, pruned, withheld)
	}
	t.Logf("probation seen %d times, %d evicted, %d pruned, %d withheld", sawProbation, evicted, pruned, withheld)
}

// FuzzEngineChurn: any sequence of received vectors (the network's),
// publications and timer expiries, as the input's bytes choose them, leaves
// the engine without a panic, with no pair lowered and with the members
// its walks read in step with the state.
func FuzzEngineChurn(f *testing.F) {
	f.Add([]byte{0, 5, 3, 10, 1, 2, 7, 0, 9, 1})
	f.Add([]byte{5, 100, 11, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 9, 9, 9, 6, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		e := churnEngine(t, 1)
		steps := min(len(in), 2000)
		churn(t, e, steps, func(n int) int {
			if len(in) == 0 {
				return 0
			}
			v := int(in[0]) % n
			in = in[1:]
			return v
		})
	})
}
