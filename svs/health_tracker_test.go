package svs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// step is one call of a tracker scenario: a beat of node at (boot, seq),
// or a Tick when node is empty; want lists the events it returns, as
// "kind node seq silent" (silent in ms).
type step struct {
	at   time.Duration
	node string
	boot uint64
	seq  uint64
	want []string
}

func beat(at time.Duration, node string, boot, seq uint64, want ...string) step {
	return step{at: at, node: node, boot: boot, seq: seq, want: want}
}

func tick(at time.Duration, want ...string) step { return step{at: at, want: want} }

func evString(ev PeerEvent) string {
	return fmt.Sprintf("%s %s %d %d", ev.Kind, ev.Node, ev.Seq, ev.Silent.Milliseconds())
}

const sec = time.Second

// runScenario plays steps on a tracker of cfg and checks every event and
// that the deadline never passes a due expiry.
func runScenario(t *testing.T, cfg TrackerConfig, steps []step) *Tracker {
	t.Helper()
	tr, err := NewTracker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		var got []string
		if st.node == "" {
			for _, ev := range tr.Tick(st.at) {
				got = append(got, evString(ev))
			}
		} else if ev, ok := tr.Beat(st.at, wire.NameToCore(fwName(st.node)), st.boot, st.seq); ok {
			got = append(got, evString(ev))
		}
		if strings.Join(got, "; ") != strings.Join(st.want, "; ") {
			t.Errorf("step %d (%v %q %d/%d): events %q, want %q", i, st.at, st.node, st.boot, st.seq, got, st.want)
		}
	}
	return tr
}

func fwName(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(err)
	}
	return n
}

// Interval 1 s, Expire 3, Confirm 2 unless a case says otherwise.
func TestTrackerScenarios(t *testing.T) {
	base := TrackerConfig{Interval: sec, Expire: 3, Confirm: 2}
	for _, tc := range []struct {
		name  string
		cfg   TrackerConfig
		steps []step
	}{
		{"a peer is alive at its second beat, not its first sighting", base, []step{
			beat(0, "/a", 10, 7),
			tick(2 * sec),
			beat(2*sec, "/a", 10, 8, "alive /a 8 0"),
			beat(3*sec, "/a", 10, 9),
		}},
		{"Confirm 1 reports the first sighting", TrackerConfig{Interval: sec, Expire: 3, Confirm: 1}, []step{
			beat(0, "/a", 10, 7, "alive /a 7 0"),
		}},
		{"a dead member learned from a vector is never reported, and forgotten", base, []step{
			beat(0, "/ghost", 10, 40),
			tick(3*sec - 1),
			tick(3 * sec),                 // forgotten silently: it was never reported
			beat(4*sec, "/ghost", 10, 41), // a first sighting again
			beat(5*sec, "/ghost", 10, 42, "alive /ghost 42 0"),
		}},
		{"an alive peer expires after Expire silent intervals, not before", base, []step{
			beat(0, "/a", 10, 1),
			beat(sec, "/a", 10, 2, "alive /a 2 0"),
			tick(4*sec - 1),
			tick(4*sec, "expired /a 2 3000"),
			tick(10 * sec), // expired once only
		}},
		{"an expired peer is back at its first beat, with how long it was silent", base, []step{
			beat(0, "/a", 10, 1),
			beat(sec, "/a", 10, 2, "alive /a 2 0"),
			tick(5*sec, "expired /a 2 4000"),
			beat(9*sec, "/a", 10, 3, "back /a 3 8000"),
			tick(11 * sec),
			tick(12*sec, "expired /a 3 3000"),
		}},
		{"beats keep a peer alive", base, []step{
			beat(0, "/a", 10, 1),
			beat(sec, "/a", 10, 2, "alive /a 2 0"),
			beat(3*sec, "/a", 10, 3),
			tick(4 * sec),
			beat(5*sec, "/a", 10, 5),
			tick(7 * sec),
			tick(8*sec, "expired /a 5 3000"),
		}},
		{"a repeated or lower sequence number is no beat", base, []step{
			beat(0, "/a", 10, 5),
			beat(sec, "/a", 10, 5),
			beat(sec, "/a", 10, 4),
			tick(3 * sec), // progress lost: never confirmed
			beat(3*sec, "/a", 10, 6),
			beat(4*sec, "/a", 10, 7, "alive /a 7 0"),
			beat(6*sec, "/a", 10, 7),
			tick(7*sec, "expired /a 7 3000"),
		}},
		{"a restart (newer boot) is a beat; the old incarnation is stale", base, []step{
			beat(0, "/a", 10, 5),
			beat(sec, "/a", 10, 6, "alive /a 6 0"),
			beat(2*sec, "/a", 20, 1),
			beat(3*sec, "/a", 10, 9), // the old incarnation, from a stale vector
			tick(4 * sec),
			tick(5*sec, "expired /a 1 3000"),
			beat(6*sec, "/a", 10, 10), // still stale after expiry
			beat(7*sec, "/a", 20, 2, "back /a 2 5000"),
		}},
		{"expiries come in the order peers went silent, then by name", base, []step{
			beat(0, "/c", 1, 1),
			beat(0, "/b", 1, 1),
			beat(0, "/a", 1, 1),
			beat(sec, "/c", 1, 2, "alive /c 2 0"),
			beat(sec, "/b", 1, 2, "alive /b 2 0"),
			beat(2*sec, "/a", 1, 2, "alive /a 2 0"),
			tick(6*sec, "expired /b 2 5000", "expired /c 2 5000", "expired /a 2 4000"),
		}},
		{"the MaxPeers bound evicts the peer expired longest ago, never an alive one", TrackerConfig{Interval: sec, Expire: 1, Confirm: 1, MaxPeers: 2}, []step{
			beat(0, "/a", 1, 1, "alive /a 1 0"),
			beat(sec/2, "/b", 1, 1, "alive /b 1 0"),
			beat(sec/2, "/c", 1, 1), // refused: both alive
			tick(sec, "expired /a 1 1000"),
			beat(sec, "/c", 1, 1, "alive /c 1 0"), // takes /a's place
			tick(2*sec, "expired /b 1 1500", "expired /c 1 1000"),
			beat(3*sec, "/d", 1, 1, "alive /d 1 0"), // takes /b's place (expired with /c: by name)
			beat(3*sec, "/c", 1, 2, "back /c 2 2000"),
			beat(4*sec, "/b", 1, 2), // refused: /c and /d alive
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runScenario(t, tc.cfg, tc.steps)
		})
	}
}

