package metrics

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ndnsvs/ndnsvs-node/fw"
)

// Descriptions of the forwarder and face subsystems, read in-process from
// fw.Counters and fw.Faces at scrape time.
var (
	fwPIT = desc(subsystemForwarder, "pit_entries",
		"Entries in the Pending Interest Table, all forwarding threads.")
	fwCS = desc(subsystemForwarder, "cs_entries",
		"Entries in the Content Store, all forwarding threads.")
	fwInterests = desc(subsystemForwarder, "interests_total",
		"Interests the forwarding threads received from faces (in) and sent to faces (out).", "direction")
	fwData = desc(subsystemForwarder, "data_total",
		"Data packets the forwarding threads received from faces (in) and sent to faces (out).", "direction")
	fwSatisfied = desc(subsystemForwarder, "interests_satisfied_total",
		"Interests satisfied by Data (PIT entries answered).")
	fwUnsatisfied = desc(subsystemForwarder, "interests_unsatisfied_total",
		"Interests that expired unanswered (PIT entries timed out).")
	fwCSLookups = desc(subsystemForwarder, "cs_lookups_total",
		"Content Store lookups, by result: hit or miss.", "result")
	fwDrops = desc(subsystemForwarder, "drops_total",
		"Packets the forwarder dropped, by reason: forwarding_queue_full (a forwarding thread's queue), face_queue_full (a face's send queue), no_route (an Interest with no next hop), over_mtu (a frame over a face's MTU), malformed (a frame that did not decode).", "reason")
	fwNetSendDrops = desc(subsystemForwarder, "net_send_drops_total",
		"Packets a network face did not send (full queue, over the MTU of a link that does not fragment, a write error, face down).")
	fwNacks = desc(subsystemForwarder, "nacks_dropped_total",
		"Nacks received and dropped (the forwarder takes none).")
	fwMgmt = desc(subsystemForwarder, "mgmt_requests_total",
		"Management requests not served, by result: dropped (over the rate bound) or refused (answered with an error status).", "result")
	fwFaces = desc(subsystemForwarder, "faces",
		"Faces open now, by kind: on_demand (unicast UDP made on first datagram) and stream (TCP, Unix, WebSocket connections).", "kind")
	fwFacesRefused = desc(subsystemForwarder, "faces_refused_total",
		"Faces not made at their bound, by kind: on_demand (datagrams dropped at the bound), stream (connections refused).", "kind")
	fwFacesEvicted = desc(subsystemForwarder, "on_demand_faces_evicted_total",
		"On-demand UDP faces closed to make room for new ones.")
	fwUnsolicited = desc(subsystemForwarder, "unsolicited_datagrams_total",
		"Datagrams from unknown senders on a socket that makes no faces.")
	fwReasmBytes = desc(subsystemForwarder, "reassembly_bytes",
		"Bytes of NDNLP fragments held for reassembly now.")
	fwReasmDrops = desc(subsystemForwarder, "reassembly_drops_total",
		"Fragments refused or packets given up in reassembly (over a bound, timed out, malformed).")

	faceInfo = desc(subsystemFace, "info",
		"One per face, always 1: its remote and local URIs, scope and link type.", "face", "remote", "local", "scope", "link_type")
	facePackets = desc(subsystemFace, "packets_total",
		"Packets received from (in) or sent to (out) the face, by type: interest or data.", "face", "direction", "type")
	faceBytes = desc(subsystemFace, "bytes_total",
		"Bytes received from (in) or sent to (out) the face, link-layer framing included.", "face", "direction")
	faceDropped = desc(subsystemFace, "dropped_total",
		"Packets for the face that it did not send: an application a whole queue behind, a network face's full queue, write error or packet over the MTU.", "face")
	faceMalformed = desc(subsystemFace, "malformed_total",
		"Frames from the face that did not decode (network faces).", "face")
)

// fwCollector exports the forwarder's counters and its faces'.
type fwCollector struct {
	fwd Forwarder
}

func (c *fwCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		fwPIT, fwCS, fwInterests, fwData, fwSatisfied, fwUnsatisfied, fwCSLookups, fwDrops,
		fwNetSendDrops, fwNacks, fwMgmt, fwFaces, fwFacesRefused, fwFacesEvicted, fwUnsolicited,
		fwReasmBytes, fwReasmDrops,
		faceInfo, facePackets, faceBytes, faceDropped, faceMalformed,
	} {
		ch <- d
	}
}

