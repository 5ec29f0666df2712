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
func TestBadInputThroughForwarder(t *testing.T) {
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
			if _, err := victim.s.Publish(ctx); err != nil {
				t.Fatal(err)
			}

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
					// the sentinel arrived. (A well-formed sentinel carrying
					// the victim's own state would be aggregated by the
					// forwarder into the victim's own pending Sync Interest
					// of the same name.)
					sentinel := interestWithParams(t, group, []byte("sentinel after "+in.name))
					if err := attacker.Face().Send(enc.Wire{sentinel}); err != nil {
						t.Fatal(err)
					}
					counter = malformed
				}
				waitUntil(t, changed, 5*time.Second,
					func() bool { return counter(victim.s.Stats()) > counter(st) },
					func() string { return fmt.Sprintf("%s: not counted: %+v", in.name, victim.s.Stats()) })
				after := victim.s.Stats()
				if !core.Equal(before, victim.s.State()) {
					t.Errorf("%s: state changed", in.name)
				}
				if d := after.Received - st.Received; d != 1 {
					t.Errorf("%s: Received +%d, want +1", in.name, d)
				}
				drops := func(s Stats) uint64 { return s.Malformed + s.Invalid + s.Engine.IgnoredFutureBoot }
				if d := drops(after) - drops(st); d != 1 {
					t.Errorf("%s: drop counters +%d, want +1: %+v", in.name, d, after)
				}
				if after.Updates != st.Updates || after.Sent != st.Sent {
					t.Errorf("%s: delivered updates or sent: %+v", in.name, after)
				}
			}

			// A good Sync Interest through the same path is applied.
			good := core.NewVector(core.Entry{Node: wire.NameToCore(mustName("/good")), Boot: uint64(time.Now().Unix()), Seq: 5})
			if err := attacker.Face().Send(enc.Wire{goodInterest(t, group, good)}); err != nil {
				t.Fatal(err)
			}
			k := core.Key{Node: wire.NameToCore(mustName("/good")), Boot: uint64(time.Now().Unix())}
			waitUntil(t, changed, 5*time.Second, func() bool { return victim.get(k) == 5 },
				func() string { return fmt.Sprintf("good input not applied: %+v", victim.s.Stats()) })
			victim.checkErrs(t)
		})
	}
}
