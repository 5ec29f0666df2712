// Package publab runs publications end to end: real ndnsvs-node processes
// (each in a network namespace of its own, or loopback only) and, attached
// to each through its unix socket, a pubmember process (cmd/pubmember)
// that publishes payloads with the svs library and reports, with their
// SHA-256, what it published and what it received. Its tests put five
// members on one bridge with 20 % of packets dropped by nftables; package
// internal/restart uses the same pieces to kill a publisher repeatedly.
//
// Everything here is for tests: functions take a testing.TB and fail it.
package publab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// NewPrograms returns the two programs the tests run, built on first use:
// "ndnsvs-node" and "pubmember". The caller removes them (Programs.Remove)
// from its TestMain.
func NewPrograms() *netlab.Programs {
	return netlab.NewPrograms(map[string]string{
		"ndnsvs-node": "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node",
		"pubmember":   "github.com/ndnsvs/ndnsvs-node/internal/publab/cmd/pubmember",
	})
}

// Node is a running ndnsvs-node.
type Node struct {
	Sock   string // its unix socket
	Dir    string // its temporary directory (config, socket, state_dir)
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	log    strings.Builder
}

// StartNode runs bin (ndnsvs-node) as "run" with the TOML body toml, to
// which its unix socket, a state_dir in a temporary directory and metrics
// off are added; prefix (e.g. ip netns exec NS) runs it in a namespace.
// It waits for "node ready" and stops the node with SIGKILL at cleanup.
// toml must not have a [faces.unix] or [metrics] table: they are added
// here; a state_dir in toml is kept.
func StartNode(t testing.TB, bin string, prefix []string, toml string) *Node {
	t.Helper()
	dir, err := os.MkdirTemp("", "publab") // short: sun_path is 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &Node{Dir: dir, Sock: filepath.Join(dir, "nfd.sock"), exited: make(chan struct{})}
	body := toml + fmt.Sprintf("\n[faces.unix]\nenabled = true\npath = %q\n[metrics]\nenabled = false\n", n.Sock)
	switch {
	case strings.Contains(toml, "state_dir"):
		// The caller's: shared with another node on purpose.
	case strings.Contains(toml, "[node]"):
		body = strings.Replace(body, "[node]", fmt.Sprintf("[node]\nstate_dir = %q", filepath.Join(dir, "state")), 1)
	default:
		body += fmt.Sprintf("[node]\nstate_dir = %q\n", filepath.Join(dir, "state"))
	}
	cfg := filepath.Join(dir, "node.toml")
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(slices.Clone(prefix), bin, "run", "--config", cfg)
	n.cmd = exec.Command(args[0], args[1:]...)
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Kill)
	ready := make(chan struct{})
	go func() {
		defer close(n.exited)
		sc := bufio.NewScanner(stderr)
		var once sync.Once
		for sc.Scan() {
			n.mu.Lock()
			n.log.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
			if strings.Contains(sc.Text(), "node ready") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-ready:
	case <-n.exited:
		t.Fatalf("node exited before ready:\n%s", n.Logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("node not ready after 20s:\n%s", n.Logs())
	}
	return n
}

// Logs returns what the node wrote on stderr.
func (n *Node) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// Kill ends the node with SIGKILL (by its PID) if it still runs, and
// reaps it.
func (n *Node) Kill() {
	select {
	case <-n.exited:
	default:
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
	_ = n.cmd.Wait()
}

// Key names one publication.
type Key struct {
	Node      string
	Boot, Seq uint64
}

func (k Key) String() string { return fmt.Sprintf("%s t=%d seq=%d", k.Node, k.Boot, k.Seq) }

// Pub is a publication as a member reported it.
type Pub struct {
	Key
	Size int
	Sha  string
}

// Missed is a member's OnMissed report.
type Missed struct {
	Node      string
	Boot      uint64
	Low, High uint64
	Reason    string
}

// Report mirrors cmd/pubmember's Report.
type Report struct {
	Node                string
	Boot                uint64
	Published, Received uint64
	Vector              []struct {
		Node      string
		Boot, Seq uint64
	}
	Stats map[string]any
}

// Entries returns the vector entries of node.
func (r Report) Entries(node string) (boots []uint64) {
	for _, e := range r.Vector {
		if e.Node == node {
			boots = append(boots, e.Boot)
		}
	}
	return boots
}

// Member is a running pubmember. Its reports accumulate over restarts
// of the same Member value (Restart).
type Member struct {
	Name string

	bin       string
	prefix    []string
	transport string
	args      []string
	t         testing.TB

	changed chan struct{} // one slot: an event arrived

	mu       sync.Mutex
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	exited   chan struct{}
	starts   []uint64 // boot of each run
	ups      int
	pubs     []Pub
	got      map[Key]Pub
	dups     int
	mismatch []string
	missed   []Missed
	errs     []string
	reports  chan Report
	stderr   strings.Builder
}

// StartMember runs bin (pubmember) as node name on transport, with extra
// flags args, prefixed by prefix. It is killed at cleanup.
func StartMember(t testing.TB, bin string, prefix []string, transport, name string, args ...string) *Member {
	t.Helper()
	m := &Member{Name: name, bin: bin, prefix: prefix, transport: transport, args: args, t: t,
		changed: make(chan struct{}, 1), got: map[Key]Pub{}}
	m.start()
	t.Cleanup(m.Kill)
	return m
}

func (m *Member) start() {
	t := m.t
	t.Helper()
	args := append(slices.Clone(m.prefix), m.bin, "-transport", m.transport, "-node", m.Name)
	args = append(args, m.args...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = &lockedWriter{mu: &m.mu, b: &m.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	reports := make(chan Report, 16)
	m.mu.Lock()
	m.cmd, m.stdin, m.exited, m.reports = cmd, stdin, exited, reports
	m.mu.Unlock()
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<16), 16<<20)
		for sc.Scan() {
			m.line(sc.Bytes(), reports)
		}
		_ = cmd.Wait()
		m.signal()
	}()
}

func (m *Member) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *Member) line(line []byte, reports chan Report) {
	var ev struct {
		Ev, Node, Sha, Reason, Err string
		Boot, Seq, Low, High       uint64
		Size                       int
	}
	if json.Unmarshal(line, &ev) != nil {
		return
	}
	m.mu.Lock()
	switch ev.Ev {
	case "start":
		m.starts = append(m.starts, ev.Boot)
	case "up":
		m.ups++
	case "pub":
		m.pubs = append(m.pubs, Pub{Key: Key{m.Name, ev.Boot, ev.Seq}, Size: ev.Size, Sha: ev.Sha})
	case "msg":
		p := Pub{Key: Key{ev.Node, ev.Boot, ev.Seq}, Size: ev.Size, Sha: ev.Sha}
		if old, ok := m.got[p.Key]; ok {
			m.dups++ // at least once: a second delivery is allowed, another payload is not
			if old.Sha != p.Sha {
				m.mismatch = append(m.mismatch, fmt.Sprintf("%s delivered twice with different payloads", p.Key))
			}
		}
		m.got[p.Key] = p
	case "missed":
		m.missed = append(m.missed, Missed{Node: ev.Node, Boot: ev.Boot, Low: ev.Low, High: ev.High, Reason: ev.Reason})
	case "err":
		m.errs = append(m.errs, ev.Err)
	case "report":
		var r Report
		if json.Unmarshal(line, &r) == nil {
			select {
			case reports <- r:
			default:
			}
		}
	}
	m.mu.Unlock()
	m.signal()
}

