package svstest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// TestFetchScripts replays every testdata/fetch/*.txt scenario with
// RunFetchScript and compares its trace with the .golden file next to it.
// Regenerate with go test ./svs/svstest -update and review the diff.
func TestFetchScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/fetch/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fetch scenarios in testdata/fetch")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			script, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := RunFetchScript(bytes.NewReader(script), &got); err != nil {
				t.Errorf("RunFetchScript: %v", err)
			}
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./svs/svstest -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("trace differs from %s (run with -update and review the diff):\n%s", golden, lineDiff(string(want), got.String()))
			}
		})
	}
}

// TestFetchScriptChecksCanFail: a check that does not hold makes the
// script fail, so the scenarios' checks are not vacuous.
func TestFetchScriptChecksCanFail(t *testing.T) {
	for _, script := range []string{
		"timeout 1s\nattempts 1\nmembers 2\nanswer b mute\npublish b 2\nsettle\ncheck delivered\n",
		"timeout 1s\nattempts 1\nmembers 2\nanswer b mute\npublish b 2\nsettle\ncheck gaveup a b 1\n",
		"members 2\npublish b 2\nsettle\ncheck gaveup a b 0 1\n",
		"window 2\nmembers 2\nannounce liar 1 100\nsettle 10s\ncheck bounded 1\n",
	} {
		var out bytes.Buffer
		if err := RunFetchScript(strings.NewReader(script), &out); err == nil {
			t.Errorf("script passed:\n%s\n%s", script, out.String())
		}
	}
}

// TestFetchReplayIsDeterministic: a seed replays exactly.
func TestFetchReplayIsDeterministic(t *testing.T) {
	script, err := os.ReadFile("testdata/fetch/lossy.txt")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := RunFetchScript(bytes.NewReader(script), &a); err != nil {
		t.Fatal(err)
	}
	if err := RunFetchScript(bytes.NewReader(script), &b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatal("two runs of one seed differ")
	}
}

