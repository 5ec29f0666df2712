package restart

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/publab"
)

// pubProgs are the node and the publishing member of internal/publab,
// built once per test binary and removed by TestMain.
var pubProgs = publab.NewPrograms()

const (
	publisherKills = 20
	pubName        = "/restart/pub"
)

// The restart test, repeated: a member publishing back to back
// (payloads of 100 B to 70 KB, Publish, a bbolt store with fsync) is
// killed with SIGKILL at a random moment 20 times and started again at
// once on the same store. Two other members on the same node (the real
// ndnsvs-node in a network namespace of its own, loopback only) receive.
// The publisher writes each acknowledged (boot, seq, hash) on stdout with
// one write before it goes on, so the test knows every publication whose
// Publish returned. Then:
//   - no (boot, seq) is acknowledged twice;
//   - every run resumes the same incarnation (one boot), so the others'
//     vectors hold exactly one entry for the publisher;
//   - every acknowledged publication reaches both others, with its hash;
//     what they were told they miss is only numbers that were never
//     acknowledged (reserved but unused at a kill) and only as
//     "unavailable";
//   - each run publishes after its restart, and those reach the others too.
func TestPublisherKilled20TimesLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds two binaries and kills a publisher 20 times")
	}
	ns := netnsPrefix(t)
	nodeBin, memberBin := pubProgs.Path(t, "ndnsvs-node"), pubProgs.Path(t, "pubmember")
	n := publab.StartNode(t, nodeBin, ns, `
[node]
name = "/restart/node"
[faces.udp]
enabled = false
[faces.multicast]
enabled = false
`)
	transport := "unix://" + n.Sock
	store := filepath.Join(n.Dir, "pub.db")
	pub := publab.StartMember(t, memberBin, nil, transport, pubName,
		"-store", store, "-sizes", "100,1000,9000,70000", "-autostart")
	var receivers []*publab.Member
	for _, name := range []string{"/restart/r1", "/restart/r2"} {
		receivers = append(receivers, publab.StartMember(t, memberBin, nil, transport, name))
	}
	all := append([]*publab.Member{pub}, receivers...)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	start := time.Now()
	perRun := make([]int, 0, publisherKills+1)
	for k := 0; k <= publisherKills; k++ {
		// Wait for this run's first acknowledged publication, then let it
		// publish for a random while and kill it in the middle.
		before := len(pub.Pubs())
		publab.WaitAll(t, all, 20*time.Second, func() bool { return len(pub.Pubs()) > before || !pub.Alive() },
			func() string { return fmt.Sprintf("run %d of the publisher published nothing:\n%s", k, pub.Stderr()) })
		if !pub.Alive() {
			t.Fatalf("run %d: the publisher exited:\n%s", k, pub.Stderr())
		}
		if k == publisherKills {
			break
		}
		time.Sleep(time.Duration(r.Int64N(int64(300 * time.Millisecond))))
		pub.Kill()
		perRun = append(perRun, len(pub.Pubs())-before)
		pub.Restart()
	}
	// The last run publishes a while longer, then stops.
	time.Sleep(200 * time.Millisecond)
	pub.Send("stop")
	stopped := pub.Report()
	acked := pub.Pubs()
	perRun = append(perRun, int(stopped.Published))

	// No (boot, seq) acknowledged twice; one incarnation.
	seen := map[publab.Key]bool{}
	for _, p := range acked {
		if seen[p.Key] {
			t.Errorf("%s acknowledged twice", p.Key)
		}
		seen[p.Key] = true
	}
	boots := pub.Starts()
	for _, b := range boots[1:] {
		if b != boots[0] {
			t.Errorf("the publisher's runs started with boots %v: want one incarnation", boots)
			break
		}
	}
	if len(boots) != publisherKills+1 {
		t.Errorf("%d runs reported their start, want %d", len(boots), publisherKills+1)
	}

	// Every acknowledged publication reaches both receivers intact.
	publab.WaitAll(t, all, 2*time.Minute, func() bool {
		for _, m := range receivers {
			if missing, _ := m.Check(acked); len(missing) > 0 {
				return false
			}
		}
		return true
	}, func() string {
		var b strings.Builder
		for _, m := range receivers {
			missing, _ := m.Check(acked)
			fmt.Fprintf(&b, "\n%s lacks %d of %d: %v; missed %+v", m.Name, len(missing), len(acked), head(missing, 10), m.MissedReports())
		}
		return b.String()
	})
	took := time.Since(start)
	for _, m := range receivers {
		if _, wrong := m.Check(acked); len(wrong) > 0 {
			t.Errorf("%s: %s", m.Name, strings.Join(wrong, "; "))
		}
		var skipped uint64
		for _, ms := range m.MissedReports() {
			skipped += ms.High - ms.Low + 1
			if ms.Reason != "unavailable" {
				t.Errorf("%s: missed %+v: want only unavailable (reserved, never published) numbers", m.Name, ms)
			}
			for _, p := range acked {
				if p.Node == ms.Node && p.Boot == ms.Boot && ms.Low <= p.Seq && p.Seq <= ms.High {
					t.Errorf("%s: told it misses %s, which was acknowledged", m.Name, p.Key)
				}
			}
		}
		rep := m.Report()
		if got := rep.Entries(pubName); len(got) != 1 {
			t.Errorf("%s holds %d vector entries for the publisher (boots %v), want 1", m.Name, len(got), got)
		}
		t.Logf("%s: %d delivered (%d twice), %d numbers skipped as never published; vector %d entries",
			m.Name, rep.Received, m.Duplicates(), skipped, len(rep.Vector))
	}
	if e := pub.Errs(); len(e) > 0 {
		t.Errorf("publication errors: %q", e)
	}
	sort.Ints(perRun)
	t.Logf("%d kills: %d publications acknowledged (per run: least %d, median %d, most %d), all delivered intact to both receivers; boot %d throughout; %v in all",
		publisherKills, len(acked), perRun[0], perRun[len(perRun)/2], perRun[len(perRun)-1], boots[0], took.Round(time.Millisecond))
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}
