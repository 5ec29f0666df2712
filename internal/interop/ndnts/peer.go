// Package ndnts runs NDNts SVS v3 peers (svs-peer.mjs, in this directory)
// for interop tests in other packages.
//
// A peer is a node process running NDNts @ndn/svs 0.0.20250307 with
// SvSync{svs3: true, suppressionPeriod: 200}. It connects to a forwarder's
// unix socket, registers the group prefix through NFD management as NDNts
// does, publishes, and reports JSON lines that Start turns into Events.
//
// The NDNts packages are not vendored: tests call Available and skip with
// its message when node or node_modules is missing. Install them with
//
//	npm ci --prefix internal/interop/ndnts
//
// See docs/interop.md.
package ndnts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// NDNtsVersion is the version of every @ndn/* package in package.json.
const NDNtsVersion = "0.0.20250307"

// Script is the peer program's file name in Dir.
const Script = "svs-peer.mjs"

// Dir returns the absolute path of this package's directory, which holds
// svs-peer.mjs, package.json and node_modules. It is found from this
// file's source location, so it is the same whichever package's tests call
// it; when the binary was built with -trimpath, it is found by walking up
// from the working directory to go.mod.
func Dir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Dir(file)
		if _, err := os.Stat(filepath.Join(dir, Script)); err == nil {
			return dir
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join("internal", "interop", "ndnts")
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "internal", "interop", "ndnts")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(wd, "internal", "interop", "ndnts")
		}
	}
}

// InstallCommand is what installs the NDNts packages, run from the
// repository root.
const InstallCommand = "npm ci --prefix internal/interop/ndnts"

// Available reports whether peers can run: node on PATH and this
// directory's node_modules installed at the pinned version. The error says
// what to run.
func Available() error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("ndnts: node (Node.js 20 or later) is not on PATH; install it, then run `%s` from the repository root", InstallCommand)
	}
	dir := Dir()
	pkg := filepath.Join(dir, "node_modules", "@ndn", "svs", "package.json")
	b, err := os.ReadFile(pkg)
	if err != nil {
		return fmt.Errorf("ndnts: NDNts is not installed in %s (no node_modules/@ndn/svs); run `%s` from the repository root", dir, InstallCommand)
	}
	var v struct{ Version string }
	if err := json.Unmarshal(b, &v); err != nil || v.Version != NDNtsVersion {
		return fmt.Errorf("ndnts: %s has @ndn/svs %q, want %s; run `%s` from the repository root", dir, v.Version, NDNtsVersion, InstallCommand)
	}
	return nil
}

// Options configure one peer. Socket, Group and Node are required.
type Options struct {
	Socket string // forwarder unix socket
	Group  string // sync group prefix, e.g. "/ndn/svs"
	Node   string // this member's node name, e.g. "/ndnts/a"

	Boot       uint64        // bootstrap time in seconds; 0: now
	Publish    int           // publications to make
	Interval   time.Duration // between publications; 0: the script's 100 ms
	StartDelay time.Duration // after ready, before the first publication

	// Expect is the sequence number each named node must reach (highest
	// over its boots) before the peer reports done.
	Expect map[string]uint64
	// Timeout is when the peer gives up and exits 1; 0: the script's 30 s.
	Timeout time.Duration
	// Periodic is SvSync's periodicTimeout; 0: NDNts's 30 s.
	Periodic time.Duration
	// Linger is how long the peer keeps syncing after done, so that members
	// still behind can catch up from it; 0: the script's 1 s; negative: none,
	// and then the last Sync Interest may not have left when it exits.
	Linger time.Duration

	// Register is what the peer registers with the forwarder: "" or "group"
	// (/<group>, what NDNts does), "sync" (/<group>/v=3, the spec since
	// 2026-07-17) or "both".
	Register string
	// ChildInherit sets the ChildInherit flag on the registration (NDNts's
	// default is off, with Capture on).
	ChildInherit bool
	// Debug makes the peer print NDNts's SvSync debug events.
	Debug bool
	// ExtraArgs are appended to the command line as they are.
	ExtraArgs []string
}

