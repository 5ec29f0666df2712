package metrics

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// fakeGroup is a Group whose figures the test sets.
type fakeGroup struct {
	mu      sync.Mutex
	stats   svs.Stats
	status  svs.Status
	members []svs.Member
	calls   int
}

func (g *fakeGroup) Stats() svs.Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	return g.stats
}

func (g *fakeGroup) Status() svs.Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

func (g *fakeGroup) Members() []svs.Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]svs.Member(nil), g.members...)
}

// fakeForwarder is a Forwarder whose figures the test sets.
type fakeForwarder struct {
	counters fw.Counters
	faces    []fw.FaceInfo
}

func (f *fakeForwarder) Counters() fw.Counters { return f.counters }
func (f *fakeForwarder) Faces() []fw.FaceInfo  { return f.faces }

func coreName(t testing.TB, uri string) core.Name {
	t.Helper()
	n, err := enc.NameFromStr(uri)
	if err != nil {
		t.Fatal(err)
	}
	return wire.NameToCore(n)
}

func newTestGroup(t testing.TB) *fakeGroup {
	st := svs.Stats{
		Sent: 10, SendErrors: 1, TimeAhead: 2, Received: 50, InboxDropped: 3,
		Malformed: 4, Invalid: 5, Ignored: 6, Updates: 7, News: 8, NewsUntimed: 2, NewsNegative: 1,
		Engine: core.Stats{IgnoredFutureBoot: 9, Suppressions: 11, Suppressed: 12, Dropped: 13,
			Published: 14, Partial: 15, RefusedMembers: 16, EvictedMembers: 17},
	}
	st.SentBy[svs.SentPublication] = 4
	st.SentBy[svs.SentPeriodic] = 3
	st.SentBy[svs.SentSuppressionReply] = 2
	st.SentBy[svs.SentAnnounce] = 1
	return &fakeGroup{
		stats:  st,
		status: svs.Status{Phase: core.Suppression, Members: 3, VectorBytes: 120, MaxVectorBytes: 8600},
		members: []svs.Member{
			{Node: coreName(t, "/a"), Boot: 100, Seq: 5, LastHeard: time.Unix(1700000000, 500_000_000)},
			{Node: coreName(t, "/b"), Boot: 200, Seq: 9},
		},
	}
}

func newTestForwarder() *fakeForwarder {
	return &fakeForwarder{
		counters: fw.Counters{
			PITEntries: 3, CSEntries: 4, InInterests: 100, OutInterests: 90, InData: 80, OutData: 70,
			SatisfiedInterests: 60, UnsatisfiedInterests: 5, CSHits: 6, CSMisses: 7, MalformedFrames: 8,
			QueueDrops: 9, DropsOverMTU: 10, DropsNoRoute: 11, DropsFaceQueue: 12, MgmtDropped: 13, MgmtRefused: 14,
			OnDemandFaces: 2, OnDemandRefused: 15, OnDemandEvicted: 16, Unsolicited: 17, StreamFaces: 1,
			StreamsRefused: 18, ReassemblyBytes: 1500, ReassemblyDrops: 19, NacksDropped: 20, NetSendDrops: 21,
		},
		faces: []fw.FaceInfo{
			{ID: 1, Remote: "internal://", Local: "internal://", Scope: "local", LinkType: "point-to-point",
				InInterests: 1, InData: 2, OutInterests: 3, OutData: 4, InBytes: 500, OutBytes: 600, Dropped: 1},
			{ID: 260, Remote: "udp4://10.0.0.2:6363", Local: "udp4://10.0.0.1:6363", Scope: "non-local", LinkType: "point-to-point",
				InInterests: 5, InData: 6, OutInterests: 7, OutData: 8, InBytes: 700, OutBytes: 800, Malformed: 2},
		},
	}
}

func newTestRegistry(t testing.TB, perMember bool) (*Registry, *fakeGroup) {
	t.Helper()
	r, err := New(Options{PerMember: perMember, Forwarder: newTestForwarder()})
	if err != nil {
		t.Fatal(err)
	}
	g := newTestGroup(t)
	r.AddGroup("/g", g)
	return r, g
}

