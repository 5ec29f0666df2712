package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	dto "github.com/prometheus/client_model/go"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Real group members on a real in-process forwarder: the figures the
// collectors export against what the test measures itself, and what the
// metrics cost.

// One forwarder serves the package's tests (ndnd's globals allow one per
// process); every test group is under testRoot, which is multicast.
var testFwd *fw.Forwarder

const testRoot = "/metrics-test"

func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(stormEnv); ok {
		os.Exit(m.Run()) // the storm's clients need no forwarder
	}
	cfg := fw.DefaultConfig()
	cfg.ForwarderLogLevel = slog.LevelError
	if raceEnabled {
		// ndnd v1.5.3's forwarding threads race on shared PIT-CS tree
		// nodes (see svs's TestMain): one thread keeps -race about us.
		cfg.Threads = 1
	}
	testFwd = fwtest.MustStart(cfg, testRoot)
	// Not closed: process exit ends it (Close races with ndnd's threads).
	os.Exit(m.Run())
}

var groupSeq atomic.Uint64

// group is n members of one sync group, each on a bare in-process face of
// testFwd, that record when each learns each measured publication.
type group struct {
	prefix  string
	members []*svs.Sync
	n, pubs int

	index    map[core.Name]int // member of each node name
	start    []atomic.Int64    // Unix ns when publication k was asked for
	learned  [][]atomic.Int64  // [k][receiver]: ns from start[k] to its OnUpdate
	warm     atomic.Int64      // warm-up deliveries outstanding
	pending  atomic.Int64      // measured deliveries outstanding
	warmDone chan struct{}
	allDone  chan struct{}
	stop     context.CancelFunc
	ran      sync.WaitGroup
}

// newGroup starts n members; observe, if not nil, gives member i's
// Observer. pubs is how many publications will be measured.
func newGroup(tb testing.TB, n, pubs int, observe func(prefix string, i int) svs.Observer) *group {
	tb.Helper()
	g := &group{
		prefix:   fmt.Sprintf("%s/g%d", testRoot, groupSeq.Add(1)),
		n:        n,
		pubs:     pubs,
		index:    map[core.Name]int{},
		start:    make([]atomic.Int64, pubs),
		learned:  make([][]atomic.Int64, pubs),
		warmDone: make(chan struct{}),
		allDone:  make(chan struct{}),
	}
	for k := range g.learned {
		g.learned[k] = make([]atomic.Int64, n)
	}
	g.warm.Store(int64(n * (n - 1)))
	g.pending.Store(int64(pubs * (n - 1)))
	prefix := fwtest.Name(g.prefix)
	ctx, cancel := context.WithCancel(context.Background())
	g.stop = cancel
	tb.Cleanup(g.close)
	for i := range n {
		node := fwtest.Name(fmt.Sprintf("%s/node/%d", g.prefix, i))
		g.index[wire.NameToCore(node)] = i
		face := fwtest.BareFace(tb, testFwd)
		registered := make(chan error, 1)
		cfg := svs.Config{
			Group:    prefix,
			Node:     node,
			OnUpdate: func(u svs.Update) { g.onUpdate(i, u) },
			Register: func(p enc.Name) error {
				err := testFwd.AddRoute(p, face.FaceID(), 0, fw.OriginApp)
				registered <- err
				return err
			},
		}
		if observe != nil {
			cfg.Observer = observe(g.prefix, i)
		}
		s, err := svs.NewOnFace(face, cfg)
		if err != nil {
			tb.Fatal(err)
		}
		g.ran.Add(1)
		go func() { defer g.ran.Done(); _ = s.Run(ctx) }()
		if err := <-registered; err != nil {
			tb.Fatal(err)
		}
		g.members = append(g.members, s)
	}
	return g
}

func (g *group) close() {
	g.stop()
	g.ran.Wait()
}

// onUpdate runs on member i's Run goroutine. Sequence number 1 of each
// member is its warm-up publication; publication k (from 0) is member k%n's
// sequence number k/n+2.
func (g *group) onUpdate(i int, u svs.Update) {
	now := time.Now().UnixNano()
	p, ok := g.index[u.Node]
	if !ok {
		return
	}
	for seq := u.Low; seq <= u.High; seq++ {
		if seq == 1 {
			if g.warm.Add(-1) == 0 {
				close(g.warmDone)
			}
			continue
		}
		k := int(seq-2)*g.n + p
		if k >= g.pubs {
			continue
		}
		g.learned[k][i].Store(now - g.start[k].Load())
		if g.pending.Add(-1) == 0 {
			close(g.allDone)
		}
	}
}

