package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Descriptions of the sync subsystem's scrape-time metrics. Every one is
// labelled by group (the group prefix).
var (
	syncSent = desc(subsystemSync, "interests_sent_total",
		"Sync Interests sent, by reason: publication, periodic, suppression_reply, announce (start-up and face back up).", "group", "reason")
	syncSendErrors = desc(subsystemSync, "interest_send_errors_total",
		"Sync Interests that could not be encoded or that the face refused.", "group")
	syncSentAhead = desc(subsystemSync, "interests_sent_time_ahead_total",
		"Sync Interests sent with a SignatureTime ahead of the wall clock (more than one within a millisecond): receivers measure a lower latency from them.", "group")
	syncReceived = desc(subsystemSync, "interests_received_total",
		"Sync Interests handed to the member; each ends dropped (ndnsvs_sync_interests_dropped_total) or processed.", "group")
	syncDropped = desc(subsystemSync, "interests_dropped_total",
		"Received Sync Interests dropped, by reason: malformed, invalid (rejected by the validator), future_boot (a bootstrap time over 24 h ahead), inbox_full (the member fell behind, or the packet was too large).", "group", "reason")
	syncSuppressions = desc(subsystemSync, "suppressions_total",
		"Entries into the suppression phase (an outdated vector was heard).", "group")
	syncSuppressed = desc(subsystemSync, "interests_suppressed_total",
		"Suppression timers that fired without sending: other members had already answered.", "group")
	syncOutdatedIgnored = desc(subsystemSync, "outdated_vectors_ignored_total",
		"Outdated vectors ignored in the steady phase because every pair they lacked had changed within the suppression period.", "group")
	syncPublished = desc(subsystemSync, "publications_total",
		"Sequence numbers this member published.", "group")
	syncUpdates = desc(subsystemSync, "updates_total",
		"Update ranges (new sequence numbers of other members) delivered to the application.", "group")
	syncNews = desc(subsystemSync, "vectors_with_news_total",
		"Received vectors that brought at least one new sequence number.", "group")
	syncUntimed = desc(subsystemSync, "latency_untimed_total",
		"Received vectors with news whose State Vector Data had no SignatureTime (ndnd v1.5.3, NDNts): no latency measured.", "group")
	syncNegative = desc(subsystemSync, "latency_negative_total",
		"Received vectors with news whose SignatureTime was after their arrival (clock offset between the machines); not in the latency histogram.", "group")
	syncPartial = desc(subsystemSync, "partial_interests_total",
		"Sync Interests sent with part of the state vector only (the vector is over the packet budget).", "group")
	syncRefused = desc(subsystemSync, "members_refused_total",
		"New member names not admitted to the vector (admission rate or the members bound).", "group")
	syncEvicted = desc(subsystemSync, "members_evicted_total",
		"Member names removed to make room for new ones.", "group")
	syncIgnored = desc(subsystemSync, "frames_ignored_total",
		"Frames on the member's face that were not Sync Interests of the group.", "group")
	syncMembers = desc(subsystemSync, "members",
		"Node names in the member's state vector, its own included once it has published.", "group")
	syncVectorBytes = desc(subsystemSync, "vector_bytes",
		"Encoded size of the whole local state vector (StateVector TLV).", "group")
	syncVectorBudget = desc(subsystemSync, "vector_budget_bytes",
		"Largest state vector a Sync Interest has room for; above it Sync Interests carry part of the vector.", "group")
	syncPhase = desc(subsystemSync, "phase",
		"The member's timer phase: 1 for the current one (steady or suppression), 0 for the other.", "group", "phase")

	memberSeq = desc(subsystemSync, "member_seq",
		"Latest sequence number of each (member, boot) pair of the vector (only with metrics.per_member).", "group", "member", "boot")
	memberHeard = desc(subsystemSync, "member_last_heard_timestamp_seconds",
		"When this node last learned a new sequence number of each (member, boot) pair, or its own last publication, in Unix seconds (only with metrics.per_member; absent until first heard).", "group", "member", "boot")
)

// phases are the values of the phase label.
var phases = []core.Phase{core.Steady, core.Suppression}

