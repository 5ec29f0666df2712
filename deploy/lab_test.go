package deploy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// prometheusImage builds localhost/ndnsvs-lab-prometheus:test from
// Debian's Prometheus (the machine has no registry to pull
// prom/prometheus from): its binary and the libraries it links, FROM
// scratch, run as nobody with /prometheus its own, as in the official
// image, so compose.yaml runs it unchanged.
func prometheusImage(t *testing.T, p *podman) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("skipped: prometheus is not installed (Debian: apt-get install prometheus)")
	}
	const name = "localhost/ndnsvs-lab-prometheus:test"
	if p.cmd("", "image", "exists", name).Run() == nil {
		return name
	}
	ctx := t.TempDir()
	files := []string{bin}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", bin, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(ctx, "root", f)
		if f == bin {
			to = filepath.Join(ctx, "root/bin/prometheus")
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for path, text := range map[string]string{
		"root/etc/passwd":        "root:x:0:0::/:/sbin/nologin\nnobody:x:65534:65534::/:/sbin/nologin\n",
		"root/etc/group":         "root:x:0:\nnogroup:x:65534:\n",
		"owned/prometheus/.keep": "",
		"Containerfile": `FROM scratch
COPY root/ /
COPY --chown=65534:65534 owned/ /
USER 65534:65534
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
`,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(ctx, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, path), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.run(t, "", "build", "--quiet", "-t", name, ctx)
	return name
}

// The compose lab: three nodes and Prometheus with podman-compose, in a
// network namespace of the test's. Every container runs; the nodes learn
// each other's publications by multicast alone (count and status in each
// container); Prometheus scrapes every node, and has its sync latency.
func TestComposeLab(t *testing.T) {
	p := labImage(t)
	needPodman(t, "podman-compose")
	prom := prometheusImage(t, p)
	ns := netlab.NewNamespace(t, "ndnsvs-compose-"+strconv.Itoa(os.Getpid()%100000))
	compose := func(args ...string) *exec.Cmd {
		c := exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns, "podman-compose", "-p", "ndnsvs-lab", "-f", "compose/compose.yaml"}, args...)...)
		c.Env = append(p.env, "NDNSVS_IMAGE=localhost/ndnsvs-node:latest", "PROMETHEUS_IMAGE="+prom)
		return c
	}
	t.Cleanup(func() {
		_ = compose("down", "-v").Run()
		p.forgetNetwork(ns, "ndnsvs-lab_ndn")
	})
	start := time.Now()
	if out, err := compose("up", "-d").CombinedOutput(); err != nil {
		t.Fatalf("podman-compose up -d: %v\n%s", err, out)
	}
	t.Logf("podman-compose up -d: %v", time.Since(start).Round(time.Millisecond))
	// Containers by their compose service (podman-compose and docker
	// compose name them differently).
	service := func(s string) string {
		t.Helper()
		name := p.run(t, ns, "ps", "-a", "--filter", "label=com.docker.compose.service="+s, "--format", "{{.Names}}")
		if name == "" || strings.Contains(name, "\n") {
			t.Fatalf("service %s: containers %q, want one", s, name)
		}
		return name
	}
	nodes := []string{service("node1"), service("node2"), service("node3")}
	promCtr := service("prometheus")
	p.running(t, ns, append(nodes, promCtr)...)
	for _, c := range nodes {
		p.waitLog(t, ns, c, "node ready", 10*time.Second)
	}
	p.countOthers(t, ns, nodes, 5, true, 60*time.Second)

	// Prometheus, asked from the lab's namespace at its container's
	// address: every node is up and has sync latency observations.
	ip := p.run(t, ns, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", promCtr)
	client := netlab.HTTPClient(ns)
	query := func(q string) map[string]float64 {
		resp, err := client.Get("http://" + ip + ":9090/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil {
			return nil
		}
		out := map[string]float64{}
		for _, s := range r.Data.Result {
			v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
			out[s.Metric["instance"]] = v
		}
		return out
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		up := query(`up{job="ndnsvs-node"} == 1`)
		latency := query(`sum by (instance) (ndnsvs_sync_latency_seconds_count{group="/ndn/svs"}) > 0`)
		if len(up) == 3 && len(latency) == 3 {
			t.Logf("Prometheus: up %v, sync latency observations %v", up, latency)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus: up %v, sync latency observations %v: want all three nodes", up, latency)
		}
		time.Sleep(time.Second)
	}
}