// Args returns the svs-peer.mjs command-line arguments for o.
func (o Options) Args() []string {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	a := []string{"--socket", o.Socket, "--group", o.Group, "--node", o.Node}
	if o.Boot != 0 {
		a = append(a, "--boot", strconv.FormatUint(o.Boot, 10))
	}
	if o.Publish != 0 {
		a = append(a, "--publish", strconv.Itoa(o.Publish))
	}
	if o.Interval != 0 {
		a = append(a, "--interval", ms(o.Interval))
	}
	if o.StartDelay != 0 {
		a = append(a, "--start-delay", ms(o.StartDelay))
	}
	if len(o.Expect) > 0 {
		names := make([]string, 0, len(o.Expect))
		for n := range o.Expect {
			names = append(names, n)
		}
		sort.Strings(names)
		items := make([]string, len(names))
		for i, n := range names {
			items[i] = n + "=" + strconv.FormatUint(o.Expect[n], 10)
		}
		a = append(a, "--expect", strings.Join(items, ","))
	}
	if o.Timeout != 0 {
		a = append(a, "--timeout", ms(o.Timeout))
	}
	if o.Periodic != 0 {
		a = append(a, "--periodic", ms(o.Periodic))
	}
	switch {
	case o.Linger < 0:
		a = append(a, "--linger", "0")
	case o.Linger > 0:
		a = append(a, "--linger", ms(o.Linger))
	}
	if o.Register != "" {
		a = append(a, "--register", o.Register)
	}
	if o.ChildInherit {
		a = append(a, "--child-inherit")
	}
	if o.Debug {
		a = append(a, "--debug")
	}
	return append(a, o.ExtraArgs...)
}

// SeqEntry is one (boot, seq) pair of a node in a state vector.
type SeqEntry struct {
	Boot uint64 `json:"boot"`
	Seq  uint64 `json:"seq"`
}

// State is a state vector as the peer prints it: node name to its entries
// in ascending boot order.
type State map[string][]SeqEntry

// Highest returns node's highest sequence number over its boots, 0 if absent.
func (s State) Highest(node string) uint64 {
	var h uint64
	for _, e := range s[node] {
		h = max(h, e.Seq)
	}
	return h
}

// Event is one JSON line from the peer. Event is its kind: "ready",
// "registered", "publish", "update", "reject", "done", "timeout", "error",
// "face", "debug", "exit", or "raw" for a stdout line that is not JSON.
type Event struct {
	Event string `json:"event"`

	Seq  uint64 `json:"seq,omitempty"`  // publish
	Node string `json:"node,omitempty"` // update, ready
	Boot uint64 `json:"boot,omitempty"` // update, ready
	Lo   uint64 `json:"lo,omitempty"`   // update
	Hi   uint64 `json:"hi,omitempty"`   // update

	Reason   string `json:"reason,omitempty"`   // reject
	Interest string `json:"interest,omitempty"` // reject: the Sync Interest name
	DataName string `json:"dataName,omitempty"` // reject: the inner Data name, if any

	State   State  `json:"state,omitempty"`   // done, timeout
	Message string `json:"message,omitempty"` // error, register-error
	Prefix  string `json:"prefix,omitempty"`  // registered
	Code    int    `json:"code,omitempty"`    // exit

	At  time.Time       `json:"-"` // when the line was read
	Raw json.RawMessage `json:"-"` // the line itself
}

// Update is an "update" event: node's sequence numbers lo..hi under boot
// became known.
type Update struct {
	Node   string
	Boot   uint64
	Lo, Hi uint64
}

// Reject is a Sync Interest NDNts refused, with NDNts's reason.
type Reject struct {
	Reason   string
	Interest string
	DataName string
}

// Peer is a running svs-peer.mjs process.
type Peer struct {
	Opts Options

	t   testing.TB
	cmd *exec.Cmd

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced on every new event or exit
	exited  bool
	exitErr error

	readers sync.WaitGroup
	waited  chan struct{}
}

// Start runs a peer and stops it (SIGKILL) at t's cleanup. It fails t if
// node cannot start; call Available first to skip instead.
func Start(t testing.TB, opts Options) *Peer {
	t.Helper()
	if opts.Socket == "" || opts.Group == "" || opts.Node == "" {
		t.Fatalf("ndnts.Start: Socket, Group and Node are required")
	}
	cmd := exec.Command("node", append([]string{Script}, opts.Args()...)...)
	cmd.Dir = Dir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Peer{
		Opts:    opts,
		t:       t,
		cmd:     cmd,
		changed: make(chan struct{}),
		waited:  make(chan struct{}),
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("ndnts: start node %s: %v", Script, err)
	}
	t.Logf("ndnts %s: started pid %d: node %s %s", opts.Node, cmd.Process.Pid, Script, strings.Join(opts.Args(), " "))
	p.readers.Add(2)
	go p.readStdout(stdout)
	go p.readStderr(stderr)
	go func() {
		p.readers.Wait() // Wait must follow the pipes' last reads
		err := cmd.Wait()
		p.mu.Lock()
		p.exited = true
		p.exitErr = err
		p.notifyLocked()
		p.mu.Unlock()
		close(p.waited)
	}()
	t.Cleanup(p.Stop)
	return p
}

