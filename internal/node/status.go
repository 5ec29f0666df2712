package node

import (
	"encoding/json"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/metrics"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// StatusVersion is the version of the /status.json shape (Status). It
// grows when a field changes meaning or goes away; new fields may appear
// without it changing. docs/operations.md documents the shape.
const StatusVersion = 1

// Status is what /status.json answers and the status page shows: the
// node's groups, their members, its faces and forwarder counters, read at
// request time.
type Status struct {
	Version int       `json:"version"` // StatusVersion
	Node    string    `json:"node"`    // node.name
	Build   string    `json:"build"`   // the module version, as ndnsvs_build_info's
	Time    time.Time `json:"time"`    // when this snapshot was taken (RFC 3339)
	// Ready is /readyz's answer; Problems its reasons when not ready.
	Ready     bool            `json:"ready"`
	Problems  []string        `json:"problems"`
	Groups    []GroupStatus   `json:"groups"`
	Faces     []FaceStatus    `json:"faces"`
	Forwarder ForwarderStatus `json:"forwarder"`
}

// GroupStatus is the node's member of one sync group.
type GroupStatus struct {
	Prefix string `json:"prefix"`
	Member string `json:"member"` // this node's name in the group
	Boot   uint64 `json:"boot"`   // this member's bootstrap time (Unix seconds)
	Phase  string `json:"phase"`  // "steady" or "suppression"
	// VectorBytes is the encoded state vector's size; VectorBudgetBytes
	// the most a Sync Interest has room for.
	VectorBytes       int `json:"vector_bytes"`
	VectorBudgetBytes int `json:"vector_budget_bytes"`
	// Members are the (node, boot) pairs of the state vector, sorted by
	// name then boot.
	Members []MemberStatus `json:"members"`
	// Counters since the node started.
	Publications       uint64 `json:"publications"`
	Updates            uint64 `json:"updates"`
	SyncInterestsSent  uint64 `json:"sync_interests_sent"`
	SyncInterestsRecvd uint64 `json:"sync_interests_received"`
	VectorsWithNews    uint64 `json:"vectors_with_news"`
	// Latency is the group's Sync latency histogram (nil with metrics off,
	// which cannot happen on the listener that serves this).
	Latency *LatencyStatus `json:"latency"`
}

// MemberStatus is one (node, boot) pair of a group's state vector.
type MemberStatus struct {
	Name string `json:"name"`
	Boot uint64 `json:"boot"`
	Seq  uint64 `json:"seq"`
	// LastHeard is when this node last learned a new sequence number of
	// the pair; null if not since the node started.
	LastHeard *time.Time `json:"last_heard"`
	Self      bool       `json:"self"` // the node's own member
}

// LatencyStatus is a group's ndnsvs_sync_latency_seconds histogram, as
// Prometheus exposes it: cumulative bucket counts, the +Inf bucket being
// Count.
type LatencyStatus struct {
	Count      uint64         `json:"count"`
	SumSeconds float64        `json:"sum_seconds"`
	Buckets    []BucketStatus `json:"buckets"`
	Untimed    uint64         `json:"untimed"`  // vectors with news and no SignatureTime
	Negative   uint64         `json:"negative"` // vectors with news signed after their arrival
}

// BucketStatus is one cumulative histogram bucket.
type BucketStatus struct {
	LE    float64 `json:"le"` // upper bound, seconds
	Count uint64  `json:"count"`
}

// FaceStatus is one face of the forwarder with its counters.
type FaceStatus struct {
	ID           uint64 `json:"id"`
	Remote       string `json:"remote"`
	Local        string `json:"local"`
	Scope        string `json:"scope"`
	LinkType     string `json:"link_type"`
	InInterests  uint64 `json:"in_interests"`
	InData       uint64 `json:"in_data"`
	OutInterests uint64 `json:"out_interests"`
	OutData      uint64 `json:"out_data"`
	InBytes      uint64 `json:"in_bytes"`
	OutBytes     uint64 `json:"out_bytes"`
	Dropped      uint64 `json:"dropped"`
}

// ForwarderStatus are the forwarder's table sizes and counters.
type ForwarderStatus struct {
	PITEntries           int    `json:"pit_entries"`
	CSEntries            int    `json:"cs_entries"`
	InInterests          uint64 `json:"in_interests"`
	OutInterests         uint64 `json:"out_interests"`
	InData               uint64 `json:"in_data"`
	OutData              uint64 `json:"out_data"`
	SatisfiedInterests   uint64 `json:"satisfied_interests"`
	UnsatisfiedInterests uint64 `json:"unsatisfied_interests"`
}

// Bounds of the status endpoints: a status snapshot reads every face and
// gathers the metrics registry (for the latency histograms), as a scrape
// does, so the page and /status.json together are served at most
// statusRate times a second (bursts of statusBurst), as /metrics is. A
// status page polls every statusPollInterval.
const (
	statusRate, statusBurst = 5, 10
	statusPollInterval      = 2 * time.Second
)

// statusSource is what a status snapshot reads: the parts of a running
// node, fixed once the metrics listener starts.
type statusSource struct {
	node   string
	fwd    *fw.Forwarder
	reg    *metrics.Registry
	groups []groupMember
	health health
}

// registerStatus adds the status page (/ and /status), its assets and
// /status.json to the metrics listener's mux. startMetrics calls it with
// the groups it exports.
func (n *Node) registerStatus(mux *http.ServeMux, reg *metrics.Registry, groups []groupMember, h health) {
	src := &statusSource{node: n.name.String(), fwd: n.fwd, reg: reg, groups: groups, health: h}
	// One bound for the page and the JSON together: a client looping on
	// both gets no more snapshots than one looping on either.
	limited := metrics.RateLimit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/status.json" {
			src.serveJSON(w, r)
			return
		}
		src.servePage(w, r)
	}), statusRate, statusBurst)
	mux.Handle("GET /{$}", limited)
	mux.Handle("GET /status", limited)
	mux.Handle("GET /status.json", limited)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assetHandler()))
}

