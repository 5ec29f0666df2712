package bigvector

import (
	"fmt"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/svstest"
)

// A name refused by the admission bucket (more new names than AdmitBurst at
// once) is admitted from a later vector of its member, once the bucket has
// refilled: the group learns every member within a few periodic intervals,
// whether the vectors are sent whole or in part.
//
// The big-vector test met it: 370 members joining as fast as the machine
// let them drained the residents' buckets, and waves waited in vain. This
// is the same in the simulator (svs/svstest, no network, no root), scaled
// down: 10 members that stay, then 40 that join 20 ms apart and publish
// once; AdmitBurst 30 and AdmitRate 2/s, so that some names are refused
// and the buckets refill within 10 s; vectors sent whole (MaxVectorBytes
// far above the state) or in part (MaxVectorBytes 300 bytes, the 50-member
// state being about 700), as the 400-member vector is over the default
// 8000 bytes.
func TestRefusedNamesAreAdmittedLaterAlsoWhenVectorsArePartial(t *testing.T) {
	const (
		residents = 10
		joiners   = 40
		within    = 5 * core.DefaultPeriodicTimeout
	)
	for _, tc := range []struct {
		name     string
		maxBytes int
	}{
		{"whole vectors", 100_000},
		{"partial vectors", 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := svstest.New(svstest.Config{Seed: 1, Engine: func(string) core.Config {
				c := core.DefaultConfig()
				c.MaxVectorBytes = tc.maxBytes
				c.AdmitBurst = 30
				c.AdmitRate = 2
				return c
			}})
			join := func(name string, gap time.Duration) {
				t.Helper()
				if err := s.Join(name); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Publish(name); err != nil {
					t.Fatal(err)
				}
				s.Advance(gap)
			}
			for i := range residents {
				join(fmt.Sprintf("r%d", i), 50*time.Millisecond)
			}
			for i := range joiners {
				join(fmt.Sprintf("t%d", i), 20*time.Millisecond)
			}
			var refused uint64
			for i := range residents {
				refused += s.Engine(fmt.Sprintf("r%d", i)).Stats().RefusedMembers
			}
			if refused == 0 {
				t.Fatalf("no name was refused: the scenario does not drain the admission buckets")
			}
			start := s.Now()
			for s.Now()-start < within {
				s.Advance(time.Second)
				if fewest(s, residents) == residents+joiners {
					t.Logf("%d refusals (name, received vector) at first; every resident holds all %d members %v after the last join",
						refused, residents+joiners, (s.Now() - start).Round(time.Second))
					return
				}
			}
			t.Errorf("%v after the last join (%d periodic intervals), a resident still holds only %d of %d members (%d refusals at first); the joiners sent %d Sync Interests in all.\n"+
				"A refused name is not stored (svs/core receiveNew), so only its own member can bring it again; but a vector that may be partial "+
				"is never outdated for lacking a pair (eachBehind), not even the receiver's own, so the refused member does not answer, "+
				"and every such vector puts it back in Steady state with its periodic timer reset: it sends again only when its periodic timer "+
				"happens to fire first in the group (about one member in the group's size per interval), or when it publishes",
				within, within/core.DefaultPeriodicTimeout, fewest(s, residents), residents+joiners, refused, sentBy(s, joiners))
		})
	}
}

// fewest is the fewest members a resident's vector holds.
func fewest(s *svstest.Sim, residents int) int {
	n := -1
	for i := range residents {
		l := s.State(fmt.Sprintf("r%d", i)).Len()
		if n < 0 || l < n {
			n = l
		}
	}
	return n
}

func sentBy(s *svstest.Sim, joiners int) int {
	n := 0
	for i := range joiners {
		n += s.SentBy(fmt.Sprintf("t%d", i))
	}
	return n
}

// A member that joins a group whose vector is over MaxVectorBytes learns it
// all, but at the pace of the group's periodic Sync Interests: a vector that
// may be partial is never outdated for lacking pairs, so neither the
// newcomer's nor the others' vectors trigger an answer, and the pairs
// beyond the first vector arrive in the turns of later ones. The test
// measures it in the simulator (60 members joining 200 ms apart, then one
// more; vectors of about 1,200 bytes, sent whole or under a 500-byte bound)
// and bounds it at five periodic intervals.
//
// This is why the big-vector test brings its 400 members in as newest
// entries, to members that joined when the vector was small: with all 400
// running and joining one after another, a third of them still lacked
// pairs after 50 s, and after 100 s with joins 120 ms apart
// (BIGVECTOR_RESIDENTS=134 shows it).
func TestLateJoinerLearnsAGroupOverTheBound(t *testing.T) {
	const (
		members = 60
		within  = 5 * core.DefaultPeriodicTimeout
	)
	for _, tc := range []struct {
		name     string
		maxBytes int
	}{
		{"whole vectors", 100_000},
		{"partial vectors", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := svstest.New(svstest.Config{Seed: 1, Engine: func(string) core.Config {
				c := core.DefaultConfig()
				c.MaxVectorBytes = tc.maxBytes
				return c
			}})
			for i := range members {
				n := fmt.Sprintf("m%d", i)
				if err := s.Join(n); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Publish(n); err != nil {
					t.Fatal(err)
				}
				s.Advance(200 * time.Millisecond)
			}
			s.Advance(time.Second)
			behind := 0
			for i := range members {
				if s.State(fmt.Sprintf("m%d", i)).Len() < members {
					behind++
				}
			}
			if err := s.Join("late"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Publish("late"); err != nil {
				t.Fatal(err)
			}
			t0 := s.Now()
			for s.Now()-t0 < within && s.State("late").Len() < members+1 {
				s.Advance(time.Second)
			}
			took := s.Now() - t0
			t.Logf("vector %d bytes whole; 1 s after the %d joins, %d members lacked pairs; the late joiner held all %d pairs after %v",
				core.VectorSize(s.State("m0")), members, behind, members+1, took)
			if got := s.State("late").Len(); got < members+1 {
				t.Errorf("the late joiner holds %d of %d pairs after %v", got, members+1, within)
			}
		})
	}
}