// Every sync figure lands in the series docs/metrics.md names, with its
// labels and value.
func TestSyncCollector(t *testing.T) {
	r, _ := newTestRegistry(t, true)
	want := `
# HELP ndnsvs_sync_interests_sent_total Sync Interests sent, by reason: publication, periodic, suppression_reply, announce (start-up and face back up).
# TYPE ndnsvs_sync_interests_sent_total counter
ndnsvs_sync_interests_sent_total{group="/g",reason="announce"} 1
ndnsvs_sync_interests_sent_total{group="/g",reason="periodic"} 3
ndnsvs_sync_interests_sent_total{group="/g",reason="publication"} 4
ndnsvs_sync_interests_sent_total{group="/g",reason="suppression_reply"} 2
# HELP ndnsvs_sync_interests_received_total Sync Interests handed to the member; each ends dropped (ndnsvs_sync_interests_dropped_total) or processed.
# TYPE ndnsvs_sync_interests_received_total counter
ndnsvs_sync_interests_received_total{group="/g"} 53
# HELP ndnsvs_sync_interests_dropped_total Received Sync Interests dropped, by reason: malformed, invalid (rejected by the validator), future_boot (a bootstrap time over 24 h ahead), inbox_full (the member fell behind, or the packet was too large).
# TYPE ndnsvs_sync_interests_dropped_total counter
ndnsvs_sync_interests_dropped_total{group="/g",reason="future_boot"} 9
ndnsvs_sync_interests_dropped_total{group="/g",reason="inbox_full"} 3
ndnsvs_sync_interests_dropped_total{group="/g",reason="invalid"} 5
ndnsvs_sync_interests_dropped_total{group="/g",reason="malformed"} 4
# HELP ndnsvs_sync_interests_suppressed_total Suppression timers that fired without sending: other members had already answered.
# TYPE ndnsvs_sync_interests_suppressed_total counter
ndnsvs_sync_interests_suppressed_total{group="/g"} 12
# HELP ndnsvs_sync_latency_negative_total Received vectors with news whose SignatureTime was after their arrival (clock offset between the machines); not in the latency histogram.
# TYPE ndnsvs_sync_latency_negative_total counter
ndnsvs_sync_latency_negative_total{group="/g"} 1
# HELP ndnsvs_sync_latency_untimed_total Received vectors with news whose State Vector Data had no SignatureTime (ndnd v1.5.3, NDNts): no latency measured.
# TYPE ndnsvs_sync_latency_untimed_total counter
ndnsvs_sync_latency_untimed_total{group="/g"} 2
# HELP ndnsvs_sync_members Node names in the member's state vector, its own included once it has published.
# TYPE ndnsvs_sync_members gauge
ndnsvs_sync_members{group="/g"} 3
# HELP ndnsvs_sync_vector_bytes Encoded size of the whole local state vector (StateVector TLV).
# TYPE ndnsvs_sync_vector_bytes gauge
ndnsvs_sync_vector_bytes{group="/g"} 120
# HELP ndnsvs_sync_vector_budget_bytes Largest state vector a Sync Interest has room for; above it Sync Interests carry part of the vector.
# TYPE ndnsvs_sync_vector_budget_bytes gauge
ndnsvs_sync_vector_budget_bytes{group="/g"} 8600
# HELP ndnsvs_sync_phase The member's timer phase: 1 for the current one (steady or suppression), 0 for the other.
# TYPE ndnsvs_sync_phase gauge
ndnsvs_sync_phase{group="/g",phase="steady"} 0
ndnsvs_sync_phase{group="/g",phase="suppression"} 1
# HELP ndnsvs_sync_member_seq Latest sequence number of each (member, boot) pair of the vector (only with metrics.per_member).
# TYPE ndnsvs_sync_member_seq gauge
ndnsvs_sync_member_seq{boot="100",group="/g",member="/a"} 5
ndnsvs_sync_member_seq{boot="200",group="/g",member="/b"} 9
# HELP ndnsvs_sync_member_last_heard_timestamp_seconds When this node last learned a new sequence number of each (member, boot) pair, or its own last publication, in Unix seconds (only with metrics.per_member; absent until first heard).
# TYPE ndnsvs_sync_member_last_heard_timestamp_seconds gauge
ndnsvs_sync_member_last_heard_timestamp_seconds{boot="100",group="/g",member="/a"} 1.7000000005e+09
`
	names := []string{
		"ndnsvs_sync_interests_sent_total", "ndnsvs_sync_interests_received_total",
		"ndnsvs_sync_interests_dropped_total", "ndnsvs_sync_interests_suppressed_total",
		"ndnsvs_sync_latency_negative_total", "ndnsvs_sync_latency_untimed_total", "ndnsvs_sync_members",
		"ndnsvs_sync_vector_bytes", "ndnsvs_sync_vector_budget_bytes", "ndnsvs_sync_phase",
		"ndnsvs_sync_member_seq", "ndnsvs_sync_member_last_heard_timestamp_seconds",
	}
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// The other counters, by value.
	for name, v := range map[string]float64{
		"ndnsvs_sync_interest_send_errors_total":      1,
		"ndnsvs_sync_interests_sent_time_ahead_total": 2,
		"ndnsvs_sync_suppressions_total":              11,
		"ndnsvs_sync_outdated_vectors_ignored_total":  13,
		"ndnsvs_sync_publications_total":              14,
		"ndnsvs_sync_updates_total":                   7,
		"ndnsvs_sync_vectors_with_news_total":         8,
		"ndnsvs_sync_partial_interests_total":         15,
		"ndnsvs_sync_members_refused_total":           16,
		"ndnsvs_sync_members_evicted_total":           17,
		"ndnsvs_sync_frames_ignored_total":            6,
	} {
		if got := gathered(t, r, name, nil); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
}

// gathered returns the value of the one series of name whose labels
// include want.
func gathered(t testing.TB, r *Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found []float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			found = append(found, value(m))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d series", name, want, len(found))
	}
	return found[0]
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// Per-member series only when asked for: by default the series do not
// grow with the group.
func TestPerMemberOff(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	n, err := testutil.GatherAndCount(r.Gatherer(), "ndnsvs_sync_member_seq", "ndnsvs_sync_member_last_heard_timestamp_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d per-member series with PerMember off", n)
	}
	if n, _ := testutil.GatherAndCount(r.Gatherer(), "ndnsvs_sync_members"); n != 1 {
		t.Errorf("ndnsvs_sync_members: %d series", n)
	}
}