// snapshot reads the node's status now.
func (s *statusSource) snapshot() Status {
	st := Status{
		Version:  StatusVersion,
		Node:     s.node,
		Build:    buildVersion(),
		Problems: s.health.problems(false),
		Groups:   []GroupStatus{},
		Faces:    []FaceStatus{},
	}
	if st.Problems == nil {
		st.Problems = []string{}
	}
	st.Ready = len(st.Problems) == 0
	lat := s.latencies()
	for _, g := range s.groups {
		st.Groups = append(st.Groups, groupStatus(g.prefix, g.sync, s.node, lat[g.prefix]))
	}
	if s.fwd != nil {
		for _, f := range s.fwd.Faces() {
			st.Faces = append(st.Faces, FaceStatus{
				ID: f.ID, Remote: f.Remote, Local: f.Local, Scope: f.Scope, LinkType: f.LinkType,
				InInterests: f.InInterests, InData: f.InData, OutInterests: f.OutInterests, OutData: f.OutData,
				InBytes: f.InBytes, OutBytes: f.OutBytes, Dropped: f.Dropped,
			})
		}
		c := s.fwd.Counters()
		st.Forwarder = ForwarderStatus{
			PITEntries: c.PITEntries, CSEntries: c.CSEntries,
			InInterests: c.InInterests, OutInterests: c.OutInterests, InData: c.InData, OutData: c.OutData,
			SatisfiedInterests: c.SatisfiedInterests, UnsatisfiedInterests: c.UnsatisfiedInterests,
		}
	}
	// The time is taken once everything was read, so that no member was
	// heard after it (the page shows "… ago" from it).
	st.Time = time.Now().UTC()
	return st
}

// groupSource is what groupStatus reads of a member; *svs.Sync has it.
type groupSource interface {
	Stats() svs.Stats
	Status() svs.Status
	Members() []svs.Member
	Boot() uint64
}

func groupStatus(prefix string, g groupSource, self string, lat *LatencyStatus) GroupStatus {
	stats, status := g.Stats(), g.Status()
	gs := GroupStatus{
		Prefix:             prefix,
		Member:             self,
		Boot:               g.Boot(),
		Phase:              status.Phase.String(),
		VectorBytes:        status.VectorBytes,
		VectorBudgetBytes:  status.MaxVectorBytes,
		Members:            []MemberStatus{},
		Publications:       stats.Engine.Published,
		Updates:            stats.Updates,
		SyncInterestsSent:  stats.Sent,
		SyncInterestsRecvd: stats.Received + stats.InboxDropped,
		VectorsWithNews:    stats.News,
		Latency:            lat,
	}
	if lat != nil {
		lat.Untimed, lat.Negative = stats.NewsUntimed, stats.NewsNegative
	}
	for _, m := range g.Members() {
		ms := MemberStatus{Name: memberURI(m.Node), Boot: m.Boot, Seq: m.Seq}
		ms.Self = ms.Name == self && m.Boot == gs.Boot
		if !m.LastHeard.IsZero() {
			t := m.LastHeard.UTC()
			ms.LastHeard = &t
		}
		gs.Members = append(gs.Members, ms)
	}
	slices.SortFunc(gs.Members, func(a, b MemberStatus) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		switch {
		case a.Boot < b.Boot:
			return -1
		case a.Boot > b.Boot:
			return 1
		}
		return 0
	})
	return gs
}

// memberURI is a member's node name as a URI, as the metrics' member label
// writes it.
func memberURI(n core.Name) string {
	name, err := wire.CoreToName(n)
	if err != nil {
		return strconv.Quote(string(n))
	}
	return name.String()
}

// latencies reads each group's Sync latency histogram from the metrics
// registry, by group prefix. The registry is gathered whole (the
// histogram is not reachable otherwise); a failed collector leaves the
// latency out rather than failing the status.
func (s *statusSource) latencies() map[string]*LatencyStatus {
	out := map[string]*LatencyStatus{}
	if s.reg == nil {
		return out
	}
	mfs, _ := s.reg.Gatherer().Gather() // partial families are still usable
	for _, mf := range mfs {
		if mf.GetName() != metrics.Namespace+"_sync_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if group := label(m, "group"); group != "" && m.GetHistogram() != nil {
				out[group] = latencyStatus(m.GetHistogram())
			}
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func latencyStatus(h *dto.Histogram) *LatencyStatus {
	l := &LatencyStatus{Count: h.GetSampleCount(), SumSeconds: h.GetSampleSum(), Buckets: []BucketStatus{}}
	for _, b := range h.GetBucket() {
		l.Buckets = append(l.Buckets, BucketStatus{LE: b.GetUpperBound(), Count: b.GetCumulativeCount()})
	}
	return l
}

// buildVersion is the main module's version, as ndnsvs_build_info's
// version label gives it.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

func (s *statusSource) serveJSON(w http.ResponseWriter, _ *http.Request) {
	st := s.snapshot()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st) // a write error is the client gone
}
