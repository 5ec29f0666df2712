package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

type fwOptions struct {
	names, rtt, runs, window int
	node                     string
}

func benchFW(o fwOptions, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "ndnsvs-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(out, "ndnsvs-bench fw  (%s %s/%s, %d CPUs, %s)\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))

	bin := o.node
	if bin == "" {
		bin = filepath.Join(tmp, "ndnsvs-node")
		ph := startPhase("fw build", "building the stripped node binary (go build -trimpath -ldflags=-s -w, CGO_ENABLED=0)")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, b)
		}
		ph.done()
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "binary (stripped, CGO_ENABLED=0): %.1f MB\n", float64(fi.Size())/1e6)

	// Start-up time to ready, and idle memory.
	ph := startPhase("fw start-up", "%d node start(s): time from exec to \"node ready\", then resident memory after 2 s idle", o.runs)
	var starts []time.Duration
	var idle []int64
	for i := range o.runs {
		n, err := startNode(bin, filepath.Join(tmp, fmt.Sprintf("start%d", i)), false)
		if err != nil {
			return err
		}
		starts = append(starts, n.ready)
		time.Sleep(2 * time.Second) // idle is what is measured
		rss, err := rssKB(n.cmd.Process.Pid)
		n.stop()
		if err != nil {
			return err
		}
		idle = append(idle, rss)
	}
	ph.done()
	slices.Sort(starts)
	slices.Sort(idle)
	fmt.Fprintf(out, "start-up to ready (exec to \"node ready\", %d runs): median %v, min %v, max %v\n",
		len(starts), starts[len(starts)/2].Round(10*time.Microsecond), starts[0].Round(10*time.Microsecond), starts[len(starts)-1].Round(10*time.Microsecond))
	fmt.Fprintf(out, "idle resident memory (VmRSS 2 s after ready): median %.1f MB\n\n", float64(idle[len(idle)/2])/1024)

	if err := benchFaces(o, tmp, out); err != nil {
		return err
	}
	return benchSoak(o, bin, tmp, out)
}

