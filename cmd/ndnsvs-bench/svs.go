package main

// The svs subcommand: our SVS driver against ndnd v1.5.3's std/sync.SvSync,
// side by side in one run, each in a fresh child process (ndnd's forwarder
// is one per process, and peak memory must be per implementation) on the
// same kind of in-process forwarder, with the bare Interest round trip
// after the same idle gap as the floor.
//
// Usage: ndnsvs-bench svs [-members 3,20] [-pubs 500] [-interval 20ms] [-runs 2]

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	ndnsync "github.com/named-data/ndnd/std/sync"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

type svsOptions struct {
	members  []int
	pubs     int
	interval time.Duration
	runs     int
	settle   time.Duration
	floors   bool

	// Child mode (hidden): measure one implementation and print a RESULT line.
	child   string // "ours", "ours-engine", "ndnd", "floor", "decode" or "rtt"
	n       int
	profile string // CPU profile of the measured phase, for analysis
}

// benchSVS runs the svs subcommand with its flags in args and writes the
// report to out.
func benchSVS(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("svs", flag.ContinueOnError)
	var o svsOptions
	members := fs.String("members", "3,20", "group sizes, comma-separated")
	fs.IntVar(&o.pubs, "pubs", 500, "measured publications per run, rotating over the members")
	fs.DurationVar(&o.interval, "interval", 20*time.Millisecond, "time between publications (and idle gap before each round trip)")
	fs.IntVar(&o.runs, "runs", 2, "runs of every configuration, interleaved, each in fresh processes")
	fs.BoolVar(&o.floors, "floors", true, "also measure the floor (no SVS) and floor+decoder, in the first run")
	fs.DurationVar(&o.settle, "settle", 300*time.Millisecond, "quiet time before and after the measured phase")
	fs.StringVar(&o.child, "child", "", "internal: run one measurement (ours, ndnd, rtt) and print its result")
	fs.IntVar(&o.n, "n", 3, "internal: group size of a child")
	fs.StringVar(&o.profile, "cpuprofile", "", "internal: write a child's CPU profile of the measured phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*members, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			return fmt.Errorf("svs: -members: %q is not a group size of at least 2", f)
		}
		o.members = append(o.members, n)
	}
	if o.pubs < 1 || o.runs < 1 || o.interval <= 0 {
		return errors.New("svs: -pubs, -runs and -interval must be positive")
	}
	if o.child != "" {
		return svsChild(o, out)
	}
	return svsParent(o, out)
}

// svsImplWhat says in a few words what each child kind measures.
var svsImplWhat = map[string]string{
	"ours":        "our driver on a bare in-process face",
	"ours-engine": "our driver on an ndnd engine",
	"ndnd":        "ndnd's SvSync",
	"floor":       "no SVS, arrivals only",
	"decode":      "no SVS, hand-off and our decoder",
}

// svsResult is what a child reports, as one JSON line.
type svsResult struct {
	Impl string `json:"impl"`
	N    int    `json:"n"`
	Pubs int    `json:"pubs"`
	// AllUs is, per measured publication, the time until the last of the
	// other members learned it (µs); -1 if not every member did.
	AllUs []int64 `json:"all_us"`
	// MemberUs is every single delivery (µs).
	MemberUs []int64 `json:"member_us"`
	// RTTUs is the bare round trips (rtt child only).
	RTTUs []int64 `json:"rtt_us,omitempty"`

	Missed     int     `json:"missed"`
	Anomalies  int64   `json:"anomalies"` // duplicates and sequence numbers never published
	CPUPerPub  float64 `json:"cpu_per_pub_us"`
	OtherLoad  float64 `json:"other_load"` // other processes' CPU during the phase, in cores
	SysPerPub  float64 `json:"sys_per_pub_us"`
	AllocsRecv float64 `json:"allocs_per_recv"`
	MaxRSSKB   int64   `json:"max_rss_kb"`
	HeapPeakMB float64 `json:"heap_peak_mb"`
	GCs        uint32  `json:"gcs"`
	InPerPub   float64 `json:"in_per_pub"`
	OutPerPub  float64 `json:"out_per_pub"`
	WallS      float64 `json:"wall_s"`
}

