package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// The bounds the suite holds the nodes to.
const (
	// rssBoundMB is the most resident memory a node may reach at any time
	// of the run, attack included: ten times the quiet figure. Measured
	// (three nodes, one run each): 15 MB quiet; on ndnd's own faces, before
	// they died, 30 MB after 2,000 source ports, 71 MB in the Interest
	// flood, 50 MB in the Sync Interest flood; on this project's faces
	// (7969d53 and later), 28 MB after the stream classes, 65 MB in the
	// Interest flood, up to 112 MB after the Sync Interest flood; with a
	// socket per on-demand UDP face (f3caab0), 50, 97 and 147 MB.
	rssBoundMB = 150
	// latencyFactor: the median publish-to-learn latency of publications
	// made after the attack may be at most this many times the quiet one.
	latencyFactor = 2.0
	// floodClass is the flood of Sync Interests with fake member names. It
	// runs last, and sync is measured also before it, against the same
	// bound: the fake names it leaves in every vector are held on
	// probation (svs/core, docs/decisions.md "A flood of fake names"), so
	// the members' vectors keep their quiet size. Measured after it: 1.4
	// and 1.5x the quiet median (2.6 to 6x before probation). Later 1.3
	// to 2.2x (2.2 failed CI) while the members published at a fixed
	// period: their phases stayed as they started, so the quiet median
	// was 340 to 550 µs from run to run, and within a run one publisher's
	// 250 µs and another's 580. With each wait drawn at random (cmd/member)
	// every pair measures alike, and the factor was 1.0 to 1.4; 1.4 to 1.6
	// in the whole suite, where the flood's first 32 names, admitted before
	// the burst showed, were not on probation: every node's datagrams grew
	// from 234 to about 850 bytes and came twice as often (tcpdump). With
	// those names on probation too, 1.0 to 1.3.
	floodClass = "sync-flood"
	// cpuBound is the most CPU a node may use after the attack, in cores,
	// averaged over the post-attack window: a receive loop left spinning
	// by a hostile length takes a whole core.
	cpuBound = 0.5

	publishEvery = 100 * time.Millisecond
	quietFor     = 4 * time.Second
	postFor      = 4 * time.Second
	drainFor     = 3 * time.Second
	classBudget  = 8 * time.Second
	floodCount   = 20000
	group        = "/ndn/svs"
	mcastGroup   = "224.0.23.170:56363"
	wsPort       = 9696
)

// --- binaries ---

var programs = netlab.NewPrograms(map[string]string{
	"ndnsvs-node": "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node",
	"member":      "github.com/ndnsvs/ndnsvs-node/internal/hostile/cmd/member",
	"attack":      "github.com/ndnsvs/ndnsvs-node/internal/hostile/cmd/attack",
})

func TestMain(m *testing.M) {
	code := netlab.Exclusive(m)
	programs.Remove()
	os.Exit(code)
}

// binary builds the node, the member and the attacker once per test binary.
func binary(t *testing.T, name string) string { return programs.Path(t, name) }

// --- processes ---

type logLine struct {
	t time.Time
	s string
}

// proc is a process of the suite: a node or a member. Its output is kept
// with the time each line arrived. It is stopped by PID at cleanup: SIGTERM,
// then SIGKILL after 10 s.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's, once exited is closed

	mu    sync.Mutex
	lines []logLine
}

// start runs args; stdout lines go to onStdout if given, else to the log
// with stderr's.
func start(t *testing.T, name string, onStdout func(string), args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(args[0], args[1:]...), exited: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	read := func(r io.Reader, f func(string)) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			f(sc.Text())
		}
		_, _ = io.Copy(io.Discard, r)
	}
	keep := func(s string) {
		p.mu.Lock()
		p.lines = append(p.lines, logLine{time.Now(), s})
		p.mu.Unlock()
	}
	if onStdout == nil {
		onStdout = keep
	}
	wg.Go(func() { read(stdout, onStdout) })
	wg.Go(func() { read(stderr, keep) })
	go func() {
		wg.Wait()
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// logSince returns the lines that arrived from t0 on.
func (p *proc) logSince(t0 time.Time) []logLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, _ := slices.BinarySearchFunc(p.lines, t0, func(l logLine, t time.Time) int { return l.t.Compare(t) })
	return slices.Clone(p.lines[i:])
}