// TestFetchEveryPublicationUnderLoss: groups of 3 to 6 members publish 200
// times in all with 20 % of fetch packets and 10 % of Sync Interests lost,
// for ten seeds. Every publication reaches every other member, in order
// and intact, and no member ever has more than the window in progress for
// one producer or more than the cap on the network.
func TestFetchEveryPublicationUnderLoss(t *testing.T) {
	for seed := range uint64(10) {
		n := 3 + int(seed%4)
		fc := core.DefaultFetchConfig()
		fc.AttemptTimeout = time.Second
		fc.MaxAttempts = 12
		fc.GiveUpAfter = 0
		fc.Window = 4
		fc.MaxOutstanding = 6
		s := NewFetchSim(FetchSimConfig{Seed: seed, Fetch: func(string) core.FetchConfig { return fc }})
		for i := range n {
			if err := s.Add(fmt.Sprintf("m%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetFetchLoss(0.2); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync().SetLoss(0.1); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, 1))
		for range 200 {
			s.Advance(time.Duration(r.Int64N(int64(200 * time.Millisecond))))
			if _, err := s.Publish(fmt.Sprintf("m%d", r.IntN(n))); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := s.Settle(30 * time.Minute); !ok {
			t.Fatalf("seed %d: not settled: %v", seed, s.DescribeFetch())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		tot := s.Totals()
		if tot.Wanted != uint64(200*(n-1)) || tot.Delivered != tot.Wanted || tot.Skipped != 0 {
			t.Errorf("seed %d: %+v, want %d delivered", seed, tot, 200*(n-1))
		}
		if tot.Retried == 0 {
			t.Errorf("seed %d: no retries under 20 %% loss", seed)
		}
		if tot.MaxInProgress > fc.Window || tot.MaxOutstanding > fc.MaxOutstanding {
			t.Errorf("seed %d: %+v over the window or the cap", seed, tot)
		}
		t.Logf("seed %d, %d members: %d delivered, %d attempts, %d retries, at most %d in progress, %d on the network",
			seed, n, tot.Delivered, tot.Started, tot.Retried, tot.MaxInProgress, tot.MaxOutstanding)
	}
}

// TestPropertyFetchResolvesEveryNumberOnce runs seeded chaos: members that
// publish, fetch loss, Sync Interest loss, producers that go mute or Nack
// or answer invalid Data for a while, restarts with and without a new
// boot, and outsiders announcing numbers they never serve. The harness
// checks after every event that no number is fetched twice at once, that
// the window and the cap hold, and that the application gets each
// producer's numbers in order, once. After a heal and a settle, every
// number each member learned of was fetched or given up exactly once.
func TestPropertyFetchResolvesEveryNumberOnce(t *testing.T) {
	diverse := 0
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 2))
		fc := core.DefaultFetchConfig()
		fc.AttemptTimeout = time.Duration(200+r.IntN(800)) * time.Millisecond
		fc.MaxAttempts = 1 + r.IntN(5)
		fc.Window = 1 + r.IntN(6)
		fc.MaxOutstanding = 1 + r.IntN(10)
		fc.StallAfter = 1 + r.IntN(4)
		fc.SupersededBacklog = uint64(r.IntN(20))
		fc.GiveUpAfter = time.Duration(r.IntN(2)) * 5 * time.Second
		s := NewFetchSim(FetchSimConfig{Seed: seed, Fetch: func(string) core.FetchConfig { return fc }})
		n := 3 + r.IntN(4)
		names := make([]string, n)
		for i := range n {
			names[i] = fmt.Sprintf("m%d", i)
			if err := s.Add(names[i]); err != nil {
				t.Fatal(err)
			}
		}
		for range 80 {
			s.Advance(time.Duration(r.Int64N(int64(500 * time.Millisecond))))
			name := names[r.IntN(n)]
			var err error
			switch k := r.IntN(20); {
			case k < 12:
				_, err = s.Publish(name)
			case k < 14:
				err = s.SetFetchLoss(float64(r.IntN(5)) / 10)
			case k < 15:
				err = s.Sync().SetLoss(float64(r.IntN(4)) / 10)
			case k < 17:
				err = s.SetAnswer(name, Answer(r.IntN(4)))
			case k < 19:
				err = s.Restart(name, RestartOptions{NewBoot: r.IntN(2) == 0})
			default:
				s.Announce(fmt.Sprintf("liar%d", r.IntN(3)), uint64(DefaultEpoch+r.IntN(3)), uint64(1+r.IntN(1000)))
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Err(); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		// Heal: every producer answers, no loss; then settle.
		for _, name := range names {
			if err := s.SetAnswer(name, AnswerData); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetFetchLoss(0); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync().SetLoss(0); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Settle(time.Hour); !ok {
			t.Fatalf("seed %d: not settled: %v", seed, s.DescribeFetch())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// Settled means every number learned was released, as a
		// publication or in a gap; the harness checked each once, in
		// order. Check the sums and that resolution covered every number.
		tot := s.Totals()
		if tot.Delivered+tot.Skipped != tot.Wanted {
			t.Fatalf("seed %d: %d delivered + %d skipped != %d wanted", seed, tot.Delivered, tot.Skipped, tot.Wanted)
		}
		for _, m := range s.members {
			for k, tr := range m.prods {
				if len(tr.resolved) != 1 || tr.resolved[0] != (span{1, tr.horizon}) {
					t.Fatalf("seed %d: %s: %s resolved %v, want 1..%d", seed, m.name, formatKey(k.Node, k.Boot), tr.resolved, tr.horizon)
				}
			}
		}
		if tot.Skipped > 0 && tot.Delivered > 0 {
			diverse++
		}
	}
	if diverse < 10 {
		t.Errorf("only %d of 60 runs both delivered and gave up: the chaos is too mild or too harsh", diverse)
	}
}

// TestFetchHugeAnnouncementMemoryBounded: an outsider announces 10^12 for
// each of 50 names. Each member's fetcher holds one range per name and at
// most its window in progress per name, and gives every number up.
func TestFetchHugeAnnouncementMemoryBounded(t *testing.T) {
	fc := core.DefaultFetchConfig()
	fc.AttemptTimeout = 500 * time.Millisecond
	fc.MaxAttempts = 2
	s := NewFetchSim(FetchSimConfig{Seed: 1, Fetch: func(string) core.FetchConfig { return fc }})
	for _, name := range []string{"a", "b", "c"} {
		if err := s.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	const huge = 1_000_000_000_000
	const liars = 50
	for i := range liars {
		s.Announce(fmt.Sprintf("liar%02d", i), DefaultEpoch, huge)
	}
	if _, ok := s.Settle(10 * time.Minute); !ok {
		t.Fatalf("not settled: %v", s.DescribeFetch())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	tot := s.Totals()
	if tot.MaxRanges > liars || tot.MaxHeld > fc.MaxOutstanding+liars*fc.Window {
		t.Errorf("memory: %d ranges, %d in progress at most", tot.MaxRanges, tot.MaxHeld)
	}
	for _, name := range []string{"a", "b", "c"} {
		st := s.FetcherStats(name)
		if st.GivenUp != liars*huge {
			t.Errorf("%s gave up %d, want %d", name, st.GivenUp, uint64(liars*huge))
		}
		perLiar := uint64(fc.Window+fc.StallAfter-1) * uint64(fc.MaxAttempts)
		if st.Started > liars*perLiar {
			t.Errorf("%s started %d attempts, want at most %d", name, st.Started, liars*perLiar)
		}
	}
	t.Logf("%+v", tot)
}
