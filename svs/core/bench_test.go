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