func TestTrackerMaxPeersCounts(t *testing.T) {
	tr := runScenario(t, TrackerConfig{Interval: sec, Expire: 1, Confirm: 1, MaxPeers: 2}, []step{
		beat(0, "/a", 1, 1, "alive /a 1 0"),
		beat(0, "/b", 1, 1, "alive /b 1 0"),
		beat(0, "/c", 1, 1),
		tick(sec, "expired /a 1 1000", "expired /b 1 1000"),
		beat(sec, "/c", 1, 1, "alive /c 1 0"),
	})
	st := tr.Stats()
	if st.Refused != 1 || st.Evicted != 1 || st.Beats != 3 {
		t.Errorf("stats %+v, want 1 refused, 1 evicted, 3 beats", st)
	}
	var names []string
	for _, p := range tr.Peers() {
		names = append(names, fmt.Sprintf("%s:%s", p.Node, p.State))
	}
	if got := strings.Join(names, " "); got != "/b:down /c:up" {
		t.Errorf("peers %q", got)
	}
}

// Expired peers are evicted first, the one expired longest ago first;
// unconfirmed ones after them.
func TestTrackerEvictsExpiredBeforeUnconfirmed(t *testing.T) {
	tr := runScenario(t, TrackerConfig{Interval: sec, Expire: 2, Confirm: 2, MaxPeers: 2}, []step{
		beat(0, "/a", 1, 1),
		beat(sec, "/a", 1, 2, "alive /a 2 0"),
		tick(3*sec, "expired /a 2 2000"),
		beat(3*sec, "/p", 1, 1), // unconfirmed
		beat(3*sec, "/n", 1, 1), // evicts /a, not /p
		beat(4*sec, "/p", 1, 2, "alive /p 2 0"),
		beat(4*sec, "/q", 1, 1), // evicts /n, the only candidate
	})
	var names []string
	for _, p := range tr.Peers() {
		names = append(names, p.Node.String())
	}
	if got := strings.Join(names, " "); got != "/p /q" {
		t.Errorf("peers %q, want /p /q", got)
	}
}

// The deadline is never after the earliest due expiry, and Tick before it
// does nothing.
func TestTrackerDeadline(t *testing.T) {
	tr, err := NewTracker(TrackerConfig{Interval: sec, Expire: 2, Confirm: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Deadline(); ok {
		t.Error("deadline with no peer")
	}
	tr.Beat(0, wire.NameToCore(fwName("/a")), 1, 1)
	tr.Beat(sec, wire.NameToCore(fwName("/b")), 1, 1)
	if d, ok := tr.Deadline(); !ok || d != 2*sec {
		t.Errorf("deadline %v %v, want 2s", d, ok)
	}
	tr.Beat(sec, wire.NameToCore(fwName("/a")), 1, 2) // /a now due at 3 s: the deadline may stay early
	if evs := tr.Tick(2 * sec); len(evs) != 0 {
		t.Errorf("early tick: %v", evs)
	}
	if d, ok := tr.Deadline(); !ok || d != 3*sec {
		t.Errorf("deadline after tick %v %v, want 3s", d, ok)
	}
	if evs := tr.Tick(3 * sec); len(evs) != 2 {
		t.Errorf("tick at 3s: %d events, want 2", len(evs))
	}
	if _, ok := tr.Deadline(); ok {
		t.Error("deadline with every peer expired")
	}
}

func TestTrackerRejectsBadNamesAndConfig(t *testing.T) {
	tr, err := NewTracker(TrackerConfig{Confirm: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []core.Name{"", "\x08\x05ab"} {
		if _, ok := tr.Beat(0, bad, 1, 1); ok {
			t.Errorf("event for bad name %q", bad)
		}
	}
	if st := tr.Stats(); st.Invalid != 2 || len(tr.Peers()) != 0 {
		t.Errorf("stats %+v, %d peers: want 2 invalid, none held", st, len(tr.Peers()))
	}
	for _, c := range []TrackerConfig{{Interval: -1}, {Expire: -1}, {Confirm: -1}, {MaxPeers: -1}, {Interval: time.Duration(1 << 62), Expire: 3}} {
		if _, err := NewTracker(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewTracker(%+v) = %v, want ErrInvalidConfig", c, err)
		}
	}
	d, _ := NewTracker(TrackerConfig{})
	if c := d.Config(); c.Interval != DefaultBeatInterval || c.Expire != DefaultExpireBeats || c.Confirm != DefaultConfirmBeats || c.MaxPeers != core.DefaultMaxMembers {
		t.Errorf("defaults %+v", c)
	}
}
