package restart

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

const (
	kills      = 10
	apps       = 3
	group      = "/ndn/svs" // the node's default group: multicast strategy
	interval   = 10 * time.Millisecond
	upWithin   = 10 * time.Second // per kill, for every application
	runBetween = 300 * time.Millisecond
)

// The test: the real node, in a network namespace of its own with
// only its unix socket, killed with SIGKILL 10 times and restarted at once.
// Three applications (separate processes, the client package's face, svs
// members on ndnd's engine) publish every 10 ms throughout. None exits;
// each reconnects after every kill and keeps publishing; every Publish
// either returned svs.ErrFaceDown or its publication was learned by the
// other two once the node was back. Prints each kill's reconnection times.
func TestAppsSurviveNodeKills(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds two binaries and restarts a node 10 times")
	}
	ns := netnsPrefix(t)
	nodeBin, appBin := build(t)
	dir, err := os.MkdirTemp("", "rst") // short: sun_path is 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "nfd.sock")
	cfg := filepath.Join(dir, "node.toml")
	writeConfig(t, cfg, sock, "")
	killLoop(t, ns, nil, nodeBin, appBin, cfg, "unix://"+sock)
}

// The same over TCP: the node and the applications share a named network
// namespace (loopback only, so that a node restarted in it is reachable
// from applications that stayed), the applications dial
// tcp://127.0.0.1:6363 and register their routes with
// /localhop/nfd/rib/register, as NFD clients on TCP do.
func TestAppsOnTCPSurviveNodeKills(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds two binaries and restarts a node 10 times")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipped: a named network namespace needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the ip command (iproute2) is not installed")
	}
	name := fmt.Sprintf("rst%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("skipped: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	ns := []string{"ip", "netns", "exec", name}
	nodeBin, appBin := build(t)
	dir, err := os.MkdirTemp("", "rst")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := filepath.Join(dir, "node.toml")
	writeConfig(t, cfg, filepath.Join(dir, "nfd.sock"), `
[faces.tcp]
enabled = true
listen = ["127.0.0.1:6363"]
`)
	killLoop(t, ns, ns, nodeBin, appBin, cfg, "tcp://127.0.0.1:6363")
}

