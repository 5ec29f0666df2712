package svs

import (
	"sync"
	"sync/atomic"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// Stats are a member's cumulative counters, safe to read at any time. Every
// Sync Interest the handler (or, on a bare face, the face) is given ends in
// exactly one of InboxDropped, Malformed, Invalid or Engine.Received (which
// includes Engine.IgnoredFutureBoot); those not dropped at the inbox are
// counted in Received, so Received = Malformed + Invalid + Engine.Received
// + (still queued). On a bare face, frames that are not Sync Interests of
// the group are counted in Ignored only, and frames that cannot be read
// in Received and Malformed.
type Stats struct {
	// Sent counts Sync Interests handed to the engine (ndn.Engine.Express)
	// or, on a bare face, to the face.
	Sent uint64
	// SentBy splits Sent by why each was sent, indexed by SendReason.
	SentBy [NumSendReasons]uint64
	// TimeAhead counts Sync Interests sent whose SignatureTime was ahead
	// of the wall clock (the codec makes each later than the last, so more
	// than one within a millisecond runs ahead): receivers measure a
	// lower Sync latency from them (Observer.SyncLatency).
	TimeAhead uint64
	// SendErrors counts Sync Interests that could not be encoded or that
	// the engine refused.
	SendErrors uint64
	// Received counts Sync Interests that entered the inbox.
	Received uint64
	// InboxDropped counts Sync Interests dropped because the inbox was
	// full (the Run goroutine fell behind) or the packet was over
	// wire.MaxPacketSize.
	InboxDropped uint64
	// Malformed counts received Sync Interests that did not decode:
	// malformed TLV, wrong name, bad parameters digest, vector too large.
	Malformed uint64
	// Invalid counts received Sync Interests whose State Vector Data the
	// Validator rejected.
	Invalid uint64
	// Pending counts received Sync Interests held because their Validator
	// was fetching a certificate (wire.PendingError); each is decoded
	// again when the fetch ends, and then counted as the rest are. Of
	// them, PendingDropped were dropped unanswered because MaxPending
	// others waited. So Received = Malformed + Invalid + Engine.Received
	// + PendingDropped + what is queued or held now.
	Pending, PendingDropped uint64
	// Ignored counts frames of a bare face (NewOnFace) that are not Sync
	// Interests of the group: Data, Nacks, Interests under other names.
	Ignored uint64
	// Updates counts Update ranges delivered to OnUpdate.
	Updates uint64
	// News counts received vectors that brought at least one update; of
	// them, NewsUntimed those whose State Vector Data had no
	// SignatureTime (no Sync latency measured: ndnd v1.5.3, NDNts), and
	// NewsNegative those whose SignatureTime was after their arrival
	// (clock offset between the machines; see Observer.SyncLatency).
	News, NewsUntimed, NewsNegative uint64
	// Engine are the protocol engine's counters (vectors processed,
	// ignored for a far-future bootstrap time, suppressions, ...).
	Engine core.Stats
}

// counters are written by the Run goroutine (all but received and
// inboxDropped, which the Interest handler writes) and read by Stats.
type counters struct {
	sent, sendErrors, received, inboxDropped atomic.Uint64
	malformed, invalid, updates, ignored     atomic.Uint64
	sentBy                                   [NumSendReasons]atomic.Uint64
	timeAhead, news, newsUntimed             atomic.Uint64
	newsNegative                             atomic.Uint64
	pending, pendingDropped                  atomic.Uint64

	mu     sync.Mutex
	engine core.Stats
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	eng := c.engine
	c.mu.Unlock()
	var by [NumSendReasons]uint64
	for i := range by {
		by[i] = c.sentBy[i].Load()
	}
	return Stats{
		Sent:           c.sent.Load(),
		SentBy:         by,
		TimeAhead:      c.timeAhead.Load(),
		News:           c.news.Load(),
		NewsUntimed:    c.newsUntimed.Load(),
		NewsNegative:   c.newsNegative.Load(),
		SendErrors:     c.sendErrors.Load(),
		Received:       c.received.Load(),
		InboxDropped:   c.inboxDropped.Load(),
		Malformed:      c.malformed.Load(),
		Invalid:        c.invalid.Load(),
		Pending:        c.pending.Load(),
		PendingDropped: c.pendingDropped.Load(),
		Ignored:        c.ignored.Load(),
		Updates:        c.updates.Load(),
		Engine:         eng,
	}
}

func (c *counters) setEngine(s core.Stats) {
	c.mu.Lock()
	c.engine = s
	c.mu.Unlock()
}