func svsParent(o svsOptions, out io.Writer) error {
	began := time.Now()
	fmt.Fprintf(out, "ndnsvs-bench svs  (%s %s/%s, %d CPUs, GOMAXPROCS %d, %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "publish-to-learn: %d publications %v apart, publishers rotating; every member on its own in-process\n", o.pubs, o.interval)
	fmt.Fprintf(out, "face: ours on the bare face (svs.NewOnFace, as the node runs it), ndnd's (and ours-engine, svs.New) on an ndnd\n")
	fmt.Fprintf(out, "engine; one forwarder (multicast on the group) per child process; %d run(s), interleaved\n\n", o.runs)

	results := map[string][]svsResult{}
	key := func(impl string, n int) string { return fmt.Sprintf("%s/%d", impl, n) }
	children := o.runs * (1 + 2*len(o.members))
	if o.floors {
		children += 3 * len(o.members)
	}
	child := 0
	// measure runs one child, announcing it on progressOut.
	measure := func(run int, impl string, n int) (svsResult, error) {
		child++
		name := fmt.Sprintf("svs %d/%d", child, children)
		var ph *phase
		if impl == "rtt" {
			ph = startPhase(name, "run %d/%d, rtt: %d bare Interest/Data round trips, each after a %v idle gap, in a fresh process (about %v)",
				run+1, o.runs, o.pubs, o.interval, (time.Duration(o.pubs+50) * o.interval).Round(time.Second))
		} else {
			ph = startPhase(name, "run %d/%d, %s (%s), %d members: publish-to-learn latency of %d publications %v apart, in a fresh process (about %v)",
				run+1, o.runs, impl, svsImplWhat[impl], n, o.pubs, o.interval, (time.Duration(o.pubs)*o.interval + 2*o.settle).Round(time.Second))
		}
		r, err := runLatencyChild[svsResult]("svs", o, impl, n, 60*time.Second)
		if err == nil {
			ph.done()
		}
		return r, err
	}
	for run := range o.runs {
		r, err := measure(run, "rtt", 2)
		if err != nil {
			return err
		}
		results["rtt"] = append(results["rtt"], r)
		for _, n := range o.members {
			impls := []string{"ours", "ndnd"}
			if run%2 == 1 {
				impls = []string{"ndnd", "ours"}
			}
			if run == 0 && o.floors {
				impls = append(impls, "ours-engine", "floor", "decode")
			}
			for _, impl := range impls {
				r, err := measure(run, impl, n)
				if err != nil {
					return err
				}
				results[key(impl, n)] = append(results[key(impl, n)], r)
			}
		}
	}

	us := func(v int64) string {
		if v < 0 {
			return "-"
		}
		return strconv.FormatInt(v, 10)
	}
	var rtt []int64
	fmt.Fprintf(out, "bare Interest/Data round trip after a %v idle gap (the floor of the targets), µs:\n", o.interval)
	fmt.Fprintf(out, "  %-6s %7s %7s %7s %7s\n", "run", "median", "p90", "p99", "max")
	for i, r := range results["rtt"] {
		q := quantiles(r.RTTUs)
		fmt.Fprintf(out, "  %-6d %7s %7s %7s %7s\n", i+1, us(q.p50), us(q.p90), us(q.p99), us(q.max))
		rtt = append(rtt, r.RTTUs...)
	}
	rttQ := quantiles(rtt)
	if o.runs > 1 {
		fmt.Fprintf(out, "  %-6s %7s %7s %7s %7s\n", "pooled", us(rttQ.p50), us(rttQ.p90), us(rttQ.p99), us(rttQ.max))
	}
	fmt.Fprintln(out)

	fmt.Fprintln(out, "all-learned: time until every other member's callback has the publication; member: each single delivery.")
	fmt.Fprintln(out, "Latencies in µs. CPU = getrusage user+sys per publication, whole process; allocs = runtime Mallocs per")
	fmt.Fprintln(out, "Sync Interest delivered to a member, whole process; RSS = ru_maxrss; heap = peak live+unswept heap objects.")
	fmt.Fprintln(out, "floor = no SVS (handler on the engine goroutine records the arrival); decode = floor + hand-off + our decoder;")
	fmt.Fprintln(out, "ours-engine = our driver on an ndnd engine (svs.New), as on an external forwarder's face.")
	fmt.Fprintln(out, "other = CPU used by other processes during the phase, in cores (from /proc/stat): above ~0.1 the run was disturbed.")
	hdr := "%-3s %-6s %-4s %7s %7s %7s %7s %6s %6s %8s %7s %6s %6s %4s %6s %6s %6s\n"
	row := "%-3d %-6s %-4s %7s %7s %7s %7s %6s %6s %8.0f %7.1f %6.1f %6.1f %4d %6.3f %6d %6.2f\n"
	fmt.Fprintf(out, hdr, "N", "impl", "run", "median", "p90", "p99", "max", "mem50", "mem99", "CPU/pub", "allocs", "RSS", "heap", "GCs", "In/pub", "missed", "other")
	type pooled struct {
		all, member quantile
		cpu, allocs float64
		rss         float64
	}
	pool := map[string]pooled{}
	for _, n := range o.members {
		for _, impl := range []string{"floor", "decode", "ours-engine", "ours", "ndnd"} {
			rs := results[key(impl, n)]
			if len(rs) == 0 {
				continue
			}
			var all, member []int64
			var cpu, allocs []float64
			var rss float64
			for i, r := range rs {
				a, m := quantiles(r.AllUs), quantiles(r.MemberUs)
				fmt.Fprintf(out, row, n, impl, strconv.Itoa(i+1), us(a.p50), us(a.p90), us(a.p99), us(a.max), us(m.p50), us(m.p99),
					r.CPUPerPub, r.AllocsRecv, float64(r.MaxRSSKB)/1024, r.HeapPeakMB, r.GCs, r.InPerPub, r.Missed, r.OtherLoad)
				if r.Anomalies != 0 {
					fmt.Fprintf(out, "    !! %d duplicate, unpublished or dropped deliveries\n", r.Anomalies)
				}
				all = append(all, r.AllUs...)
				member = append(member, r.MemberUs...)
				cpu = append(cpu, r.CPUPerPub)
				allocs = append(allocs, r.AllocsRecv)
				rss = max(rss, float64(r.MaxRSSKB)/1024)
			}
			p := pooled{all: quantiles(all), member: quantiles(member), cpu: meanF(cpu), allocs: meanF(allocs), rss: rss}
			pool[key(impl, n)] = p
			if len(rs) > 1 {
				fmt.Fprintf(out, "%-3d %-6s %-4s %7s %7s %7s %7s %6s %6s %8.0f %7.1f %6.1f\n", n, impl, "all",
					us(p.all.p50), us(p.all.p90), us(p.all.p99), us(p.all.max), us(p.member.p50), us(p.member.p99), p.cpu, p.allocs, p.rss)
			}
		}
		a, b := pool[key("ours", n)], pool[key("ndnd", n)]
		fmt.Fprintf(out, "%-3d %-6s %-4s %7.2f %7.2f %7.2f %7.2f %6.2f %6.2f %8.2f %7.2f %6.2f\n", n, "ratio", "",
			ratio(a.all.p50, b.all.p50), ratio(a.all.p90, b.all.p90), ratio(a.all.p99, b.all.p99), ratio(a.all.max, b.all.max),
			ratio(a.member.p50, b.member.p50), ratio(a.member.p99, b.member.p99), a.cpu/b.cpu, a.allocs/b.allocs, a.rss/b.rss)
	}
	fmt.Fprintln(out, "ratio = ours / ndnd: latencies pooled over runs, CPU and allocations means over runs, RSS the largest.")
	fmt.Fprintln(out)

	fmt.Fprintln(out, "targets:")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	for _, n := range o.members {
		a, b := pool[key("ours", n)], pool[key("ndnd", n)]
		if n >= 20 {
			rm, rp, rc := ratio(a.all.p50, b.all.p50), ratio(a.all.p99, b.all.p99), a.cpu/b.cpu
			fmt.Fprintf(out, "  N=%d: ours/ndnd median %.2f, p99 %.2f, CPU/pub %.2f (want <= 0.50 each): %s\n", n,
				rm, rp, rc, verdict(rm <= 0.5 && rp <= 0.5 && rc <= 0.5))
			if f, ok := pool[key("floor", n)]; ok {
				fmt.Fprintf(out, "        without any SVS work the floor alone is median %.2f, p99 %.2f, CPU %.2f of ndnd's\n",
					ratio(f.all.p50, b.all.p50), ratio(f.all.p99, b.all.p99), f.cpu/b.cpu)
			}
			if e, ok := pool[key("ours-engine", n)]; ok {
				fmt.Fprintf(out, "        ours on an ndnd engine (svs.New): median %.2f, p99 %.2f, CPU %.2f of ndnd's\n",
					ratio(e.all.p50, b.all.p50), ratio(e.all.p99, b.all.p99), e.cpu/b.cpu)
			}
			if d, ok := pool[key("decode", n)]; ok {
				fmt.Fprintf(out, "        floor + hand-off + our decoder: median %.2f, p99 %.2f, CPU %.2f of ndnd's\n",
					ratio(d.all.p50, b.all.p50), ratio(d.all.p99, b.all.p99), d.cpu/b.cpu)
			}
		}
		if n <= 3 {
			rm, rr := ratio(a.all.p50, b.all.p50), ratio(a.all.p50, rttQ.p50)
			fmt.Fprintf(out, "  N=%d: ours/ndnd median %.2f (want <= 1.00): %s; ours / bare round trip %.2f (want <= 1.50): %s\n",
				n, rm, verdict(rm <= 1), rr, verdict(rr <= 1.5))
		}
	}
	fmt.Fprintf(out, "\n(total %v)\n", time.Since(began).Round(time.Second))
	return nil
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func meanF(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var sum float64
	for _, v := range x {
		sum += v
	}
	return sum / float64(len(x))
}

type quantile struct{ p50, p90, p99, max int64 }

// quantiles of µs values; a negative value (not learned) counts as the
// largest, so a miss can only make the figures worse.
func quantiles(x []int64) quantile {
	if len(x) == 0 {
		return quantile{-1, -1, -1, -1}
	}
	s := slices.Clone(x)
	for i, v := range s {
		if v < 0 {
			s[i] = 1 << 62
		}
	}
	slices.Sort(s)
	q := func(p float64) int64 {
		v := s[min(len(s)-1, int(p*float64(len(s))))]
		if v == 1<<62 {
			return -1
		}
		return v
	}
	return quantile{q(0.5), q(0.9), q(0.99), q(1)}
}

// runLatencyChild runs one publish-to-learn measurement of the svs or sec
// subcommand (sub) in a fresh process: child is the implementation or
// signer, n the group size. A stuck child is killed after the run's own
// time (pubs·interval) plus slack.
func runLatencyChild[T any](sub string, o svsOptions, child string, n int, slack time.Duration) (T, error) {
	args := []string{"-child", child, "-n", strconv.Itoa(n), "-pubs", strconv.Itoa(o.pubs),
		"-interval", o.interval.String(), "-settle", o.settle.String()}
	var res T
	cmd, err := childCommand(sub, args)
	if err != nil {
		return res, err
	}
	err = runChild(fmt.Sprintf("%s: %s child (N=%d)", sub, child, n), cmd, time.Duration(o.pubs)*o.interval+slack, &res)
	return res, err
}

// ---- child side ----

// benchGroup is the sync group every child uses; each child has its own
// forwarder, so they cannot meet.
const benchGroup = "/bench/svs"

func svsChild(o svsOptions, out io.Writer) error {
	// The process ends right after the result; the forwarder and engines go
	// with it (closing them first would only add ndnd's shutdown noise).
	fwd, group, err := benchForwarder(benchGroup)
	if err != nil {
		return err
	}
	var res svsResult
	switch o.child {
	case "rtt":
		res, err = svsChildRTT(o, fwd)
	case "ours", "ours-engine", "ndnd":
		res, err = svsChildSync(o, fwd, group)
	case "floor", "decode":
		res, err = svsChildFloor(o, fwd, group)
	default:
		err = fmt.Errorf("svs: unknown child %q", o.child)
	}
	if err != nil {
		return err
	}
	return writeResult(out, res)
}

// svsChildRTT measures the bare Interest/Data round trip after the same
// idle gap as the publications: producer and consumer on their own faces.
func svsChildRTT(o svsOptions, fwd *fw.Forwarder) (svsResult, error) {
	prefix, _ := enc.NameFromStr("/bench/ping")
	pf, err := fwd.NewFace()
	if err != nil {
		return svsResult{}, err
	}
	cf, err := fwd.NewFace()
	if err != nil {
		return svsResult{}, err
	}
	prod, cons := engine.NewBasicEngine(pf), engine.NewBasicEngine(cf)
	for _, e := range []interface{ Start() error }{prod, cons} {
		if err := e.Start(); err != nil {
			return svsResult{}, err
		}
	}
	if err := fwd.AddRoute(prefix, pf.FaceID(), 0, fw.OriginApp); err != nil {
		return svsResult{}, err
	}
	if err := ping.Serve(prod, prefix, make([]byte, 100)); err != nil {
		return svsResult{}, err
	}
	c := ping.NewConsumer(cons, prefix, "rtt")
	if _, err := c.RoundTrips(50, o.interval); err != nil { // warm-up
		return svsResult{}, err
	}
	rtts, err := c.RoundTrips(o.pubs, o.interval)
	if err != nil {
		return svsResult{}, err
	}
	res := svsResult{Impl: "rtt", N: 2, Pubs: o.pubs}
	for _, d := range rtts {
		res.RTTUs = append(res.RTTUs, d.Microseconds())
	}
	return res, nil
}

// recorder collects delivery times. Publication k (0-based, after one
// warm-up publication per member) is made by member k mod N with sequence
// number k/N + 2.
type recorder struct {
	n, pubs int
	origin  time.Time
	t0      []int64        // publication time, ns since origin
	learn   []atomic.Int64 // [k*n + member] ns since origin, 0 = not yet
	left    atomic.Int64   // measured deliveries still missing
	warm    atomic.Int64   // warm-up deliveries still missing
	done    chan struct{}
	warmed  chan struct{}
	bad     atomic.Int64
}

func newRecorder(n, pubs int) *recorder {
	r := &recorder{
		n: n, pubs: pubs, origin: time.Now(),
		t0:     make([]int64, pubs),
		learn:  make([]atomic.Int64, pubs*n),
		done:   make(chan struct{}),
		warmed: make(chan struct{}),
	}
	r.left.Store(int64(pubs * (n - 1)))
	r.warm.Store(int64(n * (n - 1)))
	return r
}

// deliver records that member m learned seqs low..high of publisher p.
func (r *recorder) deliver(m, p int, low, high uint64) {
	now := int64(time.Since(r.origin))
	if p < 0 || p == m {
		r.bad.Add(1)
		return
	}
	for seq := low; seq <= high; seq++ {
		if seq == 1 {
			if r.warm.Add(-1) == 0 {
				close(r.warmed)
			}
			continue
		}
		k := int(seq-2)*r.n + p
		if seq == 0 || k >= r.pubs {
			r.bad.Add(1)
			continue
		}
		if !r.learn[k*r.n+m].CompareAndSwap(0, now) {
			r.bad.Add(1) // duplicate
			continue
		}
		if r.left.Add(-1) == 0 {
			close(r.done)
		}
	}
}

// publisher is one member of either implementation.
type publisher interface{ publish() (uint64, error) }

// warmUp is the same for every implementation and signer: settle, one
// warm-up publication per member an interval apart, wait (at most
// timeout) until every member learned all of them, settle again.
func warmUp(o svsOptions, members []publisher, rec *recorder, timeout time.Duration) error {
	time.Sleep(o.settle)
	for _, m := range members {
		if _, err := m.publish(); err != nil {
			return err
		}
		time.Sleep(o.interval)
	}
	select {
	case <-rec.warmed:
	case <-time.After(timeout):
		return fmt.Errorf("warm-up publications not learned (%d missing)", rec.warm.Load())
	}
	time.Sleep(o.settle)
	return nil
}

// benchNames names the n members /bench/node/<i>; index finds i from the
// value of the last component (lastNameComponent), so that callbacks find
// a publisher without allocating.
func benchNames(n int) (names []enc.Name, index map[string]int) {
	names, index = make([]enc.Name, n), make(map[string]int, n)
	for i := range n {
		names[i], _ = enc.NameFromStr(fmt.Sprintf("/bench/node/%d", i))
		index[string(names[i][len(names[i])-1].Val)] = i
	}
	return names, index
}

// lastNameComponent is the value of the last component of a Name
// TLV-VALUE of /bench/node/<i>: what follows the last "08 <len>" header of
// a short component.
func lastNameComponent(tlvValue string) string {
	for j := len(tlvValue) - 2; j >= 0; j-- {
		if tlvValue[j] == 0x08 && int(tlvValue[j+1]) == len(tlvValue)-j-2 {
			return tlvValue[j+2:]
		}
	}
	return ""
}

type oursMember struct{ s *svs.Sync }

func (m oursMember) publish() (uint64, error) { return m.s.PublishSeq(context.Background()) }

type ndndMember struct {
	sv   *ndnsync.SvSync
	name enc.Name
}

func (m ndndMember) publish() (uint64, error) { return m.sv.IncrSeqNo(m.name), nil }

func svsChildSync(o svsOptions, fwd *fw.Forwarder, group enc.Name) (svsResult, error) {
	n := o.n
	rec := newRecorder(n, o.pubs)
	names, index := benchNames(n)
	syncPrefix := group.Append(enc.NewVersionComponent(3))

	members := make([]publisher, n)
	for i := range n {
		face, err := fwd.NewFace()
		if err != nil {
			return svsResult{}, err
		}
		var e ndn.Engine
		if o.child != "ours" { // ours runs on the bare face, as the node does
			e = engine.NewBasicEngine(face)
			if err := e.Start(); err != nil {
				return svsResult{}, err
			}
		}
		switch o.child {
		case "ours", "ours-engine":
			registered := make(chan error, 1)
			cfg := svs.Config{
				Group: group,
				Node:  names[i],
				OnUpdate: func(u svs.Update) {
					p, ok := index[lastNameComponent(string(u.Node))]
					if !ok {
						p = -1
					}
					rec.deliver(i, p, u.Low, u.High)
				},
				Register: func(prefix enc.Name) error {
					err := fwd.AddRoute(prefix, face.FaceID(), 0, fw.OriginApp)
					registered <- err
					return err
				},
			}
			var s *svs.Sync
			if e == nil {
				s, err = svs.NewOnFace(face, cfg)
			} else {
				s, err = svs.New(e, cfg)
			}
			if err != nil {
				return svsResult{}, err
			}
			go func() { _ = s.Run(context.Background()) }()
			if err := <-registered; err != nil {
				return svsResult{}, err
			}
			members[i] = oursMember{s}
		case "ndnd":
			client := object.NewClient(e, storage.NewMemoryStore(), nil)
			sv := ndnsync.NewSvSync(ndnsync.SvSyncOpts{
				Client:      client,
				GroupPrefix: group.Clone(),
				OnUpdate: func(u ndnsync.SvSyncUpdate) {
					p := -1
					if len(u.Name) > 0 {
						if j, ok := index[string(u.Name[len(u.Name)-1].Val)]; ok {
							p = j
						}
					}
					rec.deliver(i, p, u.Low, u.High)
				},
			})
			if err := fwd.AddRoute(syncPrefix, face.FaceID(), 0, fw.OriginApp); err != nil {
				return svsResult{}, err
			}
			if err := sv.Start(); err != nil {
				return svsResult{}, err
			}
			members[i] = ndndMember{sv, names[i].Clone()}
		}
	}

	if err := warmUp(o, members, rec, 10*time.Second); err != nil {
		return svsResult{}, fmt.Errorf("svs: %s N=%d: %w", o.child, n, err)
	}

	// Measured phase.
	stop, err := startProfiles(o.profile, "")
	if err != nil {
		return svsResult{}, err
	}
	defer stop()
	return measurePhase(o, rec, fwd, func(k int) error {
		seq, err := members[k%n].publish()
		if err != nil {
			return err
		}
		if want := uint64(k/n + 2); seq != want {
			return fmt.Errorf("svs: %s member %d published seq %d, want %d", o.child, k%n, seq, want)
		}
		return nil
	})
}

// measurePhase takes the start snapshot, runs publish(k) for every
// publication on the fixed schedule (start + k·interval, so that a late
// publication does not shift the others), then waits for the deliveries and
// computes the result from the end snapshot.
func measurePhase(o svsOptions, rec *recorder, fwd *fw.Forwarder, publish func(k int) error) (svsResult, error) {
	heapPeak, stopHeap := sampleHeap()
	c0 := fwd.Counters()
	ru0 := rusage()
	busy0 := machineBusy()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for k := range o.pubs {
		time.Sleep(time.Until(start.Add(time.Duration(k) * o.interval)))
		rec.t0[k] = int64(time.Since(rec.origin))
		if err := publish(k); err != nil {
			stopHeap()
			return svsResult{}, err
		}
	}
	return svsFinish(o, rec, fwd, start, c0, ru0, busy0, &ms0, heapPeak, stopHeap), nil
}

// svsFinish waits for the last deliveries and the settle time after the
// last publication, takes the end snapshot and computes the result.
func svsFinish(o svsOptions, rec *recorder, fwd *fw.Forwarder, start time.Time, c0 fw.Counters, ru0 usage,
	busy0 time.Duration, ms0 *runtime.MemStats, heapPeak func() uint64, stopHeap func()) svsResult {
	n := o.n
	last := time.Now()
	select {
	case <-rec.done:
	case <-time.After(3 * time.Second):
	}
	time.Sleep(time.Until(last.Add(o.settle)))
	wall := time.Since(start)
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	ru1 := rusage()
	busy1 := machineBusy()
	c1 := fwd.Counters()
	stopHeap()

	res := svsResult{Impl: o.child, N: n, Pubs: o.pubs, Anomalies: rec.bad.Load(), WallS: wall.Seconds()}
	for k := range o.pubs {
		p := k % n
		worst := int64(0)
		for m := range n {
			if m == p {
				continue
			}
			t := rec.learn[k*n+m].Load()
			if t == 0 {
				worst = -1
				res.MemberUs = append(res.MemberUs, -1)
				continue
			}
			d := t - rec.t0[k]
			res.MemberUs = append(res.MemberUs, d/1000)
			if worst >= 0 {
				worst = max(worst, d)
			}
		}
		if worst < 0 {
			res.Missed++
			res.AllUs = append(res.AllUs, -1)
		} else {
			res.AllUs = append(res.AllUs, worst/1000)
		}
	}
	recv := c1.OutInterests - c0.OutInterests // Sync Interests delivered to members
	res.CPUPerPub = float64(ru1.cpu-ru0.cpu) / float64(time.Microsecond) / float64(o.pubs)
	res.SysPerPub = float64(ru1.sys-ru0.sys) / float64(time.Microsecond) / float64(o.pubs)
	if busy0 > 0 && busy1 > busy0 {
		res.OtherLoad = max(0, float64(busy1-busy0-(ru1.cpu-ru0.cpu))/float64(wall))
	}
	if recv > 0 {
		res.AllocsRecv = float64(ms1.Mallocs-ms0.Mallocs) / float64(recv)
	}
	res.MaxRSSKB = ru1.maxRSSKB
	res.HeapPeakMB = float64(heapPeak()) / (1 << 20)
	res.GCs = ms1.NumGC - ms0.NumGC
	res.InPerPub = float64(c1.InInterests-c0.InInterests) / float64(o.pubs)
	res.OutPerPub = float64(recv) / float64(o.pubs)
	return res
}

// svsChildFloor measures what the same traffic costs without SVS: each
// member an ndn engine on its own face with a handler on the sync prefix,
// and each publication one Sync Interest of the same size as a real one (N
// entries, a vector as it would be at that moment), encoded beforehand and
// expressed by the publisher.
//
//   - floor: the handler only records the arrival, on the engine's
//     goroutine: forwarder, faces, ndnd engine and scheduler, the cost
//     both implementations stand on.
//   - decode: the handler copies the packet to a channel and a goroutine of
//     the member decodes it with our codec, then records: the floor plus
//     the required hand-off plus our decoder, i.e. a driver whose protocol
//     engine and callbacks cost nothing.
func svsChildFloor(o svsOptions, fwd *fw.Forwarder, group enc.Name) (svsResult, error) {
	n := o.n
	rec := newRecorder(n, o.pubs)
	syncPrefix := group.Append(enc.NewVersionComponent(3))
	codec, err := wire.NewCodec(group, nil, wire.Options{})
	if err != nil {
		return svsResult{}, err
	}
	engines := make([]ndn.Engine, n)
	for i := range n {
		face, err := fwd.NewFace()
		if err != nil {
			return svsResult{}, err
		}
		e := engine.NewBasicEngine(face)
		if err := e.Start(); err != nil {
			return svsResult{}, err
		}
		engines[i] = e
		// The nonce carries the publication index; the publisher of k is
		// k mod n, its seq k/n + 2, as for the real runs.
		record := func(k int) {
			if k >= 0 && k < o.pubs {
				rec.deliver(i, k%n, uint64(k/n+2), uint64(k/n+2))
			}
		}
		type item struct {
			k int
			b []byte
		}
		inbox := make(chan item, 256)
		if o.child == "decode" {
			go func() {
				for it := range inbox {
					if _, err := codec.ParseSyncInterest(it.b); err != nil {
						rec.bad.Add(1)
					}
					record(it.k)
				}
			}()
		}
		if err := e.AttachHandler(syncPrefix, func(args ndn.InterestHandlerArgs) {
			k := int(args.Interest.Nonce().GetOr(0)) - 1
			if o.child == "decode" {
				select {
				case inbox <- item{k, args.RawInterest.Join()}:
				default:
					rec.bad.Add(1)
				}
				return
			}
			record(k)
		}); err != nil {
			return svsResult{}, err
		}
		if err := fwd.AddRoute(syncPrefix, face.FaceID(), 0, fw.OriginApp); err != nil {
			return svsResult{}, err
		}
	}
	// Pre-encode every Sync Interest: a vector of n members at the seqs of
	// the moment (member m has made one warm-up publication and those of
	// m, m+n, ... up to k), so that every vector, and therefore every
	// name, is unique as in the real runs; nonce k+1.
	type pkt struct {
		intr ndn.EncodedInterest
		cfg  ndn.InterestConfig
	}
	pkts := make([]*pkt, o.pubs)
	for k := range o.pubs {
		var entries []core.Entry
		for m := range n {
			node := wire.NameToCore(enc.Name{enc.NewGenericComponent("bench"), enc.NewGenericComponent("node"), enc.NewGenericComponent(strconv.Itoa(m))})
			seq := uint64(1)
			if k >= m {
				seq += uint64((k-m)/n + 1)
			}
			entries = append(entries, core.Entry{Node: node, Boot: 1, Seq: seq})
		}
		b, err := codec.EncodeSyncInterest(core.NewVector(entries...), uint32(k+1))
		if err != nil {
			return svsResult{}, err
		}
		i, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(b))
		if err != nil {
			return svsResult{}, err
		}
		p := &pkt{cfg: ndn.InterestConfig{Lifetime: optional.Some(time.Second)}}
		p.intr = ndn.EncodedInterest{Wire: enc.Wire{b}, FinalName: i.Name(), Config: &p.cfg}
		pkts[k] = p
	}
	time.Sleep(o.settle)
	// No warm-up deliveries to wait for: the handlers need none.
	return measurePhase(o, rec, fwd, func(k int) error {
		return engines[k%n].Express(&pkts[k].intr, func(ndn.ExpressCallbackArgs) {})
	})
}

// machineBusy returns the CPU time all processes have used (user, nice,
// system, irq, softirq, steal) from /proc/stat, or 0 where unavailable.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}

type usage struct {
	cpu, sys time.Duration
	maxRSSKB int64
	switches int64 // context switches, voluntary and not
}

// rusage reads getrusage(RUSAGE_SELF), all the process's threads': user+system
// CPU, peak RSS (kilobytes on Linux) and context switches.
func rusage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return usage{cpu: tv(ru.Utime) + tv(ru.Stime), sys: tv(ru.Stime), maxRSSKB: int64(ru.Maxrss), switches: ru.Nvcsw + ru.Nivcsw}
}

// sampleHeap samples the bytes of live and not yet swept heap objects every
// 20 ms through runtime/metrics, which does not stop the world. peak
// returns the largest sample.
func sampleHeap() (peak func() uint64, stop func()) {
	var top atomic.Uint64
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				if v := sample[0].Value.Uint64(); v > top.Load() {
					top.Store(v)
				}
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return top.Load, func() { once.Do(func() { close(quit); <-done }) }
}
