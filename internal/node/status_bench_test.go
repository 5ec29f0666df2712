package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// BenchmarkStatusStorm runs a whole node (its forwarder, its own group
// member on its bbolt store, its metrics listener with the status page)
// and 19 more members of its group on its forwarder, and measures the
// publish-to-learn latency of rounds of publications, quiet and under a
// storm: a child process whose 8 clients GET /metrics, /status.json and /
// in turn in a loop on the node's listener (at most 20,000 requests a
// round, for as long as the round lasts). Rounds alternate, the first of
// each pair rotating. It reports each's median and this process's CPU per
// publication (every member's and the listener's work; the clients are in
// the other process).
//
//	go test -run '^$' -bench StatusStorm -benchtime 6x ./internal/node/
func BenchmarkStatusStorm(b *testing.B) {
	const members, pubs = 20, 300
	const interval = 5 * time.Millisecond
	c := config.Default()
	dir := b.TempDir()
	c.Node.Name = "/bench/node"
	c.Node.StateDir = filepath.Join(dir, "state")
	c.Node.Ping = false
	c.Faces.Unix.Path = filepath.Join(dir, "nfd.sock")
	c.Faces.UDP.Enabled = false
	c.Faces.Multicast.Enabled = false
	c.Metrics.Listen = "127.0.0.1:0"
	c.Metrics.PerMember = true
	c.Groups = []config.Group{{Prefix: "/bench/storm"}}
	n, err := New(c, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	select {
	case <-n.Ready():
	case err := <-ran:
		b.Fatal(err)
	}
	base := "http://" + n.MetricsAddr().String()
	g := newBenchGroup(b, ctx, n.Forwarder(), "/bench/storm", members-1)

	modes := []string{"quiet", "storm"}
	p2l := make([][]time.Duration, len(modes))
	cpu := make([][]time.Duration, len(modes))
	var sent, served int
	for it := 0; b.Loop(); it++ {
		for j := range modes {
			mode := (j + it) % len(modes)
			var end func() (int, int)
			if modes[mode] == "storm" {
				end = startStatusStorm(b, base)
			}
			m, c := g.round(b, pubs, interval)
			if end != nil {
				s, v := end()
				sent, served = sent+s, served+v
			}
			p2l[mode] = append(p2l[mode], m)
			cpu[mode] = append(cpu[mode], c/pubs)
		}
	}
	b.StopTimer()
	for i, name := range modes {
		b.ReportMetric(float64(medianDuration(p2l[i]).Microseconds()), "µs-p2l-median-"+name)
		b.ReportMetric(float64(medianDuration(cpu[i]).Microseconds()), "µs-cpu/pub-"+name)
	}
	b.Logf("rounds: p2l quiet %v storm %v; cpu/pub quiet %v storm %v; storm requests %d, served %d",
		p2l[0], p2l[1], cpu[0], cpu[1], sent, served)
}

// benchGroup is members of a group on a node's forwarder, each recording
// when it learned each publication of the others.
type benchGroup struct {
	members []*svs.Sync
	index   map[string]int // member name -> index
	seqs    []int          // each member's last sequence number: only round publishes

	mu      sync.Mutex
	start   map[[2]int]time.Time // (publisher, seq) -> when published
	learned []time.Duration
	pending atomic.Int64
	done    chan struct{}
}

func newBenchGroup(b *testing.B, ctx context.Context, fwd *fw.Forwarder, group string, n int) *benchGroup {
	g := &benchGroup{index: map[string]int{}, start: map[[2]int]time.Time{}, seqs: make([]int, n)}
	prefix, _ := enc.NameFromStr(group)
	var wg sync.WaitGroup
	b.Cleanup(wg.Wait)
	for i := range n {
		name := fmt.Sprintf("/bench/member/%d", i)
		g.index[name] = i
		face, err := fwd.NewFace()
		if err != nil {
			b.Fatal(err)
		}
		node, _ := enc.NameFromStr(name)
		s, err := svs.NewOnFace(face, svs.Config{
			Group: prefix, Node: node,
			Register: func(p enc.Name) error { return fwd.AddRoute(p, face.FaceID(), 0, fw.OriginApp) },
			OnUpdate: func(u svs.Update) { g.onUpdate(u) },
		})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Run(ctx) }()
		g.members = append(g.members, s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range g.members {
		for s.Stats().SentBy[svs.SentAnnounce] == 0 {
			if time.Now().After(deadline) {
				b.Fatal("the members did not announce themselves")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return g
}

// onUpdate runs on a member's Run goroutine.
func (g *benchGroup) onUpdate(u svs.Update) {
	now := time.Now()
	name, err := wire.CoreToName(u.Node)
	if err != nil {
		return
	}
	p, ok := g.index[name.String()]
	if !ok {
		return
	}
	g.mu.Lock()
	for seq := u.Low; seq <= u.High; seq++ {
		if t, ok := g.start[[2]int{p, int(seq)}]; ok {
			g.learned = append(g.learned, now.Sub(t))
			if g.pending.Add(-1) == 0 {
				close(g.done)
			}
		}
	}
	g.mu.Unlock()
}

// round publishes pubs publications, interval apart, from the members in
// turn, waits until every other member learned each, and returns the
// median publish-to-learn time and the process's CPU time meanwhile.
func (g *benchGroup) round(b *testing.B, pubs int, interval time.Duration) (time.Duration, time.Duration) {
	g.mu.Lock()
	g.learned = g.learned[:0]
	clear(g.start)
	g.done = make(chan struct{})
	g.pending.Store(int64(pubs * (len(g.members) - 1)))
	g.mu.Unlock()
	cpu0 := cpuTime()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for k := range pubs {
		p := k % len(g.members)
		g.mu.Lock()
		// The next number is known before Publish returns: the start is
		// recorded before the Sync Interest can be sent.
		g.seqs[p]++
		seq := g.seqs[p]
		g.start[[2]int{p, seq}] = time.Now()
		g.mu.Unlock()
		if got, err := g.members[p].PublishSeq(context.Background()); err != nil || int(got) != seq {
			b.Fatalf("member %d: Publish = %d, %v; want %d", p, got, err, seq)
		}
		<-tick.C
	}
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		b.Fatalf("%d learnings missing after 30 s", g.pending.Load())
	}
	cpu := cpuTime() - cpu0
	g.mu.Lock()
	defer g.mu.Unlock()
	return medianDuration(g.learned), cpu
}

func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const statusStormEnv = "NDNSVS_NODE_STATUS_STORM"

// TestStatusStormChild is BenchmarkStatusStorm's storm, in a process of
// its own: 8 clients GET /metrics, /status.json and / of the base URL in
// the environment, in turn, in a loop, at most 20,000 times in all, until
// stdin closes; then it prints how many requests it sent and how many were
// served (the others got 503 from the rate bound).
func TestStatusStormChild(t *testing.T) {
	base, ok := os.LookupEnv(statusStormEnv)
	if !ok {
		t.Skip("helper process of BenchmarkStatusStorm")
	}
	var stop atomic.Bool
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop.Store(true) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	paths := []string{"/metrics", "/status.json", "/"}
	var left, sent, served atomic.Int64
	left.Store(20000)
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; left.Add(-1) >= 0 && !stop.Load(); i++ {
				sent.Add(1)
				resp, err := client.Get(base + paths[i%len(paths)])
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
	for !stop.Load() { // the count is read once the round is over
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("STORM %d %d\n", sent.Load(), served.Load())
}

// startStatusStorm runs TestStatusStormChild against base; the returned
// function ends it and returns its counts.
func startStatusStorm(b *testing.B, base string) func() (sent, served int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStatusStormChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), statusStormEnv+"="+base)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return func() (int, int) {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("storm: %v\n%s", err, out.String())
		}
		var sent, served int
		i := strings.Index(out.String(), "STORM ")
		if i < 0 {
			b.Fatalf("storm: no counts\n%s", out.String())
		}
		if _, err := fmt.Sscanf(out.String()[i:], "STORM %d %d", &sent, &served); err != nil {
			b.Fatalf("storm: %v\n%s", err, out.String())
		}
		return sent, served
	}
}
