package svs

import (
	"strings"
	"sync"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// What a member exposes for metrics and status pages, without any metrics
// library: counters in Stats, event callbacks in Observer, and snapshots
// (Status, Members) read at any time from any goroutine. The node adapts
// them to Prometheus collectors (internal/metrics); a program that does
// not want them pays a few atomic additions per packet.

// SendReason says why a Sync Interest was sent. Stats.SentBy is indexed by
// it.
type SendReason uint8

const (
	// SentPublication: Publish, PublishSeq or SetSeq raised the member's own sequence
	// number ([Spec §4.2]).
	SentPublication SendReason = iota
	// SentPeriodic: the Steady timer fired ([Spec §4.5]).
	SentPeriodic
	// SentSuppressionReply: the suppression timer fired and the vectors
	// heard meanwhile had not covered the local state ([Spec §4.5]).
	SentSuppressionReply
	// SentAnnounce: Run started, or the face came back up.
	SentAnnounce
	// NumSendReasons is the number of reasons, the length of Stats.SentBy.
	NumSendReasons
)

// String returns the reason as a metric label value: "publication",
// "periodic", "suppression_reply" or "announce".
func (r SendReason) String() string {
	switch r {
	case SentPublication:
		return "publication"
	case SentPeriodic:
		return "periodic"
	case SentSuppressionReply:
		return "suppression_reply"
	case SentAnnounce:
		return "announce"
	}
	return "unknown"
}

// Observer receives events that counters cannot carry, such as the
// latency of each vector that brought news. Every field is optional; more
// may be added, so build it with field names. The callbacks run on the
// Run goroutine, one at a time: they must return quickly, without
// blocking and without calling back into the Sync (but Stats, Status and
// Members are fine); a slow one delays the whole member, like OnUpdate.
type Observer struct {
	// SyncLatency is called once for every received Sync Interest whose
	// vector brought news (a sequence number this member did not have),
	// when its State Vector Data carries a SignatureTime. The latency is
	// the arrival time (when the Run goroutine took the packet, on this
	// machine's wall clock) minus the SignatureTime (the sender's wall
	// clock when it encoded the packet, in whole milliseconds). It is
	// therefore coarse by up to 1 ms (too large by the sub-millisecond
	// part of the send time), and wrong by the clock offset between the
	// two machines: it can be negative, and is passed on as it is (it is
	// also counted in Stats.NewsNegative). A sender encoding more than one
	// Sync Interest within a millisecond writes a SignatureTime a little
	// ahead of its clock, so that each is unique (wire.Codec); such sends
	// are counted in Stats.TimeAhead by the sender, and lower the measure.
	// Vectors without a SignatureTime (ndnd v1.5.3, NDNts) are counted in
	// Stats.NewsUntimed instead. The vector that brings news is usually
	// the publisher's own Sync Interest; when that one is lost and a later
	// vector of another member brings the news, the latency is measured
	// from that member's send, and is shorter than the true one.
	SyncLatency func(latency time.Duration)

	// FetchDuration is called, on a member with a publication layer
	// (Config.Data), for every publication fetched whole: the time from
	// the start of the attempt that completed it (its first segment
	// Interest sent) to its last segment reassembled, on this machine's
	// monotonic clock. A retry that finds its attempt still running
	// continues it, so the time is from that attempt's start. Failed
	// attempts are not timed (DataStats counts them).
	FetchDuration func(d time.Duration)
	// DeliveryLatency is called, on a member with a publication layer,
	// for every publication released in order to the application (handed
	// to the delivery goroutine for OnMessage, and to in-order
	// subscriptions; a slow OnMessage adds its queue on top): the release
	// time (this machine's wall clock) minus the SignatureTime of the
	// State Vector Data that announced the publication to this member.
	// Publication Data carry no SignatureTime (ndnd's MakeData writes
	// none), so the announcement is the publication's time: the
	// publisher signs it right after storing the publication. The same
	// caveats as SyncLatency hold (clock offset, a later vector of another
	// member when the publisher's was lost); in addition a publication
	// whose announcement had no SignatureTime, or that came after 16
	// other announcements of its producer not yet released (the member
	// remembers that many per producer), is counted in
	// DataStats.DeliveredUntimed instead, and a negative latency is passed
	// on and counted in DataStats.DeliveredNegative.
	DeliveryLatency func(latency time.Duration)
}

// Status is a member's group state at one moment.
type Status struct {
	// Phase is the engine's timer state: Steady or Suppression.
	Phase core.Phase
	// Members is the number of node names in the local state vector, this
	// member's own included once it has published.
	Members int
	// VectorBytes is the encoded size of the whole local state vector (the
	// StateVector TLV), and MaxVectorBytes the most a Sync Interest has
	// room for under Config.MaxSyncInterestSize: above it, Sync Interests
	// carry part of the vector (Stats.Engine.Partial).
	VectorBytes    int
	MaxVectorBytes int
}

// Member is one (node, boot) pair of the local state vector, with when this
// member last learned a new sequence number of it.
type Member struct {
	Node core.Name
	Boot uint64
	Seq  uint64
	// LastHeard is when this member last learned a higher Seq for the pair
	// (for its own pair: when it last published); zero if it has not since
	// Run started (the pair came from Config.InitialState). SVS Sync
	// Interests do not name their sender, so hearing a member means
	// learning of its publications, not receiving a packet from it.
	LastHeard time.Time
}

// Status returns the member's group state. It reads the last persisted
// vector and walks it once: cheap, but not for every packet.
func (s *Sync) Status() Status {
	v := s.snapshot.Load()
	st := Status{
		Phase:          core.Phase(s.phase.Load()),
		VectorBytes:    core.VectorSize(v),
		MaxVectorBytes: s.maxVec,
	}
	var last core.Name
	v.Each(func(e core.Entry) {
		// Entries are in wire order: a node's incarnations are adjacent.
		if st.Members == 0 || e.Node != last {
			st.Members++
			last = e.Node
		}
	})
	return st
}

// Members returns every pair of the local state vector, in wire order, with
// when each was last heard of. It allocates the result.
func (s *Sync) Members() []Member {
	v := s.snapshot.Load()
	out := make([]Member, 0, v.Len())
	s.heard.mu.Lock()
	defer s.heard.mu.Unlock()
	v.Each(func(e core.Entry) {
		m := Member{Node: e.Node, Boot: e.Boot, Seq: e.Seq}
		if t, ok := s.heard.at[core.Key{Node: e.Node, Boot: e.Boot}]; ok {
			m.LastHeard = time.Unix(0, t)
		}
		out = append(out, m)
	})
	// Pairs pruned or evicted from the vector leave the map here, so that
	// it stays within the vector's bound (MaxMembers) without the Run
	// goroutine having to follow the engine's removals.
	if len(s.heard.at) > len(out) {
		for k := range s.heard.at {
			if v.Get(k.Node, k.Boot) == 0 {
				delete(s.heard.at, k)
			}
		}
	}
	return out
}

// lastHeard maps each pair to when it was last raised, in Unix
// nanoseconds. Written by the Run goroutine, read by Members.
type lastHeard struct {
	mu sync.Mutex
	at map[core.Key]int64
}

// mark records that k was raised at t. A known pair costs a map assignment
// and no allocation; a new one copies its name, which otherwise shares
// one string with the whole received packet (wire.ParseSyncInterestInto).
func (h *lastHeard) mark(k core.Key, t int64) {
	h.mu.Lock()
	if h.at == nil {
		h.at = make(map[core.Key]int64)
	}
	if _, ok := h.at[k]; ok {
		h.at[k] = t
	} else {
		h.at[core.Key{Node: core.Name(strings.Clone(string(k.Node))), Boot: k.Boot}] = t
	}
	h.mu.Unlock()
}

// observeNews runs on the Run goroutine for a received Sync Interest pkt,
// taken at arrival, whose vector brought updates: it records when each
// pair was heard of and measures the Sync latency.
func (s *Sync) observeNews(pkt []byte, arrival time.Time, updates []core.Update) {
	at := arrival.UnixNano()
	for _, u := range updates {
		s.heard.mark(core.Key{Node: u.Node, Boot: u.Boot}, at)
	}
	s.ctr.news.Add(1)
	ms, ok := signatureTime(pkt)
	if s.data != nil {
		// For the delivery latency of the publications it announced
		// (dataUpdates, which carryOut runs next, takes it).
		s.data.news = newsStamp{ms: ms, timed: ok}
	}
	if !ok {
		s.ctr.newsUntimed.Add(1)
		return
	}
	// In nanoseconds; a SignatureTime beyond what int64 nanoseconds hold
	// (year 2262) is as negative as a latency gets.
	lat := time.Duration(at - int64(min(ms, maxUnixMilli))*int64(time.Millisecond))
	if lat < 0 {
		s.ctr.newsNegative.Add(1)
	}
	if s.observer.SyncLatency != nil {
		s.observer.SyncLatency(lat)
	}
}

// maxUnixMilli is the largest time in Unix milliseconds whose nanoseconds
// fit in an int64.
const maxUnixMilli = uint64(1<<63-1) / uint64(time.Millisecond)

// observeSent runs on the Run goroutine after a Sync Interest pkt was
// handed to the face: it counts it under why (and a publication as the
// member's own pair heard of), and counts it again if its
// SignatureTime is ahead of nowMs, the wall clock read after it was
// encoded (the codec writes each SignatureTime after the last one). One
// within the millisecond nowMs was read in is not counted: the codec may
// have read the clock in that millisecond too.
func (s *Sync) observeSent(pkt []byte, why SendReason, nowMs int64) {
	if why < NumSendReasons {
		s.ctr.sentBy[why].Add(1)
	}
	if why == SentPublication {
		// Every way of publishing (Publish, PublishSeq, SetSeq) ends
		// here: the member's own pair was heard of now.
		s.heard.mark(core.Key{Node: s.self, Boot: s.boot}, time.Now().UnixNano())
	}
	if ms, ok := signatureTime(pkt); ok && nowMs >= 0 && ms > uint64(nowMs) {
		s.ctr.timeAhead.Add(1)
	}
}

// tickReason is why the engine would send at its next timer expiry.
func (s *Sync) tickReason() SendReason {
	if s.eng.Phase() == core.Suppression {
		return SentSuppressionReply
	}
	return SentPeriodic
}