func TestForwarderCollector(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	want := `
# HELP ndnsvs_forwarder_pit_entries Entries in the Pending Interest Table, all forwarding threads.
# TYPE ndnsvs_forwarder_pit_entries gauge
ndnsvs_forwarder_pit_entries 3
# HELP ndnsvs_forwarder_cs_entries Entries in the Content Store, all forwarding threads.
# TYPE ndnsvs_forwarder_cs_entries gauge
ndnsvs_forwarder_cs_entries 4
# HELP ndnsvs_forwarder_interests_total Interests the forwarding threads received from faces (in) and sent to faces (out).
# TYPE ndnsvs_forwarder_interests_total counter
ndnsvs_forwarder_interests_total{direction="in"} 100
ndnsvs_forwarder_interests_total{direction="out"} 90
# HELP ndnsvs_forwarder_drops_total Packets the forwarder dropped, by reason: forwarding_queue_full (a forwarding thread's queue), face_queue_full (a face's send queue), no_route (an Interest with no next hop), over_mtu (a frame over a face's MTU), malformed (a frame that did not decode).
# TYPE ndnsvs_forwarder_drops_total counter
ndnsvs_forwarder_drops_total{reason="face_queue_full"} 12
ndnsvs_forwarder_drops_total{reason="forwarding_queue_full"} 9
ndnsvs_forwarder_drops_total{reason="malformed"} 8
ndnsvs_forwarder_drops_total{reason="no_route"} 11
ndnsvs_forwarder_drops_total{reason="over_mtu"} 10
# HELP ndnsvs_face_bytes_total Bytes received from (in) or sent to (out) the face, link-layer framing included.
# TYPE ndnsvs_face_bytes_total counter
ndnsvs_face_bytes_total{direction="in",face="1"} 500
ndnsvs_face_bytes_total{direction="in",face="260"} 700
ndnsvs_face_bytes_total{direction="out",face="1"} 600
ndnsvs_face_bytes_total{direction="out",face="260"} 800
# HELP ndnsvs_face_info One per face, always 1: its remote and local URIs, scope and link type.
# TYPE ndnsvs_face_info gauge
ndnsvs_face_info{face="1",link_type="point-to-point",local="internal://",remote="internal://",scope="local"} 1
ndnsvs_face_info{face="260",link_type="point-to-point",local="udp4://10.0.0.1:6363",remote="udp4://10.0.0.2:6363",scope="non-local"} 1
`
	names := []string{"ndnsvs_forwarder_pit_entries", "ndnsvs_forwarder_cs_entries", "ndnsvs_forwarder_interests_total",
		"ndnsvs_forwarder_drops_total", "ndnsvs_face_bytes_total", "ndnsvs_face_info"}
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		v      float64
	}{
		{"ndnsvs_forwarder_data_total", map[string]string{"direction": "in"}, 80},
		{"ndnsvs_forwarder_data_total", map[string]string{"direction": "out"}, 70},
		{"ndnsvs_forwarder_interests_satisfied_total", nil, 60},
		{"ndnsvs_forwarder_interests_unsatisfied_total", nil, 5},
		{"ndnsvs_forwarder_cs_lookups_total", map[string]string{"result": "hit"}, 6},
		{"ndnsvs_forwarder_cs_lookups_total", map[string]string{"result": "miss"}, 7},
		{"ndnsvs_forwarder_net_send_drops_total", nil, 21},
		{"ndnsvs_forwarder_nacks_dropped_total", nil, 20},
		{"ndnsvs_forwarder_mgmt_requests_total", map[string]string{"result": "dropped"}, 13},
		{"ndnsvs_forwarder_mgmt_requests_total", map[string]string{"result": "refused"}, 14},
		{"ndnsvs_forwarder_faces", map[string]string{"kind": "on_demand"}, 2},
		{"ndnsvs_forwarder_faces", map[string]string{"kind": "stream"}, 1},
		{"ndnsvs_forwarder_faces_refused_total", map[string]string{"kind": "on_demand"}, 15},
		{"ndnsvs_forwarder_faces_refused_total", map[string]string{"kind": "stream"}, 18},
		{"ndnsvs_forwarder_on_demand_faces_evicted_total", nil, 16},
		{"ndnsvs_forwarder_unsolicited_datagrams_total", nil, 17},
		{"ndnsvs_forwarder_reassembly_bytes", nil, 1500},
		{"ndnsvs_forwarder_reassembly_drops_total", nil, 19},
		{"ndnsvs_face_packets_total", map[string]string{"face": "260", "direction": "in", "type": "interest"}, 5},
		{"ndnsvs_face_packets_total", map[string]string{"face": "260", "direction": "in", "type": "data"}, 6},
		{"ndnsvs_face_packets_total", map[string]string{"face": "260", "direction": "out", "type": "interest"}, 7},
		{"ndnsvs_face_packets_total", map[string]string{"face": "260", "direction": "out", "type": "data"}, 8},
		{"ndnsvs_face_dropped_total", map[string]string{"face": "1"}, 1},
		{"ndnsvs_face_malformed_total", map[string]string{"face": "260"}, 2},
	} {
		if got := gathered(t, r, c.name, c.labels); got != c.v {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.v)
		}
	}
}

