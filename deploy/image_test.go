package deploy

import (
	"archive/tar"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// imageLine is one platform's line of deploy/image.sh's output.
var imageLine = regexp.MustCompile(`(?m)^(\S+) (linux/\S+) id (sha256:[0-9a-f]{64}) (\d+) bytes$`)

// The image's configuration loads, and puts the socket, the state and the
// metrics listener where the image and the lab expect them.
func TestImageConfig(t *testing.T) {
	c, err := config.Load("image/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.UnixSocketPath(); got != "/run/nfd/nfd.sock" {
		t.Errorf("socket %s, want /run/nfd/nfd.sock (owned by the image's user)", got)
	}
	if got, err := c.StateDir(); err != nil || got != "/var/lib/ndnsvs-node" {
		t.Errorf("state dir %q (%v), want /var/lib/ndnsvs-node", got, err)
	}
	if got := c.Metrics.Listen; got != "0.0.0.0:9363" {
		t.Errorf("metrics listen %q, want 0.0.0.0:9363: Prometheus scrapes from another container", got)
	}
}

// deploy/image.sh builds the three platforms' images; built again from
// nothing (a storage of its own) it gives the same image IDs; each image
// is its platform's, runs as 65532, and holds exactly the files it should,
// with /run/nfd and the state directory owned by the node's user.
func TestImageIsReproducible(t *testing.T) {
	p := labImage(t)
	first := imageLine.FindAllStringSubmatch(lab.out, -1)
	if len(first) != 3 {
		t.Fatalf("deploy/image.sh printed %d platforms, want 3:\n%s", len(first), lab.out)
	}
	again, err := newPodman()
	if err != nil {
		t.Fatal(err)
	}
	defer again.remove()
	out, err := again.buildImage()
	if err != nil {
		t.Fatal(err)
	}
	second := imageLine.FindAllStringSubmatch(out, -1)
	if len(second) != 3 {
		t.Fatalf("the second build printed %d platforms:\n%s", len(second), out)
	}
	for i, f := range first {
		if second[i][3] != f[3] {
			t.Errorf("%s: image %s, then %s built again from nothing", f[2], f[3], second[i][3])
		}
		size, _ := strconv.Atoi(f[4])
		t.Logf("%s %s: %s, %.1f MB", f[1], f[2], f[3], float64(size)/1e6)
		if size > 30e6 {
			t.Errorf("%s: %d bytes, want at most 30 MB", f[1], size)
		}
		platform := strings.Split(f[2], "/")
		want := platform[0] + " " + platform[1] + " 65532:65532"
		got := p.run(t, "", "image", "inspect", "--format", "{{.Os}} {{.Architecture}} {{.Config.User}}", f[1])
		if strings.TrimSpace(got) != want {
			t.Errorf("%s: %q, want %q", f[1], got, want)
		}
	}

	// What is in the image, read from its exported file system.
	ctr := p.run(t, "", "create", "localhost/ndnsvs-node:latest")
	defer p.cmd("", "rm", "-f", ctr).Run()
	c := p.cmd("", "export", ctr)
	r, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		uid, mode int64
		dir       bool
	}
	got := map[string]entry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[strings.Trim(h.Name, "/")] = entry{int64(h.Uid), h.Mode & 0o7777, h.Typeflag == tar.TypeDir}
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	want := map[string]entry{
		"ndnsvs-node":                 {0, 0o755, false},
		"etc/passwd":                  {0, 0o644, false},
		"etc/group":                   {0, 0o644, false},
		"etc/ndnsvs-node/config.toml": {0, 0o644, false},
		"tmp":                         {0, 0o1777, true},
		"run/nfd":                     {65532, 0o750, true},
		"var/lib/ndnsvs-node":         {65532, 0o700, true},
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: %+v (there: %v), want %+v", name, g, ok, w)
		}
	}
	var extra []string
	for name, e := range got {
		// The directories above them, and what podman puts in every
		// container (/etc/hosts and the like, /dev, /proc, /sys).
		if _, ok := want[name]; ok || e.dir || slices.Contains([]string{"etc/hosts", "etc/hostname", "etc/resolv.conf", ".containerenv", "run/.containerenv"}, name) {
			continue
		}
		extra = append(extra, name)
	}
	if len(extra) > 0 {
		t.Errorf("files the image should not have: %v", extra)
	}
}

// A container started on its embedded configuration becomes ready (its
// "node ready" line) soon after podman run returns; the time is logged
// (the README quotes it).
func TestContainerStartsReady(t *testing.T) {
	p := labImage(t)
	ns := netlab.NewNamespace(t, "ndnsvs-img-"+strconv.Itoa(time.Now().Nanosecond()%100000))
	var total time.Duration
	const runs = 5
	for i := range runs {
		name := "ready-" + strconv.Itoa(i)
		start := time.Now()
		p.run(t, ns, "run", "-d", "--name", name, "--network", "none", "localhost/ndnsvs-node:latest")
		p.waitLog(t, ns, name, "node ready", 10*time.Second)
		took := time.Since(start)
		total += took
		t.Logf("podman run to \"node ready\": %v", took.Round(time.Millisecond))
		p.running(t, ns, name)
		p.run(t, ns, "rm", "-f", "-t", "0", name)
	}
	t.Logf("mean of %d: %v", runs, (total / runs).Round(time.Millisecond))
}

// Containerlab's order: a container starts with no network at all, and
// its link is added afterwards. Two such containers, joined later by a
// veth pair, find each other by multicast and sync (count and status).
func TestContainerGetsItsLinkAfterStart(t *testing.T) {
	p := labImage(t)
	ns := netlab.NewNamespace(t, "ndnsvs-late-"+strconv.Itoa(time.Now().Nanosecond()%100000))
	ctrs := []string{"late1", "late2"}
	pids := map[string]string{}
	for _, c := range ctrs {
		p.run(t, ns, "run", "-d", "--name", c, "--hostname", c, "--network", "none", "localhost/ndnsvs-node:latest")
		t.Cleanup(func() { _ = p.cmd(ns, "rm", "-f", "-t", "0", c).Run() })
		p.waitLog(t, ns, c, "node ready", 10*time.Second)
		pids[c] = p.run(t, ns, "inspect", "--format", "{{.State.Pid}}", c)
	}
	time.Sleep(time.Second) // started, ready, and alone
	netlab.Sh(t, "ip", "-n", ns, "link", "add", "lk1", "type", "veth", "peer", "name", "lk2")
	for i, c := range ctrs {
		dev := "lk" + strconv.Itoa(i+1)
		netlab.Sh(t, "ip", "-n", ns, "link", "set", dev, "netns", pids[c])
		sh := func(args ...string) {
			if out, err := exec.Command("nsenter", append([]string{"--net=/proc/" + pids[c] + "/ns/net", "ip"}, args...)...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v in %s: %v\n%s", args, c, err, out)
			}
		}
		sh("link", "set", dev, "name", "eth1")
		sh("addr", "add", "192.0.2."+strconv.Itoa(i+1)+"/24", "dev", "eth1")
		sh("link", "set", "eth1", "up")
	}
	for _, c := range ctrs {
		took := p.waitLog(t, ns, c, `msg="multicast face" iface=eth1`, 10*time.Second)
		t.Logf("%s: multicast face %v after its link came up", c, took.Round(time.Millisecond))
	}
	p.countOthers(t, ns, ctrs, 3, true, 30*time.Second)
}