// writeConfig writes the node's configuration: its unix socket at sock,
// no UDP or multicast, and extra.
func writeConfig(t *testing.T, path, sock, extra string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`
[node]
name = "/restart/node"
[faces.unix]
enabled = true
path = %q
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
[metrics]
listen = "127.0.0.1:0"
%s`, sock, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// killLoop runs the node (prefixed by nodeNS) and the applications
// (prefixed by appNS) on transport, and kills and restarts the node.
func killLoop(t *testing.T, nodeNS, appNS []string, nodeBin, appBin, cfg, transport string) {
	t.Helper()
	ns := nodeNS
	start := time.Now()

	n := startNode(t, ns, nodeBin, cfg)
	var as []*appProc
	for i := 1; i <= apps; i++ {
		as = append(as, startApp(t, appNS, appBin, transport, fmt.Sprintf("/restart/app%d", i)))
	}
	for _, a := range as {
		a.waitUp(t, time.Time{}, upWithin)
	}
	time.Sleep(runBetween)

	t.Logf("kill  node ready  all pre-kill publications learned  reconnect per app (all from SIGKILL)")
	for k := 1; k <= kills; k++ {
		pre := reports(t, as, "report")
		killedAt := time.Now()
		n.kill(t)
		n = startNode(t, ns, nodeBin, cfg)
		ready := n.readyAt.Sub(killedAt)
		var ups []string
		for _, a := range as {
			up := a.waitUp(t, killedAt, upWithin)
			ups = append(ups, fmt.Sprintf("%s %6.1fms", a.name, ms(up.Sub(killedAt))))
		}
		back := reports(t, as, "report")
		// Everything published before the kill reaches the others once the
		// node is back (each member announces its vector at OnUp).
		var learnedAt time.Duration
		for deadline := time.Now().Add(5 * time.Second); ; {
			now := reports(t, as, "report")
			missing := unlearned(pre, now)
			if len(missing) == 0 {
				learnedAt = time.Since(killedAt)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: publications made before the kill not learned 5s after: %s", k, strings.Join(missing, "; "))
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%4d  %7.1fms  %7.1fms                         %s", k, ms(ready), ms(learnedAt), strings.Join(ups, "  "))
		for _, a := range as {
			if !a.alive() {
				t.Fatalf("%s exited after kill %d:\n%s", a.name, k, a.stderr())
			}
		}
		time.Sleep(runBetween)
		post := reports(t, as, "report")
		for i, a := range as {
			if post[i].OK <= back[i].OK {
				t.Errorf("kill %d: %s did not publish after the node came back (%d publications, then %d)", k, a.name, back[i].OK, post[i].OK)
			}
		}
	}

	// Stop publishing, then every successful publication must be learned
	// by the other applications.
	final := reports(t, as, "stop")
	deadline := time.Now().Add(10 * time.Second)
	var learned []Report
	for {
		learned = reports(t, as, "report")
		if missing := unlearned(final, learned); len(missing) == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("publications not learned 10s after the last restart: %s", strings.Join(missing, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, r := range final {
		t.Logf("%s: %d publications, last seq %d, %d refused with ErrFaceDown, %d returned in the instant before the loss was seen; %d ups, %d downs; learned %v; face %+v",
			r.Node, r.OK, r.Last, r.FaceDown, r.OKWhileDown, learned[i].Ups, learned[i].Downs, learned[i].Learned, learned[i].Stats)
		if len(r.Other) > 0 {
			t.Errorf("%s: Publish errors other than ErrFaceDown: %q", r.Node, r.Other)
		}
		if learned[i].Ups != kills+1 || learned[i].Downs != kills {
			t.Errorf("%s: %d ups and %d downs, want %d and %d", r.Node, learned[i].Ups, learned[i].Downs, kills+1, kills)
		}
	}
	for _, a := range as {
		a.stop(t)
	}
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("took %v, bound 2m", d)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// unlearned lists, for each application, the other applications that have
// not learned its last successful publication.
func unlearned(final, now []Report) []string {
	var out []string
	for _, pub := range final {
		for _, r := range now {
			if r.Node != pub.Node && r.Learned[pub.Node] < pub.Last {
				out = append(out, fmt.Sprintf("%s knows %s up to %d of %d", r.Node, pub.Node, r.Learned[pub.Node], pub.Last))
			}
		}
	}
	return out
}

// Report mirrors cmd/app's report line.
type Report struct {
	Ev                    string
	Node                  string
	OK, Last, OKWhileDown uint64
	FaceDown              uint64
	Other                 []string
	Learned               map[string]uint64
	Ups, Downs            uint64
	Stats                 map[string]uint64
}

// netnsPrefix returns the command that runs the node in a network
// namespace of its own, or skips.
func netnsPrefix(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: unshare (util-linux) is not installed")
	}
	args := []string{"unshare", "--net"}
	if os.Geteuid() != 0 {
		args = []string{"unshare", "--user", "--map-root-user", "--net"}
	}
	if out, err := exec.Command(args[0], append(args[1:], "true")...).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot make a network namespace (%s: %v: %s)", strings.Join(args, " "), err, out)
	}
	return args
}

// Built once per test binary, removed by TestMain.
var (
	buildOnce         sync.Once
	buildErr          error
	binDir            string
	nodeBin, builtApp string
)

func TestMain(m *testing.M) {
	code := netlab.Exclusive(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	pubProgs.Remove()
	os.Exit(code)
}

// build builds the node and the application once.
func build(t *testing.T) (node, app string) {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "rstbin"); buildErr != nil {
			return
		}
		nodeBin, builtApp = filepath.Join(binDir, "ndnsvs-node"), filepath.Join(binDir, "app")
		for _, b := range [][2]string{
			{nodeBin, "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node"},
			{builtApp, "github.com/ndnsvs/ndnsvs-node/internal/restart/cmd/app"},
		} {
			args := []string{"build", "-o", b[0]}
			if os.Getenv("RESTART_RACE") != "" && b[0] == builtApp {
				args = append(args, "-race") // the applications exit 66 on a data race
			}
			if out, err := exec.Command("go", append(args, b[1])...).CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return nodeBin, builtApp
}

type nodeProc struct {
	cmd     *exec.Cmd
	readyAt time.Time
	exited  chan struct{}
	mu      sync.Mutex
	log     strings.Builder
}

// startNode runs the node and waits for its "node ready" line. Cleanup
// kills it by PID if it still runs.
func startNode(t *testing.T, ns []string, bin, cfg string) *nodeProc {
	t.Helper()
	args := append(slices.Clone(ns), bin, "run", "--config", cfg)
	n := &nodeProc{cmd: exec.Command(args[0], args[1:]...), exited: make(chan struct{})}
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.kill(t) })
	ready := make(chan time.Time, 1)
	go func() {
		defer close(n.exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			n.mu.Lock()
			n.log.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
			if strings.Contains(sc.Text(), "node ready") {
				select {
				case ready <- time.Now():
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case n.readyAt = <-ready:
	case <-n.exited:
		t.Fatalf("node exited before ready:\n%s", n.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("node not ready after 20s:\n%s", n.logs())
	}
	return n
}

func (n *nodeProc) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// kill sends SIGKILL to the node's PID (unshare execs the node, so that is
// the node itself) and reaps it.
func (n *nodeProc) kill(t *testing.T) {
	select {
	case <-n.exited:
		return
	default:
	}
	if err := n.cmd.Process.Kill(); err != nil {
		t.Errorf("kill node %d: %v", n.cmd.Process.Pid, err)
	}
	<-n.exited
	_ = n.cmd.Wait()
}

type appProc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	ups    chan time.Time
	rep    chan Report
	exited chan struct{}
	mu     sync.Mutex
	errb   strings.Builder
}

func startApp(t *testing.T, ns []string, bin, transport, name string) *appProc {
	t.Helper()
	a := &appProc{name: name, ups: make(chan time.Time, 64), rep: make(chan Report, 16), exited: make(chan struct{})}
	args := append(slices.Clone(ns), bin, "-transport", transport, "-group", group, "-node", name, "-interval", interval.String())
	a.cmd = exec.Command(args[0], args[1:]...)
	a.cmd.Stderr = &lockedWriter{mu: &a.mu, b: &a.errb}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if a.stdin, err = a.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-a.exited:
		default:
			_ = a.cmd.Process.Kill() // by PID, only if stop did not end it
			<-a.exited
		}
	})
	go func() {
		defer close(a.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			var ev struct {
				Ev  string
				T   int64
				Err string
			}
			line := sc.Bytes()
			if json.Unmarshal(line, &ev) != nil {
				continue
			}
			switch ev.Ev {
			case "up":
				a.ups <- time.Unix(0, ev.T)
			case "report":
				var r Report
				if json.Unmarshal(line, &r) == nil {
					a.rep <- r
				}
			case "regerr":
				t.Logf("%s: %s", name, line)
			}
		}
		_ = a.cmd.Wait()
	}()
	return a
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

func (a *appProc) stderr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.errb.String()
}

func (a *appProc) alive() bool {
	select {
	case <-a.exited:
		return false
	default:
		return true
	}
}

// waitUp returns the time of the application's next OnUp after since.
func (a *appProc) waitUp(t *testing.T, since time.Time, within time.Duration) time.Time {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case up := <-a.ups:
			if up.After(since) {
				return up
			}
		case <-a.exited:
			t.Fatalf("%s exited:\n%s", a.name, a.stderr())
		case <-timeout:
			t.Fatalf("%s not up within %v", a.name, within)
		}
	}
}

// reports sends cmd to every application and collects the reports.
func reports(t *testing.T, as []*appProc, cmd string) []Report {
	t.Helper()
	out := make([]Report, len(as))
	for _, a := range as {
		if _, err := io.WriteString(a.stdin, cmd+"\n"); err != nil {
			t.Fatalf("%s: %v\n%s", a.name, err, a.stderr())
		}
	}
	for i, a := range as {
		select {
		case out[i] = <-a.rep:
		case <-a.exited:
			t.Fatalf("%s exited:\n%s", a.name, a.stderr())
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no report", a.name)
		}
	}
	return out
}

// stop ends an application with SIGTERM; it must exit 0.
func (a *appProc) stop(t *testing.T) {
	t.Helper()
	_ = a.cmd.Process.Signal(os.Interrupt)
	select {
	case <-a.exited:
		if c := a.cmd.ProcessState.ExitCode(); c != 0 {
			t.Errorf("%s exited %d:\n%s", a.name, c, a.stderr())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not exit within 10s of SIGINT", a.name)
	}
}