// The latency histogram gets what the Observer is told, in seconds, in the
// group's own series; a negative latency is not put in its first bucket.
func TestSyncLatencyHistogram(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	obs := r.Observer("/g")
	other := r.Observer("/other")
	for _, d := range []time.Duration{300 * time.Microsecond, 700 * time.Microsecond, 3 * time.Millisecond, 20 * time.Second, -2 * time.Millisecond} {
		obs.SyncLatency(d)
	}
	other.SyncLatency(time.Millisecond)
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() != "ndnsvs_sync_latency_seconds" {
			continue
		}
		if len(mf.GetMetric()) != 2 {
			t.Fatalf("%d series, want one per group", len(mf.GetMetric()))
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "/g" {
				h = m.GetHistogram()
			}
		}
	}
	if h == nil {
		t.Fatal("no histogram for /g")
	}
	if h.GetSampleCount() != 4 {
		t.Errorf("%d samples, want 4 (the negative one left out)", h.GetSampleCount())
	}
	if s := h.GetSampleSum(); s < 20.0039 || s > 20.0041 {
		t.Errorf("sum %v s", s)
	}
	cum := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		cum[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	if cum[0.0005] != 1 || cum[0.001] != 2 || cum[0.005] != 3 || cum[10] != 3 {
		t.Errorf("cumulative buckets %v", cum)
	}
	if len(h.GetBucket()) != len(SyncLatencyBuckets) {
		t.Errorf("%d buckets, want %d", len(h.GetBucket()), len(SyncLatencyBuckets))
	}
}

// Feeding the histogram allocates nothing: it runs on the member's Run
// goroutine for every vector with news.
func TestObserverAllocatesNothing(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	obs := r.Observer("/g")
	if n := testing.AllocsPerRun(1000, func() { obs.SyncLatency(1500 * time.Microsecond) }); n != 0 {
		t.Errorf("%v allocations per observation", n)
	}
}

