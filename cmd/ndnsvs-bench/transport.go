package main

// ndnsvs-bench transport: this project's network faces against ndnd's own,
// side by side in one forwarder process.
//
// One forwarder runs two sets of listeners at once: its own, from
// fw.Config (a unix socket and a UDP port), and ndnd v1.5.3's own
// (face.MakeUnixStreamListener, face.MakeUDPListener, opened by fwtest on a
// second socket path and a second UDP port). Each row has a raw producer on
// an in-process face of the forwarder (fwtest.RawProducer) and a raw
// consumer (ping.RawConsumer) in a child process, connected through the
// row's listener with ndnd's std stream face (net.Dial("unix"|"udp")), so
// that the client code is the same for the two rows of a transport and the
// only difference between them is the forwarder-side face. The client runs
// in a child so that the forwarder process's CPU (getrusage, RUSAGE_SELF,
// over each measured phase) is the forwarder's, the faces' and the
// producer's, and not the consumer's; the child's own CPU is printed as a
// control (it should not differ between the two rows of a transport).
//
// Nothing leaves the machine: UDP listens on 127.0.0.1 only, multicast,
// TCP and WebSocket are off, and the process asserts this before it
// starts. It needs no privileges and no network namespace.
//
// Rows are measured in alternating blocks, the order reversed every other
// block (ABBA), so that drift (frequency scaling, other load) falls on every
// row alike; ratios are taken block by block between the two rows of a
// transport, which run next to each other. The round trips are finer
// still: in each block the two rows of a transport take turns exchange by
// exchange (alternate), so that a round trip's ratio is not also the drift
// between two phases a few milliseconds apart, which was most of its
// noise (-control shows what is left: round-trip medians 1.00-1.01 in
// four default runs of 2026-11-30). The CPU figures need a phase of their
// own per row and stay in blocks.
//
// Usage:
//
//	ndnsvs-bench transport [-rtt 20000] [-pipe 100000] [-window 64] [-blocks 20]
//	                       [-only unix|udp] [-threads N] [-cpuprofile PREFIX] [-control]
//
// With -control, the second row of each transport is a second client of
// this project's own listener instead of ndnd's: the same face kind and
// code on both rows, so that each ratio shows the bench's own noise, and
// any bias between the rows' places, for reading the ours/ndnd ratios
// against.
//
// With -cpuprofile, after the report each row's sequential and pipelined
// phase is run once more under the CPU profiler (PREFIX-<row>-<phase>.pprof)
// and with mutex profiling on (PREFIX-<row>-<phase>.mutex.pprof: the mutex
// profile cannot be reset, so each file holds every profiled phase so far;
// compare a file with the one before it, go tool pprof -diff_base).

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	ndnface "github.com/named-data/ndnd/std/engine/face"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

type transportOptions struct {
	rtt, pipe, window, blocks, content int
	threads                            int
	cpuprofile, only                   string
	control                            bool // ours against ours: the bench's own noise
	client                             bool // hidden: be the consumer child
}

