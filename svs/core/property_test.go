package core

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestPropertySeqNeverGoesDown drives one engine with seeded random events
// (vectors from peers that may lag, lead or lack pairs, publications, timer
// expiries, time jumps) and checks after every event that:
//   - no (node, boot) pair is lowered or lost;
//   - every Update is a non-empty range starting right after what was
//     known, so the application sees each sequence number exactly once;
//   - Send is the local vector and Persist comes with every change;
//   - after Tick the deadline lies in the future;
//   - own publications are numbered 1, 2, 3, … under (Self, Boot).
func TestPropertySeqNeverGoesDown(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 42))
		cfg := DefaultConfig()
		cfg.Self = nm("a")
		cfg.Boot = testBoot
		cfg.Rand = rand.New(rand.NewPCG(seed, 43))
		e, err := New(cfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		var now time.Duration
		prev := e.State()
		published := uint64(0)
		for step := range 400 {
			var rd Ready
			ticked := false
			switch k := r.IntN(10); {
			case k < 5:
				now += time.Duration(r.Int64N(int64(300 * time.Millisecond)))
				v := &Vector{}
				for range r.IntN(5) {
					node := []string{"a", "b", "c"}[r.IntN(3)]
					boot := uint64(testBoot - r.IntN(2))
					v.Set(nm(node), boot, uint64(r.IntN(20)))
				}
				rd = recv(e, now, v)
			case k < 7:
				now += time.Duration(r.Int64N(int64(time.Second)))
				var seq uint64
				seq, rd, err = e.Publish(now)
				if err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				if seq <= published || seq != prev.Get(nm("a"), testBoot)+1 {
					t.Fatalf("seed %d step %d: published %d after %d (state had %d)", seed, step, seq, published, prev.Get(nm("a"), testBoot))
				}
				published = seq
			default:
				now = max(now, e.Deadline()-time.Duration(r.Int64N(int64(time.Second))))
				rd = e.Tick(now)
				ticked = true
			}
			cur := e.State()
			if lost := lostNotSuperseded(prev, cur); lost != nil {
				t.Fatalf("seed %d step %d: state went down on %v: %v -> %v", seed, step, lost, prev.Entries(), cur.Entries())
			}
			replay := prev.Clone()
			for _, u := range rd.Updates {
				if u.Low == 0 || u.Low > u.High || u.Low != replay.Get(u.Node, u.Boot)+1 {
					t.Fatalf("seed %d step %d: bad update %+v after %d", seed, step, u, replay.Get(u.Node, u.Boot))
				}
				replay.Set(u.Node, u.Boot, u.High)
			}
			for _, en := range replay.Entries() {
				if cur.Get(en.Node, en.Boot) == 0 {
					replay.Set(en.Node, en.Boot, 0) // pruned: superseded (checked above) or reported then pruned
				}
			}
			if lost := lostNotSuperseded(replay, cur); lost != nil {
				t.Fatalf("seed %d step %d: reported pair %v lost", seed, step, lost)
			}
			for _, node := range []string{"b", "c"} {
				if n := len(runOfTest(cur, nm(node))); n > 2 {
					t.Fatalf("seed %d step %d: %s holds %d incarnations", seed, step, node, n)
				}
			}
			if !Equal(replay, cur) && rd.Send == nil {
				// Only a publication changes state without updates.
				t.Fatalf("seed %d step %d: state changed beyond updates: %v -> %v", seed, step, replay.Entries(), cur.Entries())
			}
			if rd.Send != nil && !Equal(rd.Send, cur) {
				t.Fatalf("seed %d step %d: sent %v, state %v", seed, step, rd.Send.Entries(), cur.Entries())
			}
			if changed := !Equal(prev, cur); changed != (rd.Persist != nil) || (changed && !Equal(rd.Persist, cur)) {
				t.Fatalf("seed %d step %d: persist %v for change %v", seed, step, rd.Persist, changed)
			}
			if rd.Deadline != e.Deadline() || (ticked && rd.Deadline <= now) {
				t.Fatalf("seed %d step %d: deadline %v at %v", seed, step, rd.Deadline, now)
			}
			prev = cur
		}
	}
}

// lostNotSuperseded returns a pair of prev that cur holds at a lower seq,
// or lacks although it holds no newer boot of its node; nil if none.
func lostNotSuperseded(prev, cur *Vector) *Entry {
	for _, en := range prev.Entries() {
		s := cur.Get(en.Node, en.Boot)
		if s >= en.Seq {
			continue
		}
		if nb, ok := cur.NewestBoot(en.Node); s == 0 && ok && nb > en.Boot {
			continue
		}
		return &en
	}
	return nil
}

// runOfTest returns v's entries for node.
func runOfTest(v *Vector, node Name) []Entry {
	var out []Entry
	for _, en := range v.Entries() {
		if en.Node == node {
			out = append(out, en)
		}
	}
	return out
}
