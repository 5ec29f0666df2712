package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// The image, the compose lab and the pods run for real here, with podman
// (Debian's 4.3: apt-get install podman runc catatonit podman-compose
// golang-github-containernetworking-plugin-dnsname), as root. Podman runs
// on a configuration and a storage of the test binary's own (vfs, in a
// temporary folder) and every podman command that makes networks or
// starts containers runs inside a network namespace of the test's, so the
// bridges, the firewall rules podman adds and all multicast stay there.

// podman is podman with the tests' own configuration and storage.
type podman struct {
	dir string
	env []string
}

var lab struct {
	once sync.Once
	p    *podman
	out  string // what deploy/image.sh printed
	err  error
}

func TestMain(m *testing.M) {
	code := netlab.Exclusive(m)
	if lab.p != nil {
		lab.p.remove()
	}
	os.Exit(code)
}

// needPodman skips the test, saying why, unless podman and the tools the
// labs need are installed and the test runs as root.
func needPodman(t *testing.T, tools ...string) {
	t.Helper()
	netlab.NeedRoot(t, "the container lab")
	for _, tool := range append([]string{"podman", "nsenter", "runc", "catatonit"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s is not installed (Debian: apt-get install podman runc catatonit podman-compose golang-github-containernetworking-plugin-dnsname)", tool)
		}
	}
}

// newPodman writes a podman configuration and storage under a new
// temporary folder: runc, cgroupfs and a file event log (no systemd
// here), vfs storage (no overlay mounts to undo), CNI networks of its own
// (named: podman 4.3 would pick netavark where it is installed).
func newPodman() (*podman, error) {
	dir, err := os.MkdirTemp("", "ndnsvs-podman")
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %[1]q
tmp_dir = %[2]q
[network]
network_backend = "cni"
network_config_dir = %[3]q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "cni"))
	storage := fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "storage"), filepath.Join(dir, "run"))
	for name, text := range map[string]string{"containers.conf": conf, "storage.conf": storage} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"tmp", "cni"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	return &podman{dir: dir, env: append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
	)}, nil
}

// remove deletes every container, pod, network and image of p, and its
// folder.
func (p *podman) remove() {
	for _, args := range [][]string{{"pod", "rm", "-af", "-t", "0"}, {"rm", "-af", "-t", "0"}, {"system", "reset", "-f"}} {
		_ = p.cmd("", args...).Run()
	}
	os.RemoveAll(p.dir)
}

// cmd is a podman command, in the network namespace ns unless ns is "".
// It runs in p's folder, which has no entry named like the image: kube
// play would try to build from one (give it absolute paths).
func (p *podman) cmd(ns string, args ...string) *exec.Cmd {
	var c *exec.Cmd
	if ns == "" {
		c = exec.Command("podman", args...)
	} else {
		c = exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns, "podman"}, args...)...)
	}
	c.Env = p.env
	c.Dir = p.dir
	return c
}

// network creates the podman network name in ns (with args such as
// --subnet), removed at cleanup with its CNI address records, which
// podman 4.3 keeps on the host's file system.
func (p *podman) network(t *testing.T, ns, name string, args ...string) {
	t.Helper()
	p.run(t, ns, append([]string{"network", "create"}, append(args, name)...)...)
	t.Cleanup(func() { p.forgetNetwork(ns, name) })
}

// forgetNetwork removes the network name of ns and its CNI records.
func (p *podman) forgetNetwork(ns, name string) {
	_ = p.cmd(ns, "network", "rm", "-f", name).Run()
	os.RemoveAll("/var/lib/cni/networks/" + name)
}