// warmUp has every member publish once, and waits until all know all.
func (g *group) warmUp(tb testing.TB, gap time.Duration) {
	tb.Helper()
	for _, s := range g.members {
		if _, err := s.PublishSeq(context.Background()); err != nil {
			tb.Fatal(err)
		}
		time.Sleep(gap) // the schedule of the scenario
	}
	select {
	case <-g.warmDone:
	case <-time.After(20 * time.Second):
		tb.Fatalf("warm-up: %d deliveries missing", g.warm.Load())
	}
}

// publish runs the measured publications on a fixed schedule, interval
// apart, rotating over the members, and waits until every member learned
// every one. It returns the process CPU time it took.
func (g *group) publish(tb testing.TB, interval time.Duration) time.Duration {
	tb.Helper()
	cpu0 := cpuTime()
	begin := time.Now()
	for k := range g.pubs {
		time.Sleep(time.Until(begin.Add(time.Duration(k) * interval)))
		g.start[k].Store(time.Now().UnixNano())
		seq, err := g.members[k%g.n].PublishSeq(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if want := uint64(k/g.n + 2); seq != want {
			tb.Fatalf("publication %d: seq %d, want %d", k, seq, want)
		}
	}
	select {
	case <-g.allDone:
	case <-time.After(20 * time.Second):
		tb.Fatalf("%d deliveries missing", g.pending.Load())
	}
	return cpuTime() - cpu0
}

// deliveries returns every publish-to-learn latency.
func (g *group) deliveries() []time.Duration {
	var out []time.Duration
	for k := range g.learned {
		for i := range g.learned[k] {
			if i != k%g.n {
				out = append(out, time.Duration(g.learned[k][i].Load()))
			}
		}
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// histogramOf returns the cumulative bucket counts of group's Sync latency
// histogram, and its sample count.
func histogramOf(tb testing.TB, r *Registry, group string) ([]*dto.Bucket, uint64) {
	tb.Helper()
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ndnsvs_sync_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == group {
				return m.GetHistogram().GetBucket(), m.GetHistogram().GetSampleCount()
			}
		}
	}
	return nil, 0
}

// quantile is Prometheus's histogram_quantile on cumulative counts
// (after minus before): linear interpolation within the bucket where the
// q-th observation falls, from 0 for the first bucket.
func quantile(q float64, before, after []*dto.Bucket) float64 {
	counts := make([]float64, len(after))
	for i, b := range after {
		counts[i] = float64(b.GetCumulativeCount())
		if before != nil {
			counts[i] -= float64(before[i].GetCumulativeCount())
		}
	}
	total := counts[len(counts)-1]
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	lower, prev := 0.0, 0.0
	for i, b := range after {
		if counts[i] >= rank {
			return lower + (b.GetUpperBound()-lower)*(rank-prev)/(counts[i]-prev)
		}
		lower, prev = b.GetUpperBound(), counts[i]
	}
	return math.Inf(1) // in +Inf: Prometheus returns the last bound
}

// On one machine (one clock), the median of the Sync latency histogram, as
// Prometheus's histogram_quantile reads it, and the median of the values
// the Observer was given, agree with the median publish-to-learn latency
// the test measures itself (from the Publish call to each member's
// OnUpdate) within 1 ms or 10 %. Publications are 5 ms apart, so no member
// sends two Sync Interests within a millisecond (whose SignatureTime would
// run ahead of its clock).
func TestHistogramMedianAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("a second of publications")
	}
	const n, pubs = 5, 200
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var raw []time.Duration
	measuring := atomic.Bool{}
	g := newGroup(t, n, pubs, func(prefix string, _ int) svs.Observer {
		obs := r.Observer(prefix)
		return svs.Observer{SyncLatency: func(d time.Duration) {
			if measuring.Load() {
				mu.Lock()
				raw = append(raw, d)
				mu.Unlock()
			}
			obs.SyncLatency(d)
		}}
	})
	g.warmUp(t, 5*time.Millisecond)
	before, _ := histogramOf(t, r, g.prefix)
	var neg0, ahead0 uint64
	for _, s := range g.members {
		st := s.Stats()
		neg0 += st.NewsNegative
		ahead0 += st.TimeAhead
	}
	measuring.Store(true)
	g.publish(t, 5*time.Millisecond)
	measuring.Store(false)
	after, count := histogramOf(t, r, g.prefix)

	p2l := median(g.deliveries())
	mu.Lock()
	rawMedian := median(raw)
	nraw := len(raw)
	mu.Unlock()
	histMedian := time.Duration(quantile(0.5, before, after) * float64(time.Second))
	t.Logf("%d members, %d publications 5 ms apart: publish-to-learn median %v; Observer median %v (%d values); histogram median %v (%d samples in all)",
		n, pubs, p2l, rawMedian, nraw, histMedian, count)
	tolerance := max(time.Millisecond, p2l/10)
	for what, m := range map[string]time.Duration{"Observer": rawMedian, "histogram": histMedian} {
		if d := m - p2l; d > tolerance || d < -tolerance {
			t.Errorf("%s median %v, publish-to-learn median %v: off by %v, more than %v", what, m, p2l, d, tolerance)
		}
	}
	// Each delivery came in a vector with news, measured; a burst after a
	// stall of this busy machine can bring two publications in one.
	if nraw < pubs*(n-1)*95/100 || nraw > pubs*(n-1) {
		t.Errorf("%d latencies observed for %d deliveries", nraw, pubs*(n-1))
	}
	// On one clock a latency is negative only when its sender wrote a
	// SignatureTime ahead of its clock: when this busy machine stalls the
	// test's schedule, the late publications go out in one burst, and a
	// member can publish twice within a millisecond. Each such Sync
	// Interest reaches n-1 members.
	var neg, ahead, untimed uint64
	for _, s := range g.members {
		st := s.Stats()
		neg += st.NewsNegative
		ahead += st.TimeAhead
		untimed += st.NewsUntimed
	}
	neg, ahead = neg-neg0, ahead-ahead0
	if ahead > 0 || neg > 0 {
		t.Logf("during the measured publications: %d Sync Interests sent ahead of the clock, %d negative latencies", ahead, neg)
	}
	if neg > ahead*(n-1) || untimed != 0 {
		t.Errorf("%d negative latencies from %d Sync Interests sent ahead; %d untimed", neg, ahead, untimed)
	}
}

