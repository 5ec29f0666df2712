package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// appProc is an ndnsvs-node app (alive, count, chat) run as a process,
// with its stdout read into a buffer that signals every change.
type appProc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	mu      sync.Mutex
	out     bytes.Buffer
	errs    bytes.Buffer
	changed chan struct{}
	exited  chan struct{}
}

type lockedWriter struct {
	p *appProc
	b *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	n, err := w.b.Write(b)
	select {
	case w.p.changed <- struct{}{}:
	default:
	}
	return n, err
}

// startAppProc runs "ndnsvs-node <args>" in network namespace ns with no
// configuration: NDN_CLIENT_TRANSPORT points at a socket nobody listens
// on, so that --attach auto starts the app's own forwarder (the default
// socket path is shared by every namespace of the machine: a node
// running on the host must not be attached to). It is killed at cleanup.
func startAppProc(t *testing.T, ns, name string, args ...string) *appProc {
	t.Helper()
	bin, _ := binaries(t)
	full := append([]string{"ip", "netns", "exec", ns, bin}, args...)
	return runAppProc(t, name, "unix://"+filepath.Join(t.TempDir(), "nobody.sock"), full...)
}

// runAppProc runs argv with NDN_CLIENT_TRANSPORT set to transport; it is
// killed at cleanup.
func runAppProc(t *testing.T, name, transport string, argv ...string) *appProc {
	t.Helper()
	p := &appProc{t: t, name: name, changed: make(chan struct{}, 1), exited: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+transport)
	p.cmd.Stdout = lockedWriter{p, &p.out}
	p.cmd.Stderr = lockedWriter{p, &p.errs}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

func (p *appProc) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *appProc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs.String()
}

// waitFor waits until stdout holds want, or fails after timeout (or when
// the process exits without it).
func (p *appProc) waitFor(want string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !strings.Contains(p.stdout(), want) {
		select {
		case <-p.changed:
		case <-p.exited:
			if !strings.Contains(p.stdout(), want) {
				p.t.Fatalf("%s exited without %q\nstdout:\n%s\nstderr:\n%s", p.name, want, p.stdout(), p.stderr())
			}
		case <-deadline.C:
			p.t.Fatalf("%s: %q not printed within %v\nstdout:\n%s\nstderr:\n%s", p.name, want, timeout, p.stdout(), p.stderr())
		}
	}
}

// interrupt stops the app as Ctrl-C does and waits for it to exit.
func (p *appProc) interrupt() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			p.t.Errorf("%s exit %d\nstderr:\n%s", p.name, code, p.stderr())
		}
	case <-time.After(15 * time.Second):
		p.t.Errorf("%s did not stop within 15s of SIGINT", p.name)
		p.kill()
	}
}

func (p *appProc) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Three alive apps in three network namespaces on one bridge, each on a
// forwarder of its own with no configuration, find each other by
// multicast: each prints the other two alive; the one stopped is printed
// expired by both others, and back when it returns.
func TestAliveOnALAN(t *testing.T) {
	l := newLAN(t, 3)
	names := []string{"/h1", "/h2", "/h3"}
	var ps []*appProc
	for i, ns := range l.hosts {
		ps = append(ps, startAppProc(t, ns, names[i], "alive", "-n", names[i], "-i", "0.5", "--state", t.TempDir()))
	}
	for i, p := range ps {
		p.waitFor("own forwarder, 1 network face", 20*e2eSecond)
		for j, other := range names {
			if j != i {
				p.waitFor("[ALIVE] "+other, 20*e2eSecond)
			}
		}
	}
	ps[2].interrupt()
	stopped := time.Now()
	for _, p := range ps[:2] {
		p.waitFor("[EXPIRED] /h3", 10*e2eSecond)
	}
	if d := time.Since(stopped); d > 3*time.Second {
		t.Errorf("/h3 printed expired %v after it stopped; want about 3 × 0.5 s", d)
	}
	startAppProc(t, l.hosts[2], "/h3 again", "alive", "-n", "/h3", "-i", "0.5", "--state", t.TempDir())
	for _, p := range ps[:2] {
		p.waitFor("[BACK] /h3", 20*e2eSecond)
	}
}

// Three alive apps attached to one node on this machine (its unix socket;
// the node opens nothing else), found with --attach auto (the default),
// see each other come and go.
func TestAliveThroughOneNode(t *testing.T) {
	n := startNode(t, "", localOnly)
	var ps []*appProc
	for _, name := range []string{"/a1", "/a2", "/a3"} {
		bin, _ := binaries(t)
		ps = append(ps, runAppProc(t, name, "unix://"+n.sock, bin, "alive", "-n", name, "-i", "0.2", "--state", t.TempDir()))
	}
	for _, p := range ps {
		p.waitFor("attached to the node at unix://"+n.sock, 20*e2eSecond)
		for _, other := range []string{"/a1", "/a2", "/a3"} {
			if other != p.name {
				p.waitFor("[ALIVE] "+other, 20*e2eSecond)
			}
		}
	}
	ps[0].interrupt()
	ps[1].waitFor("[EXPIRED] /a1", 10*e2eSecond)
	ps[2].waitFor("[EXPIRED] /a1", 10*e2eSecond)
}
