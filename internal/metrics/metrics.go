package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
)

// Namespace is the first part of every metric name this package exports.
const Namespace = "ndnsvs"

// Subsystems, the second part of metric names.
const (
	subsystemSync      = "sync"
	subsystemForwarder = "forwarder"
	subsystemFace      = "face"
	// subsystemPublications: the publication layer of members that have
	// one (group[i].cache).
	subsystemPublications = "publications"
)

// SyncLatencyBuckets are the upper bounds (seconds) of the Sync latency
// histogram: from half a millisecond (one machine, or a LAN: the
// SignatureTime's resolution is 1 ms) to 10 s (a member that was cut off
// and hears of a publication at the next periodic Sync Interest, 30 s by
// default, lands in +Inf).
var SyncLatencyBuckets = []float64{
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
}

// FetchDurationBuckets are the upper bounds (seconds) of the publication
// fetch duration histogram: from half a millisecond (a one-segment
// publication from this machine) to 30 s (a publication of many segments
// over a slow link; a segment asked again waits at least 600 ms).
var FetchDurationBuckets = []float64{
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30,
}

// DeliveryLatencyBuckets are the upper bounds (seconds) of the delivery
// latency histogram: the Sync latency's range and fetch retries on top (a
// retry waits at least 600 ms; the scheduler backs off up to seconds), to
// 60 s.
var DeliveryLatencyBuckets = []float64{
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60,
}

// Group is what the collectors read of a node's member of one sync group.
// *svs.Sync implements it; each method must be safe to call from any
// goroutine at any time.
type Group interface {
	Stats() svs.Stats
	Status() svs.Status
	Members() []svs.Member
}

// Forwarder is what the collectors read of the forwarder. *fw.Forwarder
// implements it.
type Forwarder interface {
	Counters() fw.Counters
	Faces() []fw.FaceInfo
}

// Options configure a Registry.
type Options struct {
	// PerMember adds the per-member series (ndnsvs_sync_member_*): one per
	// (member, incarnation) of each group, so their number grows with the
	// groups. Off by default.
	PerMember bool
	// Forwarder, if set, is exported under the forwarder and face
	// subsystems.
	Forwarder Forwarder
	// Logger receives the errors of scrapes (a collector that failed).
	// nil discards them.
	Logger *slog.Logger
}

// Registry holds a node's metrics: a private Prometheus registry with the
// sync, forwarder, build, process and Go runtime collectors. It is safe for
// concurrent use.
type Registry struct {
	reg     *prometheus.Registry
	log     *slog.Logger
	latency *prometheus.HistogramVec
	fetch   *prometheus.HistogramVec
	deliver *prometheus.HistogramVec
	sync    *syncCollector
	data    *dataCollector
}