// Changed is signalled (one slot) after every event of the member.
func (m *Member) Changed() <-chan struct{} { return m.changed }

// Send writes a command ("pub", "stop", "report") to the member.
func (m *Member) Send(cmd string) {
	m.t.Helper()
	m.mu.Lock()
	w := m.stdin
	m.mu.Unlock()
	if _, err := io.WriteString(w, cmd+"\n"); err != nil {
		m.t.Fatalf("%s: %s: %v\n%s", m.Name, cmd, err, m.Stderr())
	}
}

// Report asks for a report and returns it.
func (m *Member) Report() Report {
	m.t.Helper()
	m.mu.Lock()
	reports, exited := m.reports, m.exited
	m.mu.Unlock()
	for len(reports) > 0 { // the answer to an earlier "stop"
		<-reports
	}
	m.Send("report")
	select {
	case r := <-reports:
		return r
	case <-exited:
		m.t.Fatalf("%s exited:\n%s", m.Name, m.Stderr())
	case <-time.After(10 * time.Second):
		m.t.Fatalf("%s: no report", m.Name)
	}
	return Report{}
}

// Kill ends the member with SIGKILL (by its PID) if it runs and reaps it.
func (m *Member) Kill() {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.mu.Unlock()
	select {
	case <-exited:
	default:
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Restart starts the member again with the same flags; the previous
// process must have ended (Kill).
func (m *Member) Restart() { m.t.Helper(); m.start() }

// Alive reports whether the member's process runs.
func (m *Member) Alive() bool {
	m.mu.Lock()
	exited := m.exited
	m.mu.Unlock()
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Pubs returns the acknowledged publications of every run.
func (m *Member) Pubs() []Pub {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.pubs)
}

// Starts returns the boot each run of the member reported.
func (m *Member) Starts() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.starts)
}

// Ups counts the times the member's face came up.
func (m *Member) Ups() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ups
}

// Errs returns the publication errors (other than the face being down).
func (m *Member) Errs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.errs)
}

// MissedReports returns the member's OnMissed reports.
func (m *Member) MissedReports() []Missed {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.missed)
}

// Duplicates counts publications delivered more than once.
func (m *Member) Duplicates() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dups
}

// Check compares what the member received with pubs (others'
// publications): it returns one line per publication not received and
// per one received with another size or hash, and every delivery of two
// different payloads under one name.
func (m *Member) Check(pubs []Pub) (missing, wrong []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	wrong = slices.Clone(m.mismatch)
	for _, p := range pubs {
		g, ok := m.got[p.Key]
		switch {
		case !ok:
			missing = append(missing, p.Key.String())
		case g.Sha != p.Sha || g.Size != p.Size:
			wrong = append(wrong, fmt.Sprintf("%s: got %d B %s, published %d B %s", p.Key, g.Size, g.Sha[:12], p.Size, p.Sha[:12]))
		}
	}
	sort.Strings(missing)
	return missing, wrong
}

// Stderr returns what the member wrote on stderr.
func (m *Member) Stderr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// WaitAll waits until cond holds, re-checking it after every event of any
// of ms, or fails the test after within with describe's text.
func WaitAll(t testing.TB, ms []*Member, within time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	// A fan-in of the members' signals: one goroutine per member, ended
	// when WaitAll returns.
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	defer close(done)
	for _, m := range ms {
		go func() {
			for {
				select {
				case <-m.changed:
					select {
					case wake <- struct{}{}:
					default:
					}
				case <-done:
					return
				}
			}
		}()
	}
	for !cond() {
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("not within %v: %s", within, describe())
		}
	}
}

// Goroutines ends the member with SIGQUIT, so that the Go runtime prints
// every goroutine's stack, and returns what it wrote on stderr: what a
// test that finds a member stuck shows before it fails.
func (m *Member) Goroutines() string {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.mu.Unlock()
	select {
	case <-exited:
	default:
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	}
	return m.Stderr()
}

// Alive reports whether the node's process runs.
func (n *Node) Alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}
