package metrics

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// fakeDataGroup is a DataGroup whose figures the test sets.
type fakeDataGroup struct{ st svs.DataStats }

func (g *fakeDataGroup) DataStats() svs.DataStats { return g.st }

func newTestDataGroup() *fakeDataGroup {
	return &fakeDataGroup{st: svs.DataStats{
		Published: 1, PublishErrors: 2, Fetched: 3, FetchFailures: 9, BadData: 4, Unavailable: 5,
		Missed: 6, Delivered: 7, SubDropped: 8, Served: 10, ServeDropped: 11, StoreErrors: 12,
		HeldBack: 13, DeliveredUntimed: 14, DeliveredNegative: 15, Refused: 16,
		Fetcher: core.FetchStats{Started: 20, Retried: 21, TimedOut: 22, GivenUp: 23,
			Outstanding: 24, Waiting: 25, Pending: math.MaxUint64, Producers: 26},
	}}
}

// Every DataStats figure lands in the series docs/metrics.md names, with
// its labels and value, and only for the groups added as data groups.
func TestPublicationMetricsCollector(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	r.AddDataGroup("/d", newTestDataGroup())
	want := `
# HELP ndnsvs_publications_fetch_failures_total Failed fetch attempts (each may be retried), by reason: bad_data (did not decode, another name, failed validation, segments that do not add up), no_answer (segment Interests unanswered after their retries, Nacked, or not sent), attempt_timeout (the scheduler's attempt timeout).
# TYPE ndnsvs_publications_fetch_failures_total counter
ndnsvs_publications_fetch_failures_total{group="/d",reason="attempt_timeout"} 22
ndnsvs_publications_fetch_failures_total{group="/d",reason="bad_data"} 4
ndnsvs_publications_fetch_failures_total{group="/d",reason="no_answer"} 5
# HELP ndnsvs_publications_fetches_pending Publications wanted and not yet started (1.8446744073709552e+19 when it saturated).
# TYPE ndnsvs_publications_fetches_pending gauge
ndnsvs_publications_fetches_pending{group="/d"} 1.8446744073709552e+19
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		"ndnsvs_publications_fetch_failures_total", "ndnsvs_publications_fetches_pending"); err != nil {
		t.Error(err)
	}
	for name, v := range map[string]float64{
		"ndnsvs_publications_published_total":                 1,
		"ndnsvs_publications_publish_errors_total":            2,
		"ndnsvs_publications_fetched_total":                   3,
		"ndnsvs_publications_data_refused_total":              16,
		"ndnsvs_publications_fetch_attempts_total":            20,
		"ndnsvs_publications_fetch_retries_total":             21,
		"ndnsvs_publications_given_up_total":                  23,
		"ndnsvs_publications_unavailable_total":               5,
		"ndnsvs_publications_missed_total":                    6,
		"ndnsvs_publications_delivered_total":                 7,
		"ndnsvs_publications_subscription_dropped_total":      8,
		"ndnsvs_publications_served_data_total":               10,
		"ndnsvs_publications_serve_dropped_total":             11,
		"ndnsvs_publications_store_errors_total":              12,
		"ndnsvs_publications_held_back_total":                 13,
		"ndnsvs_publications_delivery_latency_untimed_total":  14,
		"ndnsvs_publications_delivery_latency_negative_total": 15,
		"ndnsvs_publications_fetches_outstanding":             24,
		"ndnsvs_publications_fetches_waiting_retry":           25,
		"ndnsvs_publications_producers":                       26,
	} {
		if got := gathered(t, r, name, map[string]string{"group": "/d"}); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	// The group /g has no publication layer: no series of it.
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "ndnsvs_publications_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			if g := m.GetLabel()[0].GetValue(); g != "/d" {
				t.Errorf("%s has a series of group %s", mf.GetName(), g)
			}
		}
	}
}

// A failure counted between the reads of FetchFailures and BadData cannot
// make no_answer go below zero.
func TestPublicationMetricsNoAnswerNeverNegative(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	g := newTestDataGroup()
	g.st.FetchFailures, g.st.BadData = 4, 5
	r.AddDataGroup("/d", g)
	if got := gathered(t, r, "ndnsvs_publications_fetch_failures_total", map[string]string{"reason": "no_answer"}); got != 0 {
		t.Errorf("no_answer = %v", got)
	}
}

// The data observer feeds the group's two publication histograms (and the
// Sync latency one), in seconds; negative delivery latencies stay out; the
// plain Observer makes no publication series.
func TestPublicationMetricsHistograms(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	r.Observer("/g").SyncLatency(time.Millisecond)
	obs := r.DataObserver("/d")
	obs.SyncLatency(time.Millisecond)
	for _, d := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 40 * time.Second} {
		obs.FetchDuration(d)
	}
	for _, d := range []time.Duration{2 * time.Millisecond, -time.Millisecond, 90 * time.Second} {
		obs.DeliveryLatency(d)
	}
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		if name != "ndnsvs_publications_fetch_duration_seconds" && name != "ndnsvs_publications_delivery_latency_seconds" {
			continue
		}
		seen[name] = true
		if len(mf.GetMetric()) != 1 || mf.GetMetric()[0].GetLabel()[0].GetValue() != "/d" {
			t.Fatalf("%s: %v, want one series, of /d", name, mf.GetMetric())
		}
		h := mf.GetMetric()[0].GetHistogram()
		cum := map[float64]uint64{}
		for _, b := range h.GetBucket() {
			cum[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		switch name {
		case "ndnsvs_publications_fetch_duration_seconds":
			if h.GetSampleCount() != 3 || cum[0.001] != 1 || cum[0.005] != 2 || cum[30] != 2 ||
				len(h.GetBucket()) != len(FetchDurationBuckets) || math.Abs(h.GetSampleSum()-40.004) > 1e-9 {
				t.Errorf("%s: count %d sum %v buckets %v", name, h.GetSampleCount(), h.GetSampleSum(), cum)
			}
		default:
			if h.GetSampleCount() != 2 || cum[0.002] != 1 || cum[60] != 1 ||
				len(h.GetBucket()) != len(DeliveryLatencyBuckets) || math.Abs(h.GetSampleSum()-90.002) > 1e-9 {
				t.Errorf("%s: count %d sum %v buckets %v (the negative one left out)", name, h.GetSampleCount(), h.GetSampleSum(), cum)
			}
		}
	}
	if len(seen) != 2 {
		t.Errorf("histograms found: %v", seen)
	}
	if got := gathered(t, r, "ndnsvs_sync_latency_seconds", map[string]string{"group": "/d"}); got != 1 {
		t.Errorf("Sync latency samples of /d = %v, want 1", got)
	}
}

// The publication histograms are fed on the member's Run goroutine, once
// per publication: no allocation.
func TestDataObserverAllocatesNothing(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	obs := r.DataObserver("/d")
	n := testing.AllocsPerRun(1000, func() {
		obs.FetchDuration(1500 * time.Microsecond)
		obs.DeliveryLatency(2500 * time.Microsecond)
	})
	if n != 0 {
		t.Errorf("%v allocations per observation", n)
	}
}

// promlint over the publications subsystem too.
func TestLintPublicationMetrics(t *testing.T) {
	r, _ := newTestRegistry(t, true)
	r.AddDataGroup("/d", newTestDataGroup())
	obs := r.DataObserver("/d")
	obs.FetchDuration(time.Millisecond)
	obs.DeliveryLatency(time.Millisecond)
	problems, err := testutil.GatherAndLint(r.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// dataMember is a member with a publication layer on testFwd, with a
// registry of its own (one node each), counting what OnMessage saw.
type dataMember struct {
	s   *svs.Sync
	reg *Registry

	mu   sync.Mutex
	got  int
	recv chan struct{} // notified at each Message
}

func newDataMember(t *testing.T, prefix, node string, ctx context.Context, ran *sync.WaitGroup) *dataMember {
	t.Helper()
	reg, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &dataMember{reg: reg, recv: make(chan struct{}, 1)}
	face := fwtest.BareFace(t, testFwd)
	registered := make(chan error, 2)
	s, err := svs.NewOnFace(face, svs.Config{
		Group: fwtest.Name(prefix),
		Node:  fwtest.Name(node),
		Register: func(p enc.Name) error {
			err := testFwd.AddRoute(p, face.FaceID(), 0, fw.OriginApp)
			registered <- err
			return err
		},
		Observer: reg.DataObserver(prefix),
		Data: &svs.DataConfig{OnMessage: func(svs.Message) {
			m.mu.Lock()
			m.got++
			m.mu.Unlock()
			select {
			case m.recv <- struct{}{}:
			default:
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.s = s
	reg.AddGroup(prefix, s)
	reg.AddDataGroup(prefix, s)
	ran.Add(1)
	go func() { defer ran.Done(); _ = s.Run(ctx) }()
	// Run registers the group, then the per-node prefix.
	for range 2 {
		select {
		case err := <-registered:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("member not registered")
		}
	}
	return m
}

func (m *dataMember) received() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got
}

// Real members on the forwarder: the publications series of each node
// match the publications made and fetched, and both histograms hold one
// sample per publication.
func TestPublicationMetricsThroughForwarder(t *testing.T) {
	prefix := fmt.Sprintf("%s/g%d", testRoot, groupSeq.Add(1))
	ctx, cancel := context.WithCancel(context.Background())
	var ran sync.WaitGroup
	t.Cleanup(func() { cancel(); ran.Wait() })
	pub := newDataMember(t, prefix, prefix+"/node/pub", ctx, &ran)
	sub := newDataMember(t, prefix, prefix+"/node/sub", ctx, &ran)

	sizes := []int{1, 100, 20000, 0, 9000, 5}
	for i, n := range sizes {
		if _, err := pub.s.Publish(ctx, make([]byte, n)); err != nil {
			t.Fatalf("publication %d: %v", i, err)
		}
	}
	deadline := time.After(30 * time.Second)
	for sub.received() < len(sizes) {
		select {
		case <-sub.recv:
		case <-deadline:
			t.Fatalf("%d of %d publications delivered: %+v", sub.received(), len(sizes), sub.s.DataStats())
		}
	}
	n := float64(len(sizes))
	g := map[string]string{"group": prefix}
	for name, want := range map[string]float64{
		"ndnsvs_publications_published_total": n,
		"ndnsvs_publications_fetched_total":   0,
		"ndnsvs_publications_delivered_total": 0,
	} {
		if got := gathered(t, pub.reg, name, g); got != want {
			t.Errorf("publisher: %s = %v, want %v", name, got, want)
		}
	}
	// The publisher served every segment at least once: 1+1+3+1+2+1.
	if got := gathered(t, pub.reg, "ndnsvs_publications_served_data_total", g); got < 9 {
		t.Errorf("publisher: served %v Data, want at least 9", got)
	}
	untimed := gathered(t, sub.reg, "ndnsvs_publications_delivery_latency_untimed_total", g)
	negative := gathered(t, sub.reg, "ndnsvs_publications_delivery_latency_negative_total", g)
	for name, want := range map[string]float64{
		"ndnsvs_publications_published_total":          0,
		"ndnsvs_publications_fetched_total":            n,
		"ndnsvs_publications_delivered_total":          n,
		"ndnsvs_publications_missed_total":             0,
		"ndnsvs_publications_fetch_duration_seconds":   n,
		"ndnsvs_publications_delivery_latency_seconds": n - untimed - negative,
	} {
		if got := gathered(t, sub.reg, name, g); got != want {
			t.Errorf("receiver: %s = %v, want %v", name, got, want)
		}
	}
	// Our own codec signs every Sync Interest: nothing is untimed.
	if untimed != 0 {
		t.Errorf("receiver: %v deliveries untimed", untimed)
	}
	if got := gathered(t, sub.reg, "ndnsvs_publications_fetch_attempts_total", g); got < n {
		t.Errorf("receiver: %v attempts for %v publications", got, n)
	}
}