// BenchmarkMetricsCost runs 20 members with the node's metrics off (no
// Observer, no registry), on (every member's Observer feeding the
// histogram, a member registered with per-member series, and a scrape
// every second, 15 times Prometheus's default rate) and under a scrape
// storm (on, plus a child process whose 8 clients scrape a loopback HTTP
// listener in a loop, at most 4000 requests a round, through the node's
// rate limit), in rotating rounds, and reports for each the median
// publish-to-learn latency and this process's CPU time per publication
// (every member's work, the scrapes served included; the storm's clients
// are in the other process). What one scrape costs is BenchmarkScrape's.
// go test -run '^$' -bench MetricsCost -benchtime 4x ./internal/metrics/
func BenchmarkMetricsCost(b *testing.B) {
	const n, pubs = 20, 400
	const interval = 5 * time.Millisecond
	modes := []string{"off", "on", "storm"}
	p2l := make([][]time.Duration, len(modes))
	cpu := make([][]time.Duration, len(modes))
	var storm stormCount
	for it := 0; b.Loop(); it++ {
		for j := range modes {
			mode := (j + it) % len(modes) // rotate which goes first
			m, c := costRound(b, n, pubs, interval, mode, &storm)
			p2l[mode] = append(p2l[mode], m)
			cpu[mode] = append(cpu[mode], c/pubs)
		}
	}
	b.StopTimer()
	for i, name := range modes {
		b.ReportMetric(float64(median(p2l[i]).Microseconds()), "µs-p2l-median-"+name)
		b.ReportMetric(float64(median(cpu[i]).Microseconds()), "µs-cpu/pub-"+name)
	}
	b.Logf("rounds: p2l off %v on %v storm %v; cpu/pub off %v on %v storm %v; storm requests %d, served %d",
		p2l[0], p2l[1], p2l[2], cpu[0], cpu[1], cpu[2], storm.sent, storm.served)
}