// New returns a Registry with the forwarder (if opts.Forwarder is set),
// build, process and Go runtime collectors registered, and no group yet.
func New(opts Options) (*Registry, error) {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		log: opts.Logger,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Subsystem: subsystemSync,
			Name:      "latency_seconds",
			Help:      "Time from the signing of a received Sync Interest that brought news (its SignatureTime) to its arrival, per group; only vectors that carry a SignatureTime, and not negative ones (see ndnsvs_sync_latency_untimed_total and ndnsvs_sync_latency_negative_total).",
			Buckets:   SyncLatencyBuckets,
		}, []string{"group"}),
		fetch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Subsystem: subsystemPublications,
			Name:      "fetch_duration_seconds",
			Help:      "Time from the start of the fetch attempt that completed a publication of another member to its last segment reassembled, per group.",
			Buckets:   FetchDurationBuckets,
		}, []string{"group"}),
		deliver: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Subsystem: subsystemPublications,
			Name:      "delivery_latency_seconds",
			Help:      "Time from the SignatureTime of the Sync Interest that announced a publication to its release in order to the application, per group; not untimed or negative ones (see ndnsvs_publications_delivery_latency_untimed_total and ndnsvs_publications_delivery_latency_negative_total).",
			Buckets:   DeliveryLatencyBuckets,
		}, []string{"group"}),
		sync: &syncCollector{perMember: opts.PerMember, groups: map[string]Group{}},
		data: &dataCollector{groups: map[string]DataGroup{}},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	cs := []prometheus.Collector{
		r.latency,
		r.fetch,
		r.deliver,
		r.sync,
		r.data,
		newBuildInfo(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if opts.Forwarder != nil {
		cs = append(cs, &fwCollector{fwd: opts.Forwarder})
	}
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return r, nil
}

// Observer returns the svs.Observer to put in the svs.Config of the member
// of group: it feeds the group's Sync latency histogram. The histogram of
// the group is made here, once, so that an observation does not look up a
// label or allocate. Negative latencies (clock offset between machines)
// are left out of the histogram: svs counts them (Stats.NewsNegative,
// exported as ndnsvs_sync_latency_negative_total), and a histogram's first
// bucket would hide them among the fastest.
func (r *Registry) Observer(group string) svs.Observer {
	h := r.latency.WithLabelValues(group)
	return svs.Observer{SyncLatency: func(d time.Duration) {
		if d >= 0 {
			h.Observe(d.Seconds())
		}
	}}
}

// DataObserver is Observer for the member of group with a publication
// layer: it feeds the Sync latency histogram and the group's publication
// fetch duration and delivery latency histograms, made here so that an
// observation neither looks up a label nor allocates. Negative delivery
// latencies are left out, as negative Sync latencies are (svs counts them
// in DataStats.DeliveredNegative). Call it only for such members: the
// histograms of the group exist from here on, empty until fed.
func (r *Registry) DataObserver(group string) svs.Observer {
	obs := r.Observer(group)
	f := r.fetch.WithLabelValues(group)
	d := r.deliver.WithLabelValues(group)
	obs.FetchDuration = func(t time.Duration) {
		if t >= 0 {
			f.Observe(t.Seconds())
		}
	}
	obs.DeliveryLatency = func(t time.Duration) {
		if t >= 0 {
			d.Observe(t.Seconds())
		}
	}
	return obs
}

// AddDataGroup exports the publication layer of g, the member of the sync
// group prefix, under the publications subsystem. A second AddDataGroup
// for the same prefix replaces the first.
func (r *Registry) AddDataGroup(prefix string, g DataGroup) {
	r.data.mu.Lock()
	r.data.groups[prefix] = g
	r.data.mu.Unlock()
}

// AddGroup exports the member g of the sync group prefix. A second
// AddGroup for the same prefix replaces the first.
func (r *Registry) AddGroup(prefix string, g Group) {
	r.sync.mu.Lock()
	r.sync.groups[prefix] = g
	r.sync.mu.Unlock()
}

// Gatherer returns the private registry, for tests and for a program that
// serves it its own way.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the registry in the Prometheus exposition formats, with
// node_exporter's settings: at most maxInFlight scrapes at once (more get
// 503), each bounded by timeout (then 503), and a collector's error logged
// and counted (promhttp_metric_handler_errors_total) while the rest is
// still served; gzip for clients that accept it. The scrapes themselves are counted in
// promhttp_metric_handler_requests_total.
func (r *Registry) Handler(maxInFlight int, timeout time.Duration) http.Handler {
	h := promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		ErrorLog:            slogPrinter{r.log},
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            r.reg,
		MaxRequestsInFlight: maxInFlight,
		Timeout:             timeout,
		DisableCompression:  true, // withGzip compresses, faster
	})
	return promhttp.InstrumentMetricHandler(r.reg, withGzip(h))
}

// slogPrinter adapts a slog.Logger to promhttp's Logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("metrics: scrape", "err", fmt.Sprint(v...))
}

// desc builds a metric description under Namespace.
func desc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, subsystem, name), help, labels, nil)
}

// groupsSnapshot returns the groups, sorted by prefix, so that a scrape
// reads each once without holding the lock while it does.
func (c *syncCollector) groupsSnapshot() ([]string, []Group) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefixes := make([]string, 0, len(c.groups))
	for p := range c.groups {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	gs := make([]Group, len(prefixes))
	for i, p := range prefixes {
		gs[i] = c.groups[p]
	}
	return prefixes, gs
}
