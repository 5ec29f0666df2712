package publab

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

var progs = NewPrograms()

func TestMain(m *testing.M) {
	code := netlab.Exclusive(m)
	progs.Remove()
	os.Exit(code)
}

// lossPercent is the share of packets each host drops, on its way in and
// on its way out: a packet between two hosts crosses two such filters, so
// it is lost 36 % of the time.
var lossPercent = 20

// sizes are the payloads every member publishes once: one byte, one
// segment exactly and one byte over, 64 KiB, and 1 MiB (132 segments).
var sizes = []int{1, 100, 1000, 8000, 8001, 65536, 300_000, 1 << 20}

// nodeTOML is each host's node: UDP and multicast on its one interface,
// as a new user's node runs. The UDP MTU is ndnd's largest packet, so that
// a segment is one datagram (IP fragments it on the 1500-byte veth, and
// the filters see it whole): with the default 1420 and NDNLP fragments,
// each fragment would be dropped on its own and a segment of six crosses
// two filters whole 7 % of the time, which tests NDNLP's reassembly, not
// fetching.
const nodeTOML = `
[node]
name = "/publab/node%d"
[faces.udp]
enabled = true
listen = ["0.0.0.0:6363"]
[faces.multicast]
enabled = true
[forwarder]
udp_mtu = 8800
`

// The scenario: five hosts on one bridge, each running the real
// ndnsvs-node (its forwarder, UDP multicast, no configuration of peers)
// and a member attached to it that publishes payloads of 1 B to 1 MiB,
// with 20 % of packets dropped by nftables on every host's way in and way
// out. Every publication reaches every other member, with its hash.
func TestFiveMembersUnderLossGetEveryPublicationIntact(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: five nodes in network namespaces under loss")
	}
	netlab.NeedRoot(t, "this test")
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipped: nft (nftables) is not installed")
	}
	const members = 5
	lan := netlab.NewLAN(t, "pl", "198.51.100", members)
	for _, h := range lan.Hosts {
		dropOnEth0(t, h, lossPercent)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// Where packets went missing besides the filters: the kernel's
		// UDP counters (a full receive buffer shows as RcvbufErrors).
		for _, h := range lan.Hosts {
			out, _ := exec.Command("ip", "netns", "exec", h, "nstat", "-az", "Udp*").CombinedOutput()
			t.Logf("%s:\n%s", h, out)
		}
	})
	nodeBin, memberBin := progs.Path(t, "ndnsvs-node"), progs.Path(t, "pubmember")
	var ms []*Member
	var nodes []*Node
	var sz []string
	for _, s := range sizes {
		sz = append(sz, strconv.Itoa(s))
	}
	for i, h := range lan.Hosts {
		ns := []string{"ip", "netns", "exec", h}
		n := StartNode(t, nodeBin, ns, fmt.Sprintf(nodeTOML, i+1))
		nodes = append(nodes, n)
		ms = append(ms, StartMember(t, memberBin, ns, "unix://"+n.Sock, fmt.Sprintf("/publab/m%d", i+1),
			"-sizes", strings.Join(sz, ","), "-count", strconv.Itoa(len(sizes)), "-interval", "100ms"))
	}
	// Registered after the nodes' own cleanups, so it runs before they
	// are killed: a node that died during the test shows how.
	t.Cleanup(func() {
		for i, n := range nodes {
			if !n.Alive() {
				l := n.Logs()
				t.Logf("node %d exited; the end of its log:\n%s", i+1, l[max(0, len(l)-6000):])
			}
		}
	})
	WaitAll(t, ms, 20*time.Second, func() bool {
		for _, m := range ms {
			if m.Ups() == 0 {
				return false
			}
		}
		return true
	}, func() string { return "members not attached" })
	start := time.Now()
	for _, m := range ms {
		m.Send("pub")
	}
	WaitAll(t, ms, time.Minute, func() bool {
		for _, m := range ms {
			if len(m.Pubs()) < len(sizes) {
				return false
			}
		}
		return true
	}, func() string {
		var b strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&b, "\n%s: %d published, errors %q", m.Name, len(m.Pubs()), m.Errs())
		}
		for _, m := range ms {
			if len(m.Pubs()) < len(sizes) {
				fmt.Fprintf(&b, "\n%s is stuck:\n%s", m.Name, m.Goroutines())
				break
			}
		}
		return b.String()
	})
	published := time.Since(start)

	// Every member must hold every other member's publications.
	others := func(m *Member) []Pub {
		var out []Pub
		for _, o := range ms {
			if o != m {
				out = append(out, o.Pubs()...)
			}
		}
		return out
	}
	describe := func() string {
		var b strings.Builder
		// Per payload size: how many of its deliveries were made (each
		// member publishes the sizes in order, so seq k is sizes[k-1]).
		made, want := map[int]int{}, map[int]int{}
		for _, m := range ms {
			missing, _ := m.Check(others(m))
			fmt.Fprintf(&b, "\n%s lacks %d: %v; missed %+v", m.Name, len(missing), missing, m.MissedReports())
			lacks := map[string]bool{}
			for _, k := range missing {
				lacks[k] = true
			}
			for _, p := range others(m) {
				want[p.Size]++
				if !lacks[p.Key.String()] {
					made[p.Size]++
				}
			}
		}
		b.WriteString("\ndelivered per payload size:")
		for _, sz := range sizes {
			fmt.Fprintf(&b, " %d B %d/%d;", sz, made[sz], want[sz])
		}
		return b.String()
	}
	// Wait until each publication is delivered or given up (OnMissed):
	// a give-up is final, so the test ends as soon as the outcome is
	// known, and fails below.
	WaitAll(t, ms, 5*time.Minute, func() bool {
		for _, m := range ms {
			if len(unresolved(m, others(m))) > 0 {
				return false
			}
		}
		return true
	}, describe)
	delivered := time.Since(start)
	for _, m := range ms {
		if missing, _ := m.Check(others(m)); len(missing) > 0 {
			t.Errorf("%s never got %d publications", m.Name, len(missing))
		}
	}
	if t.Failed() {
		t.Fatalf("after %v: %s", delivered.Round(time.Millisecond), describe())
	}
	for _, m := range ms {
		if _, wrong := m.Check(others(m)); len(wrong) > 0 {
			t.Errorf("%s: %s", m.Name, strings.Join(wrong, "; "))
		}
		if mr := m.MissedReports(); len(mr) > 0 {
			t.Errorf("%s: missed %+v", m.Name, mr)
		}
		if e := m.Errs(); len(e) > 0 {
			t.Errorf("%s: publication errors %q", m.Name, e)
		}
		r := m.Report()
		t.Logf("%s: %d delivered (%d twice); fetched %v, failed attempts %v, bad data %v",
			m.Name, r.Received, m.Duplicates(), r.Stats["Fetched"], r.Stats["FetchFailures"], r.Stats["BadData"])
	}
	var dropped, passed uint64
	for _, h := range lan.Hosts {
		d, p := lossCounters(t, h)
		dropped += d
		passed += p
	}
	t.Logf("%d publications of %v bytes by each of %d members: all published in %v, all delivered intact in %v; the filters dropped %d of %d packets (%.1f %%)",
		len(sizes), sizes, members, published.Round(time.Millisecond), delivered.Round(time.Millisecond),
		dropped, dropped+passed, 100*float64(dropped)/float64(max(dropped+passed, 1)))
	if dropped == 0 {
		t.Error("the filters dropped nothing")
	}
}

