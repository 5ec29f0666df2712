package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/svs"
)

// ndnd's globals allow one forwarder per process, and a node that failed
// to start has had its: each scenario of the metrics listener runs in a
// child process of its own (this test binary, re-executed).
const metricsChildEnv = "NDNSVS_NODE_METRICS_CHILD"

// TestMetricsChild runs the scenario named in the environment; it is the
// child process of the tests below.
func TestMetricsChild(t *testing.T) {
	scenario, ok := os.LookupEnv(metricsChildEnv)
	if !ok {
		t.Skip("helper process of the metrics listener tests")
	}
	switch scenario {
	case "busy":
		childBusyAddress(t)
	case "serve":
		childServe(t)
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
}

func runMetricsChild(t *testing.T, scenario string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMetricsChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), metricsChildEnv+"="+scenario)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestMetricsChild") {
		t.Fatalf("scenario %s: %v\n%s", scenario, err, out)
	}
	return string(out)
}

// A listen address in use refuses the start, naming the key, the address
// and the reason; the forwarder started before it is closed again.
func TestMetricsBusyAddressRefusesToStart(t *testing.T) { t.Log(runMetricsChild(t, "busy")) }

// An address of no interface of this machine is refused before anything
// starts (config.Preflight, in New), with the key and the reason.
func TestMetricsNonLocalAddressRefused(t *testing.T) {
	const addr = "192.0.2.1:9363" // TEST-NET-1 (RFC 5737): on no interface
	_, err := New(testNodeConfig(t, addr), slog.New(slog.DiscardHandler), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "metrics.listen") || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Errorf("New = %v, want metrics.listen refused with its address", err)
	}
}

// A running node serves /metrics (the sync, forwarder and face series,
// which promtool accepts when it is installed), /healthz and /readyz, and
// closes its listener when it stops.
func TestMetricsListenerServes(t *testing.T) { t.Log(runMetricsChild(t, "serve")) }

// testNodeConfig is a node that opens nothing but its unix socket and its
// metrics listener on listen, with one group.
func testNodeConfig(t *testing.T, listen string) config.Config {
	t.Helper()
	c := config.Default()
	dir := t.TempDir()
	c.Node.Name = "/test/metrics"
	c.Node.StateDir = filepath.Join(dir, "state")
	c.Node.Ping = false
	c.Faces.Unix.Path = filepath.Join(dir, "nfd.sock")
	c.Faces.UDP.Enabled = false
	c.Faces.Multicast.Enabled = false
	c.Metrics.Listen = listen
	c.Metrics.PerMember = true
	return c
}

