package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// needChromium skips the test unless Debian's chromium is installed.
func needChromium(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("skipped: chromium is not installed (apt-get install chromium)")
	}
	return bin
}

// chromium runs headless Chromium inside the network namespace ns on url
// with args (--dump-dom, --screenshot=FILE) and returns its stdout. Its
// profile is in the test's directory; the namespace has no route off the
// test's LAN, so nothing it tries reaches the Internet. Virtual time lets
// the page's script poll a few times before the DOM is taken.
func chromium(t *testing.T, bin, ns, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"netns", "exec", ns, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
		"--window-size=1280,1800",
		"--virtual-time-budget=9000",
	}, args...)
	all = append(all, url)
	cmd := exec.CommandContext(ctx, "ip", all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// The status page of a node in a group of three, loaded in headless
// Chromium while the group publishes: its DOM lists every member of the
// group with its sequence number and when it was last heard, its script has refreshed it from
// /status.json and drawn the Sync latency chart; a screenshot is kept.
func TestStatusPageInChromium(t *testing.T) {
	browser := needChromium(t)
	l := newLAN(t, 3)
	const group = "/ndn/svs"
	var nodes []*node
	for i, ns := range l.hosts {
		nodes = append(nodes, startNode(t, ns, fmt.Sprintf(`
[node]
name = "/e2e/page/node%d"
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = true
[metrics]
listen = "%s:9363"
`, i+1, l.addrs[i])))
	}
	var ps []*publisher
	want := map[string]uint64{}
	const pubs = 5
	for i, n := range nodes {
		name := fmt.Sprintf("/e2e/page/pub%d", i+1)
		ps = append(ps, startPublisher(t, n.sock, group, name))
		want[name] = pubs
	}
	for range pubs {
		for _, p := range ps {
			if _, err := p.sync.Publish(context.Background(), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range ps {
		p.waitSeen(t, want, 20*time.Second)
	}
	// The members keep publishing while the page is open, every 10 ms: the
	// chart has new samples at each poll. Chromium's virtual time runs the
	// page's 2-second polls as fast as their fetches complete: at a 100 ms
	// period the intervals after the first held 1 to 3 samples, and some
	// none, a gap in the line (two points, apart, and no line failed CI
	// once); at 10 ms they held 3 to 39.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					_, _ = p.sync.Publish(ctx, []byte("x"))
				}
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()

	// Every node's own member knows every publisher; the page of node 1
	// must show them all, and node 1's own member.
	url := "http://" + l.addrs[0] + ":9363/"
	c := netlab.HTTPClient(l.hosts[0])
	if code, _ := httpText(t, c, url+"status.json"); code != http.StatusOK {
		t.Fatalf("/status.json: %d", code)
	}

	dom := chromium(t, browser, l.hosts[0], url, "--dump-dom")
	shot := filepath.Join(artifactDir(t), "status-page.png")
	chromium(t, browser, l.hosts[0], url, "--screenshot="+shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot %s: %v (%v)", shot, err, fi)
	} else {
		t.Logf("screenshot: %s (%d bytes)", shot, fi.Size())
	}

	// The script ran: it polled /status.json more than once (the chart
	// needs two polls for an interval) and drew points.
	polls := regexp.MustCompile(`<body[^>]*data-polls="(\d+)"`).FindStringSubmatch(dom)
	if polls == nil {
		t.Fatalf("the page's script never refreshed it:\n%s", dom)
	}
	if n, _ := strconv.Atoi(polls[1]); n < 2 {
		t.Errorf("%d polls of /status.json, want at least 2", n)
	}
	chart := regexp.MustCompile(`(?s)<svg id="latency-chart"[^>]*data-points="(\d+)"[^>]*>(.*?)</svg>`).FindStringSubmatch(dom)
	if chart == nil {
		t.Fatalf("no drawn latency chart in the DOM:\n%s", dom)
	}
	if n, _ := strconv.Atoi(chart[1]); n < 1 || !strings.Contains(chart[2], "<polyline") || !strings.Contains(chart[2], `class="point"`) {
		t.Errorf("the chart has %s points and no line:\n%s", chart[1], chart[2])
	}
	if legend := regexp.MustCompile(`(?s)<ul id="latency-legend">(.*?)</ul>`).FindStringSubmatch(dom); legend == nil || strings.Contains(legend[1], " 0 µs") {
		t.Errorf("the legend is missing or shows a latency of 0 µs (an interval without samples): %v", legend)
	}
	if strings.Contains(dom, "cannot refresh") {
		t.Errorf("the page reports a failed refresh:\n%s", dom)
	}
	// The members are the state vector's: the node's own member, which
	// published nothing, is not among them but in the group's heading.
	if !strings.Contains(dom, `<p class="meta">member /e2e/page/node1 (boot `) {
		t.Errorf("the group's heading does not name the node's own member")
	}
	members := map[string]bool{}
	for name := range want {
		members[name] = false
	}
	row := regexp.MustCompile(`<tr class="member( self)?" data-member="([^"]+)"><td class="name">[^<]*</td><td class="num">\d+</td><td class="num seq">(\d+)</td><td>([^<]*)</td>`)
	for _, m := range row.FindAllStringSubmatch(dom, -1) {
		seq, _ := strconv.Atoi(m[3])
		if _, ok := members[m[2]]; ok {
			members[m[2]] = true
		}
		if want[m[2]] > 0 && uint64(seq) < pubs {
			t.Errorf("member %s shown at seq %d, want at least %d", m[2], seq, pubs)
		}
		if !strings.HasSuffix(m[4], " ago") {
			t.Errorf("member %s last heard %q, want a time ago", m[2], m[4])
		}
		if (m[1] != "") != (m[2] == "/e2e/page/node1") {
			t.Errorf("member %s: self marker %q", m[2], m[1])
		}
	}
	for m, shown := range members {
		if !shown {
			t.Errorf("member %s not on the page", m)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// artifactDir is where a test keeps what a person may want to look at
// (a screenshot): $NDNSVS_ARTIFACTS/<test> when set (CI keeps it), else
// the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("NDNSVS_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
