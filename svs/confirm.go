package svs

import "time"

// A member's first Sync Interest can be lost: on a LAN, or on its own
// forwarder while routes change (ndnd rebuilds a prefix's next hops when a
// face with a route under it closes, and an Interest forwarded meanwhile
// finds none). Nobody then knows the member until its periodic Sync
// Interest, 30 s later, when the vectors it hears are partial: one that
// leaves its pair out is no evidence that the group lacks it
// (docs/engine.md, "Vectors over the bound"), so it does not answer them.
// (A full vector lacking its pair is answered at once.) So a member that
// announced (at start, and when its face came back) announces again after
// confirmDelays if, since it last sent, such a vector lacked its pair and
// none carried it (Engine.OwnDoubted). internal/bigvector lost the first
// member of a wave in about one run in five without this: the wave
// started as the previous one's faces closed, and its vectors are over
// the bound. A quiet group, or one that carried the pair, costs nothing.

// confirmDelays are the times after an announcement at which a member
// announces again while the group has not shown that it heard it.
var confirmDelays = []time.Duration{500 * time.Millisecond, 2 * time.Second}

// confirmer is the timer of those re-announcements, owned by Run.
type confirmer struct {
	t    *time.Timer
	next int // index in confirmDelays of the armed delay
}

// start arms the first delay after an announcement.
func (c *confirmer) start() {
	c.next = 0
	if len(confirmDelays) == 0 {
		return
	}
	if c.t == nil {
		c.t = time.NewTimer(confirmDelays[0])
		return
	}
	c.t.Reset(confirmDelays[0])
}

// c is the timer's channel for Run's select (nil before the first start).
func (c *confirmer) c() <-chan time.Time {
	if c.t == nil {
		return nil
	}
	return c.t.C
}

// fired advances to the next delay and reports whether one was due.
func (c *confirmer) fired() bool {
	if c.next >= len(confirmDelays) {
		return false
	}
	prev := confirmDelays[c.next]
	c.next++
	if c.next < len(confirmDelays) {
		c.t.Reset(confirmDelays[c.next] - prev)
	}
	return true
}

func (c *confirmer) stop() {
	if c.t != nil {
		c.t.Stop()
	}
}