// runTransport is the transport subcommand: it prints the report and exits.
func runTransport(args []string) {
	if err := benchTransport(args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ndnsvs-bench transport:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// transportRow is one kind of forwarder-side face and what was measured
// through it, pooled and block by block.
type transportRow struct {
	name    string // "unix-ours", "unix-ndnd", "udp-ours", "udp-ndnd"
	network string // what the client dials: "unix" or "udp"
	addr    string

	rtts    []time.Duration // every sequential round trip
	seqN    int             // sequential exchanges
	pipeN   int             // pipelined exchanges
	fwdSeq  time.Duration   // forwarder-process CPU, sequential phases
	swSeq   int64           // forwarder-process context switches, sequential phases
	fwdPipe time.Duration   // forwarder-process CPU, pipelined phases
	cliPipe time.Duration   // client-process CPU, pipelined phases
	mallocs uint64          // forwarder-process heap allocations, both phases
	blocks  []transportBlock
}

// transportBlock is one row's figures in one block; each is a cost (lower
// is better), so that ours/ndnd <= 1 is the target for all of them.
type transportBlock struct {
	p50, p99        float64 // round trip, ns
	perExch         float64 // pipelined: ns of wall time per exchange
	cpuSeq, cpuPipe float64 // forwarder-process CPU per packet, ns
}

func (b transportBlock) costs() [5]float64 {
	return [5]float64{b.p50, b.p99, b.perExch, b.cpuSeq, b.cpuPipe}
}

// benchTransport runs the transport report with flags args, or the
// consumer child with -client.
func benchTransport(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("transport", flag.ContinueOnError)
	var o transportOptions
	fs.IntVar(&o.rtt, "rtt", 20_000, "sequential exchanges per row (round trip)")
	fs.IntVar(&o.pipe, "pipe", 100_000, "pipelined exchanges per row (throughput)")
	fs.IntVar(&o.window, "window", 64, "Interests in flight in the pipelined phase")
	fs.IntVar(&o.blocks, "blocks", 20, "alternating blocks the exchanges are split into")
	fs.IntVar(&o.content, "content", 100, "Data content size in bytes")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "after the report, profile the forwarder process through one sequential and one pipelined phase per row into PREFIX-<row>-<rtt|pipe>.pprof")
	fs.IntVar(&o.threads, "threads", runtime.GOMAXPROCS(0), "the forwarder's forwarding threads")
	fs.StringVar(&o.only, "only", "", "measure only this transport's two rows (unix or udp), or one row (udp-ours, unix-ndnd...: to profile or count system calls one face kind at a time)")
	fs.BoolVar(&o.control, "control", false, "a control run: in place of ndnd's listener, a second client of ours on the same one (each ratio's spread is then the bench's own noise)")
	fs.BoolVar(&o.client, "client", false, "internal: run as the consumer child, commands on stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.client {
		return transportClient(os.Stdin, out)
	}
	if o.only != "" && o.only != "unix" && o.only != "udp" && !slices.Contains(rowNames(o.control), o.only) {
		return fmt.Errorf("-only %q: neither a transport (unix, udp) nor a row (%s)", o.only, strings.Join(rowNames(o.control), ", "))
	}
	if o.blocks < 1 || o.rtt < o.blocks || o.pipe < o.blocks || o.window < 1 {
		return fmt.Errorf("need -blocks >= 1, -rtt and -pipe >= -blocks, -window >= 1")
	}
	return transportParent(o, out)
}

func transportParent(o transportOptions, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "ndnsvs-bench-transport")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(out, "ndnsvs-bench transport  (%s %s/%s, %d CPUs, %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))

	setup := startPhase("transport setup", "one forwarder with our unix and UDP listeners and ndnd's, a producer per row, the consumer child, 500 warm-up exchanges per row")
	oursUDP, err := freeUDPPort()
	if err != nil {
		return err
	}
	ndndUDP, err := freeUDPPort()
	if err != nil {
		return err
	}
	if oursUDP == ndndUDP {
		return fmt.Errorf("the kernel gave the same free UDP port twice: %v", oursUDP)
	}
	cfg := fw.DefaultConfig()
	cfg.Threads = o.threads
	cfg.Unix = fw.UnixConfig{Enabled: true, Path: filepath.Join(tmp, "ours.sock"), Mode: 0o600}
	cfg.UDP.Enabled = true
	cfg.UDP.Listen = []netip.AddrPort{oursUDP}
	cfg.Multicast.Enabled = false
	cfg.TCP.Enabled = false
	cfg.WebSocket.Enabled = false
	if err := loopbackOnly(cfg); err != nil {
		return err
	}
	fwd, err := startForwarder(cfg)
	if err != nil {
		return err
	}
	defer fwd.Close()

	names := rowNames(o.control)
	rows := []*transportRow{
		{name: names[0], network: "unix", addr: cfg.Unix.Path},
		{name: names[1], network: "unix"},
		{name: names[2], network: "udp", addr: oursUDP.String()},
		{name: names[3], network: "udp", addr: ndndUDP.String()},
	}
	if o.control {
		rows[1].addr, rows[3].addr = rows[0].addr, rows[2].addr
		fmt.Fprintf(out, "control run: one forwarder (%d threads); two clients on each of its listeners, unix %s and udp %s\n",
			cfg.Threads, cfg.Unix.Path, oursUDP)
	} else {
		rows[1].addr = filepath.Join(tmp, "ndnd.sock")
		ul, err := fwtest.NdndUnixListener(rows[1].addr)
		if err != nil {
			return err
		}
		defer ul.Close()
		dl, err := fwtest.NdndUDPListener(ndndUDP)
		if err != nil {
			return err
		}
		defer dl.Close()
		fmt.Fprintf(out, "one forwarder (%d threads); listeners: ours (fw.Config) unix %s, udp %s; ndnd's own unix %s, udp %s\n",
			cfg.Threads, cfg.Unix.Path, oursUDP, rows[1].addr, ndndUDP)
	}
	if o.only != "" {
		rows = slices.DeleteFunc(rows, func(r *transportRow) bool { return r.network != o.only && r.name != o.only })
	}
	lone := len(rows) == 1 // its round trips are its own sequential phase's

	content := make([]byte, o.content)
	for _, r := range rows {
		pf, err := fwtest.RawProducer(fwd, "", transportPrefix(r.name), content)
		if err != nil {
			return fmt.Errorf("%s producer: %w", r.name, err)
		}
		defer pf.Close()
	}

	cl, err := startTransportClient()
	if err != nil {
		return err
	}
	// Before the forwarder closes: the child's stream faces exit it when
	// the forwarder goes away first (ndnd std).
	defer cl.close()
	for _, r := range rows {
		if _, err := cl.do("open", r.name, r.network, r.addr, transportPrefix(r.name).String()); err != nil {
			return fmt.Errorf("%s client: %w", r.name, err)
		}
		fmt.Fprintf(out, "%-9s client connected to %s %s, 500 warm-up exchanges done\n", r.name, r.network, r.addr)
	}

	setup.done()

	fmt.Fprintf(out, "%d blocks: per row %d sequential exchanges (round trip) and %d with %d in flight (throughput), %d B content\n",
		o.blocks, o.rtt, o.pipe, o.window, o.content)
	ph := startPhase("transport blocks", "%d alternating blocks over %d rows: %d sequential and %d pipelined (%d in flight) exchanges per row in all",
		o.blocks, len(rows), o.rtt, o.pipe, o.window)
	for b := range o.blocks {
		order := slices.Clone(rows)
		if b%2 == 1 {
			slices.Reverse(order)
		}
		var line strings.Builder
		fmt.Fprintf(&line, "block %2d/%d", b+1, o.blocks)
		for _, r := range order {
			var blk transportBlock
			// Each measured phase comes right after an unmeasured one of
			// its own row. Without it, a row measured right after itself
			// (the block boundaries of ABBA) found its goroutines, socket
			// and caches warm, and another row's pipelined phase before it
			// left the other rows' GC debt and cold caches: a carry-over
			// that favoured two of the four rows.
			if _, err := cl.do("rtt", r.name, strconv.Itoa(transportWarm)); err != nil {
				return fmt.Errorf("%s round trips: %w", r.name, err)
			}
			n := o.rtt/o.blocks + boolInt(b < o.rtt%o.blocks)
			m0 := mallocs()
			u0 := rusage()
			rep, err := cl.do("rtt", r.name, strconv.Itoa(n))
			if err != nil {
				return fmt.Errorf("%s round trips: %w", r.name, err)
			}
			u := rusage()
			cpu := u.cpu - u0.cpu
			r.swSeq += u.switches - u0.switches
			if len(rep) != n+1 {
				return fmt.Errorf("%s round trips: %d in the reply, want %d", r.name, len(rep)-1, n)
			}
			r.seqN += n
			r.fwdSeq += cpu
			blk.cpuSeq = float64(cpu) / float64(2*n)
			if lone {
				rtts, err := parseDurations(rep[1:])
				if err != nil {
					return err
				}
				r.rtts = append(r.rtts, rtts...)
				st := ping.Summarize(rtts)
				blk.p50, blk.p99 = float64(st.Median), float64(st.P99)
				fmt.Fprintf(&line, "  %s %v", r.name, st.Median.Round(100*time.Nanosecond))
			}

			n = o.pipe/o.blocks + boolInt(b < o.pipe%o.blocks)
			r.mallocs += mallocs() - m0
			if _, err := cl.do("pipe", r.name, strconv.Itoa(transportWarm), strconv.Itoa(o.window)); err != nil {
				return fmt.Errorf("%s pipeline: %w", r.name, err)
			}
			m0 = mallocs()
			c0 := processCPU()
			rep, err = cl.do("pipe", r.name, strconv.Itoa(n), strconv.Itoa(o.window))
			if err != nil {
				return fmt.Errorf("%s pipeline: %w", r.name, err)
			}
			cpu = processCPU() - c0
			r.mallocs += mallocs() - m0
			ds, err := parseDurations(rep)
			if err != nil || len(ds) != 2 {
				return fmt.Errorf("%s pipeline: bad reply %q", r.name, rep)
			}
			r.fwdPipe += cpu
			r.cliPipe += ds[0]
			r.pipeN += n
			blk.perExch = float64(ds[1]) / float64(n)
			blk.cpuPipe = float64(cpu) / float64(2*n)
			r.blocks = append(r.blocks, blk)
			fmt.Fprintf(&line, "  %s %.0f/s", r.name, 1e9/blk.perExch)
		}
		// The round trips: the two rows of a transport one exchange each
		// in turn (alternate), so that their ratio is not the drift
		// between two phases of their own.
		for i := 0; i+1 < len(rows); i += 2 {
			pair := []*transportRow{rows[i], rows[i+1]}
			if b%2 == 1 {
				slices.Reverse(pair)
			}
			n := o.rtt/o.blocks + boolInt(b < o.rtt%o.blocks)
			rep, err := cl.do("alt", pair[0].name, pair[1].name, strconv.Itoa(transportWarm/2), strconv.Itoa(n))
			if err != nil {
				return fmt.Errorf("%s and %s round trips: %w", pair[0].name, pair[1].name, err)
			}
			ds, err := parseDurations(rep)
			if err != nil || len(ds) != 2*n {
				return fmt.Errorf("%s and %s round trips: bad reply of %d figures", pair[0].name, pair[1].name, len(rep))
			}
			for k, r := range pair {
				rtts := make([]time.Duration, n)
				for j := range n {
					rtts[j] = ds[2*j+k]
				}
				r.rtts = append(r.rtts, rtts...)
				st := ping.Summarize(rtts)
				blk := &r.blocks[len(r.blocks)-1]
				blk.p50, blk.p99 = float64(st.Median), float64(st.P99)
				fmt.Fprintf(&line, "  %s %v", r.name, st.Median.Round(100*time.Nanosecond))
			}
		}
		fmt.Fprintln(out, line.String())
	}
	ph.done()

	fmt.Fprintln(out)
	fmt.Fprintln(out, "pooled over all blocks. rtt: sequential Interest/Data round trip, a transport's two rows in turns, exchange")
	fmt.Fprintln(out, "by exchange; exch/s: pipelined exchanges per second")
	fmt.Fprintln(out, "(median of the blocks); cpu/pkt: getrusage user+sys of the forwarder process (forwarder, faces, in-process")
	fmt.Fprintln(out, "producer) per packet, two packets per exchange (the Interest and the Data on the face under test);")
	fmt.Fprintln(out, "client cpu/pkt: the consumer child's, a control (same client code on both rows of a transport);")
	fmt.Fprintln(out, "allocs/pkt: the forwarder process's heap allocations per packet (runtime.MemStats.Mallocs), both phases;")
	fmt.Fprintln(out, "switch/exch seq: the forwarder process's context switches (getrusage, voluntary and not) per sequential exchange")
	fmt.Fprintf(out, "%-10s %10s %10s %10s %14s %14s %14s %11s %16s\n", "face", "rtt p50", "rtt p99", "exch/s", "cpu/pkt seq", "cpu/pkt pipe", "client cpu/pkt", "allocs/pkt", "switch/exch seq")
	perPkt := func(d time.Duration, exchanges int) time.Duration { return d / time.Duration(2*exchanges) }
	for _, r := range rows {
		st := ping.Summarize(r.rtts)
		rates := make([]float64, len(r.blocks))
		for i, b := range r.blocks {
			rates[i] = 1e9 / b.perExch
		}
		fmt.Fprintf(out, "%-10s %10v %10v %10.0f %14v %14v %14v %11.1f %16.2f\n", r.name,
			st.Median.Round(100*time.Nanosecond), st.P99.Round(100*time.Nanosecond), fquantile(rates, 0.5),
			perPkt(r.fwdSeq, r.seqN).Round(10*time.Nanosecond), perPkt(r.fwdPipe, r.pipeN).Round(10*time.Nanosecond),
			perPkt(r.cliPipe, r.pipeN).Round(10*time.Nanosecond), float64(r.mallocs)/float64(2*(r.seqN+r.pipeN)),
			float64(r.swSeq)/float64(r.seqN))
	}
	if lone {
		fmt.Fprintln(out, "one row: its round trips are its own sequential phase's; no ratios")
		return profileRows(cl, rows, o, out)
	}
	fmt.Fprintln(out)
	if o.control {
		fmt.Fprintln(out, "ours/ours2, a control: the same face kind and code on both rows, so that each ratio is the bench's own")
		fmt.Fprintln(out, "noise (and any bias between the rows' places); each figure a cost, paired block by block, median of the")
		fmt.Fprintln(out, "blocks' ratios and in brackets their quartiles; no target, the verdict column says how far from 1.00.")
	} else {
		fmt.Fprintln(out, "ours/ndnd: each figure a cost (throughput as time per exchange), paired block by block (the two rows of a")
		fmt.Fprintln(out, "transport run next to each other), median of the blocks' ratios and in brackets their quartiles (the noise).")
		fmt.Fprintln(out, "target: median <= 1.00 on every row")
	}
	fmt.Fprintf(out, "%-9s %17s %17s %17s %17s %17s  %s\n", "transport", "rtt p50", "rtt p99", "1/(exch/s)", "cpu/pkt seq", "cpu/pkt pipe", "verdict")
	for i := 0; i+1 < len(rows); i += 2 {
		ours, nd := rows[i], rows[i+1]
		var ratios [5][]float64
		for b := range ours.blocks {
			oc, nc := ours.blocks[b].costs(), nd.blocks[b].costs()
			for k := range oc {
				ratios[k] = append(ratios[k], oc[k]/nc[k])
			}
		}
		verdict := "ok"
		far := 0.0 // the control's: the median furthest from 1
		fmt.Fprintf(out, "%-9s", ours.network)
		for _, q := range ratios {
			m := fquantile(q, 0.5)
			switch {
			case fquantile(q, 0.25) > 1.0:
				verdict = "ABOVE 1.00"
			case m > 1.0 && verdict == "ok":
				verdict = "above 1.00 within the noise (q1 <= 1)"
			}
			far = max(far, math.Abs(m-1))
			fmt.Fprintf(out, " %17s", fmt.Sprintf("%.2f (%.2f-%.2f)", m, fquantile(q, 0.25), fquantile(q, 0.75)))
		}
		if o.control {
			verdict = fmt.Sprintf("control: medians within %.2f of 1.00", far)
		}
		fmt.Fprintf(out, "  %s\n", verdict)
	}

	return profileRows(cl, rows, o, out)
}

// profileRows makes the -cpuprofile profiles, if asked.
func profileRows(cl *transportClientProc, rows []*transportRow, o transportOptions, out io.Writer) error {
	if o.cpuprofile != "" {
		ph := startPhase("transport profiles", "CPU profiles of the forwarder process, one sequential and one pipelined phase per row, the whole count each")
		for _, phase := range []string{"rtt", "pipe"} {
			for _, r := range rows {
				path := fmt.Sprintf("%s-%s-%s.pprof", o.cpuprofile, r.name, phase)
				if err := profileRow(cl, r, phase, path, o); err != nil {
					return err
				}
				fmt.Fprintf(out, "profile: %s (forwarder process, one %s phase of the whole -%s count)\n", path, phase, phase)
			}
		}
		ph.done()
	}
	return nil
}

// profileRow profiles the forwarder process through one phase of r, the
// phase's whole count in one go: "rtt" (sequential) or "pipe".
func profileRow(cl *transportClientProc, r *transportRow, phase, path string, o transportOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	runtime.SetMutexProfileFraction(1)
	defer func() {
		runtime.SetMutexProfileFraction(0)
		if mf, err := os.Create(strings.TrimSuffix(path, ".pprof") + ".mutex.pprof"); err == nil {
			_ = pprof.Lookup("mutex").WriteTo(mf, 0)
			_ = mf.Close()
		}
	}()
	if phase == "rtt" {
		_, err = cl.do("rtt", r.name, strconv.Itoa(o.rtt))
	} else {
		_, err = cl.do("pipe", r.name, strconv.Itoa(o.pipe), strconv.Itoa(o.window))
	}
	pprof.StopCPUProfile()
	return err
}

// transportWarm is the number of unmeasured exchanges before each measured
// phase.
const transportWarm = 200

func transportPrefix(row string) enc.Name {
	return fwtest.Name("/bench/transport/" + row)
}

// rowNames lists the rows, in transportParent's order: the names -only
// may give.
func rowNames(control bool) []string {
	if control {
		return []string{"unix-ours", "unix-ours2", "udp-ours", "udp-ours2"}
	}
	return []string{"unix-ours", "unix-ndnd", "udp-ours", "udp-ndnd"}
}

// alternate makes warm exchanges, then n, on each of a and b, one on each
// in turn (a b, b a, a b...), so that whatever drifts over the run (the
// clock, other load, the garbage collector's debt) falls on both alike,
// and returns the n measured round trips of each.
func alternate(a, b *ping.RawConsumer, warm, n int) (ra, rb []time.Duration, err error) {
	ra, rb = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range warm + n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		d1, err := first.RoundTrip()
		if err != nil {
			return nil, nil, err
		}
		d2, err := second.RoundTrip()
		if err != nil {
			return nil, nil, err
		}
		if i < warm {
			continue
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		ra, rb = append(ra, d1), append(rb, d2)
	}
	return ra, rb, nil
}

// fquantile returns the q-quantile of xs (nearest rank, xs not modified).
func fquantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// loopbackOnly refuses a configuration that could send a packet off the
// machine: multicast, TCP, WebSocket, or a UDP listener not on loopback.
func loopbackOnly(cfg fw.Config) error {
	if cfg.Multicast.Enabled || cfg.TCP.Enabled || cfg.WebSocket.Enabled {
		return errors.New("the transport benchmark runs with multicast, TCP and WebSocket off")
	}
	for _, a := range cfg.UDP.Listen {
		if !a.Addr().IsLoopback() {
			return fmt.Errorf("the transport benchmark listens on loopback only, not %v", a)
		}
	}
	return nil
}

// freeUDPPort returns a loopback UDP address whose port was free a moment
// ago (the kernel's choice).
func freeUDPPort() (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// mallocs is this process's count of heap allocations so far (it stops
// the world briefly: called between phases, never inside one).
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration { return rusage().cpu }

func parseDurations(fields []string) ([]time.Duration, error) {
	ds := make([]time.Duration, len(fields))
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad duration %q from the client", f)
		}
		ds[i] = time.Duration(n)
	}
	return ds, nil
}

