package core

import (
	"slices"
	"time"
)

// This file holds the rules that keep the vector bounded: superseded
// incarnations are pruned, and new node names are admitted at a bounded
// pace into a bounded table (docs/engine.md, "Superseded incarnations";
// docs/decisions.md, "A flood of fake names").

// member is what the engine knows about one node name of its vector.
type member struct {
	order uint64 // admission order, for eviction (oldest first)
	// newestAt is when the node's newest bootstrap time was first learned
	// here: a superseded incarnation's grace runs at least from then.
	newestAt time.Duration
	// established: the node changed (a sequence number raised, or a new
	// bootstrap time) after it was first heard, or it is this member, or it
	// came from InitialState. A flood of fake names, each heard once, is
	// not; only names that are not established are evicted.
	established bool
	// probation: admitted during a burst of new names (more than
	// quietAdmissions at once), and not established since: see withheld.
	probation bool
}

// quietAdmissions is how many new names may arrive at once (taken from a
// full admission bucket) before the next ones are admitted on probation.
// A member joining a group, or a group growing, brings new names at a
// steady pace under AdmitRate; a flood brings them all at once.
const quietAdmissions = 32

// never is the touch time of a pair that was never raised by this engine
// (it came from InitialState): older than any time the engine sees.
const never = time.Duration(-1 << 63)

// Retain decides which incarnations of one node a vector keeps. boots are
// the node's bootstrap times held, ascending; touched[i] is when boots[i]
// last changed here (its sequence number raised, or it was learned);
// newestAt is when the newest boot was first learned; pinned is the index
// of a boot that is always kept (this member's own current boot), or -1.
// The newest boot is always kept. Of the others, one is kept, the
// predecessor: the one touched last (the higher boot on a tie), and only
// while now − max(touched, newestAt) ≤ grace. Retain returns whether each
// boot is kept.
//
// [Spec §3] State is keyed by (node, boot), and a rebooted node starts at
// seq 1 under a new boot (§5.3); the specification says nothing of old
// boots. An older boot of a node that has a newer one belongs to an
// incarnation that restarted and publishes no more: once its last sequence
// numbers had time to spread (grace), nobody needs it in the vector. An old
// incarnation that keeps publishing (two processes with one name, or a
// forged newer boot) keeps being touched and stays while it does.
func Retain(boots []uint64, touched []time.Duration, newestAt, now, grace time.Duration, pinned int) []bool {
	keep := make([]bool, len(boots))
	retainInto(keep, boots, touched, newestAt, now, grace, pinned)
	return keep
}

func retainInto(keep []bool, boots []uint64, touched []time.Duration, newestAt, now, grace time.Duration, pinned int) {
	n := len(boots)
	if n == 0 {
		return
	}
	keep[n-1] = true
	if pinned >= 0 {
		keep[pinned] = true
	}
	pred := -1
	for i := 0; i < n-1; i++ {
		if i == pinned {
			continue
		}
		t := max(touched[i], newestAt)
		if t == never || now-t > grace {
			continue
		}
		if pred < 0 || touched[i] >= touched[pred] { // ascending boots: a tie goes to the higher
			pred = i
		}
	}
	if pred >= 0 {
		keep[pred] = true
	}
}

// touchedAt returns when pair k last changed here, or never.
func (e *Engine) touchedAt(k Key) time.Duration {
	if t, ok := e.raised[k]; ok {
		return t
	}
	return never
}

// applyRetain prunes the incarnations of node in run (its entries in the
// state, in wire order) that Retain does not keep, recording the keys to
// drop in drops. It returns the number kept.
func (e *Engine) applyRetain(now time.Duration, node Name, run []Entry, drops []Key) ([]Key, int) {
	if len(run) < 2 {
		return drops, len(run)
	}
	m := e.members[node]
	var bootsBuf [4]uint64
	var touchedBuf [4]time.Duration
	var keepBuf [4]bool
	boots, touched, keep := bootsBuf[:0], touchedBuf[:0], keepBuf[:0]
	pinned := -1
	for i, en := range run {
		boots = append(boots, en.Boot)
		touched = append(touched, e.touchedAt(Key{node, en.Boot}))
		keep = append(keep, false)
		if node == e.self && en.Boot == e.boot {
			pinned = i
		}
	}
	newestAt := never
	if m != nil {
		newestAt = m.newestAt
	}
	retainInto(keep, boots, touched, newestAt, now, e.grace, pinned)
	kept := 0
	for i, en := range run {
		if keep[i] {
			kept++
			continue
		}
		drops = append(drops, Key{node, en.Boot})
	}
	return drops, kept
}

