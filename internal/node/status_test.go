package node

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
)

// Member names and face URIs come from the network: the page escapes
// them for HTML, attributes included, and no markup of theirs survives.
func TestStatusPageEscapes(t *testing.T) {
	heard := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hostile := `<script>alert(1)</script>`
	st := Status{
		Version: StatusVersion, Node: `/n"><b>bold</b>`, Build: "(devel)", Time: heard.Add(3 * time.Second),
		Problems: []string{`<i>problem</i>`},
		Groups: []GroupStatus{{
			Prefix: "/g<x>", Member: "/n", Phase: "steady",
			Members: []MemberStatus{
				{Name: hostile, Boot: 1, Seq: 2, LastHeard: &heard},
				{Name: `" onmouseover="alert(2)`, Boot: 3, Seq: 4},
			},
		}},
		Faces: []FaceStatus{{ID: 7, Remote: `udp4://"><img src=x onerror=alert(3)>`}},
	}
	b, err := renderPage(st)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"<script>alert", "<b>bold", "<i>problem", "<img", `" onmouseover="alert`, "<x>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "3.0 s ago", "never", `id="latency-chart"`, `data-poll-ms="2000"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Count(page, `<tr class="member`) != 2 {
		t.Errorf("want 2 member rows:\n%s", page)
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, c := range []struct {
		t    *time.Time
		want string
	}{
		{nil, "never"},
		{at(-time.Second), "just now"},
		{at(1500 * time.Millisecond), "1.5 s ago"},
		{at(5 * time.Minute), "5 min ago"},
		{at(3 * time.Hour), "3.0 h ago"},
		{at(72 * time.Hour), "3 days ago"},
	} {
		if got := ago(now, c.t); got != c.want {
			t.Errorf("ago(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

// statusChildEnv runs TestStatusChild's scenario (one forwarder per
// process: see metricsChildEnv).
const statusChildEnv = "NDNSVS_NODE_STATUS_CHILD"

// A running node with a second member in its group answers /status.json
// with both members, their sequence numbers and when they were last
// heard, the Sync latency histogram and the faces; the page at / and
// /status shows them, with its script and style from the node; and every
// metric the Grafana dashboard queries is on its /metrics page.
func TestStatusEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStatusChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), statusChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestStatusChild") {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Log(string(out))
}

func TestStatusChild(t *testing.T) {
	if os.Getenv(statusChildEnv) == "" {
		t.Skip("helper process of TestStatusEndpoints")
	}
	c := testNodeConfig(t, "127.0.0.1:0")
	n, err := New(c, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	select {
	case <-n.Ready():
	case err := <-ran:
		t.Fatalf("Run returned before ready: %v", err)
	}
	base := "http://" + n.MetricsAddr().String()
	group := c.Groups[0].Prefix
	own := n.Syncs()[group]

	// A second member of the group on the node's forwarder.
	peer, peerName := startPeer(t, ctx, n.Forwarder(), group)
	waitFor(t, "the node's member to announce itself", func() bool { return own.Stats().SentBy[svs.SentAnnounce] > 0 })
	if _, err := own.PublishSeq(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := peer.PublishSeq(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var st Status
	waitFor(t, "the node to learn the peer's two publications", func() bool {
		st = statusJSON(t, base)
		for _, m := range st.Groups[0].Members {
			if m.Name == peerName && m.Seq == 2 {
				return true
			}
		}
		return false
	})
	if st.Version != StatusVersion || st.Node != "/test/metrics" || !st.Ready || len(st.Problems) != 0 {
		t.Errorf("status header: version %d node %q ready %v problems %q", st.Version, st.Node, st.Ready, st.Problems)
	}
	if len(st.Groups) != 1 || st.Groups[0].Prefix != group || st.Groups[0].Boot != own.Boot() || st.Groups[0].Phase == "" {
		t.Fatalf("groups: %+v", st.Groups)
	}
	g := st.Groups[0]
	var self, other *MemberStatus
	for i, m := range g.Members {
		switch m.Name {
		case "/test/metrics":
			self = &g.Members[i]
		case peerName:
			other = &g.Members[i]
		}
	}
	if self == nil || !self.Self || self.Seq != 1 || self.LastHeard == nil {
		t.Errorf("own member: %+v", self)
	}
	if other == nil || other.Self || other.Seq != 2 || other.LastHeard == nil || time.Since(*other.LastHeard) > time.Minute {
		t.Errorf("peer: %+v", other)
	}
	if g.Publications != 1 || g.SyncInterestsSent < 2 || g.VectorsWithNews < 1 {
		t.Errorf("group counters: %+v", g)
	}
	if g.Latency == nil || g.Latency.Count+g.Latency.Negative+g.Latency.Untimed != g.VectorsWithNews || len(g.Latency.Buckets) == 0 {
		t.Errorf("latency %+v with %d vectors with news", g.Latency, g.VectorsWithNews)
	}
	if len(st.Faces) < 2 { // the unix listener's faces are on demand; the two members' are in-process
		t.Errorf("faces: %+v", st.Faces)
	}

	for _, path := range []string{"/", "/status"} {
		resp, body := get(t, base+path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
		for _, want := range []string{peerName, "/test/metrics", group, `id="latency-chart"`, `src="/assets/status.js"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
	for path, want := range map[string]int{
		"/assets/status.js": 200, "/assets/status.css": 200, "/assets/status.html": 404, "/assets/": 404, "/nothing": 404,
	} {
		if resp, _ := get(t, base+path); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	_, metricsPage := get(t, base+"/metrics")
	checkDashboard(t, metricsPage)
	checkRules(t, metricsPage)
}

// startPeer runs a second member of group on an in-process face of fwd,
// until ctx ends.
func startPeer(t *testing.T, ctx context.Context, fwd *fw.Forwarder, group string) (*svs.Sync, string) {
	t.Helper()
	const name = "/test/peer"
	face, err := fwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := enc.NameFromStr(group)
	node, _ := enc.NameFromStr(name)
	s, err := svs.NewOnFace(face, svs.Config{
		Group: g, Node: node,
		Register: func(p enc.Name) error { return fwd.AddRoute(p, face.FaceID(), 0, fw.OriginApp) },
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { <-done })
	waitFor(t, "the peer to announce itself", func() bool { return s.Stats().SentBy[svs.SentAnnounce] > 0 })
	return s, name
}

// waitFor polls cond until it holds, for what the test cannot be signalled
// of: another member's state, read over HTTP, at most 5 times a second
// (the status endpoints' rate bound).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
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
	return resp, string(b)
}

func statusJSON(t *testing.T, base string) Status {
	t.Helper()
	resp, body := get(t, base+"/status.json")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/status.json: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status.json: %v\n%s", err, body)
	}
	return st
}
