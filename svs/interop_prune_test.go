//go:build !race

// ndnd v1.5.3's std/sync.SvSync has data races of its own (see
// interop_test.go): this test is left out of -race builds.

package svs

import (
	"context"
	"strings"
	"testing"
	"time"
)

// An ndnd member "restarts" (its node name comes back under a new
// bootstrap time, from a new SvSync), with ndnd members that never prune:
// our member prunes the old incarnation after its grace and ignores it in
// ndnd's vectors from then on (no Update again, no answer), ndnd keeps it
// and answers our vectors that lack it (one answer per Sync Interest of
// ours, no loop), and publications keep flowing both ways.
func TestInteropNdndRestartPruned(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	const grace, periodic = 2 * time.Second, time.Second
	ours := newMember(t, group, "/ours/a", changed, func(c *Config) {
		c.SupersededGrace = grace
		c.PeriodicTimeout = periodic
	})
	// c1 is the node's first incarnation. It is not stopped (ndnd's Stop
	// cannot be called twice, and the test's cleanup calls it): it just
	// stops publishing for /ndnd/c, and stays as a peer that never prunes.
	c1 := newNdndMember(t, group, "/ndnd/c", changed)
	publishUntilHeard(t, c1, ours, changed, 2)
	old := c1.key()

	// SvSync takes its bootstrap time from the wall clock in seconds; the
	// new incarnation needs a later one.
	time.Sleep(time.Until(time.Unix(time.Now().Unix()+1, 0)) + 10*time.Millisecond)
	c2 := newNdndMember(t, group, "/ndnd/c", changed)
	if c2.sv.GetBootTime() <= c1.sv.GetBootTime() {
		t.Fatalf("boot times %d, %d", c1.sv.GetBootTime(), c2.sv.GetBootTime())
	}
	publishUntilHeard(t, c2, ours, changed, 1)
	// c2 learns the old incarnation from the group (c1, and our vectors
	// while it is in its grace), and keeps it for good.
	if !heard(changed, 10*time.Second, func() bool { return c2.get(old) == 2 }) {
		t.Fatalf("c2 did not learn %v", old)
	}

	// After the grace (and a periodic interval to act on it), it is gone
	// from our vector.
	if !heard(changed, 3*(grace+periodic), func() bool { return ours.s.State().Get(old.Node, old.Boot) == 0 }) {
		t.Fatalf("old incarnation still in %v", ours.s.State().Entries())
	}
	if st := ours.s.Stats(); st.Engine.Pruned == 0 {
		t.Fatalf("stats %+v", st)
	}

	// A quiet window: ndnd's vectors carry the pruned pair; we ignore it
	// and never answer them, they answer ours.
	before := ours.s.Stats()
	time.Sleep(5 * periodic) // the window measured, not a wait for an event
	after := ours.s.Stats()
	sent, received := after.Sent-before.Sent, after.Received-before.Received
	t.Logf("5 s quiet with two ndnd peers that keep the pruned pair: we sent %d, received %d, ignored %d superseded pairs, suppressions %d",
		sent, received, after.Engine.IgnoredSuperseded-before.Engine.IgnoredSuperseded, after.Engine.Suppressions-before.Engine.Suppressions)
	if after.Engine.Suppressions != before.Engine.Suppressions {
		t.Errorf("we answered ndnd's vectors: %d suppressions", after.Engine.Suppressions-before.Engine.Suppressions)
	}
	if after.Engine.IgnoredSuperseded == before.Engine.IgnoredSuperseded {
		t.Errorf("no superseded pair seen in ndnd's vectors")
	}
	if sent > 8 || received > 2*sent+4 {
		t.Errorf("%d sent and %d received in 5 s: a storm", sent, received)
	}
	if ours.s.State().Get(old.Node, old.Boot) != 0 {
		t.Errorf("the pruned pair came back")
	}

	// Publications still flow both ways.
	seq, err := ours.s.PublishSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !heard(changed, 10*time.Second, func() bool { return c2.get(ours.key()) == seq }) {
		t.Fatalf("c2 did not learn our %d", seq)
	}
	publishUntilHeard(t, c2, ours, changed, 2)
	ours.checkErrs(t)
	for _, m := range []*ndndMember{c1, c2} {
		m.mu.Lock()
		for _, e := range m.errs {
			// c1 and c2 share a name by design: each learns the other.
			if !strings.HasPrefix(e, "update about itself") {
				t.Errorf("%s: %s", m.name, e)
			}
		}
		m.mu.Unlock()
	}
}

// publishUntilHeard makes n publish until ours has learned its sequence
// number want (SvSync gives no readiness signal; see TestInteropNdndSvSync).
func publishUntilHeard(t *testing.T, n *ndndMember, ours *member, changed signal, want uint64) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		seq := n.sv.GetSeqNo(n.name)
		if seq < want {
			seq = n.sv.IncrSeqNo(n.name)
		}
		k := n.key()
		if heard(changed, 200*time.Millisecond, func() bool { return ours.get(k) >= seq }) && seq >= want {
			return
		}
		if attempt == 50 {
			t.Fatalf("%s@%d never heard at %d: ours has %d; %s", n.name, k.Boot, want, ours.get(k), describeKey(ours, k))
		}
	}
}
