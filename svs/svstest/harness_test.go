package svstest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// newGroup returns a lossless simulation with n members named m00, m01, …
func newGroup(t *testing.T, seed uint64, n int) *Sim {
	t.Helper()
	s := New(Config{Seed: seed})
	for i := range n {
		if err := s.Add(fmt.Sprintf("m%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestOverheadOnePublicationOneSyncInterest: in a steady lossless group,
// each publication costs exactly one Sync Interest. Publications come at
// random members with random gaps from 0 (simultaneous) through 20 s, so no
// periodic timer ever fires (every Sync Interest pushes every timer back to
// at least 27 s) and publications regularly cross each other in flight; the
// recently-updated rule must drop every crossing vector.
func TestOverheadOnePublicationOneSyncInterest(t *testing.T) {
	for _, n := range []int{3, 10, 20} {
		for seed := range uint64(5) {
			s := newGroup(t, seed, n)
			r := rand.New(rand.NewPCG(seed, 99))
			const pubs = 200
			for range pubs {
				var gap time.Duration
				switch r.IntN(3) {
				case 0: // simultaneous
				case 1: // crossing in flight
					gap = time.Duration(r.Int64N(int64(20 * time.Millisecond)))
				default:
					gap = time.Duration(r.Int64N(int64(20 * time.Second)))
				}
				s.Advance(gap)
				if _, err := s.Publish(fmt.Sprintf("m%02d", r.IntN(n))); err != nil {
					t.Fatal(err)
				}
			}
			s.Advance(time.Second)
			if s.Sent() != pubs {
				t.Errorf("n=%d seed=%d: %d Sync Interests for %d publications", n, seed, s.Sent(), pubs)
			}
			if !s.Converged() {
				t.Errorf("n=%d seed=%d: not converged", n, seed)
			}
			if err := s.Err(); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestOverheadQuietGroupOnePeriodicPerInterval: a group that publishes
// nothing sends about one Sync Interest per periodic interval in total, not
// one per member, because every Sync Interest resets every receiver's timer
// ([Spec §4.5], Steady state, vector not outdated).
//
// Bounds over T = 10 min with P = 30 s ±10 % (27-33 s):
//   - At least ⌊T/33s⌋ = 18, and this is sound: the first send comes by
//     33 s, and after any send its sender's own timer fires within 33 s
//     unless someone else sends first.
//   - At most 1.5·T/P = 30. Every send resets everyone, so sends come in
//     rounds at least 27 s apart: at most ⌊T/27s⌋ = 22 rounds. A round has
//     more than one send only when a second timer fires before the first
//     send arrives (within one delay, 15 ms) out of timers spread over 6 s:
//     about N·15ms/6s ≤ 5 % of rounds for N = 20, so 8 or more extra sends
//     in 22 rounds is far in the tail.
//
// With the reset broken, each member fires on its own every ~30 s: N·20
// sends, 60 for N = 3, which the upper bound catches.
func TestOverheadQuietGroupOnePeriodicPerInterval(t *testing.T) {
	const T = 10 * time.Minute
	cfg := core.DefaultConfig()
	pMax := time.Duration(float64(cfg.PeriodicTimeout) * (1 + cfg.PeriodicJitter))
	lower := int(T / pMax)
	upper := int(1.5 * float64(T) / float64(cfg.PeriodicTimeout))
	for _, n := range []int{3, 10, 20} {
		for seed := range uint64(5) {
			s := newGroup(t, seed, n)
			s.Run(T)
			got := s.Sent()
			t.Logf("n=%d seed=%d: %d Sync Interests in %v (bounds %d..%d)", n, seed, got, T, lower, upper)
			if got < lower || got > upper {
				t.Errorf("n=%d seed=%d: %d Sync Interests in %v, want %d..%d", n, seed, got, T, lower, upper)
			}
			if err := s.Err(); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestPropertyConvergesAfterHeal runs seeded chaos (random publications,
// loss, one-way link loss, partitions, restarts), then heals the network (no
// loss, no partition) and publishes nothing more. Every member must have
// converged within one maximal periodic interval of the heal (33 s), plus
// one suppression period and two deliveries (33.23 s in all).
//
// Why that bound is sound: take any state a member X holds at the heal. X's
// timer is due within 33 s. Until it fires, it is only pushed back by a
// vector that covers X's state (Steady, not outdated) or by a silent
// suppression expiry, whose merged vector covers it; after the heal, every
// such vector reached everyone, so everyone has X's state. The two
// deliveries allow for vectors sent before the heal and still in flight,
// which may have reached X but not all. (The runs here happen to converge
// within a flat 33 s too.) The harness also checks, after every event, that
// no sequence number goes down and that updates are contiguous.
func TestPropertyConvergesAfterHeal(t *testing.T) {
	cfg := core.DefaultConfig()
	const delay, jitter = 10 * time.Millisecond, 5 * time.Millisecond
	bound := time.Duration(float64(cfg.PeriodicTimeout)*(1+cfg.PeriodicJitter)) + cfg.SuppressionPeriod + 2*(delay+jitter)
	const seeds = 200
	divergedAtHeal := 0
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 3 + r.IntN(6)
		s := New(Config{Seed: seed, Delay: delay, Jitter: jitter})
		names := make([]string, n)
		for i := range names {
			names[i] = string(rune('a' + i))
			if err := s.Add(names[i]); err != nil {
				t.Fatal(err)
			}
		}
		pick := func() string { return names[r.IntN(n)] }
		chaosEnd := time.Duration(60+r.IntN(180)) * time.Second
		for s.Now() < chaosEnd {
			switch k := r.IntN(20); {
			case k < 10:
				if _, err := s.Publish(pick()); err != nil {
					t.Fatal(err)
				}
			case k < 12:
				_ = s.SetLoss(r.Float64() * 0.6)
			case k < 14:
				_ = s.SetLinkLoss(pick(), pick(), r.Float64())
			case k < 16:
				perm := r.Perm(n)
				cut := 1 + r.IntN(n-1)
				var g1, g2 []string
				for i, p := range perm {
					if i < cut {
						g1 = append(g1, names[p])
					} else {
						g2 = append(g2, names[p])
					}
				}
				if err := s.Partition(g1, g2); err != nil {
					t.Fatal(err)
				}
			case k < 17:
				s.Heal()
			case k < 18:
				if err := s.Restart(pick(), RestartOptions{NewBoot: r.IntN(2) == 0, Wipe: r.IntN(4) == 0}); err != nil {
					t.Fatal(err)
				}
			}
			s.Advance(time.Duration(r.Int64N(int64(10 * time.Second))))
		}
		heal := s.Now()
		if !s.Converged() {
			divergedAtHeal++
		}
		s.Heal()
		_ = s.SetLoss(0)
		s.Run(heal + bound)
		if err := s.Err(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !s.Converged() {
			t.Fatalf("seed %d (n=%d): not converged %v after the heal at %v:\n%s",
				seed, n, bound, heal, strings.Join(s.differences(), "\n"))
		}
	}
	// The property is only worth something if the chaos left work to do.
	t.Logf("%d of %d runs were diverged at the heal", divergedAtHeal, seeds)
	if divergedAtHeal < seeds/2 {
		t.Fatalf("only %d of %d runs were diverged at the heal: chaos too mild", divergedAtHeal, seeds)
	}
}

// TestReplayIsDeterministic: one seed, one trace.
func TestReplayIsDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		var buf bytes.Buffer
		s := New(Config{Seed: seed, Trace: &buf})
		for _, n := range []string{"a", "b", "c", "d"} {
			if err := s.Add(n); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.SetLoss(0.3)
		for i := range 20 {
			if _, err := s.Publish(s.Members()[i%4]); err != nil {
				t.Fatal(err)
			}
			s.Advance(3 * time.Second)
		}
		s.Advance(5 * time.Minute)
		return buf.String()
	}
	if a, b := run(11), run(11); a != b {
		t.Fatal("same seed gave different traces")
	}
	if a, b := run(11), run(12); a == b {
		t.Fatal("different seeds gave the same trace")
	}
}

func TestSimErrors(t *testing.T) {
	s := New(Config{})
	if err := s.Add("a"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"duplicate member", s.Add("a"), ErrDuplicateMember},
		{"bad name", s.Add("a b"), ErrBadArgument},
		{"publish unknown", func() error { _, err := s.Publish("zz"); return err }(), ErrUnknownMember},
		{"restart unknown", s.Restart("zz", RestartOptions{}), ErrUnknownMember},
		{"loss > 1", s.SetLoss(1.5), ErrBadArgument},
		{"link loss unknown", s.SetLinkLoss("a", "zz", 0.5), ErrUnknownMember},
		{"partition unknown", s.Partition([]string{"a"}, []string{"zz"}), ErrUnknownMember},
		{"partition twice", s.Partition([]string{"a"}, []string{"a"}), ErrBadArgument},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if s.State("zz") != nil || s.Engine("zz") != nil || s.SentBy("zz") != 0 {
		t.Error("unknown member has state")
	}
}

func TestScriptErrors(t *testing.T) {
	for _, script := range []string{
		"bogus",
		"members 3\nseed 4",
		"members 0",
		"members 3\npublish q",
		"members 3\nadvance -1s",
		"members 3\nloss 120%",
		"members 3\ndrop a b",
		"members 3\npartition a b",
		"members 3\nrestart a sideways",
		"members 3\ncheck sent ~ 3",
	} {
		if err := RunScript(strings.NewReader(script), &bytes.Buffer{}); err == nil || errors.Is(err, ErrCheckFailed) {
			t.Errorf("%q: err = %v, want a script error", script, err)
		}
	}
	err := RunScript(strings.NewReader("members 2\npartition a | b\npublish a\nadvance 1s\ncheck converged"), &bytes.Buffer{})
	if !errors.Is(err, ErrCheckFailed) {
		t.Errorf("failed check: err = %v", err)
	}
}

func TestNodeNameRoundTrip(t *testing.T) {
	for _, n := range []string{"a", "/a/b", "node-1/x"} {
		want := "/" + strings.Trim(n, "/")
		if got := FormatName(NodeName(n)); got != want {
			t.Errorf("FormatName(NodeName(%q)) = %q, want %q", n, got, want)
		}
	}
	if got := FormatName(core.Name("\x36\x01\x03")); got != "/54=03" {
		t.Errorf("typed component: %q", got)
	}
	if got := FormatName(core.Name("\x08\x09ab")); got != "/?08096162" {
		t.Errorf("malformed: %q", got)
	}
}
