package svs

import (
	"context"
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Bad Sync Interests sent through the real forwarder reach the driver and
// are each dropped and counted in the right counter, change no state,
// deliver no update and panic nothing. A good one afterwards is applied,
// so the path the bad ones took is the path that works.
//
// Every comparison is between counters the Run goroutine writes, read after
// it has finished with the packet waited for. Two counters are not: Sent
// (the driver answers Publish before it sends the publication's Sync
// Interest) and Received (the Interest handler counts a packet after it has
// handed it to Run). Either can move between a snapshot and the check for
// reasons that have nothing to do with the bad input, so neither is
// compared with a snapshot.
func TestBadInputThroughForwarder(t *testing.T) {
	// arrived counts the Sync Interests that reached the driver and were
	// dealt with: each ends in exactly one of these (see Stats).
	arrived := func(s Stats) uint64 { return s.InboxDropped + s.Malformed + s.Invalid + s.Engine.Received }
	for _, tc := range []struct {
		name   string
		mod    func(*Config)
		inputs func(testing.TB, enc.Name, int64) []badInput
		bare   bool
	}{
		{"malformed", func(c *Config) { c.MaxEntries = 4 }, badInputs, false},
		{"invalid", func(c *Config) { c.Validator = wire.DigestSha256 }, invalidInputs, false},
		{"malformed on a bare face", func(c *Config) { c.MaxEntries = 4 }, badInputs, true},
		{"invalid on a bare face", func(c *Config) { c.Validator = wire.DigestSha256 }, invalidInputs, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := testGroup(t)
			changed := newSignal()
			victim := newMemberOn(t, group, "/victim", changed, tc.mod, tc.bare)
			attacker, _ := newEngine(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := victim.s.PublishSeq(ctx); err != nil {
				t.Fatal(err)
			}

			start := victim.s.Stats()
			var sent uint64 // Sync Interests that should reach the driver
			for _, in := range tc.inputs(t, group, time.Now().Unix()) {
				before, st := victim.s.State(), victim.s.Stats()
				if err := attacker.Face().Send(enc.Wire{in.pkt}); err != nil {
					t.Fatalf("%s: send: %v", in.name, err)
				}
				counter := in.counter
				if counter == nil && tc.bare {
					// No ndnd engine in front of the driver: it sees the
					// packet and counts it.
					counter = malformed
				} else if counter == nil {
					// ndnd's engine drops it. Follow it with a sentinel that
					// does reach the driver (as malformed) and check that only
					// the sentinel was dealt with. (A well-formed sentinel carrying
					// the victim's own state would be aggregated by the
					// forwarder into the victim's own pending Sync Interest
					// of the same name.)
					sentinel := interestWithParams(t, group, []byte("sentinel after "+in.name))
					if err := attacker.Face().Send(enc.Wire{sentinel}); err != nil {
						t.Fatal(err)
					}
					counter = malformed
				}
				sent++
				waitUntil(t, changed, 5*time.Second,
					func() bool { return counter(victim.s.Stats()) > counter(st) },
					func() string { return fmt.Sprintf("%s: not counted: %+v", in.name, victim.s.Stats()) })
				after := victim.s.Stats()
				if !core.Equal(before, victim.s.State()) {
					t.Errorf("%s: state changed", in.name)
				}
				// One packet reached the driver: the bad one, or, where
				// ndnd's engine dropped it, the sentinel. A second one
				// still queued here shows as +2 at the next input, or in
				// the total checked at the end.
				if d := arrived(after) - arrived(st); d != 1 {
					t.Errorf("%s: %d Sync Interests dealt with, want 1: %+v", in.name, d, after)
				}
				drops := func(s Stats) uint64 { return s.Malformed + s.Invalid + s.Engine.IgnoredFutureBoot }
				if d := drops(after) - drops(st); d != 1 {
					t.Errorf("%s: drop counters +%d, want +1: %+v", in.name, d, after)
				}
				// What a bad input could make the victim do is decided and
				// counted on its Run goroutine before the packet counts as
				// dropped: updates, and sends the engine asks for, at once
				// or when a suppression timer fires.
				if after.Updates != st.Updates || after.Engine.Sent != st.Engine.Sent ||
					after.Engine.Suppressions != st.Engine.Suppressions {
					t.Errorf("%s: delivered updates, sent or entered suppression: %+v", in.name, after)
				}
				// By the time the bad packet is counted, every send the
				// engine asked for has been handed to the face (same
				// goroutine, asked for before the packet was read), and
				// nothing else was: no reply to the bad input.
				if after.Sent+after.SendErrors != after.Engine.Sent {
					t.Errorf("%s: driver sent %d (+%d errors), engine asked for %d", in.name, after.Sent, after.SendErrors, after.Engine.Sent)
				}
			}

			// A good Sync Interest through the same path is applied. (One
			// boot time for the vector and the key: two clock reads can
			// fall on either side of a second.)
			k := core.Key{Node: wire.NameToCore(mustName("/good")), Boot: uint64(time.Now().Unix())}
			good := core.NewVector(core.Entry{Node: k.Node, Boot: k.Boot, Seq: 5})
			if err := attacker.Face().Send(enc.Wire{goodInterest(t, group, good)}); err != nil {
				t.Fatal(err)
			}
			// OnUpdate runs before the driver publishes the engine's
			// counters, and the test hook after both: wait for the
			// counters, then compare them.
			waitUntil(t, changed, 5*time.Second,
				func() bool { return victim.get(k) == 5 && arrived(victim.s.Stats())-arrived(start) >= sent+1 },
				func() string { return fmt.Sprintf("good input not applied: %+v", victim.s.Stats()) })
			if end := victim.s.Stats(); arrived(end)-arrived(start) != sent+1 {
				t.Errorf("%d Sync Interests dealt with in all, want %d (one per input, and the good one): %+v",
					arrived(end)-arrived(start), sent+1, end)
			}
			victim.checkErrs(t)
		})
	}
}