// stormCount counts the requests of scrape storms.
type stormCount struct{ sent, served int }

const stormEnv = "NDNSVS_METRICS_STORM"

// TestStormChild is the scrape storm of BenchmarkMetricsCost, in a process
// of its own: 8 clients GET the URL in the environment in a loop, at most
// 4000 times in all, until stdin closes; it prints how many requests it
// sent and how many were served.
func TestStormChild(t *testing.T) {
	url, ok := os.LookupEnv(stormEnv)
	if !ok {
		t.Skip("helper process of BenchmarkMetricsCost")
	}
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	var left, sent, served atomic.Int64
	left.Store(4000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := client.Get(url)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					served.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	<-stop
	fmt.Printf("STORM %d %d\n", sent.Load(), served.Load())
}

// startStorm runs TestStormChild against url; the returned function ends
// it and adds its counts to c.
func startStorm(b *testing.B, url string, c *stormCount) func() {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStormChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), stormEnv+"="+url)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("storm: %v\n%s", err, out.String())
		}
		var sent, served int
		if i := strings.Index(out.String(), "STORM "); i < 0 {
			b.Fatalf("storm: no counts\n%s", out.String())
		} else if _, err := fmt.Sscanf(out.String()[i:], "STORM %d %d", &sent, &served); err != nil {
			b.Fatal(err)
		}
		c.sent += sent
		c.served += served
	}
}

const (
	modeOff = iota
	modeOn
	modeStorm
)

func costRound(b *testing.B, n, pubs int, interval time.Duration, mode int, storm *stormCount) (time.Duration, time.Duration) {
	var r *Registry
	var observe func(string, int) svs.Observer
	if mode != modeOff {
		var err error
		if r, err = New(Options{PerMember: true, Forwarder: testFwd}); err != nil {
			b.Fatal(err)
		}
		observe = func(prefix string, _ int) svs.Observer { return r.Observer(prefix) }
	}
	g := newGroup(b, n, pubs, observe)
	defer g.close()
	g.warmUp(b, interval)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if mode != modeOff {
		r.AddGroup(g.prefix, g.members[0])
		h := r.Handler(4, 10*time.Second)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					scrape(h, true)
				}
			}
		}()
		if mode == modeStorm {
			// The node's limits: 4 at once, 5 a second in bursts of 10.
			srv := httptest.NewServer(RateLimit(h, 5, 10))
			defer srv.Close()
			end := startStorm(b, srv.URL+"/metrics", storm)
			defer end()
		}
	}
	c := g.publish(b, interval)
	close(stop)
	wg.Wait()
	return median(g.deliveries()), c
}

// scrape serves one /metrics request as Prometheus makes it.
func scrape(h http.Handler, gzip bool) int {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.Len()
}

// BenchmarkScrape is one scrape of a node with 200 faces and a group of 20
// members, with per-member series (the largest page): the target is under
// 10 ms. go test -run '^$' -bench Scrape ./internal/metrics/
func BenchmarkScrape(b *testing.B) {
	const n, faces = 20, 200
	g := newGroup(b, n, 0, nil)
	g.warmUp(b, time.Millisecond)
	for len(testFwd.Faces()) < faces {
		fwtest.BareFace(b, testFwd)
	}
	r, err := New(Options{PerMember: true, Forwarder: testFwd})
	if err != nil {
		b.Fatal(err)
	}
	r.AddGroup(g.prefix, g.members[0])
	if got := g.members[0].Status().Members; got != n {
		b.Fatalf("the member knows %d members, want %d", got, n)
	}
	h := r.Handler(4, 10*time.Second)
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("gzip=%v", gz), func(b *testing.B) {
			var size, scrapes int
			cpu0 := cpuTime()
			for b.Loop() {
				size = scrape(h, gz)
				scrapes++
			}
			// CPU time, garbage collection included: on a machine shared
			// with other work, wall time is not the scrape's own.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(scrapes)/1000, "cpu-ms/op")
			b.ReportMetric(float64(size), "bytes/page")
			b.ReportMetric(float64(len(testFwd.Faces())), "faces")
		})
	}
}
