package main

// The pub subcommand: publications (payloads learned and fetched), ours
// (svs with DataConfig) against ndnd v1.5.3's std/sync.SvsALO, side by side
// in one run, each measurement in a fresh child process on the same kind
// of in-process forwarder (multicast on the group), as the svs subcommand
// does for sync alone:
//
//   - publish-to-delivered latency: from just before the publish call
//     until a member's application callback has the payload (learned by
//     sync, then fetched and reassembled), per member and until the last
//     member has it;
//   - publications per second one member sustains with its durable store
//     (bbolt, fsync on every commit): PublishBatch, concurrent Publish
//     callers, and sequential Publish; the store's bytes per
//     publication;
//   - resident memory while one member publishes a million publications
//     with retention on.
//
// Usage: ndnsvs-bench pub [-members 3,20] [-sizes 100,65536] [-pubs 200]
// [-interval 50ms] [-runs 1] [-rate 20000] [-soak 1000000]

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
)

type pubOptions struct {
	members  []int
	sizes    []int
	pubs     int
	interval time.Duration
	runs     int
	rate     int // publications per durable-rate measurement
	soak     int // publications of the memory soak (0: none)

	// Child mode (hidden).
	child   string // "bare", "ours", "alo", "rate" or "soak"
	n       int
	size    int
	profile string // CPU profile of a latency child's measured phase
	trace   string // execution trace of a latency child's measured phase
}