func (p *proc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines[max(0, len(p.lines)-n):] {
		b.WriteString(l.s + "\n")
	}
	return b.String()
}

func (p *proc) waitLine(t *testing.T, substr string, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if strings.Contains(l.s, substr) {
				p.mu.Unlock()
				return l.s
			}
		}
		p.mu.Unlock()
		select {
		case <-p.exited:
			t.Fatalf("%s exited (%v) before %q:\n%s", p.name, p.err, substr, p.tail(60))
		case <-deadline:
			t.Fatalf("%s: no %q within %v:\n%s", p.name, substr, within, p.tail(60))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// --- /proc ---

// rssKB is a process's resident set (VmRSS), 0 once it has gone.
func rssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

func fdCount(pid int) int {
	es, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(es)
}

// cpuTime is a process's user and system CPU time.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// peaks samples each node's resident memory and open files every 50 ms,
// and keeps the highest per phase.
type peaks struct {
	mu    sync.Mutex
	phase string
	rss   map[string][]int // phase -> per node, kB
	fds   map[string][]int
	stop  chan struct{}
	done  chan struct{}
}

func samplePeaks(nodes []*proc) *peaks {
	pk := &peaks{phase: "start", rss: map[string][]int{}, fds: map[string][]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pk.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			pk.mu.Lock()
			r, f := pk.rss[pk.phase], pk.fds[pk.phase]
			if r == nil {
				r, f = make([]int, len(nodes)), make([]int, len(nodes))
				pk.rss[pk.phase], pk.fds[pk.phase] = r, f
			}
			for i, n := range nodes {
				if n.alive() {
					r[i] = max(r[i], rssKB(n.pid()))
					f[i] = max(f[i], fdCount(n.pid()))
				}
			}
			pk.mu.Unlock()
			select {
			case <-pk.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return pk
}

func (pk *peaks) set(phase string) {
	pk.mu.Lock()
	pk.phase = phase
	pk.mu.Unlock()
}

func (pk *peaks) get(phase string) (rss, fds []int) {
	pk.mu.Lock()
	defer pk.mu.Unlock()
	return slices.Clone(pk.rss[phase]), slices.Clone(pk.fds[phase])
}

// peak is each node's highest resident memory over the whole run, in kB.
func (pk *peaks) peak() []int {
	pk.mu.Lock()
	defer pk.mu.Unlock()
	var out []int
	for _, r := range pk.rss {
		if out == nil {
			out = make([]int, len(r))
		}
		for i, kb := range r {
			out[i] = max(out[i], kb)
		}
	}
	return out
}

func (pk *peaks) close() {
	close(pk.stop)
	<-pk.done
}

// --- what the members print ---

type pubKey struct {
	node string
	seq  uint64
}

type event struct {
	Ev   string `json:"ev"`
	Node string `json:"node"`
	Seq  uint64 `json:"seq"`
	T    int64  `json:"t"`
	Err  string `json:"err"`
	// Stats is kept raw: the suite only shows it.
	Stats json.RawMessage `json:"stats"`
}

// events gathers every member's publications and learned sequence numbers.
type events struct {
	mu     sync.Mutex
	pubs   map[pubKey]time.Time
	learns map[string]map[pubKey]time.Time // learner -> first learn
	fakes  map[string]map[string]bool      // learner -> other members learned
	errs   map[string]int                  // learner -> Publish errors
	stats  map[string]string               // member -> its latest svs.Stats
	bad    int                             // lines that are not events
}

func newEvents() *events {
	return &events{
		pubs:   map[pubKey]time.Time{},
		learns: map[string]map[pubKey]time.Time{},
		fakes:  map[string]map[string]bool{},
		errs:   map[string]int{},
		stats:  map[string]string{},
	}
}

func (e *events) line(member, s string) {
	var ev event
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		e.mu.Lock()
		e.bad++
		e.mu.Unlock()
		return
	}
	t := time.Unix(0, ev.T)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Ev {
	case "pub":
		e.pubs[pubKey{ev.Node, ev.Seq}] = t
	case "learn":
		if !strings.HasPrefix(ev.Node, "/hostile/m") {
			if e.fakes[member] == nil {
				e.fakes[member] = map[string]bool{}
			}
			e.fakes[member][ev.Node] = true
			return
		}
		if e.learns[member] == nil {
			e.learns[member] = map[pubKey]time.Time{}
		}
		k := pubKey{ev.Node, ev.Seq}
		if _, ok := e.learns[member][k]; !ok {
			e.learns[member][k] = t
		}
	case "err":
		e.errs[member]++
	case "stats":
		e.stats[member] = string(ev.Stats)
	}
}

// learnedAll reports whether every member has learned at least one
// publication of every other member.
func (e *events) learnedAll(members []string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range members {
		for _, p := range members {
			if l == p {
				continue
			}
			found := false
			for k := range e.learns[l] {
				if k.node == p {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

type windowStats struct {
	pubs, want, got int
	median, p95     time.Duration
}

func (w windowStats) String() string {
	if w.want == 0 {
		return "no publications"
	}
	return fmt.Sprintf("%d publications, learned %d/%d (%.1f %%), median %v, p95 %v",
		w.pubs, w.got, w.want, 100*float64(w.got)/float64(w.want), w.median, w.p95)
}

// window measures the publications made in [from, to): how many of the
// (publication, other member) pairs were learned, and the latencies.
func (e *events) window(members []string, from, to time.Time) windowStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	var w windowStats
	var lat []time.Duration
	for k, pt := range e.pubs {
		if pt.Before(from) || !pt.Before(to) {
			continue
		}
		w.pubs++
		for _, l := range members {
			if l == k.node {
				continue
			}
			w.want++
			if lt, ok := e.learns[l][k]; ok {
				w.got++
				lat = append(lat, lt.Sub(pt))
			}
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		w.median = lat[len(lat)/2]
		w.p95 = lat[len(lat)*95/100]
	}
	return w
}

// --- the node ---

func nodeConfig(name, sock string) string {
	return fmt.Sprintf(`
[node]
name = %q
state_dir = %q
[faces.unix]
enabled = true
path = %q
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = true
group = %q
[faces.tcp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.websocket]
enabled = true
listen = "0.0.0.0:%d"
[metrics]
listen = "127.0.0.1:0"
[[group]]
prefix = %q
`, name, filepath.Join(filepath.Dir(sock), "state"), sock, mcastGroup, wsPort, group)
}

var (
	logMsg    = regexp.MustCompile(`level=(WARN|ERROR) msg=("(?:[^"\\]|\\.)*"|\S+)`)
	logReason = regexp.MustCompile(`\breason=("(?:[^"\\]|\\.)*"|\S+)`)
)

// warnings counts a node's WARN and ERROR lines and their messages.
func warnings(lines []logLine) (n int, msgs map[string]int) {
	msgs = map[string]int{}
	for _, l := range lines {
		if m := logMsg.FindStringSubmatch(l.s); m != nil {
			n++
			k := m[2]
			// The node's loss lines: "packets lost" reason=over-mtu ...
			if r := logReason.FindStringSubmatch(l.s); r != nil {
				k += " " + r[0]
			}
			msgs[k]++
		}
	}
	return n, msgs
}

func classes(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(binary(t, "attack"), "-list").Output()
	if err != nil {
		t.Fatalf("attack -list: %v", err)
	}
	var all []string
	for l := range strings.Lines(string(out)) {
		name, _, _ := strings.Cut(l, "\t")
		all = append(all, name)
	}
	want := os.Getenv("HOSTILE_CLASSES")
	if want == "" {
		return all
	}
	var sel []string
	for _, c := range strings.Split(want, ",") {
		if !slices.Contains(all, c) {
			t.Fatalf("HOSTILE_CLASSES: unknown class %q (classes: %s)", c, strings.Join(all, ", "))
		}
		sel = append(sel, c)
	}
	return sel
}

// classResult is what one class did, for the report.
type classResult struct {
	name     string
	attacker string // the attacker's JSON summary
	from, to time.Time
	dead     []string
	warns    []int
	msgs     []map[string]int
}

// TestNodesSurviveHostileInput is the suite: see the package comment.
func TestNodesSurviveHostileInput(t *testing.T) {
	netlab.NeedRoot(t, "the hostile-input suite")
	nodeBin, memberBin, attackBin := binary(t, "ndnsvs-node"), binary(t, "member"), binary(t, "attack")
	cls := classes(t)
	l := netlab.NewLAN(t, "h", "198.51.100", 4) // TEST-NET-2
	attackNS := l.Hosts[3]
	// The attacker reaches the multicast group through its one interface.
	netlab.Sh(t, "ip", "-n", attackNS, "route", "add", "224.0.0.0/4", "dev", "eth0")

	dir := t.TempDir()
	var nodes []*proc
	var socks []string
	for i := range 3 {
		sock := filepath.Join(dir, fmt.Sprintf("n%d.sock", i+1))
		cfg := filepath.Join(dir, fmt.Sprintf("n%d.toml", i+1))
		if err := os.WriteFile(cfg, []byte(nodeConfig(fmt.Sprintf("/hostile/n%d", i+1), sock)), 0o600); err != nil {
			t.Fatal(err)
		}
		n := start(t, fmt.Sprintf("node %d", i+1), nil, "ip", "netns", "exec", l.Hosts[i], nodeBin, "run", "--config", cfg)
		ready := n.waitLine(t, "node ready", 20*time.Second)
		if !strings.Contains(ready, "network_faces=1") {
			t.Logf("node %d: %s", i+1, ready)
		}
		nodes = append(nodes, n)
		socks = append(socks, sock)
	}
	pk := samplePeaks(nodes)
	defer pk.close()

	ev := newEvents()
	var members []*proc
	var names []string
	for i := range 3 {
		name := fmt.Sprintf("/hostile/m%d", i+1)
		m := start(t, "member "+name, func(s string) { ev.line(name, s) },
			"ip", "netns", "exec", l.Hosts[i], memberBin,
			"-socket", socks[i], "-group", group, "-name", name, "-interval", publishEvery.String())
		members = append(members, m)
		names = append(names, name)
	}
	// Warm-up: every member has heard of every other (multicast faces and
	// routes need a moment).
	for deadline := time.Now().Add(15 * time.Second); !ev.learnedAll(names); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("members did not find each other within 15 s\n%s", tails(nodes, members))
		}
		for _, m := range members {
			if !m.alive() {
				t.Fatalf("%s exited (%v):\n%s", m.name, m.err, m.tail(30))
			}
		}
	}

	// Quiet.
	pk.set("quiet")
	q0 := time.Now()
	cpu0 := cpuTimes(nodes)
	time.Sleep(quietFor)
	q1 := time.Now()
	quietCPU := cpuCores(nodes, cpu0, q1.Sub(q0))

	// The attack, one class at a time.
	var udp, tcp, ws []string
	for _, a := range l.Addrs[:3] {
		udp = append(udp, a+":6363")
		tcp = append(tcp, a+":6363")
		ws = append(ws, fmt.Sprintf("ws://%s:%d/", a, wsPort))
	}
	var results []classResult
	a0 := time.Now()
	died := false
	// The fake-name flood goes last (floodClass); the others are measured
	// before it.
	if i := slices.Index(cls, floodClass); i >= 0 {
		cls = append(append(slices.Clone(cls[:i]), cls[i+1:]...), floodClass)
	}
	var (
		beforeFlood   windowStats
		measuredFirst bool
	)
	for _, c := range cls {
		if c == floodClass && len(results) > 0 && !died {
			b0 := time.Now()
			time.Sleep(postFor)
			time.Sleep(drainFor)
			beforeFlood, measuredFirst = ev.window(names, b0, b0.Add(postFor)), true
		}
		pk.set(c)
		r := classResult{name: c, from: time.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), classBudget+10*time.Second)
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", attackNS, attackBin,
			"-class", c, "-budget", classBudget.String(), "-flood", strconv.Itoa(floodCount),
			"-group", group, "-mcast", mcastGroup,
			"-udp", strings.Join(udp, ","), "-tcp", strings.Join(tcp, ","),
			"-ws", strings.Join(ws, ","), "-unix", strings.Join(socks, ","))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		r.attacker = strings.TrimSpace(string(out))
		if err != nil {
			t.Errorf("attacker, class %s: %v\n%s", c, err, stderr.String())
		}
		// A crash is not instant: give the nodes a moment to fall over.
		time.Sleep(300 * time.Millisecond)
		r.to = time.Now()
		for i, n := range nodes {
			nw, msgs := warnings(n.logSince(r.from))
			r.warns = append(r.warns, nw)
			r.msgs = append(r.msgs, msgs)
			if !n.alive() {
				r.dead = append(r.dead, fmt.Sprintf("node %d", i+1))
			}
		}
		for _, m := range members {
			if !m.alive() {
				r.dead = append(r.dead, m.name)
			}
		}
		results = append(results, r)
		if len(r.dead) > 0 {
			died = true
			break
		}
	}
	a1 := time.Now()

	// After the attack.
	var post windowStats
	var postCPU []float64
	if !died {
		pk.set("post")
		cpu1 := cpuTimes(nodes)
		time.Sleep(postFor)
		p1 := time.Now()
		postCPU = cpuCores(nodes, cpu1, p1.Sub(a1))
		pk.set("drain")
		time.Sleep(drainFor)
		post = ev.window(names, a1, p1)
	}
	quiet := ev.window(names, q0, q1)

	// The report.
	rssQ, fdsQ := pk.get("quiet")
	t.Logf("quiet (%v): %s; node RSS peak %s, open files %v, CPU %s", quietFor, quiet, mb(rssQ), fdsQ, cores(quietCPU))
	for _, r := range results {
		rss, fds := pk.get(r.name)
		meanwhile := ev.window(names, r.from, r.to)
		t.Logf("class %-16s attacker %s", r.name, r.attacker)
		t.Logf("    nodes: RSS peak %s, open files %v, WARN/ERROR lines %v; sync meanwhile: %s", mb(rss), fds, r.warns, meanwhile)
		for i, msgs := range r.msgs {
			if len(msgs) > 0 {
				t.Logf("    node %d logged: %s", i+1, summarize(msgs))
			}
		}
		if len(r.dead) > 0 {
			t.Logf("    DIED during this class: %s", strings.Join(r.dead, ", "))
		}
	}
	t.Logf("attack: %d classes in %v", len(results), a1.Sub(a0).Round(time.Millisecond))
	for i, n := range nodes {
		if !n.alive() {
			t.Errorf("node %d died (%v) during class %s; its log ends:\n%s", i+1, n.err, results[len(results)-1].name, n.tail(40))
		}
	}
	for _, m := range members {
		if !m.alive() {
			t.Errorf("%s exited (%v); its output ends:\n%s", m.name, m.err, m.tail(10))
		}
	}
	for i, kb := range pk.peak() {
		if kb > rssBoundMB<<10 {
			t.Errorf("node %d: resident memory reached %.1f MB, over the bound of %d MB", i+1, float64(kb)/1024, rssBoundMB)
		}
	}
	ev.mu.Lock()
	for _, n := range names {
		if len(ev.fakes[n]) > 0 || ev.errs[n] > 0 {
			t.Logf("%s learned %d fake members; %d Publish errors", n, len(ev.fakes[n]), ev.errs[n])
		}
		t.Logf("%s counters: %s", n, ev.stats[n])
	}
	ev.mu.Unlock()
	if died {
		t.Fatalf("not measured after the attack: a process died")
	}
	rssP, fdsP := pk.get("post")
	t.Logf("after the attack (%v): %s; node RSS peak %s, open files %v, CPU %s", postFor, post, mb(rssP), fdsP, cores(postCPU))
	var buckets []string
	for b := a1; b.Before(a1.Add(postFor)); b = b.Add(time.Second) {
		w := ev.window(names, b, b.Add(time.Second))
		buckets = append(buckets, fmt.Sprintf("%v (%d/%d)", w.median.Round(10*time.Microsecond), w.got, w.want))
	}
	t.Logf("after the attack, second by second: median %s", strings.Join(buckets, ", "))
	if post.want == 0 || post.got != post.want {
		t.Errorf("after the attack the members learned %d of %d (publication, member) pairs; want all", post.got, post.want)
	}
	if quiet.got == 0 {
		t.Fatalf("nothing learned while quiet: %s", quiet)
	}
	// The latency bound, also before the flood of fake names, which comes
	// last (see floodClass).
	if measuredFirst {
		t.Logf("after every class but %s (%v): %s", floodClass, postFor, beforeFlood)
		if beforeFlood.want == 0 || beforeFlood.got != beforeFlood.want {
			t.Errorf("before %s the members learned %d of %d (publication, member) pairs; want all", floodClass, beforeFlood.got, beforeFlood.want)
		}
		if limit := time.Duration(latencyFactor * float64(quiet.median)); beforeFlood.median > limit {
			t.Errorf("median publish-to-learn latency after every class but %s %v, over %.0fx the quiet %v", floodClass, beforeFlood.median, latencyFactor, quiet.median)
		}
	}
	t.Logf("after the attack: median %.1fx the quiet one (bound %.0fx)", float64(post.median)/float64(quiet.median), latencyFactor)
	if limit := time.Duration(latencyFactor * float64(quiet.median)); post.median > limit {
		t.Errorf("median publish-to-learn latency after the attack %v, over %.0fx the quiet %v", post.median, latencyFactor, quiet.median)
	}
	for i, c := range postCPU {
		if c > cpuBound {
			t.Errorf("node %d used %.2f cores after the attack (quiet: %.2f), over %.1f: a receive loop left spinning?", i+1, c, quietCPU[i], cpuBound)
		}
	}
	stopsUnderStorm(t, nodes[0], attackNS, attackBin, udp[0])
}

// stopsUnderStorm: a node asked to stop during a storm at its UDP listener
// stops, cleanly and at once. (A socket cannot be closed while a read holds
// it, and the UDP reader once held it as long as full batches kept coming:
// fw's TestReadUDPLetsCloseInUnderAFlood shows that with a slow reader.
// Here, on 2 cores, the storm does not keep the node's sockets full, and
// the old reader passed this check too.)
func stopsUnderStorm(t *testing.T, n *proc, attackNS, attackBin, target string) {
	t.Helper()
	const (
		storm  = 5 * time.Second
		before = time.Second     // the storm under way before SIGTERM
		within = 3 * time.Second // before the storm ends
	)
	ctx, cancel := context.WithTimeout(context.Background(), storm+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", attackNS, attackBin,
		"-class", "udp-storm", "-budget", storm.String(), "-udp", target)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(before)
	t0 := time.Now()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		t.Logf("node 1 stopped %v after SIGTERM under a UDP storm (exit: %v)", time.Since(t0).Round(time.Millisecond), n.err)
		if n.err != nil {
			t.Errorf("node 1 exited with %v when asked to stop under a UDP storm; want 0\n%s", n.err, n.tail(20))
		}
	case <-time.After(within):
		t.Errorf("node 1 did not stop within %v of SIGTERM under a UDP storm; its log ends:\n%s", within, n.tail(20))
	}
	_ = cmd.Wait()
	t.Logf("the storm: %s", strings.TrimSpace(out.String()))
}

func cpuTimes(nodes []*proc) []time.Duration {
	out := make([]time.Duration, len(nodes))
	for i, n := range nodes {
		out[i] = cpuTime(n.pid())
	}
	return out
}

func cpuCores(nodes []*proc, before []time.Duration, over time.Duration) []float64 {
	out := make([]float64, len(nodes))
	for i, n := range nodes {
		out[i] = float64(cpuTime(n.pid())-before[i]) / float64(over)
	}
	return out
}

func mb(kbs []int) string {
	var s []string
	for _, kb := range kbs {
		s = append(s, fmt.Sprintf("%.1f", float64(kb)/1024))
	}
	return "[" + strings.Join(s, " ") + "] MB"
}

func cores(c []float64) string {
	var s []string
	for _, x := range c {
		s = append(s, fmt.Sprintf("%.2f", x))
	}
	return "[" + strings.Join(s, " ") + "] cores"
}

func summarize(msgs map[string]int) string {
	keys := make([]string, 0, len(msgs))
	for k := range msgs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return msgs[b] - msgs[a] })
	var s []string
	for _, k := range keys[:min(len(keys), 4)] {
		s = append(s, fmt.Sprintf("%s x%d", k, msgs[k]))
	}
	return strings.Join(s, "; ")
}

func tails(groups ...[]*proc) string {
	var b strings.Builder
	for _, g := range groups {
		for _, p := range g {
			fmt.Fprintf(&b, "--- %s\n%s", p.name, p.tail(15))
		}
	}
	return b.String()
}