// startFails starts a node on c and returns Start's error, which must not
// be nil, after checking that the forwarder is closed.
func startFails(t *testing.T, c config.Config) error {
	t.Helper()
	n, err := New(c, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start(context.Background())
	if err == nil {
		_ = n.Close()
		t.Fatal("Start succeeded")
	}
	select {
	case <-n.Forwarder().Done():
	default:
		t.Error("forwarder still running after a failed Start")
	}
	return err
}

func childBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	err = startFails(t, testNodeConfig(t, addr))
	t.Logf("Start: %v", err)
	if !strings.Contains(err.Error(), "metrics.listen "+addr) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Start = %v, want the key, %s and EADDRINUSE", err, addr)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// series returns the value of the series whose line starts with prefix
// (name and labels), or -1.
func series(body, prefix string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return -1
}

func childServe(t *testing.T) {
	c := testNodeConfig(t, "127.0.0.1:0")
	// A second group whose member has a publication layer: only it has
	// the publications series.
	cached := "/test/metrics-cached"
	c.Groups = append(c.Groups, config.Group{Prefix: cached, Cache: true})
	var logs bytes.Buffer
	n, err := New(c, slog.New(slog.NewTextHandler(&logs, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-ran:
		t.Fatalf("Run returned before ready: %v", err)
	}
	addr := n.MetricsAddr()
	if addr == nil {
		t.Fatal("no metrics address")
	}
	if !strings.Contains(logs.String(), "metrics listening") || !strings.Contains(logs.String(), addr.String()) {
		t.Errorf("no log line with the address %s:\n%s", addr, logs.String())
	}
	base := "http://" + addr.String()
	group := c.Groups[0].Prefix

	// The member announces itself once its face is open: Run does that
	// after Ready, and nothing signals it outside the member's counters.
	s, sc := n.Syncs()[group], n.Syncs()[cached]
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().SentBy[svs.SentAnnounce] == 0 || sc.Stats().SentBy[svs.SentAnnounce] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the group members did not announce themselves")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, body := httpGet(t, base+"/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if _, err := s.PublishSeq(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Publish(ctx, []byte("payload")); err != nil {
		t.Fatal(err)
	}

	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	g := fmt.Sprintf("group=%q", group)
	for _, want := range []struct {
		prefix string
		min    float64
	}{
		{`ndnsvs_sync_interests_sent_total{` + g + `,reason="announce"}`, 1},
		{`ndnsvs_sync_interests_sent_total{` + g + `,reason="publication"}`, 1},
		{`ndnsvs_sync_publications_total{` + g + `}`, 1},
		{`ndnsvs_sync_members{` + g + `}`, 1},
		{`ndnsvs_sync_vector_budget_bytes{` + g + `}`, 1000},
		{`ndnsvs_sync_phase{` + g + `,phase="steady"}`, 1},
		{`ndnsvs_forwarder_interests_total{direction="in"}`, 2},
		{`ndnsvs_forwarder_pit_entries`, 0},
		{`ndnsvs_publications_published_total{group="` + cached + `"}`, 1},
		{`ndnsvs_publications_fetch_failures_total{group="` + cached + `",reason="no_answer"}`, 0},
		{`ndnsvs_publications_fetches_outstanding{group="` + cached + `"}`, 0},
		{`go_goroutines`, 1},
		{`process_open_fds`, 1},
	} {
		if v := series(body, want.prefix); v < want.min {
			t.Errorf("%s = %v, want at least %v", want.prefix, v, want.min)
		}
	}
	if !regexp.MustCompile(`(?m)^ndnsvs_build_info\{goversion="go[^"]+",revision="[^"]*",version="[^"]+"\} 1$`).MatchString(body) {
		t.Errorf("no ndnsvs_build_info:\n%s", grepLines(body, "ndnsvs_build_info"))
	}
	if l := grepLines(body, `ndnsvs_publications_`); strings.Contains(l, g) {
		t.Errorf("publications series for %s, whose member has no publication layer:\n%s", group, l)
	}
	for _, h := range []string{"ndnsvs_publications_fetch_duration_seconds_count", "ndnsvs_publications_delivery_latency_seconds_count"} {
		if v := series(body, h+`{group="`+cached+`"}`); v != 0 {
			t.Errorf("%s of %s = %v, want an empty histogram", h, cached, v)
		}
	}
	member := fmt.Sprintf(`ndnsvs_sync_member_seq{boot="%d",%s,member="/test/metrics"} 1`, s.Boot(), g)
	if !strings.Contains(body, member+"\n") {
		t.Errorf("no %s", member)
	}
	// The member's face: its Sync Interests counted, bytes included.
	face := regexp.MustCompile(`ndnsvs_face_bytes_total\{direction="in",face="(\d+)"\} (\d+)`).FindAllStringSubmatch(body, -1)
	if len(face) == 0 {
		t.Errorf("no face series:\n%s", body)
	}
	var inBytes float64
	for _, m := range face {
		v, _ := strconv.ParseFloat(m[2], 64)
		inBytes += v
	}
	if inBytes < 100 {
		t.Errorf("faces received %v bytes in all", inBytes)
	}
	if code, _ := httpGet(t, base+"/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d", code)
	}
	resp, err := http.Post(base+"/metrics", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", resp.StatusCode)
	}

	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		} else {
			t.Logf("promtool check metrics: ok %s", out)
		}
	} else {
		t.Log("promtool not installed: check metrics skipped")
	}

	// A clean stop: Run returns nil and the listener is gone.
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after the node stopped", addr)
	}
}

func grepLines(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