// The pods of lab-pods.yaml with podman kube play, in a network
// namespace of the test's: three pods on one podman network learn each
// other's publications by multicast alone.
func TestKubePlayLab(t *testing.T) {
	p := labImage(t)
	ns := netlab.NewNamespace(t, "ndnsvs-kube-"+strconv.Itoa(os.Getpid()%100000))
	abs, err := filepath.Abs("kubernetes/lab-pods.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p.network(t, ns, "ndnsvs-kube")
	t.Cleanup(func() { _ = p.cmd(ns, "kube", "down", abs).Run() })
	start := time.Now()
	p.run(t, ns, "kube", "play", "--network", "ndnsvs-kube", abs)
	t.Logf("podman kube play: %v", time.Since(start).Round(time.Millisecond))
	ctrs := []string{"ndnsvs-0-node", "ndnsvs-1-node", "ndnsvs-2-node"}
	p.running(t, ns, ctrs...)
	for _, c := range ctrs {
		p.waitLog(t, ns, c, "node ready", 10*time.Second)
	}
	p.countOthers(t, ns, ctrs, 5, true, 60*time.Second)
}

// The Kubernetes manifests decode strictly into the API's types and hold
// together (deploy/kubecheck, a module of its own), and the node
// configuration each ConfigMap carries loads.
func TestKubernetesManifests(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipped: no go command to run deploy/kubecheck")
	}
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	configs := t.TempDir()
	args := []string{"run", ".", "-configs", configs}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		args = append(args, abs)
	}
	c := exec.Command("go", args...)
	c.Dir = "kubecheck"
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("kubecheck: %v\n%s", err, out)
	}
	t.Logf("kubecheck: %s", strings.TrimSpace(string(out)))
	tomls, _ := filepath.Glob(filepath.Join(configs, "*.toml"))
	if len(tomls) < 3 {
		t.Fatalf("%d configurations from the ConfigMaps, want 3", len(tomls))
	}
	for _, f := range tomls {
		cfg, err := config.Load(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if got := cfg.UnixSocketPath(); got != "/run/nfd/nfd.sock" {
			t.Errorf("%s: socket %s, want /run/nfd/nfd.sock (the pod's emptyDir)", filepath.Base(f), got)
		}
	}
}

// dnsPod is a pod for podman kube play with its own configuration file
// and names in its /etc/hosts (hostAliases).
func dnsPod(name, config string, hosts map[string]string) string {
	var aliases strings.Builder
	for host, ip := range hosts {
		fmt.Fprintf(&aliases, "    - ip: %q\n      hostnames: [%q]\n", ip, host)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %[1]s
spec:
  hostname: %[1]s
  hostAliases:
%[2]s  securityContext: {runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true}
  containers:
    - name: node
      image: localhost/ndnsvs-node:latest
      imagePullPolicy: Never
      args: ["run", "--config", "/etc/ndnsvs-node/config.toml"]
      volumeMounts:
        - {name: config, mountPath: /etc/ndnsvs-node/config.toml, readOnly: true}
  volumes:
    - name: config
      hostPath: {path: %[3]q, type: File}
`, name, aliases.String(), config)
}

// Two pods without multicast find each other by DNS name only, and
// follow the name when it moves: pod a's neighbour is peer.lab.test,
// first the pod b1's address; b1 goes away, b2 comes up at another
// address, and the name is pointed there mid-run (the test's resolver is
// a's /etc/hosts, rewritten in place). a syncs with b1, then with b2,
// with no restart.
func TestPodsFollowANameThatMoves(t *testing.T) {
	p := labImage(t)
	ns := netlab.NewNamespace(t, "ndnsvs-dns-"+strconv.Itoa(os.Getpid()%100000))
	dir := t.TempDir()
	const (
		net   = "ndnsvs-dns"
		aIP   = "10.89.91.10"
		b1IP  = "10.89.91.11"
		b2IP  = "10.89.91.12"
		every = "1s"
	)
	p.network(t, ns, net, "--subnet", "10.89.91.0/24")
	var plays []string
	t.Cleanup(func() {
		for _, f := range plays {
			_ = p.cmd(ns, "kube", "down", f).Run()
		}
	})
	pod := func(name, ip, neighbour string, hosts map[string]string) string {
		t.Helper()
		cfg := filepath.Join(dir, name+".toml")
		text := fmt.Sprintf(`[node]
name = "/dns/%s"
state_dir = "/var/lib/ndnsvs-node"
[faces.unix]
path = "/run/nfd/nfd.sock"
[faces.multicast]
enabled = false
[[neighbor]]
uri = "udp4://%s:6363"
resolve_every = %q
`, name, neighbour, every)
		yaml := filepath.Join(dir, name+".yaml")
		for f, s := range map[string]string{cfg: text, yaml: dnsPod(name, cfg, hosts)} {
			if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p.run(t, ns, "kube", "play", "--network", net, "--ip", ip, yaml)
		plays = append(plays, yaml)
		ctr := name + "-node"
		p.running(t, ns, ctr)
		p.waitLog(t, ns, ctr, "node ready", 10*time.Second)
		return ctr
	}
	a := pod("a", aIP, "peer.lab.test", map[string]string{"peer.lab.test": b1IP})
	b1 := pod("b1", b1IP, "a.lab.test", map[string]string{"a.lab.test": aIP})
	p.countOthers(t, ns, []string{a, b1}, 3, false, 30*time.Second)

	// b1 goes, b2 comes at another address, and the name follows it.
	p.run(t, ns, "kube", "down", plays[1])
	b2 := pod("b2", b2IP, "a.lab.test", map[string]string{"a.lab.test": aIP})
	hostsPath := p.run(t, ns, "inspect", "--format", "{{.HostsPath}}", a)
	old, err := os.ReadFile(hostsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(old), b1IP) {
		t.Fatalf("a's hosts file %s does not hold b1's address:\n%s", hostsPath, old)
	}
	// In place: the file is bind-mounted into a's container.
	if err := os.WriteFile(hostsPath, []byte(strings.ReplaceAll(string(old), b1IP, b2IP)), 0o644); err != nil {
		t.Fatal(err)
	}
	took := p.waitLog(t, ns, a, "neighbour moved", 20*time.Second)
	t.Logf("a followed peer.lab.test to b2 %v after the name moved (Go rereads /etc/hosts at most every 5 s; the node resolves every %s)", took.Round(time.Millisecond), every)
	p.countOthers(t, ns, []string{a, b2}, 3, false, 30*time.Second)
}