func (p *Peer) readStdout(r io.Reader) {
	defer p.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		raw := bytes.Clone(sc.Bytes())
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil || ev.Event == "" {
			ev = Event{Event: "raw", Message: string(raw)}
		}
		ev.At = time.Now()
		ev.Raw = raw
		switch ev.Event {
		case "update", "publish", "registered", "face", "debug":
		default:
			p.t.Logf("ndnts %s: %s", p.Opts.Node, raw)
		}
		p.mu.Lock()
		p.events = append(p.events, ev)
		p.notifyLocked()
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *Peer) readStderr(r io.Reader) {
	defer p.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		p.t.Logf("ndnts %s stderr: %s", p.Opts.Node, sc.Text())
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *Peer) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Stop kills the peer if it still runs and waits for it. It is safe to call
// more than once; Start registers it as a cleanup.
func (p *Peer) Stop() {
	select {
	case <-p.waited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.waited
}

// Events returns a copy of every event so far.
func (p *Peer) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// ErrExited is returned by the Wait methods when the peer exits before the
// awaited event.
var ErrExited = errors.New("ndnts: peer exited")

// WaitFor waits until an event satisfying match has been printed (it may
// already have been) and returns the first such event. It fails when the
// timeout passes or the peer exits first.
func (p *Peer) WaitFor(timeout time.Duration, match func(Event) bool) (Event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.events); seen++ {
			if match(p.events[seen]) {
				ev := p.events[seen]
				p.mu.Unlock()
				return ev, nil
			}
		}
		exited, exitErr, changed := p.exited, p.exitErr, p.changed
		p.mu.Unlock()
		if exited {
			return Event{}, fmt.Errorf("%w (%v) %s", ErrExited, exitErr, p.lastWords())
		}
		select {
		case <-changed:
		case <-deadline.C:
			return Event{}, fmt.Errorf("ndnts %s: nothing matched within %v", p.Opts.Node, timeout)
		}
	}
}

// lastWords describes the peer's error, timeout or exit events.
func (p *Peer) lastWords() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, ev := range p.events {
		switch ev.Event {
		case "error", "timeout", "exit", "register-error":
			b.WriteString(string(ev.Raw))
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

// WaitReady waits for the "ready" line: the sync prefix is registered with
// the forwarder and the peer is about to publish.
func (p *Peer) WaitReady(timeout time.Duration) error {
	_, err := p.WaitFor(timeout, func(ev Event) bool { return ev.Event == "ready" })
	if err != nil {
		return fmt.Errorf("ndnts %s: waiting for ready: %w", p.Opts.Node, err)
	}
	return nil
}

// WaitDone waits for "done" (every Expect met, publishing over) and returns
// the peer's state vector at that moment. A "timeout" or "error" line, or an
// exit, is an error.
func (p *Peer) WaitDone(timeout time.Duration) (State, error) {
	ev, err := p.WaitFor(timeout, func(ev Event) bool {
		return ev.Event == "done" || ev.Event == "timeout" || ev.Event == "error"
	})
	if err != nil {
		return nil, fmt.Errorf("ndnts %s: waiting for done: %w", p.Opts.Node, err)
	}
	if ev.Event != "done" {
		return ev.State, fmt.Errorf("ndnts %s: %s", p.Opts.Node, ev.Raw)
	}
	return ev.State, nil
}

// WaitReject waits for the first "reject" line.
func (p *Peer) WaitReject(timeout time.Duration) (Reject, error) {
	ev, err := p.WaitFor(timeout, func(ev Event) bool { return ev.Event == "reject" })
	if err != nil {
		return Reject{}, fmt.Errorf("ndnts %s: waiting for a reject: %w", p.Opts.Node, err)
	}
	return Reject{Reason: ev.Reason, Interest: ev.Interest, DataName: ev.DataName}, nil
}

// WaitExit waits for the process to end and returns its exit code (-1 if
// it was killed by a signal).
func (p *Peer) WaitExit(timeout time.Duration) (int, error) {
	select {
	case <-p.waited:
	case <-time.After(timeout):
		return 0, fmt.Errorf("ndnts %s: still running after %v", p.Opts.Node, timeout)
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// Updates returns every "update" event so far.
func (p *Peer) Updates() []Update {
	var u []Update
	for _, ev := range p.Events() {
		if ev.Event == "update" {
			u = append(u, Update{Node: ev.Node, Boot: ev.Boot, Lo: ev.Lo, Hi: ev.Hi})
		}
	}
	return u
}

// Rejects returns every "reject" event so far: Sync Interests NDNts refused.
func (p *Peer) Rejects() []Reject {
	var r []Reject
	for _, ev := range p.Events() {
		if ev.Event == "reject" {
			r = append(r, Reject{Reason: ev.Reason, Interest: ev.Interest, DataName: ev.DataName})
		}
	}
	return r
}

// Published returns the sequence numbers the peer has published so far.
func (p *Peer) Published() []uint64 {
	var s []uint64
	for _, ev := range p.Events() {
		if ev.Event == "publish" {
			s = append(s, ev.Seq)
		}
	}
	return s
}

// Learned returns the highest sequence number the peer has learned of node
// through update events, over all boots.
func (p *Peer) Learned(node string) uint64 {
	var h uint64
	for _, u := range p.Updates() {
		if u.Node == node {
			h = max(h, u.Hi)
		}
	}
	return h
}
