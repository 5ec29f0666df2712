package core

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAlignedMembersFollowTheState drives engines through what adds and
// removes pairs and members (new names in bursts, on probation; eviction
// over a small MaxMembers; new incarnations and the pruning of superseded
// ones; partial vectors over a small MaxVectorBytes; publications) and
// checks after every event that the members read by walks over the state
// (membersOfState) are, whenever the engine reuses them, those the members
// map holds.
func TestAlignedMembersFollowTheState(t *testing.T) {
	var sawProbation, evicted, pruned, withheld uint64
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		e := newTestEngine(t, func(c *Config) {
			c.Self = nm("/g/self")
			c.Rand = rand.New(rand.NewPCG(seed, 8))
			c.MaxMembers = 24
			c.AdmitBurst = 40
			c.AdmitRate = 5
			c.SupersededGrace = time.Second
			c.MaxVectorBytes = 400
			// The own name with an older boot: a member before the first
			// publication adds the own current pair.
			c.InitialState = NewVector(
				Entry{Node: nm("/g/self"), Boot: testBoot - 1, Seq: 5},
				Entry{Node: nm("/g/n00"), Boot: testBoot, Seq: 3},
				Entry{Node: nm("/g/n01"), Boot: testBoot, Seq: 1},
			)
		})
		check := func(step int, what string) {
			t.Helper()
			if !e.alignedOK {
				return
			}
			if len(e.aligned) != len(e.state.entries) {
				t.Fatalf("seed %d step %d (%s): %d members for %d pairs", seed, step, what, len(e.aligned), len(e.state.entries))
			}
			for i, en := range e.state.entries {
				if e.aligned[i] != e.members[en.Node] {
					t.Fatalf("seed %d step %d (%s): pair %d (%s) has a stale member", seed, step, what, i, en.Node)
				}
			}
		}
		var now time.Duration
		for step := range 500 {
			var what string
			switch k := r.IntN(10); {
			case k < 6:
				what = "receive"
				now += time.Duration(r.Int64N(int64(200 * time.Millisecond)))
				v := &Vector{}
				for range 1 + r.IntN(12) {
					v.Set(nm(fmt.Sprintf("/g/n%02d", r.IntN(60))), testBoot+uint64(r.IntN(3)), 1+uint64(r.IntN(9)))
				}
				recv(e, now, v)
			case k < 8:
				what = "publish"
				now += time.Duration(r.Int64N(int64(300 * time.Millisecond)))
				if _, _, err := e.Publish(now); err != nil {
					t.Fatal(err)
				}
			default:
				what = "tick"
				now = max(now, e.Deadline())
				e.Tick(now)
			}
			check(step, what)
			if e.Stats().Probation > 0 {
				sawProbation++
			}
			if r.IntN(2) == 0 {
				e.membersOfState() // as a walk would: reused from here on
				check(step, what+", then read")
			}
		}
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