func intList(s, what string, least int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < least {
			return nil, fmt.Errorf("pub: %s: %q is not a number of at least %d", what, f, least)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchPub runs the pub subcommand with its flags in args and writes the
// report to out.
func benchPub(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pub", flag.ContinueOnError)
	var o pubOptions
	members := fs.String("members", "3,20", "group sizes, comma-separated")
	sizes := fs.String("sizes", "100,65536", "payload sizes in bytes, comma-separated")
	fs.IntVar(&o.pubs, "pubs", 200, "measured publications per latency run, rotating over the members")
	fs.DurationVar(&o.interval, "interval", 50*time.Millisecond, "time between publications in latency runs")
	fs.IntVar(&o.runs, "runs", 1, "runs of every latency configuration, interleaved, each in fresh processes")
	fs.IntVar(&o.rate, "rate", 20_000, "publications of 100 B per durable publishing measurement")
	fs.IntVar(&o.soak, "soak", 1_000_000, "publications of the memory soak, with retention on (0: skip it)")
	fs.StringVar(&o.child, "child", "", "internal: run one measurement and print its result")
	fs.IntVar(&o.n, "n", 3, "internal: group size of a child")
	fs.IntVar(&o.size, "size", 100, "internal: payload size of a child")
	fs.StringVar(&o.profile, "cpuprofile", "", "internal: write a latency child's CPU profile of the measured phase to this file")
	fs.StringVar(&o.trace, "trace", "", "internal: write a latency child's execution trace of the measured phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.members, err = intList(*members, "-members", 2); err != nil {
		return err
	}
	if o.sizes, err = intList(*sizes, "-sizes", 1); err != nil {
		return err
	}
	if o.pubs < 1 || o.runs < 1 || o.interval <= 0 || o.rate < 1 || o.soak < 0 {
		return errors.New("pub: -pubs, -runs, -interval and -rate must be positive, -soak not negative")
	}
	if o.child != "" {
		return pubChild(o, out)
	}
	return pubParent(o, out)
}

// pubResult is what a child reports, as one JSON line.
type pubResult struct {
	Impl string `json:"impl"`
	N    int    `json:"n"`
	Size int    `json:"size"`
	// AllUs: per publication, until the last other member has it (µs;
	// -1 if one never did). MemberUs: every single delivery.
	AllUs    []int64 `json:"all_us,omitempty"`
	MemberUs []int64 `json:"member_us,omitempty"`
	Missing  int     `json:"missing"`
	Bad      int64   `json:"bad"` // duplicates, unknown publications, payloads that differ
	// CPUPerPub: the whole process's user+system CPU over the measured
	// phase (from the first publication until every delivery or the
	// timeout), per publication, µs.
	CPUPerPub float64 `json:"cpu_per_pub_us"`
	MaxRSSKB  int64   `json:"max_rss_kb"`

	// Rates (rate child): publications per second of each way.
	Rates map[string]float64 `json:"rates,omitempty"`
	// StoreBytesPerPub is the bbolt file's size over the publications it
	// holds, after the batch run.
	StoreBytesPerPub float64 `json:"store_bytes_per_pub,omitempty"`
	PayloadBytes     int     `json:"payload_bytes,omitempty"`

	// Soak: RSS (KiB) after every tenth of the publications.
	RSSKB   []int64 `json:"rss_kb,omitempty"`
	SoakPub int     `json:"soak_pubs,omitempty"`
	WallS   float64 `json:"wall_s"`
}

func pubParent(o pubOptions, out io.Writer) error {
	began := time.Now()
	fmt.Fprintf(out, "ndnsvs-bench pub  (%s %s/%s, %d CPUs, GOMAXPROCS %d, %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "publish-to-delivered: %d publications %v apart, publishers rotating; every member on its own in-process face\n", o.pubs, o.interval)
	fmt.Fprintf(out, "of one forwarder (multicast on the group) per child process; bare = svs.NewOnFace with DataConfig (memory storage)\n")
	fmt.Fprintf(out, "on a bare face, as the node runs its members; ours = the same through an ndnd engine (svs.New), as an application\n")
	fmt.Fprintf(out, "in another process runs it;\n")
	fmt.Fprintf(out, "alo = ndnd v1.5.3's SvsALO (object client, memory store); %d run(s), interleaved\n\n", o.runs)

	children := o.runs*3*len(o.members)*len(o.sizes) + 1
	if o.soak > 0 {
		children++
	}
	child := 0
	run := func(what string, args ...string) (pubResult, error) {
		child++
		ph := startPhase(fmt.Sprintf("pub %d/%d", child, children), "%s, in a fresh process", what)
		r, err := pubRunChild(args)
		if err == nil {
			ph.done()
		}
		return r, err
	}
	type key struct {
		impl    string
		n, size int
	}
	results := map[key][]pubResult{}
	for r := range o.runs {
		for _, size := range o.sizes {
			for _, n := range o.members {
				impls := []string{"bare", "ours", "alo"}
				if r%2 == 1 {
					impls = []string{"alo", "ours", "bare"}
				}
				for _, impl := range impls {
					res, err := run(fmt.Sprintf("run %d/%d, %s, %d members, %d B: publish-to-delivered of %d publications %v apart (about %v)",
						r+1, o.runs, impl, n, size, o.pubs, o.interval, (time.Duration(o.pubs)*o.interval+time.Second).Round(time.Second)),
						"-child", impl, "-n", strconv.Itoa(n), "-size", strconv.Itoa(size),
						"-pubs", strconv.Itoa(o.pubs), "-interval", o.interval.String())
					if err != nil {
						return err
					}
					results[key{impl, n, size}] = append(results[key{impl, n, size}], res)
				}
			}
		}
	}
	rate, err := run(fmt.Sprintf("durable publishing: %d publications of 100 B on a bbolt store, each way", o.rate),
		"-child", "rate", "-rate", strconv.Itoa(o.rate))
	if err != nil {
		return err
	}
	var soak pubResult
	if o.soak > 0 {
		if soak, err = run(fmt.Sprintf("memory soak: %d publications of 100 B on a bbolt store with retention 100,000", o.soak),
			"-child", "soak", "-soak", strconv.Itoa(o.soak)); err != nil {
			return err
		}
	}

	us := func(v int64) string {
		if v < 0 {
			return "-"
		}
		return strconv.FormatInt(v, 10)
	}
	fmt.Fprintln(out, "all = until the last other member's callback has the payload; member = each single delivery. µs.")
	fmt.Fprintln(out, "CPU/pub = the child's user+system CPU over the measured phase, per publication, µs.")
	hdr := "%-3s %-7s %-6s %8s %8s %8s %8s %8s %8s %7s %6s\n"
	fmt.Fprintf(out, hdr, "N", "size", "impl", "median", "p90", "p99", "mem50", "mem99", "CPU/pub", "missing", "RSS")
	type pooled struct {
		all, mem quantile
		cpu      float64
	}
	verdicts := []string{}
	for _, size := range o.sizes {
		for _, n := range o.members {
			pool := map[string]pooled{}
			for _, impl := range []string{"bare", "ours", "alo"} {
				var all, mem []int64
				var cpu []float64
				var missing int
				var bad, rss int64
				for _, r := range results[key{impl, n, size}] {
					all = append(all, r.AllUs...)
					mem = append(mem, r.MemberUs...)
					missing += r.Missing
					bad += r.Bad
					rss = max(rss, r.MaxRSSKB)
					cpu = append(cpu, r.CPUPerPub)
				}
				p := pooled{quantiles(all), quantiles(mem), meanF(cpu)}
				pool[impl] = p
				fmt.Fprintf(out, hdr, strconv.Itoa(n), sizeText(size), impl, us(p.all.p50), us(p.all.p90), us(p.all.p99),
					us(p.mem.p50), us(p.mem.p99), fmt.Sprintf("%.0f", p.cpu), strconv.Itoa(missing), fmt.Sprintf("%.0fM", float64(rss)/1024))
				if bad != 0 {
					fmt.Fprintf(out, "    !! %d duplicate, unknown or corrupt deliveries\n", bad)
				}
			}
			b := pool["alo"]
			for _, impl := range []string{"bare", "ours"} {
				a := pool[impl]
				rm, r9 := ratio(a.all.p50, b.all.p50), ratio(a.all.p99, b.all.p99)
				fmt.Fprintf(out, "%-3d %-7s %-6s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", n, sizeText(size), "r."+impl,
					rm, ratio(a.all.p90, b.all.p90), r9, ratio(a.mem.p50, b.mem.p50), ratio(a.mem.p99, b.mem.p99), a.cpu/b.cpu)
				if n >= 20 {
					verdicts = append(verdicts, fmt.Sprintf("  N=%d, %s: %s/SvsALO median %.2f, p99 %.2f (want <= 0.50 each): %s",
						n, sizeText(size), impl, rm, r9, verdict(rm > 0 && r9 > 0 && rm <= 0.5 && r9 <= 0.5)))
				}
			}
		}
	}
	fmt.Fprintln(out, "r.bare, r.ours = bare / SvsALO, ours / SvsALO; latencies pooled over runs; a missing delivery counts as the largest.")
	fmt.Fprintln(out)

	fmt.Fprintf(out, "durable publishing, one member, 100 B payloads, bbolt with fsync on every commit (%d publications each):\n", o.rate)
	for _, w := range rateWays {
		fmt.Fprintf(out, "  %-34s %9.0f /s\n", w.what, rate.Rates[w.name])
	}
	fmt.Fprintf(out, "  store: %.0f bytes per publication of %d B (signed Data, name, index; bbolt pages)\n", rate.StoreBytesPerPub, rate.PayloadBytes)
	best := max(rate.Rates["batch64"], rate.Rates["batch256"], rate.Rates["concurrent64"])
	verdicts = append(verdicts, fmt.Sprintf("  durable publishing, 100 B: %.0f/s (want >= 5,000): %s", best, verdict(best >= 5000)))
	if o.soak > 0 {
		fmt.Fprintf(out, "\nmemory soak: %d publications of 100 B in batches of 256, retention 100,000 own publications; RSS after each tenth, MiB:\n  ", soak.SoakPub)
		for _, kb := range soak.RSSKB {
			fmt.Fprintf(out, "%.0f ", float64(kb)/1024)
		}
		fmt.Fprintf(out, "\n  (%.1f s)\n", soak.WallS)
		if len(soak.RSSKB) >= 4 {
			half, last := soak.RSSKB[len(soak.RSSKB)/2-1], soak.RSSKB[len(soak.RSSKB)-1]
			grew := float64(last-half) / float64(half)
			verdicts = append(verdicts, fmt.Sprintf("  memory under %d publications with retention: %.0f MiB at half, %.0f MiB at the end (%+.0f %%; want bounded, under +25 %%): %s",
				soak.SoakPub, float64(half)/1024, float64(last)/1024, 100*grew, verdict(grew < 0.25)))
		}
	}
	fmt.Fprintln(out, "\ntargets:")
	for _, v := range verdicts {
		fmt.Fprintln(out, v)
	}
	fmt.Fprintf(out, "\n(total %v)\n", time.Since(began).Round(time.Second))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	default:
		return fmt.Sprintf("%dB", n)
	}
}

// pubRunChild runs one measurement in a fresh process and returns its
// RESULT line.
func pubRunChild(args []string) (pubResult, error) {
	cmd, err := childCommand("pub", args)
	if err != nil {
		return pubResult{}, err
	}
	var res pubResult
	err = runChild(fmt.Sprintf("pub: child %v", args), cmd, 15*time.Minute, &res)
	return res, err
}

// ---- child side ----

const pubGroup = "/bench/pub"

func pubChild(o pubOptions, out io.Writer) error {
	var res pubResult
	var err error
	switch o.child {
	case "bare", "ours", "alo":
		res, err = pubChildLatency(o)
	case "rate":
		res, err = pubChildRate(o)
	case "soak":
		res, err = pubChildSoak(o)
	default:
		err = fmt.Errorf("pub: unknown child %q", o.child)
	}
	if err != nil {
		return err
	}
	res.MaxRSSKB = rusage().maxRSSKB
	return writeResult(out, res)
}

// pubRecorder collects deliveries: publication k (0-based, after one
// warm-up per member) is made by member k mod n with sequence number
// k/n + 2, and its payload's checksum is sums[k]: a CRC-32C, which the
// CPU computes at memory speed, where SHA-256 cost both sides about a
// tenth of their CPU at 64 KiB and 20 members (19 checks of every
// payload, on the delivering goroutines). It catches the corruption a
// defect would cause; nobody in the bench forges payloads.
type pubRecorder struct {
	n, pubs int
	origin  time.Time
	t0      []atomic.Int64 // publish time, ns since origin
	learn   []atomic.Int64 // [k*n + member], ns since origin
	sums    []uint32
	left    atomic.Int64
	warm    atomic.Int64
	done    chan struct{}
	warmed  chan struct{}
	bad     atomic.Int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newPubRecorder(n, pubs int) *pubRecorder {
	r := &pubRecorder{n: n, pubs: pubs, origin: time.Now(), t0: make([]atomic.Int64, pubs),
		learn: make([]atomic.Int64, pubs*n), sums: make([]uint32, pubs),
		done: make(chan struct{}), warmed: make(chan struct{})}
	r.left.Store(int64(pubs * (n - 1)))
	r.warm.Store(int64(n * (n - 1)))
	return r
}

// deliver records that member m got seq of publisher p with payload, in
// the pieces the library gave it (both give the segments' Content
// unjoined: Message.Payload, SvsPub.Content).
func (r *pubRecorder) deliver(m, p int, seq uint64, payload enc.Wire) {
	now := int64(time.Since(r.origin))
	if p < 0 || p == m || seq == 0 {
		r.bad.Add(1)
		return
	}
	if seq == 1 {
		if r.warm.Add(-1) == 0 {
			close(r.warmed)
		}
		return
	}
	k := int(seq-2)*r.n + p
	var sum uint32
	for _, b := range payload {
		sum = crc32.Update(sum, castagnoli, b)
	}
	if k >= r.pubs || sum != r.sums[k] {
		r.bad.Add(1)
		return
	}
	if !r.learn[k*r.n+m].CompareAndSwap(0, now) {
		r.bad.Add(1)
		return
	}
	if r.left.Add(-1) == 0 {
		close(r.done)
	}
}

// pubChildLatency measures publish-to-delivered for one implementation.
func pubChildLatency(o pubOptions) (pubResult, error) {
	fwd, group, err := benchForwarder(pubGroup)
	if err != nil {
		return pubResult{}, err
	}
	n := o.n
	rec := newPubRecorder(n, o.pubs)
	// who finds a publisher's index from its name (benchNames), without
	// making the name's text (Name.String in every delivery callback cost
	// both sides 4 % of their CPU).
	names, index := benchNames(n)
	who := func(name enc.Name) int {
		if len(name) > 0 {
			if i, ok := index[string(name[len(name)-1].Val)]; ok && names[i].Equal(name) {
				return i
			}
		}
		return -1
	}
	publish := make([]func([]byte) (uint64, error), n)
	for i := range n {
		face, err := fwd.NewFace()
		if err != nil {
			return pubResult{}, err
		}
		var e ndn.Engine
		if o.child != "bare" {
			e = engine.NewBasicEngine(face)
			if err := e.Start(); err != nil {
				return pubResult{}, err
			}
		}
		switch o.child {
		case "ours", "bare":
			cfg := svs.Config{
				Group: group, Node: names[i],
				Register: func(prefix enc.Name) error { return fwd.AddRoute(prefix, face.FaceID(), 0, fw.OriginApp) },
				Data: &svs.DataConfig{
					// The node's way: /<group>/<node> to the producer
					// alone, or every fetch goes to every member.
					RegisterOwn: func(prefix enc.Name) error { return fwd.AddCaptureRoute(prefix, face.FaceID(), 0, fw.OriginApp) },
					OnMessage: func(m svs.Message) {
						rec.deliver(i, who(m.Node), m.Seq, m.Payload)
					},
				},
			}
			var s *svs.Sync
			if e == nil {
				s, err = svs.NewOnFace(face, cfg) // the node's way: a bare face, no engine
			} else {
				s, err = svs.New(e, cfg)
			}
			if err != nil {
				return pubResult{}, err
			}
			go func() { _ = s.Run(context.Background()) }()
			publish[i] = func(p []byte) (uint64, error) {
				r, err := s.Publish(context.Background(), p)
				return r.Seq, err
			}
		case "alo":
			client := object.NewClient(e, storage.NewMemoryStore(), nil)
			if err := client.Start(); err != nil {
				return pubResult{}, err
			}
			alo, err := ndnsync.NewSvsALO(ndnsync.SvsAloOpts{Name: names[i],
				Svs: ndnsync.SvSyncOpts{Client: client, GroupPrefix: group.Clone()}})
			if err != nil {
				return pubResult{}, err
			}
			// SvsALO registers nothing on this forwarder: its sync group
			// and its data prefix go to its face.
			for _, p := range []enc.Name{alo.SyncPrefix(), alo.DataPrefix()} {
				if err := fwd.AddRoute(p, face.FaceID(), 0, fw.OriginApp); err != nil {
					return pubResult{}, err
				}
			}
			if err := alo.SubscribePublisher(enc.Name{}, func(p ndnsync.SvsPub) {
				rec.deliver(i, who(p.Publisher), p.SeqNum, p.Content)
			}); err != nil {
				return pubResult{}, err
			}
			if err := alo.Start(); err != nil {
				return pubResult{}, err
			}
			var mu sync.Mutex // SvsALO's Publish is not documented as safe for concurrent use
			publish[i] = func(p []byte) (uint64, error) {
				mu.Lock()
				defer mu.Unlock()
				if _, _, err := alo.Publish(enc.Wire{p}); err != nil {
					return 0, err
				}
				return alo.SeqNo(), nil
			}
		}
	}
	payloads := make([][]byte, o.pubs)
	for k := range payloads {
		p := make([]byte, o.size)
		for j := range p {
			p[j] = byte(k*31 + j*7)
		}
		payloads[k] = p
		rec.sums[k] = crc32.Checksum(p, castagnoli)
	}
	time.Sleep(300 * time.Millisecond) // every member's first Sync Interest out
	for i := range n {
		if _, err := publish[i](payloads[0]); err != nil {
			return pubResult{}, err
		}
		time.Sleep(o.interval)
	}
	select {
	case <-rec.warmed:
	case <-time.After(30 * time.Second):
		return pubResult{}, fmt.Errorf("pub: %s N=%d: warm-up publications not delivered (%d missing)", o.child, n, rec.warm.Load())
	}
	time.Sleep(300 * time.Millisecond)
	stop, err := startProfiles(o.profile, o.trace)
	if err != nil {
		return pubResult{}, err
	}
	defer stop()
	ru0 := rusage()
	start := time.Now()
	for k := range o.pubs {
		time.Sleep(time.Until(start.Add(time.Duration(k) * o.interval)))
		rec.t0[k].Store(int64(time.Since(rec.origin)))
		seq, err := publish[k%n](payloads[k])
		if err != nil {
			return pubResult{}, err
		}
		if want := uint64(k/n + 2); seq != want {
			return pubResult{}, fmt.Errorf("pub: %s member %d published seq %d, want %d", o.child, k%n, seq, want)
		}
	}
	select {
	case <-rec.done:
	case <-time.After(60 * time.Second):
	}
	res := pubResult{Impl: o.child, N: n, Size: o.size, Bad: rec.bad.Load(), WallS: time.Since(start).Seconds(),
		CPUPerPub: float64(rusage().cpu-ru0.cpu) / float64(time.Microsecond) / float64(o.pubs)}
	for k := range o.pubs {
		t0 := rec.t0[k].Load()
		all := int64(0)
		for m := range n {
			if m == k%n {
				continue
			}
			t := rec.learn[k*n+m].Load()
			if t == 0 {
				res.Missing++
				all = -1
				continue
			}
			d := (t - t0) / 1000
			res.MemberUs = append(res.MemberUs, d)
			if all >= 0 {
				all = max(all, d)
			}
		}
		res.AllUs = append(res.AllUs, all)
	}
	return res, nil
}

// rateWays are the ways one member publishes, measured in turn.
var rateWays = []struct{ name, what string }{
	{"batch64", "PublishBatch of 64"},
	{"batch256", "PublishBatch of 256"},
	{"concurrent64", "64 concurrent Publish callers"},
	{"sequential", "Publish, one at a time"},
}

// durableMember is one member named /bench/durable/<name> with a bbolt
// store in dir, alone in the group on the process's forwarder.
func durableMember(fwd *fw.Forwarder, group enc.Name, name, dir string, retention svs.Retention) (*svs.Sync, *boltstore.Store, func(), error) {
	st, err := boltstore.Open(filepath.Join(dir, "store.db"), boltstore.Options{StorageConfig: svs.StorageConfig{Own: retention}})
	if err != nil {
		return nil, nil, nil, err
	}
	face, err := fwd.NewFace()
	if err != nil {
		return nil, nil, nil, err
	}
	e := engine.NewBasicEngine(face)
	if err := e.Start(); err != nil {
		return nil, nil, nil, err
	}
	node, _ := enc.NameFromStr("/bench/durable/" + name)
	s, err := svs.New(e, svs.Config{Group: group, Node: node,
		Register: func(prefix enc.Name) error { return fwd.AddRoute(prefix, face.FaceID(), 0, fw.OriginApp) },
		Data:     &svs.DataConfig{Storage: st}})
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	return s, st, func() { cancel(); <-done; _ = st.Close() }, nil
}

// pubChildRate measures durable publishing, each way on a fresh store.
func pubChildRate(o pubOptions) (pubResult, error) {
	res := pubResult{Impl: "rate", Rates: map[string]float64{}, PayloadBytes: 100}
	payload := make([]byte, 100)
	ctx := context.Background()
	fwd, group, err := benchForwarder(pubGroup)
	if err != nil {
		return res, err
	}
	for _, w := range rateWays {
		dir, err := os.MkdirTemp("", "ndnsvs-bench-pub")
		if err != nil {
			return res, err
		}
		s, _, stop, err := durableMember(fwd, group, w.name, dir, svs.Retention{})
		if err != nil {
			os.RemoveAll(dir)
			return res, err
		}
		total := o.rate
		if w.name == "sequential" {
			total = min(total, 2000) // one fsync each: a few hundred per second
		}
		start := time.Now()
		switch w.name {
		case "batch64", "batch256":
			b := 64
			if w.name == "batch256" {
				b = 256
			}
			batch := make([][]byte, b)
			for i := range batch {
				batch[i] = payload
			}
			for done := 0; done < total; done += b {
				if _, err = s.PublishBatch(ctx, batch[:min(b, total-done)]); err != nil {
					break
				}
			}
		case "concurrent64":
			var next atomic.Int64
			var wg sync.WaitGroup
			var mu sync.Mutex
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(total) {
						if _, perr := s.Publish(ctx, payload); perr != nil {
							mu.Lock()
							err = perr
							mu.Unlock()
							return
						}
					}
				}()
			}
			wg.Wait()
		case "sequential":
			for range total {
				if _, err = s.Publish(ctx, payload); err != nil {
					break
				}
			}
		}
		el := time.Since(start)
		stop()
		if err == nil && w.name == "batch256" {
			if fi, serr := os.Stat(filepath.Join(dir, "store.db")); serr == nil {
				res.StoreBytesPerPub = float64(fi.Size()) / float64(total)
			}
		}
		os.RemoveAll(dir)
		if err != nil {
			return res, fmt.Errorf("pub: rate %s: %w", w.name, err)
		}
		res.Rates[w.name] = float64(total) / el.Seconds()
	}
	return res, nil
}

// pubChildSoak publishes o.soak publications with retention on and
// samples the resident set after every tenth.
func pubChildSoak(o pubOptions) (pubResult, error) {
	dir, err := os.MkdirTemp("", "ndnsvs-bench-soak")
	if err != nil {
		return pubResult{}, err
	}
	defer os.RemoveAll(dir)
	fwd, group, err := benchForwarder(pubGroup)
	if err != nil {
		return pubResult{}, err
	}
	s, _, stop, err := durableMember(fwd, group, "soak", dir, svs.Retention{MaxCount: 100_000})
	if err != nil {
		return pubResult{}, err
	}
	defer stop()
	res := pubResult{Impl: "soak", SoakPub: o.soak}
	batch := make([][]byte, 256)
	for i := range batch {
		batch[i] = make([]byte, 100)
	}
	start := time.Now()
	tenth := max(o.soak/10, 1)
	for done, mark := 0, tenth; done < o.soak; {
		b := min(len(batch), o.soak-done)
		if _, err := s.PublishBatch(context.Background(), batch[:b]); err != nil {
			return res, fmt.Errorf("pub: soak after %d: %w", done, err)
		}
		done += b
		if done >= mark {
			res.RSSKB = append(res.RSSKB, currentRSSKB())
			mark += tenth
		}
	}
	res.WallS = time.Since(start).Seconds()
	return res, nil
}

// currentRSSKB reads the process's resident set from /proc (0 elsewhere).
func currentRSSKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}