// run runs a podman command and returns its output, trimmed; it fails
// the test if the command fails.
func (p *podman) run(t testing.TB, ns string, args ...string) string {
	t.Helper()
	c := p.cmd(ns, args...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// labImage builds the image once per test binary with deploy/image.sh
// (tag "lab", and "latest" for this machine's platform) into the tests'
// own podman storage, and returns that podman.
func labImage(t *testing.T) *podman {
	t.Helper()
	needPodman(t)
	lab.once.Do(func() {
		if lab.p, lab.err = newPodman(); lab.err != nil {
			return
		}
		lab.out, lab.err = lab.p.buildImage()
	})
	if lab.err != nil {
		t.Fatal(lab.err)
	}
	return lab.p
}

// buildImage runs deploy/image.sh lab with p's storage.
func (p *podman) buildImage() (string, error) {
	c := exec.Command("./image.sh", "lab")
	c.Env = p.env
	out, err := c.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("deploy/image.sh: %v\n%s", err, out)
	}
	return string(out), nil
}

// rounds numbers the calls of countOthers, so that a count app of an
// earlier round still running in a container is another member.
var rounds atomic.Int64

// countOthers runs the count app (-i 0.2) in each container through podman
// exec, as member /lab/r<round>/<container>, attached to the container's
// node (-attach yes: never a forwarder of its own), and waits until each
// has printed at least want numbers of every other container's member. It
// then asks every node with "ndnsvs-node status -o json" and checks that
// the node's own member of the group knows each count member at want or
// more, and, with multicast, that the node has its multicast face.
func (p *podman) countOthers(t *testing.T, ns string, ctrs []string, want uint64, multicast bool, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	round := rounds.Add(1)
	member := func(ctr string) string { return fmt.Sprintf("/lab/r%d/%s", round, ctr) }
	line := regexp.MustCompile(`^(/lab/\S+): (\d+)$`)
	type result struct {
		ctr  string
		seen map[string]uint64
		err  error
	}
	results := make(chan result, len(ctrs))
	for _, ctr := range ctrs {
		c := p.cmd(ns, "exec", ctr, "/ndnsvs-node", "count", "-n", member(ctr), "-i", "0.2", "-attach", "yes")
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		c.Stderr = &stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			<-ctx.Done()
			_ = c.Process.Kill()
		}()
		go func(ctr string) {
			seen := map[string]uint64{}
			done := func() bool {
				for _, o := range ctrs {
					if o != ctr && seen[member(o)] < want {
						return false
					}
				}
				return true
			}
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !done() {
				if m := line.FindStringSubmatch(sc.Text()); m != nil {
					n, _ := strconv.ParseUint(m[2], 10, 64)
					seen[m[1]] = max(seen[m[1]], n)
				}
			}
			var err error
			if !done() {
				err = fmt.Errorf("count in %s stopped: %v %s", ctr, c.Wait(), stderr.String())
			}
			results <- result{ctr, seen, err}
		}(ctr)
	}
	for range ctrs {
		r := <-results
		if r.err != nil {
			t.Fatalf("%v; it had seen %v", r.err, r.seen)
		}
		t.Logf("count in %s printed numbers of the others: %v", r.ctr, r.seen)
	}
	cancel()

	for _, ctr := range ctrs {
		var report struct {
			Status struct {
				Ready  bool `json:"ready"`
				Groups []struct {
					Prefix  string `json:"prefix"`
					Members []struct {
						Name string `json:"name"`
						Seq  uint64 `json:"seq"`
					} `json:"members"`
				} `json:"groups"`
			} `json:"status"`
			Faces []struct {
				Remote string `json:"remote"`
			} `json:"faces"`
			Errors []string `json:"errors"`
		}
		out := p.run(t, ns, "exec", ctr, "/ndnsvs-node", "status", "-o", "json", "--config", "/etc/ndnsvs-node/config.toml")
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatalf("status of %s: %v\n%s", ctr, err, out)
		}
		if !report.Status.Ready || len(report.Errors) > 0 {
			t.Errorf("status of %s: ready %v, errors %v", ctr, report.Status.Ready, report.Errors)
		}
		known := map[string]uint64{}
		for _, g := range report.Status.Groups {
			if g.Prefix == "/ndn/svs" {
				for _, m := range g.Members {
					known[m.Name] = max(known[m.Name], m.Seq)
				}
			}
		}
		for _, o := range ctrs {
			if known[member(o)] < want {
				t.Errorf("status of %s: its member knows %s at %d, want %d or more", ctr, member(o), known[member(o)], want)
			}
		}
		var hasMulticast bool
		for _, f := range report.Faces {
			hasMulticast = hasMulticast || strings.HasPrefix(f.Remote, "udp4://224.0.23.170:")
		}
		if multicast && !hasMulticast {
			t.Errorf("status of %s: no multicast face among %+v", ctr, report.Faces)
		}
	}
}

// waitLog waits until the container's log holds s, and returns how long
// that took.
func (p *podman) waitLog(t *testing.T, ns, ctr, s string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		out, _ := p.cmd(ns, "logs", ctr).CombinedOutput()
		if strings.Contains(string(out), s) {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s logged no %q in %v:\n%s", ctr, s, timeout, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// states fails the test unless every container of the list is running
// (podman-compose up exits 0 even when none started).
func (p *podman) running(t *testing.T, ns string, ctrs ...string) {
	t.Helper()
	for _, ctr := range ctrs {
		if s := p.run(t, ns, "inspect", "--format", "{{.State.Status}}", ctr); s != "running" {
			out, _ := p.cmd(ns, "logs", ctr).CombinedOutput()
			t.Fatalf("container %s is %s, not running:\n%s", ctr, s, out)
		}
	}
}