// benchFaces measures round trip and throughput through an in-process
// forwarder, producer and consumer each on their own face, in-process faces
// against unix-socket faces, in alternating blocks so that both see the
// same machine.
func benchFaces(o fwOptions, tmp string, out io.Writer) error {
	sock := filepath.Join(tmp, "bench.sock")
	cfg := fw.DefaultConfig()
	cfg.Threads = runtime.GOMAXPROCS(0)
	cfg.Unix = fw.UnixConfig{Enabled: true, Path: sock, Mode: 0o600}
	fwd, err := startForwarder(cfg)
	if err != nil {
		return err
	}
	defer fwd.Close()

	type pair = facePair
	mk := func(kind string) (pair, error) {
		if kind == "inproc-raw" || kind == "unix-raw" {
			return mkRaw(fwd, sock, kind)
		}
		prefix, _ := enc.NameFromStr("/bench/" + kind)
		var prod, cons ndn.Engine
		if kind == "inproc" {
			pf, err := fwd.NewFace()
			if err != nil {
				return pair{}, err
			}
			cf, err := fwd.NewFace()
			if err != nil {
				return pair{}, err
			}
			prod, cons = engine.NewBasicEngine(pf), engine.NewBasicEngine(cf)
			if err := fwd.AddRoute(prefix, pf.FaceID(), 0, fw.OriginApp); err != nil {
				return pair{}, err
			}
		} else {
			prod, cons = engine.NewBasicEngine(engine.NewUnixFace(sock)), engine.NewBasicEngine(engine.NewUnixFace(sock))
		}
		for _, e := range []ndn.Engine{prod, cons} {
			if err := e.Start(); err != nil {
				return pair{}, err
			}
		}
		if kind == "unix" {
			if err := prod.RegisterRoute(prefix); err != nil {
				return pair{}, err
			}
		}
		if err := ping.Serve(prod, prefix, make([]byte, 100)); err != nil {
			return pair{}, err
		}
		c := ping.NewConsumer(cons, prefix, "c")
		if _, err := c.RoundTrips(500, 0); err != nil { // warm-up
			return pair{}, err
		}
		return pair{kind, c, func() { cons.Stop(); prod.Stop() }}, nil
	}
	var pairs []pair
	for _, k := range []string{"inproc", "unix", "inproc-raw", "unix-raw"} {
		p, err := mk(k)
		if err != nil {
			return fmt.Errorf("%s faces: %w", k, err)
		}
		defer p.stop()
		pairs = append(pairs, p)
	}

	const blocks = 10
	ph := startPhase("fw faces", "%d sequential and %d pipelined (%d in flight) Interest/Data exchanges on each of inproc, unix, inproc-raw, unix-raw, in %d alternating blocks",
		o.rtt, o.rtt, o.window, blocks)
	rtts := map[string][]time.Duration{}
	tput := map[string][]float64{}
	for range blocks {
		for _, p := range pairs {
			r, err := p.cons.RoundTrips(o.rtt/blocks, 0)
			if err != nil {
				return err
			}
			rtts[p.name] = append(rtts[p.name], r...)
			n := o.rtt / blocks
			d, err := p.cons.Pipeline(n, o.window)
			if err != nil {
				return err
			}
			tput[p.name] = append(tput[p.name], float64(n)/d.Seconds())
		}
	}
	ph.done()
	fmt.Fprintf(out, "Interest/Data through one forwarder, producer and consumer on their own faces, 100 B content, DigestSha256\n")
	fmt.Fprintf(out, "inproc, unix: an ndnd engine (std/engine) at both ends; -raw: no engine, the application reads and writes\n")
	fmt.Fprintf(out, "its face's frames itself (the node's sync members do, on an in-process face)\n")
	fmt.Fprintf(out, "%d sequential exchanges and %d with %d in flight per face kind, in %d alternating blocks\n", o.rtt, o.rtt, o.window, blocks)
	fmt.Fprintf(out, "%-10s %10s %10s %10s %14s\n", "face", "rtt p50", "rtt p90", "rtt p99", "exch/s (med)")
	stats := map[string]ping.Stats{}
	for _, p := range pairs {
		s := ping.Summarize(rtts[p.name])
		stats[p.name] = s
		t := slices.Clone(tput[p.name])
		slices.Sort(t)
		fmt.Fprintf(out, "%-10s %10v %10v %10v %14.0f\n", p.name, s.Median.Round(100*time.Nanosecond), s.P90.Round(100*time.Nanosecond), s.P99.Round(100*time.Nanosecond), t[len(t)/2])
	}
	fmt.Fprintf(out, "in-process / unix round trip (median), ndnd engine at both ends: %.2f  (target <= 0.50)\n",
		float64(stats["inproc"].Median)/float64(stats["unix"].Median))
	fmt.Fprintf(out, "in-process / unix round trip (median), raw frames at both ends:  %.2f  (target <= 0.50)\n\n",
		float64(stats["inproc-raw"].Median)/float64(stats["unix-raw"].Median))
	return nil
}

// benchSoak pushes o.names unique Data names through two nodes, one with
// this project's defaults (Content Store admit off) and one with ndnd's
// Content Store defaults (admit on, 1024 entries per thread), and compares
// their resident memory with their idle memory.
func benchSoak(o fwOptions, bin, tmp string, out io.Writer) error {
	fmt.Fprintf(out, "memory soak: %d unique Data names (100 B) through the node, producer and consumer on its unix socket\n", o.names)
	fmt.Fprintf(out, "%-34s %10s %12s %12s %8s %10s\n", "node", "idle MB", "after MB", "after+15s MB", "ratio", "exch/s")
	for _, cs := range []bool{false, true} {
		label := "ndnsvs defaults (CS admit off)"
		if cs {
			label = "ndnd CS defaults (admit on, 1024)"
		}
		ph := startPhase("fw soak", "%s: a node idle for 2 s, then %d unique Data names through its unix socket, then 15 s idle", label, o.names)
		n, err := startNode(bin, filepath.Join(tmp, fmt.Sprintf("soak%v", cs)), cs)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second) // idle is what is measured
		idle, err := rssKB(n.cmd.Process.Pid)
		if err != nil {
			n.stop()
			return err
		}
		rate, err := pump(n.sock, o.names, o.window)
		if err != nil {
			n.stop()
			return err
		}
		after, _ := rssKB(n.cmd.Process.Pid)
		time.Sleep(15 * time.Second) // what the node gives back when idle
		later, _ := rssKB(n.cmd.Process.Pid)
		n.stop()
		ph.done()
		fmt.Fprintf(out, "%-34s %10.1f %12.1f %12.1f %8.2f %10.0f\n", label,
			float64(idle)/1024, float64(after)/1024, float64(later)/1024, float64(later)/float64(idle), rate)
	}
	fmt.Fprintf(out, "ratio = resident after soak + 15 s idle / idle (target for ndnsvs defaults <= 2.00)\n")
	return nil
}

