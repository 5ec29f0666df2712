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

// confirmer schedules those re-announcements on Run's alarm (alarm.go),
// owned by Run.
type confirmer struct {
	at   time.Time // when the armed delay ends; zero: none armed
	next int       // index in confirmDelays of the armed delay
}

// start arms the first delay after an announcement made at now.
func (c *confirmer) start(now time.Time) {
	c.next = 0
	c.at = time.Time{}
	if len(confirmDelays) > 0 {
		c.at = now.Add(confirmDelays[0])
	}
}

// fired advances, at now, to the next delay and reports whether one was
// due.
func (c *confirmer) fired(now time.Time) bool {
	c.at = time.Time{}
	if c.next >= len(confirmDelays) {
		return false
	}
	prev := confirmDelays[c.next]
	c.next++
	if c.next < len(confirmDelays) {
		c.at = now.Add(confirmDelays[c.next] - prev)
	}
	return true
}