func (c *fwCollector) Collect(ch chan<- prometheus.Metric) {
	k := c.fwd.Counters()
	gauge(ch, fwPIT, float64(k.PITEntries))
	gauge(ch, fwCS, float64(k.CSEntries))
	counter(ch, fwInterests, k.InInterests, "in")
	counter(ch, fwInterests, k.OutInterests, "out")
	counter(ch, fwData, k.InData, "in")
	counter(ch, fwData, k.OutData, "out")
	counter(ch, fwSatisfied, k.SatisfiedInterests)
	counter(ch, fwUnsatisfied, k.UnsatisfiedInterests)
	counter(ch, fwCSLookups, k.CSHits, "hit")
	counter(ch, fwCSLookups, k.CSMisses, "miss")
	counter(ch, fwDrops, k.QueueDrops, "forwarding_queue_full")
	counter(ch, fwDrops, k.DropsFaceQueue, "face_queue_full")
	counter(ch, fwDrops, k.DropsNoRoute, "no_route")
	counter(ch, fwDrops, k.DropsOverMTU, "over_mtu")
	counter(ch, fwDrops, k.MalformedFrames, "malformed")
	counter(ch, fwNetSendDrops, k.NetSendDrops)
	counter(ch, fwNacks, k.NacksDropped)
	counter(ch, fwMgmt, k.MgmtDropped, "dropped")
	counter(ch, fwMgmt, k.MgmtRefused, "refused")
	gauge(ch, fwFaces, float64(k.OnDemandFaces), "on_demand")
	gauge(ch, fwFaces, float64(k.StreamFaces), "stream")
	counter(ch, fwFacesRefused, k.OnDemandRefused, "on_demand")
	counter(ch, fwFacesRefused, k.StreamsRefused, "stream")
	counter(ch, fwFacesEvicted, k.OnDemandEvicted)
	counter(ch, fwUnsolicited, k.Unsolicited)
	gauge(ch, fwReasmBytes, float64(k.ReassemblyBytes))
	counter(ch, fwReasmDrops, k.ReassemblyDrops)

	collectFaces(ch, c.fwd.Faces())
}

// Label pairs shared by every face series (a dto.LabelPair is not changed
// once made).
var (
	dirIn, dirOut     = labelPair("direction", "in"), labelPair("direction", "out")
	typeData, typeInt = labelPair("type", "data"), labelPair("type", "interest")
	dirs              = [2]*dto.LabelPair{dirIn, dirOut}
	packetTypes       = [2]*dto.LabelPair{typeData, typeInt} // in label-value order
)

func labelPair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: &name, Value: &value}
}

// collectFaces sends the face subsystem's series. A node may have hundreds
// of faces, nine series each, and a scrape should take milliseconds; so,
// instead of one prometheus.NewConstMetric per series (which validates and
// sorts its labels, and allocates them, each time), each face's label
// pairs are made once per scrape and shared by its series (faceMetric),
// and the series go out in the order the registry sorts them into (faces
// by ID as a string), which its sort then finds done. The registry still
// checks every series (label names, values in UTF-8, no duplicates).
func collectFaces(ch chan<- prometheus.Metric, faces []fw.FaceInfo) {
	type face struct {
		fw.FaceInfo
		id *dto.LabelPair
	}
	fs := make([]face, len(faces))
	for i, f := range faces {
		fs[i] = face{f, labelPair("face", strconv.FormatUint(f.ID, 10))}
	}
	slices.SortFunc(fs, func(a, b face) int { return strings.Compare(a.id.GetValue(), b.id.GetValue()) })

	// Every series and label list of the scrape in two allocations: their
	// number is fixed, so the slices never grow and the pointers sent stay
	// valid.
	const seriesPerFace, labelsPerFace = 1 + 4 + 2 + 1 + 1, 5 + 4*3 + 2*2 + 1 + 1
	ms := make([]faceMetric, 0, seriesPerFace*len(fs))
	ls := make([]*dto.LabelPair, 0, labelsPerFace*len(fs))
	send := func(d *prometheus.Desc, typ dto.MetricType, v float64, labels ...*dto.LabelPair) {
		at := len(ls)
		ls = append(ls, labels...)
		ms = append(ms, faceMetric{desc: d, typ: typ, value: v, labels: ls[at:len(ls):len(ls)]})
		ch <- &ms[len(ms)-1]
	}
	for _, f := range fs {
		send(faceInfo, dto.MetricType_GAUGE, 1, f.id, labelPair("link_type", f.LinkType),
			labelPair("local", f.Local), labelPair("remote", f.Remote), labelPair("scope", f.Scope))
	}
	for d, dir := range dirs {
		for _, f := range fs {
			vals := [2][2]uint64{{f.InData, f.InInterests}, {f.OutData, f.OutInterests}}
			for t, typ := range packetTypes {
				send(facePackets, dto.MetricType_COUNTER, float64(vals[d][t]), dir, f.id, typ)
			}
		}
	}
	for d, dir := range dirs {
		for _, f := range fs {
			v := f.InBytes
			if d == 1 {
				v = f.OutBytes
			}
			send(faceBytes, dto.MetricType_COUNTER, float64(v), dir, f.id)
		}
	}
	for _, f := range fs {
		send(faceDropped, dto.MetricType_COUNTER, float64(f.Dropped), f.id)
	}
	for _, f := range fs {
		send(faceMalformed, dto.MetricType_COUNTER, float64(f.Malformed), f.id)
	}
}

// faceMetric is one face series, a counter or a gauge, with its label pairs
// already in name order.
type faceMetric struct {
	desc   *prometheus.Desc
	typ    dto.MetricType
	value  float64
	labels []*dto.LabelPair
}

func (m *faceMetric) Desc() *prometheus.Desc { return m.desc }

func (m *faceMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	v := m.value
	if m.typ == dto.MetricType_GAUGE {
		out.Gauge = &dto.Gauge{Value: &v}
	} else {
		out.Counter = &dto.Counter{Value: &v}
	}
	return nil
}