// pump sends n unique names through the node at sock and returns the rate.
func pump(sock string, n, window int) (float64, error) {
	prefix, _ := enc.NameFromStr("/soak")
	prod := engine.NewBasicEngine(engine.NewUnixFace(sock))
	cons := engine.NewBasicEngine(engine.NewUnixFace(sock))
	for _, e := range []ndn.Engine{prod, cons} {
		if err := e.Start(); err != nil {
			return 0, err
		}
		defer e.Stop() // before the node stops: a closed unix face exits the process in ndnd's std
	}
	if err := prod.RegisterRoute(prefix); err != nil {
		return 0, err
	}
	if err := ping.Serve(prod, prefix, make([]byte, 100)); err != nil {
		return 0, err
	}
	c := ping.NewConsumer(cons, prefix, "soak")
	d, err := c.Pipeline(n, window)
	if err != nil {
		return 0, err
	}
	return float64(n) / d.Seconds(), nil
}

type nodeProc struct {
	cmd   *exec.Cmd
	sock  string
	ready time.Duration
	done  chan struct{}
}

// startNode runs the node binary with every network listener off and waits
// for its ready line.
func startNode(bin, dir string, ndndCS bool) (*nodeProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "nfd.sock")
	cfg := fmt.Sprintf(`[node]
state_dir = %q
[log]
level = "info"
[metrics]
listen = "127.0.0.1:0"
[faces.unix]
path = %q
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
[forwarder.content_store]
admit = %v
capacity = 1024
`, filepath.Join(dir, "state"), sock, ndndCS)
	path := filepath.Join(dir, "node.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &nodeProc{cmd: cmd, sock: sock, done: make(chan struct{})}
	ready := make(chan time.Duration, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "node ready") {
				ready <- time.Since(t0)
			}
		}
	}()
	select {
	case p.ready = <-ready:
		return p, nil
	case <-p.done:
		_ = cmd.Wait()
		return nil, fmt.Errorf("node exited before ready")
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("node not ready after 20s")
	}
}

func (p *nodeProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	<-p.done
	_ = p.cmd.Wait()
}

// rssKB reads a process's resident set size from /proc.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// facePair is a consumer measuring through one kind of face, and how to
// stop it and its producer.
type facePair struct {
	name string
	cons interface {
		RoundTrips(n int, gap time.Duration) ([]time.Duration, error)
		Pipeline(n, window int) (time.Duration, error)
	}
	stop func()
}

// mkRaw sets up a producer and a consumer that handle their own frames on
// bare faces (internal/ping's raw side): in-process faces of fwd, or
// connections to its unix socket at sock.
func mkRaw(fwd *fw.Forwarder, sock, kind string) (p facePair, err error) {
	prefix, _ := enc.NameFromStr("/bench/" + kind)
	var consFace ndn.Face = engine.NewUnixFace(sock)
	if kind == "inproc-raw" {
		sock = "" // RawProducer: an in-process face
		if consFace, err = fwd.NewFace(); err != nil {
			return p, err
		}
	}
	prodFace, err := fwtest.RawProducer(fwd, sock, prefix, make([]byte, 100))
	if err != nil {
		return p, err
	}
	c, err := ping.NewRawConsumer(consFace, prefix, "c")
	if err != nil {
		return p, err
	}
	if _, err := c.RoundTrips(500, 0); err != nil { // warm-up
		return p, err
	}
	p.name, p.cons = kind, c
	p.stop = func() { _ = consFace.Close(); _ = prodFace.Close() }
	return p, nil
}
