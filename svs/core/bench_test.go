package core

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkReceive is the steady-state case of a busy group of 20: each
// received vector is the local one with one member's sequence number one
// higher (one update), publishers rotating.
func BenchmarkReceive(b *testing.B) {
	const n = 20
	cfg := DefaultConfig()
	cfg.Self = nm("/ndn/svs/node-00")
	cfg.Boot = testBoot
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	e, err := New(cfg, 0)
	if err != nil {
		b.Fatal(err)
	}
	var es []Entry
	for i := range n {
		es = append(es, Entry{Node: nm(fmt.Sprintf("/ndn/svs/node-%02d", i)), Boot: testBoot, Seq: 1})
	}
	in := NewVector(es...)
	e.Receive(0, testWall, in)
	b.ReportAllocs()
	b.ResetTimer()
	now := time.Duration(0)
	for k := range b.N {
		// The vector as a decoder would hand it over; Receive does not
		// keep it, so it is reused.
		in.entries[k%n].Seq++
		now += 20 * time.Millisecond
		if rd := e.Receive(now, testWall, in); len(rd.Updates) != 1 {
			b.Fatalf("%d updates", len(rd.Updates))
		}
	}
}

// BenchmarkAmongFakes is a group of three after a flood of fake names (the
// hostile suite's sync-flood): the member holds 3 real names and about 500
// fake ones, most on probation. Receive takes a real member's vector with
// one update; Publish makes the Sync Interest's vector. Both walk the whole
// state, reading each name's member from the list aligned with it (a lookup
// in the members map per name took about 40 % of either), and each clones
// the state for Persist.
func BenchmarkAmongFakes(b *testing.B) {
	setup := func(b *testing.B) (*Engine, *Vector, time.Duration) {
		e := newTestEngine(b, func(c *Config) { c.Self = nm("/hostile/m1") })
		real := NewVector(
			Entry{Node: nm("/hostile/m1"), Boot: testBoot, Seq: 1},
			Entry{Node: nm("/hostile/m2"), Boot: testBoot, Seq: 1},
			Entry{Node: nm("/hostile/m3"), Boot: testBoot, Seq: 1},
		)
		now := time.Duration(0)
		e.Receive(now, testWall, real)
		for k := 0; e.state.Len() < 503; k++ {
			if k > 1000 {
				b.Fatalf("%d names held", e.state.Len())
			}
			flood := &Vector{}
			for i := range 50 {
				flood.Set(nm(fmt.Sprintf("/hostile/fake/%d/%08x", k*50+i, k*50+i)), testBoot, 1)
			}
			now += 100 * time.Millisecond
			e.Receive(now, testWall, flood)
		}
		real.entries = real.entries[1:] // m2 and m3, as m2 would send it
		return e, real, now
	}
	b.Run("receive", func(b *testing.B) {
		e, in, now := setup(b)
		b.Logf("%d names, %d on probation", e.state.Len(), e.Stats().Probation)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			in.entries[0].Seq++
			now += 10 * time.Millisecond
			if rd := e.Receive(now, testWall, in); len(rd.Updates) != 1 {
				b.Fatalf("%d updates", len(rd.Updates))
			}
		}
	})
	b.Run("publish", func(b *testing.B) {
		e, _, now := setup(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			now += 10 * time.Millisecond
			if _, _, err := e.Publish(now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