// dropOnEth0 makes host drop pct % of the packets it receives or sends on
// eth0, at random, with nftables, counting both what it drops and what it
// lets through.
func dropOnEth0(t *testing.T, host string, pct int) {
	t.Helper()
	rules := fmt.Sprintf(`table inet publab {
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "eth0" numgen random mod 100 < %[1]d counter drop
		iifname "eth0" counter
	}
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "eth0" numgen random mod 100 < %[1]d counter drop
		oifname "eth0" counter
	}
}
`, pct)
	cmd := exec.Command("ip", "netns", "exec", host, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v\n%s", host, err, out)
	}
}

var packetsRE = regexp.MustCompile(`counter packets (\d+) bytes \d+( drop)?`)

// lossCounters returns how many packets host's filters dropped and let
// through.
func lossCounters(t *testing.T, host string) (dropped, passed uint64) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", host, "nft", "list", "table", "inet", "publab").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list in %s: %v\n%s", host, err, out)
	}
	for _, m := range packetsRE.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		if m[2] != "" {
			dropped += n
		} else {
			passed += n
		}
	}
	return dropped, passed
}

// PUBLAB_LOSS overrides lossPercent, to see where delivery breaks.
func init() {
	if v := os.Getenv("PUBLAB_LOSS"); v != "" {
		lossPercent, _ = strconv.Atoi(v)
	}
}

// unresolved returns the publications of pubs that m has neither received
// nor been told (OnMissed) it will not get.
func unresolved(m *Member, pubs []Pub) []Pub {
	missing, _ := m.Check(pubs)
	if len(missing) == 0 {
		return nil
	}
	lacks := map[string]bool{}
	for _, k := range missing {
		lacks[k] = true
	}
	missed := m.MissedReports()
	var out []Pub
	for _, p := range pubs {
		if !lacks[p.Key.String()] {
			continue
		}
		given := false
		for _, ms := range missed {
			if ms.Node == p.Node && ms.Boot == p.Boot && ms.Low <= p.Seq && p.Seq <= ms.High {
				given = true
				break
			}
		}
		if !given {
			out = append(out, p)
		}
	}
	return out
}
