// Package metrics exports a node's figures to Prometheus: the sync groups'
// counters and Sync latency histogram, the publication layers' counters
// and their fetch duration and delivery latency histograms, the
// forwarder's counters and its faces', the build, and the Go process and
// runtime.
//
// Conventions (node_exporter's and coredns's):
//
//   - Every metric is named <namespace>_<subsystem>_<name>_<unit>, with the
//     namespace ndnsvs, subsystems sync, publications, forwarder and face,
//     units in the name (_seconds, _bytes; _total for counters), and is
//     listed in docs/metrics.md.
//   - A private registry (Registry), never the global one: a program that
//     embeds a node does not get its metrics mixed with its own.
//   - Collectors read at scrape time: the svs library and the forwarder
//     keep their own counters (svs.Stats, svs.DataStats, fw.Counters),
//     which Collect turns into constant metrics. Nothing is updated per
//     packet here except the histograms (Sync latency, fetch duration,
//     delivery latency), which the svs.Observer feeds.
//   - Label sets are bounded: group (configured), face (the forwarder's
//     faces, bounded by faces.limits), reason and direction (fixed sets);
//     per-member series only when asked for (PerMember).
//   - Histogram buckets are defined once, here (SyncLatencyBuckets,
//     FetchDurationBuckets, DeliveryLatencyBuckets).
//
// The svs library never imports Prometheus; this package adapts it.
package metrics