// expire prunes superseded incarnations whose grace is over. It reports
// whether the state changed.
func (e *Engine) expire(now time.Duration) bool {
	if len(e.multi) == 0 {
		return false
	}
	var drops []Key
	for node := range e.multi {
		run := e.runOf(node)
		var kept int
		drops, kept = e.applyRetain(now, node, run, drops)
		if kept < 2 {
			delete(e.multi, node)
		}
	}
	e.dropPairs(drops)
	return len(drops) > 0
}

// reshaped records that pairs or members were added or removed, so that
// aligned is rebuilt when next read.
func (e *Engine) reshaped() { e.alignedOK = false }

// membersOfState returns the member of each pair of the state, in the
// state's order (aligned). The slice is the engine's: valid until the next
// change of the state's pairs or of the members.
func (e *Engine) membersOfState() []*member {
	if !e.alignedOK {
		es := e.state.entries
		ms := e.aligned[:0]
		for i, en := range es {
			if i > 0 && en.Node == es[i-1].Node {
				ms = append(ms, ms[i-1])
				continue
			}
			ms = append(ms, e.members[en.Node])
		}
		clear(ms[len(ms):cap(ms)]) // no member kept alive by a shorter state
		e.aligned, e.alignedOK = ms, true
	}
	return e.aligned
}

// runOf returns the state entries of node (a slice of the state).
func (e *Engine) runOf(node Name) []Entry {
	es := e.state.entries
	i, _ := slices.BinarySearchFunc(es, node, func(en Entry, n Name) int { return CompareNames(en.Node, n) })
	j := i
	for j < len(es) && es[j].Node == node {
		j++
	}
	return es[i:j]
}

// dropPairs removes pruned pairs from the state and counts them.
func (e *Engine) dropPairs(drops []Key) {
	if len(drops) == 0 {
		return
	}
	for _, k := range drops {
		e.state.Set(k.Node, k.Boot, 0)
		delete(e.raised, k)
	}
	e.reshaped()
	e.stats.Pruned += uint64(len(drops))
}

// admit decides whether a node name not in the vector may enter it now:
// this member's own name always may; others take a token from the
// admission bucket, and when the table is full, need a name that can be
// evicted for them (see evict). It counts refusals.
func (e *Engine) admit(now time.Duration, node Name) bool {
	if node == e.self {
		return true
	}
	if now > e.refill {
		e.tokens = min(e.admitBurst, e.tokens+e.admitRate*(now-e.refill).Seconds())
		e.refill = now
	}
	if e.tokens >= e.admitBurst {
		e.burstFrom, e.burstSwept = e.admitted, false // a new burst begins with this name
	}
	if e.tokens < 1 {
		e.stats.RefusedMembers++
		return false
	}
	if e.others() >= e.maxMembers+e.pendingEvict {
		if e.unestablished-e.pendingEvict <= 0 {
			e.stats.RefusedMembers++
			return false
		}
		e.pendingEvict++
	}
	e.tokens--
	return true
}

// others is the number of node names in the table, this member's not
// counted.
func (e *Engine) others() int {
	if _, ok := e.members[e.self]; ok {
		return len(e.members) - 1
	}
	return len(e.members)
}

// addMember records a node name that entered the vector now.
func (e *Engine) addMember(now time.Duration, node Name, established bool) *member {
	m := &member{order: e.admitted, newestAt: now, established: established || node == e.self}
	e.admitted++
	e.members[node] = m
	e.reshaped()
	if !m.established {
		e.unestablished++
		// Admitted in a burst: the bucket is more than quietAdmissions
		// below full after this name's token was taken. The burst's
		// first names, admitted before it showed, go on probation with
		// it: a flood's first quietAdmissions fake names would otherwise
		// travel in every vector for good (docs/engine.md, "Probation").
		if e.tokens < e.admitBurst-quietAdmissions {
			m.probation = true
			e.probation++
			if !e.burstSwept {
				e.burstSwept = true
				for _, o := range e.members {
					if o.order >= e.burstFrom && !o.established && !o.probation {
						o.probation = true
						e.probation++
					}
				}
			}
		}
	}
	return m
}

