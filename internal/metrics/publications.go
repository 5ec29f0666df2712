package metrics

import (
	"cmp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ndnsvs/ndnsvs-node/svs"
)

// DataGroup is what the publications collector reads of a member with a
// publication layer (svs.Config.Data). *svs.Sync implements it; DataStats
// must be safe to call from any goroutine at any time.
type DataGroup interface {
	DataStats() svs.DataStats
}

// Descriptions of the publications subsystem: every one is labelled by
// group, and exists only for groups whose member has a publication layer.
var (
	pubPublished = desc(subsystemPublications, "published_total",
		"Own publications stored and announced (Publish).", "group")
	pubPublishErrors = desc(subsystemPublications, "publish_errors_total",
		"Own publications that failed (store error, member stopped).", "group")
	pubFetched = desc(subsystemPublications, "fetched_total",
		"Publications of other members fetched whole.", "group")
	pubAttempts = desc(subsystemPublications, "fetch_attempts_total",
		"Fetch attempts started, first attempts and retries.", "group")
	pubRetries = desc(subsystemPublications, "fetch_retries_total",
		"Fetch attempts that were retries.", "group")
	pubFailures = desc(subsystemPublications, "fetch_failures_total",
		"Failed fetch attempts (each may be retried), by reason: bad_data (did not decode, another name, failed validation, segments that do not add up), no_answer (segment Interests unanswered after their retries, Nacked, or not sent), attempt_timeout (the scheduler's attempt timeout).", "group", "reason")
	pubGivenUp = desc(subsystemPublications, "given_up_total",
		"Publications the fetch scheduler gave up (attempts, deadline, stall, superseded, overload); a range counts its size.", "group")
	pubRefused = desc(subsystemPublications, "data_refused_total",
		"Fetched Data the validator refused (forged, or signed by a key the schema does not allow for the name); each is dropped and its segment asked again.", "group")
	pubUnavailable = desc(subsystemPublications, "unavailable_total",
		"Publications their producer answered it no longer holds.", "group")
	pubMissed = desc(subsystemPublications, "missed_total",
		"Publications reported missed to the application (given up or unavailable).", "group")
	pubDelivered = desc(subsystemPublications, "delivered_total",
		"Publications released in order to the application.", "group")
	pubSubDropped = desc(subsystemPublications, "subscription_dropped_total",
		"Publications a full subscription channel dropped.", "group")
	pubServed = desc(subsystemPublications, "served_data_total",
		"Data packets sent in answer to Interests for publications (own, or cached).", "group")
	pubServeDropped = desc(subsystemPublications, "serve_dropped_total",
		"Interests for publications dropped because the server fell behind.", "group")
	pubStoreErrors = desc(subsystemPublications, "store_errors_total",
		"Failed calls to the publication store.", "group")
	pubHeldBack = desc(subsystemPublications, "held_back_total",
		"Times a producer's publications were not handed to the fetch scheduler because the delivery queue was full (a slow application).", "group")
	pubUntimed = desc(subsystemPublications, "delivery_latency_untimed_total",
		"Delivered publications whose delivery latency was not measured (announced without a SignatureTime, or untracked).", "group")
	pubNegative = desc(subsystemPublications, "delivery_latency_negative_total",
		"Delivered publications whose announcement's SignatureTime was after their delivery (clock offset); not in the latency histogram.", "group")
	pubOutstanding = desc(subsystemPublications, "fetches_outstanding",
		"Fetch attempts on the network now.", "group")
	pubWaiting = desc(subsystemPublications, "fetches_waiting_retry",
		"Publications waiting for a fetch retry.", "group")
	pubPending = desc(subsystemPublications, "fetches_pending",
		"Publications wanted and not yet started (1.8446744073709552e+19 when it saturated).", "group")
	pubProducers = desc(subsystemPublications, "producers",
		"Producers (node, boot) the fetch scheduler holds publications of.", "group")
)

// dataCollector exports every data group's svs.DataStats at scrape time.
type dataCollector struct {
	mu     sync.Mutex // guards groups
	groups map[string]DataGroup
}

func (c *dataCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		pubPublished, pubPublishErrors, pubFetched, pubAttempts, pubRetries, pubFailures,
		pubGivenUp, pubRefused, pubUnavailable, pubMissed, pubDelivered, pubSubDropped, pubServed,
		pubServeDropped, pubStoreErrors, pubHeldBack, pubUntimed, pubNegative,
		pubOutstanding, pubWaiting, pubPending, pubProducers,
	} {
		ch <- d
	}
}

func (c *dataCollector) Collect(ch chan<- prometheus.Metric) {
	for _, g := range c.snapshot() {
		collectData(ch, g.prefix, g.g.DataStats())
	}
}

type namedDataGroup struct {
	prefix string
	g      DataGroup
}

// snapshot returns the groups sorted by prefix, read without the lock held.
func (c *dataCollector) snapshot() []namedDataGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]namedDataGroup, 0, len(c.groups))
	for p, g := range c.groups {
		out = append(out, namedDataGroup{p, g})
	}
	slices.SortFunc(out, func(a, b namedDataGroup) int { return cmp.Compare(a.prefix, b.prefix) })
	return out
}

func collectData(ch chan<- prometheus.Metric, group string, st svs.DataStats) {
	f := st.Fetcher
	counter(ch, pubPublished, st.Published, group)
	counter(ch, pubPublishErrors, st.PublishErrors, group)
	counter(ch, pubFetched, st.Fetched, group)
	counter(ch, pubAttempts, f.Started, group)
	counter(ch, pubRetries, f.Retried, group)
	// FetchFailures counts every failure the fetch worker reported, bad
	// Data among them; the scheduler's own attempt timeouts are apart.
	// The two worker counters are read one after the other: a failure
	// counted in between could put BadData above FetchFailures.
	counter(ch, pubFailures, st.BadData, group, "bad_data")
	counter(ch, pubFailures, st.FetchFailures-min(st.BadData, st.FetchFailures), group, "no_answer")
	counter(ch, pubFailures, f.TimedOut, group, "attempt_timeout")
	counter(ch, pubGivenUp, f.GivenUp, group)
	counter(ch, pubRefused, st.Refused, group)
	counter(ch, pubUnavailable, st.Unavailable, group)
	counter(ch, pubMissed, st.Missed, group)
	counter(ch, pubDelivered, st.Delivered, group)
	counter(ch, pubSubDropped, st.SubDropped, group)
	counter(ch, pubServed, st.Served, group)
	counter(ch, pubServeDropped, st.ServeDropped, group)
	counter(ch, pubStoreErrors, st.StoreErrors, group)
	counter(ch, pubHeldBack, st.HeldBack, group)
	counter(ch, pubUntimed, st.DeliveredUntimed, group)
	counter(ch, pubNegative, st.DeliveredNegative, group)
	gauge(ch, pubOutstanding, float64(f.Outstanding), group)
	gauge(ch, pubWaiting, float64(f.Waiting), group)
	// Pending saturates at the largest uint64, which float64 rounds to
	// 2^64: still far above any real figure, and said in the help text.
	gauge(ch, pubPending, float64(f.Pending), group)
	gauge(ch, pubProducers, float64(f.Producers), group)
}