// ---- the consumer child ----

// transportClientProc is the parent's handle on the consumer child: one
// command line out, one reply line back ("ok ..." or "err ...").
type transportClientProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startTransportClient() (*transportClientProc, error) {
	cmd, err := childCommand("transport", []string{"-client"}) // the consumer child
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // round trips come back on one line
	return &transportClientProc{cmd: cmd, in: in, out: sc}, nil
}

// do sends one command and returns the fields of its "ok" reply after "ok".
func (c *transportClientProc) do(args ...string) ([]string, error) {
	if _, err := fmt.Fprintln(c.in, strings.Join(args, " ")); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for c.out.Scan() {
		f := strings.Fields(c.out.Text())
		switch {
		case len(f) > 0 && f[0] == "ok":
			return f[1:], nil
		case len(f) > 0 && f[0] == "err":
			return nil, fmt.Errorf("client: %s", strings.Join(f[1:], " "))
		}
		// Anything else (a test binary's own output) is not a reply.
	}
	return nil, fmt.Errorf("client exited (%v)", c.out.Err())
}

// close ends the child's input; it closes its faces and exits.
func (c *transportClientProc) close() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

// transportClient is the consumer child: it reads commands from in and
// answers each on one line of out.
//
//	open <row> <unix|udp> <addr> <prefix>  -> ok
//	rtt <row> <n>                          -> ok <cpu ns> <rtt ns>...
//	pipe <row> <n> <window>                -> ok <cpu ns> <elapsed ns>
func transportClient(in io.Reader, out io.Writer) error {
	type conn struct {
		f ndn.Face
		c *ping.RawConsumer
	}
	conns := map[string]conn{}
	defer func() {
		for _, c := range conns {
			_ = c.f.Close()
		}
	}()
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		reply, err := func() (string, error) {
			switch {
			case len(f) == 5 && f[0] == "open":
				prefix, err := enc.NameFromStr(f[4])
				if err != nil {
					return "", err
				}
				// ndnd std's stream face: on UDP each read is one datagram,
				// which its TLV framer takes whole.
				face := ndnface.NewStreamFace(f[2], f[3], f[2] == "unix")
				c, err := ping.NewRawConsumer(face, prefix, "c")
				if err != nil {
					return "", err
				}
				conns[f[1]] = conn{face, c}
				// The first datagram to ndnd's UDP listener creates the
				// face; one sent before the face's own socket takes over is
				// dropped. Warm up one at a time until one gets through.
				var werr error
				for range 3 {
					if _, werr = c.RoundTrips(1, 0); werr == nil {
						break
					}
				}
				if werr != nil {
					return "", werr
				}
				_, err = c.RoundTrips(500, 0)
				return "", err
			case len(f) == 5 && f[0] == "alt":
				a, okA := conns[f[1]]
				b, okB := conns[f[2]]
				warm, err1 := strconv.Atoi(f[3])
				n, err2 := strconv.Atoi(f[4])
				if !okA || !okB || err1 != nil || err2 != nil {
					return "", fmt.Errorf("bad command %q", f)
				}
				ra, rb, err := alternate(a.c, b.c, warm, n)
				if err != nil {
					return "", err
				}
				var out strings.Builder
				for i := range ra {
					fmt.Fprintf(&out, " %d %d", int64(ra[i]), int64(rb[i]))
				}
				return strings.TrimPrefix(out.String(), " "), nil
			case len(f) == 3 && f[0] == "rtt":
				c, ok := conns[f[1]]
				n, err := strconv.Atoi(f[2])
				if !ok || err != nil {
					return "", fmt.Errorf("bad command %q", f)
				}
				c0 := processCPU()
				rtts, err := c.c.RoundTrips(n, 0)
				if err != nil {
					return "", err
				}
				var b strings.Builder
				fmt.Fprintf(&b, "%d", processCPU()-c0)
				for _, d := range rtts {
					b.WriteByte(' ')
					b.WriteString(strconv.FormatInt(int64(d), 10))
				}
				return b.String(), nil
			case len(f) == 4 && f[0] == "pipe":
				c, ok := conns[f[1]]
				n, err1 := strconv.Atoi(f[2])
				win, err2 := strconv.Atoi(f[3])
				if !ok || err1 != nil || err2 != nil {
					return "", fmt.Errorf("bad command %q", f)
				}
				c0 := processCPU()
				d, err := c.c.Pipeline(n, win)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%d %d", processCPU()-c0, d), nil
			}
			return "", fmt.Errorf("bad command %q", f)
		}()
		if err != nil {
			fmt.Fprintf(w, "err %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(w, "ok %s\n", reply)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}