// promlint, the linter of client_golang (what promtool check metrics runs):
// names, units, help texts, counters ending in _total.
func TestLint(t *testing.T) {
	r, _ := newTestRegistry(t, true)
	r.Observer("/g").SyncLatency(time.Millisecond)
	problems, err := testutil.GatherAndLint(r.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Every metric of this package is named ndnsvs_<subsystem>_..., and
// build_info carries the Go version.
func TestNamesAndBuildInfo(t *testing.T) {
	r, _ := newTestRegistry(t, true)
	r.Observer("/g").SyncLatency(time.Millisecond)
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	subsystems := []string{"ndnsvs_sync_", "ndnsvs_publications_", "ndnsvs_forwarder_", "ndnsvs_face_"}
	var ours int
	for _, mf := range mfs {
		name := mf.GetName()
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue
		}
		ours++
		if name == "ndnsvs_build_info" {
			labels := map[string]string{}
			for _, lp := range mf.GetMetric()[0].GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if !strings.HasPrefix(labels["goversion"], "go") || labels["version"] == "" {
				t.Errorf("build_info labels %v", labels)
			}
			continue
		}
		ok := false
		for _, p := range subsystems {
			ok = ok || strings.HasPrefix(name, p)
		}
		if !ok {
			t.Errorf("%s: not under a subsystem of %s", name, Namespace)
		}
	}
	if ours < 40 {
		t.Errorf("only %d metric families of our own", ours)
	}
}

// A face URI that is not UTF-8 cannot be a label value: that series is an
// error of the scrape, which the handler logs and counts while it serves
// every other series, instead of a panic.
func TestBadLabelValueIsAnError(t *testing.T) {
	f := newTestForwarder()
	f.faces[1].Remote = "unix:///tmp/\xff"
	r, err := New(Options{Forwarder: f})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Gatherer().Gather(); err == nil {
		t.Error("Gather: no error for a label value that is not UTF-8")
	}
	srv := httptest.NewServer(r.Handler(2, 5*time.Second))
	defer srv.Close()
	body, code := get(t, srv.URL)
	if code != http.StatusOK || !strings.Contains(body, "ndnsvs_forwarder_pit_entries 3") ||
		!strings.Contains(body, `ndnsvs_face_info{face="1"`) {
		t.Errorf("status %d; body lacks the good series:\n%.500s", code, body)
	}
	if strings.Contains(body, `face="260",link_type`) {
		t.Error("the bad face's info series was served")
	}
	body, _ = get(t, srv.URL)
	if !strings.Contains(body, `promhttp_metric_handler_errors_total{cause="gathering"} 1`) {
		t.Errorf("the error is not counted:\n%s", grep(body, "promhttp_metric_handler_errors_total"))
	}
}

func TestHandlerServesEverything(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	srv := httptest.NewServer(r.Handler(2, 5*time.Second))
	defer srv.Close()
	body, code := get(t, srv.URL)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{"ndnsvs_build_info{", "go_goroutines ", "go_gc_duration_seconds", "process_cpu_seconds_total ",
		"process_resident_memory_bytes ", "ndnsvs_sync_interests_sent_total{", "ndnsvs_forwarder_interests_total{",
		"ndnsvs_face_packets_total{", "promhttp_metric_handler_requests_total{"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics", want)
		}
	}
}

func get(t testing.TB, url string) (string, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp.StatusCode
}

func grep(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A client that accepts gzip gets the page compressed, and the same page.
func TestGzip(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	h := r.Handler(2, 5*time.Second)
	plain := httptest.NewRecorder()
	h.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "deflate, gzip;q=0.8")
	zipped := httptest.NewRecorder()
	h.ServeHTTP(zipped, req)
	if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding: %q with gzip accepted, %q without", zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// The Go and process collectors change between two scrapes: compare
	// this package's own series.
	ours := func(page string) string { return grep(page, "ndnsvs_") }
	if ours(string(body)) != ours(plain.Body.String()) || !strings.Contains(string(body), "ndnsvs_forwarder_pit_entries 3") {
		t.Errorf("the gzipped page differs:\n%.400s", body)
	}
	for _, c := range []struct {
		header string
		want   bool
	}{{"gzip", true}, {"GZIP", true}, {"br, gzip", true}, {"gzip;q=0", false}, {"gzip; q=0.0", false}, {"deflate", false}, {"", false}} {
		if got := acceptsGzip([]string{c.header}); got != c.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", c.header, got, c.want)
		}
	}
}