// withheld reports whether the pairs of the node whose member is m (nil if
// it has none) are left out of the vectors this member sends, and whether a
// received vector lacking them is no evidence of being outdated: the node is
// on probation, admitted during a burst of new names (the admission bucket
// more than quietAdmissions below full, or the burst's first names once it
// showed) and not established since (it never changed, and was not heard
// again at least half a periodic interval later). A flood of fake names,
// each heard once, thus stays in the local state (its Updates delivered,
// evictable first) but never travels on in this member's vectors, which keep
// their quiet size; a real member admitted on probation is established by
// its next publication or, if it publishes no more, by its own next periodic
// Sync Interest, and until then reaches the group by its own Sync Interests
// only (docs/decisions.md, "A flood of fake names").
func (e *Engine) withheld(m *member) bool {
	return e.probation > 0 && m != nil && m.probation
}

// noEvidence reports whether a received vector that is behind on a pair of
// node, whose member is m (lacking it, if lacking), is no evidence that its
// sender needs the pair (never so for this member's own pair): node is
// withheld here (this member would not send it either); or this member
// holds names on probation, so a flood is recent, and lacking a name first
// heard here within the last periodic interval means nothing, as its sender
// may hold that name on probation. Without the second rule two members
// whose bursts split at different names would answer each other's vectors
// for ever (svstest's 400-member group did).
func (e *Engine) noEvidence(node Name, m *member, lacking bool) bool {
	if e.probation == 0 || node == e.self {
		return false // a vector lacking the own pair always counts
	}
	if m == nil {
		return false
	}
	return m.probation || (lacking && e.now-m.newestAt < e.periodic)
}

// reheard establishes node if it is on probation and was first heard at
// least half a periodic interval ago: a member that published once and
// then no more is heard again with its own periodic Sync Interest. (A
// forger who keeps sending a name for that long establishes it too; the
// admission bucket and MaxMembers still bound how many.)
func (e *Engine) reheard(now time.Duration, node Name) {
	if m := e.members[node]; m != nil && m.probation && now-m.newestAt >= e.periodic/2 {
		e.establish(m)
	}
}

// establish marks a known node as having changed since it was first heard.
func (e *Engine) establish(m *member) {
	if m != nil && !m.established {
		m.established = true
		e.unestablished--
		if m.probation {
			m.probation = false
			e.probation--
		}
	}
}

// evict removes the pendingEvict oldest names that are not established,
// with all their pairs: they make room for the names admitted over
// MaxMembers by the event that just ended.
func (e *Engine) evict() {
	if e.pendingEvict == 0 {
		return
	}
	type cand struct {
		node  Name
		order uint64
	}
	var cs []cand
	for n, m := range e.members {
		if !m.established && n != e.self {
			cs = append(cs, cand{n, m.order})
		}
	}
	slices.SortFunc(cs, func(a, b cand) int { return cmpUint(a.order, b.order) })
	cs = cs[:min(len(cs), e.pendingEvict)]
	e.pendingEvict = 0
	if len(cs) == 0 {
		return
	}
	gone := make(map[Name]bool, len(cs))
	for _, c := range cs {
		gone[c.node] = true
		if e.members[c.node].probation {
			e.probation--
		}
		delete(e.members, c.node)
		delete(e.multi, c.node)
		e.unestablished--
	}
	kept := e.state.entries[:0]
	for _, en := range e.state.entries {
		if gone[en.Node] {
			delete(e.raised, Key{en.Node, en.Boot})
			continue
		}
		kept = append(kept, en)
	}
	clear(e.state.entries[len(kept):])
	e.state.entries = kept
	e.state.index = nil
	e.reshaped()
	e.stats.EvictedMembers += uint64(len(cs))
}