// syncCollector exports every group's svs.Stats, svs.Status and, with
// perMember, svs.Members, read at scrape time.
type syncCollector struct {
	perMember bool
	mu        sync.Mutex // guards groups
	groups    map[string]Group
}

func (c *syncCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		syncSent, syncSendErrors, syncSentAhead, syncReceived, syncDropped, syncSuppressions,
		syncSuppressed, syncOutdatedIgnored, syncPublished, syncUpdates, syncNews, syncUntimed,
		syncNegative, syncPartial, syncRefused, syncEvicted, syncIgnored, syncMembers,
		syncVectorBytes, syncVectorBudget, syncPhase,
	} {
		ch <- d
	}
	if c.perMember {
		ch <- memberSeq
		ch <- memberHeard
	}
}

func (c *syncCollector) Collect(ch chan<- prometheus.Metric) {
	prefixes, groups := c.groupsSnapshot()
	for i, g := range groups {
		collectGroup(ch, prefixes[i], g, c.perMember)
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	constMetric(ch, d, prometheus.CounterValue, float64(v), labels)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	constMetric(ch, d, prometheus.GaugeValue, v, labels)
}

// constMetric sends one scrape-time metric, or, for a label value that is
// not valid UTF-8 (a face URI could hold anything), an invalid metric that
// the handler logs and counts as an error while serving the rest:
// MustNewConstMetric would panic.
func constMetric(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

func collectGroup(ch chan<- prometheus.Metric, group string, g Group, perMember bool) {
	st := g.Stats()
	for r := range svs.NumSendReasons {
		counter(ch, syncSent, st.SentBy[r], group, r.String())
	}
	counter(ch, syncSendErrors, st.SendErrors, group)
	counter(ch, syncSentAhead, st.TimeAhead, group)
	counter(ch, syncReceived, st.Received+st.InboxDropped, group)
	counter(ch, syncDropped, st.Malformed, group, "malformed")
	counter(ch, syncDropped, st.Invalid, group, "invalid")
	counter(ch, syncDropped, st.Engine.IgnoredFutureBoot, group, "future_boot")
	counter(ch, syncDropped, st.InboxDropped, group, "inbox_full")
	counter(ch, syncSuppressions, st.Engine.Suppressions, group)
	counter(ch, syncSuppressed, st.Engine.Suppressed, group)
	counter(ch, syncOutdatedIgnored, st.Engine.Dropped, group)
	counter(ch, syncPublished, st.Engine.Published, group)
	counter(ch, syncUpdates, st.Updates, group)
	counter(ch, syncNews, st.News, group)
	counter(ch, syncUntimed, st.NewsUntimed, group)
	counter(ch, syncNegative, st.NewsNegative, group)
	counter(ch, syncPartial, st.Engine.Partial, group)
	counter(ch, syncRefused, st.Engine.RefusedMembers, group)
	counter(ch, syncEvicted, st.Engine.EvictedMembers, group)
	counter(ch, syncIgnored, st.Ignored, group)

	s := g.Status()
	gauge(ch, syncMembers, float64(s.Members), group)
	gauge(ch, syncVectorBytes, float64(s.VectorBytes), group)
	gauge(ch, syncVectorBudget, float64(s.MaxVectorBytes), group)
	for _, p := range phases {
		v := 0.0
		if s.Phase == p {
			v = 1
		}
		gauge(ch, syncPhase, v, group, p.String())
	}

	if !perMember {
		return
	}
	for _, m := range g.Members() {
		name := memberName(m.Node)
		boot := strconv.FormatUint(m.Boot, 10)
		gauge(ch, memberSeq, float64(m.Seq), group, name, boot)
		if !m.LastHeard.IsZero() {
			gauge(ch, memberHeard, float64(m.LastHeard.UnixNano())/1e9, group, name, boot)
		}
	}
}

// memberName is a member's node name as a URI, the member label's value.
func memberName(n core.Name) string {
	name, err := wire.CoreToName(n)
	if err != nil {
		// Cannot happen for a name the codec decoded; the raw bytes,
		// quoted, still tell members apart.
		return strconv.Quote(string(n))
	}
	return name.String()
}
