package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffCap(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		base, ceiling time.Duration
		attempt       int
		want          time.Duration
	}{
		{200 * ms, 10 * time.Second, 1, 200 * ms},
		{200 * ms, 10 * time.Second, 2, 400 * ms},
		{200 * ms, 10 * time.Second, 3, 800 * ms},
		{200 * ms, 10 * time.Second, 6, 6400 * ms},
		{200 * ms, 10 * time.Second, 7, 10 * time.Second}, // 12.8 s capped
		{200 * ms, 10 * time.Second, 0, 200 * ms},         // attempt below 1 as 1
		{200 * ms, 10 * time.Second, -5, 200 * ms},
		{200 * ms, 10 * time.Second, math.MaxInt, 10 * time.Second}, // no overflow, no long loop
		{time.Duration(math.MaxInt64 / 3), time.Duration(math.MaxInt64), 3, time.Duration(math.MaxInt64)},
		{time.Second, 500 * ms, 1, 500 * ms}, // base above ceiling
		{0, time.Second, 3, 0},
		{time.Second, 0, 3, 0},
		{-time.Second, time.Second, 3, 0},
	}
	for _, tt := range tests {
		if got := BackoffCap(tt.base, tt.ceiling, tt.attempt); got != tt.want {
			t.Errorf("BackoffCap(%v, %v, %d) = %v, want %v", tt.base, tt.ceiling, tt.attempt, got, tt.want)
		}
	}
}

func TestFullJitter(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		attempt int
		u       float64
		want    time.Duration
	}{
		{1, 0, 0},
		{1, 0.5, 100 * ms},
		{3, 0.25, 200 * ms},                   // cap 800 ms
		{3, math.Nextafter(1, 0), 800*ms - 1}, // below the cap, always
		{3, 1, 800*ms - 1},                    // u clamped below 1
		{3, 7, 800*ms - 1},                    // u clamped below 1
		{3, -1, 0},                            // u clamped to 0
		{3, math.NaN(), 0},                    // NaN as 0
		{9, 0.5, 5 * time.Second},             // cap 10 s
		{math.MaxInt, math.Nextafter(1, 0), 10*time.Second - 1}, // huge attempt
	}
	for _, tt := range tests {
		if got := FullJitter(200*ms, 10*time.Second, tt.attempt, tt.u); got != tt.want {
			t.Errorf("FullJitter(200ms, 10s, %d, %v) = %v, want %v", tt.attempt, tt.u, got, tt.want)
		}
	}
	if got := FullJitter(0, time.Second, 1, 0.5); got != 0 {
		t.Errorf("FullJitter with base 0 = %v, want 0", got)
	}
	// A cap near the largest Duration: float64 rounding must not reach it.
	if got, c := FullJitter(time.Duration(math.MaxInt64), time.Duration(math.MaxInt64), 1, math.Nextafter(1, 0)), time.Duration(math.MaxInt64); got >= c || got < 0 {
		t.Errorf("FullJitter near MaxInt64 = %v, want in [0, %v)", got, c)
	}
}

// TestFullJitterBounds checks, over seeded draws, that every delay lies in
// [0, cap) and that the draws spread over the interval (mean near cap/2).
func TestFullJitterBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for attempt := 1; attempt <= 8; attempt++ {
		c := BackoffCap(200*time.Millisecond, 10*time.Second, attempt)
		var sum float64
		const n = 20000
		for range n {
			d := FullJitter(200*time.Millisecond, 10*time.Second, attempt, r.Float64())
			if d < 0 || d >= c {
				t.Fatalf("attempt %d: delay %v outside [0, %v)", attempt, d, c)
			}
			sum += float64(d)
		}
		if mean := sum / n / float64(c); mean < 0.48 || mean > 0.52 {
			t.Errorf("attempt %d: mean delay %.3f of the cap, want about 0.5", attempt, mean)
		}
	}
}

func TestFetchConfigValidate(t *testing.T) {
	good := testFetchConfig(1)
	if err := good.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := []func(*FetchConfig){
		func(c *FetchConfig) { c.Window = 0 },
		func(c *FetchConfig) { c.MaxOutstanding = -1 },
		func(c *FetchConfig) { c.AttemptTimeout = 0 },
		func(c *FetchConfig) { c.MaxAttempts = 0 },
		func(c *FetchConfig) { c.GiveUpAfter = -time.Second },
		func(c *FetchConfig) { c.BackoffBase = 0 },
		func(c *FetchConfig) { c.BackoffMax = c.BackoffBase - 1 },
		func(c *FetchConfig) { c.StallAfter = 0 },
		func(c *FetchConfig) { c.MaxProducers = 0 },
		func(c *FetchConfig) { c.Rand = nil },
	}
	for i, mod := range bad {
		c := good
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidFetchConfig) {
			t.Errorf("case %d: Validate = %v, want ErrInvalidFetchConfig", i, err)
		}
		if _, err := NewFetcher(c, 0); !errors.Is(err, ErrInvalidFetchConfig) {
			t.Errorf("case %d: NewFetcher = %v, want ErrInvalidFetchConfig", i, err)
		}
	}
}

func testFetchConfig(seed uint64) FetchConfig {
	c := DefaultFetchConfig()
	c.Rand = rand.New(rand.NewPCG(seed, 7))
	return c
}

func newTestFetcher(t *testing.T, mod func(*FetchConfig)) *Fetcher {
	t.Helper()
	c := testFetchConfig(1)
	if mod != nil {
		mod(&c)
	}
	f, err := NewFetcher(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func seqs(fs []Fetch) []uint64 {
	out := make([]uint64, len(fs))
	for i, x := range fs {
		out[i] = x.Seq
	}
	return out
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRule_FetchInOrderWithinWindow(t *testing.T) {
	f := newTestFetcher(t, nil)
	b := nm("b")
	rd := f.Want(0, b, 9, 1, 100)
	if got := seqs(rd.Start); !equalSeqs(got, []uint64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("first starts = %v, want 1..8", got)
	}
	if rd.Deadline != DefaultAttemptTimeout {
		t.Errorf("deadline = %v, want the attempt timeout %v", rd.Deadline, DefaultAttemptTimeout)
	}
	// 3 done while 1 and 2 are not: the window is a span from the lowest
	// number in progress, so 9 may start (1+8) but not 10.
	rd = f.Succeeded(time.Millisecond, rd.Start[2])
	if len(rd.Start) != 0 {
		t.Fatalf("after 3: starts %v, want none (9 is 1+8)", seqs(rd.Start))
	}
	rd = f.Succeeded(time.Millisecond, Fetch{Node: b, Boot: 9, Seq: 1, Attempt: 1})
	if got := seqs(rd.Start); !equalSeqs(got, []uint64{9}) {
		t.Fatalf("after 1: starts %v, want [9]", got)
	}
	rd = f.Succeeded(time.Millisecond, Fetch{Node: b, Boot: 9, Seq: 2, Attempt: 1})
	if got := seqs(rd.Start); !equalSeqs(got, []uint64{10, 11}) {
		t.Fatalf("after 2: starts %v, want [10 11]", got)
	}
	if n := f.InProgress(b, 9); n != 8 {
		t.Errorf("in progress = %d, want 8", n)
	}
	if s := f.Stats(); s.Outstanding != 8 || s.Pending != 89 || s.Ranges != 1 || s.Succeeded != 3 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRule_RetriedWithBackoffThenGivenUp(t *testing.T) {
	f := newTestFetcher(t, func(c *FetchConfig) { c.GiveUpAfter = 0 })
	b := nm("b")
	rd := f.Want(0, b, 9, 1, 1)
	now := time.Duration(0)
	for attempt := 1; attempt <= DefaultMaxAttempts; attempt++ {
		if len(rd.Start) != 1 || rd.Start[0].Attempt != attempt {
			t.Fatalf("attempt %d: starts %+v", attempt, rd.Start)
		}
		now += 10 * time.Millisecond
		rd = f.Failed(now, rd.Start[0], FetchNack)
		if attempt == DefaultMaxAttempts {
			break
		}
		if len(rd.Start) != 0 {
			continue // a zero delay retries at once
		}
		c := BackoffCap(DefaultBackoffBase, DefaultBackoffMax, attempt)
		if rd.Deadline < now || rd.Deadline >= now+c {
			t.Fatalf("attempt %d: retry at %v, want in [%v, %v)", attempt, rd.Deadline, now, now+c)
		}
		if early := f.Tick(rd.Deadline - 1); len(early.Start) != 0 {
			t.Fatalf("attempt %d: retried before its backoff", attempt)
		}
		now = rd.Deadline
		rd = f.Tick(now)
	}
	if len(rd.GiveUps) != 1 {
		t.Fatalf("give-ups = %+v, want one", rd.GiveUps)
	}
	want := GiveUp{Node: b, Boot: 9, Low: 1, High: 1, Attempts: DefaultMaxAttempts, Last: FetchNack, Reason: GaveUpAttempts}
	if rd.GiveUps[0] != want {
		t.Errorf("give-up = %+v, want %+v", rd.GiveUps[0], want)
	}
	if rd.Deadline != NoDeadline {
		t.Errorf("deadline = %v, want NoDeadline", rd.Deadline)
	}
	s := f.Stats()
	if s.Started != 5 || s.Retried != 4 || s.Failed != 5 || s.GivenUp != 1 || s.Outstanding != 0 || s.Waiting != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRule_AttemptTimesOutWithoutAResult(t *testing.T) {
	f := newTestFetcher(t, nil)
	rd := f.Want(0, nm("b"), 9, 1, 1)
	if rd.Deadline != DefaultAttemptTimeout {
		t.Fatalf("deadline = %v", rd.Deadline)
	}
	if rd = f.Tick(DefaultAttemptTimeout - 1); f.Stats().TimedOut != 0 {
		t.Fatal("timed out early")
	}
	rd = f.Tick(DefaultAttemptTimeout)
	if s := f.Stats(); s.TimedOut != 1 || s.Failed != 1 {
		t.Fatalf("stats = %+v", s)
	}
	// The retry starts at once or after its backoff; either way a late
	// answer to the first attempt still counts as the publication.
	if len(rd.Start) == 0 {
		rd = f.Tick(rd.Deadline)
	}
	if len(rd.Start) != 1 || rd.Start[0].Attempt != 2 {
		t.Fatalf("retry = %+v", rd.Start)
	}
	// The first attempt's own failure arrives late: stale, ignored.
	f.Failed(rd.Deadline-time.Second, Fetch{Node: nm("b"), Boot: 9, Seq: 1, Attempt: 1}, FetchTimeout)
	if s := f.Stats(); s.Late != 1 || s.Outstanding != 1 {
		t.Fatalf("stale failure: stats = %+v", s)
	}
	f.Succeeded(rd.Deadline-time.Second, Fetch{Node: nm("b"), Boot: 9, Seq: 1, Attempt: 1})
	if s := f.Stats(); s.Succeeded != 1 || s.Outstanding != 0 || s.Producers != 1 {
		t.Fatalf("late success: stats = %+v", s)
	}
	f.Succeeded(rd.Deadline, Fetch{Node: nm("b"), Boot: 9, Seq: 1, Attempt: 2})
	if s := f.Stats(); s.Succeeded != 1 || s.Late != 2 {
		t.Fatalf("second answer: stats = %+v", s)
	}
}

func TestRule_GiveUpAfterDeadline(t *testing.T) {
	f := newTestFetcher(t, func(c *FetchConfig) {
		c.MaxAttempts = 1000
		c.GiveUpAfter = 5 * time.Second
		c.AttemptTimeout = time.Second
	})
	rd := f.Want(0, nm("b"), 9, 1, 1)
	var gu []GiveUp
	for i := 0; i < 100 && rd.Deadline != NoDeadline; i++ {
		rd = f.Tick(rd.Deadline)
		gu = append(gu, rd.GiveUps...)
	}
	if len(gu) != 1 || gu[0].Reason != GaveUpDeadline || gu[0].Last != FetchTimeout {
		t.Fatalf("give-ups = %+v", gu)
	}
	// No attempt started after first + GiveUpAfter, so the last ended by
	// 5 s + the attempt timeout.
	if s := f.Stats(); s.Started < 2 || s.Started > 1000 {
		t.Errorf("started %d", s.Started)
	}
}

// TestRule_HugeAnnouncementCostsACounter: a producer that never answers
// announces 10^12 publications. The Fetcher attempts at most
// Window+StallAfter−1 numbers MaxAttempts times each, gives up the rest in
// one report, and holds one range all along.
func TestRule_HugeAnnouncementCostsACounter(t *testing.T) {
	f := newTestFetcher(t, nil)
	const huge = 1_000_000_000_000
	rd := f.Want(0, nm("liar"), 9, 1, huge)
	if s := f.Stats(); s.Pending != huge-DefaultFetchWindow || s.Ranges != 1 || s.Outstanding != DefaultFetchWindow {
		t.Fatalf("stats = %+v", s)
	}
	var gu []GiveUp
	for i := 0; rd.Deadline != NoDeadline; i++ {
		if i > 1000 {
			t.Fatal("no end")
		}
		rd = f.Tick(rd.Deadline)
		gu = append(gu, rd.GiveUps...)
		if s := f.Stats(); s.Outstanding+s.Waiting > DefaultFetchWindow || s.Ranges > 1 {
			t.Fatalf("memory grew: %+v", s)
		}
	}
	var singles, ranges int
	var total uint64
	for _, g := range gu {
		total += g.Count()
		if g.Attempts == DefaultMaxAttempts {
			singles++
		} else if g.Reason == GaveUpStalled && g.Attempts == 0 {
			ranges++
		}
	}
	// The first StallAfter give-ups stall the producer; until then, each
	// give-up let one more number start, so at most Window+StallAfter−1
	// numbers were attempted.
	s := f.Stats()
	maxSingles := DefaultFetchWindow + DefaultStallAfter - 1
	if total != huge || s.GivenUp != huge || singles < DefaultFetchWindow || singles > maxSingles || ranges != 1 || len(gu) != singles+1 {
		t.Fatalf("given up %d in %d reports (%d after attempts, %d stalled ranges), stats %+v", total, len(gu), singles, ranges, s)
	}
	if s.Started != uint64(singles*DefaultMaxAttempts) || s.Stalls != 1 || s.Pending != 0 {
		t.Errorf("stats = %+v", s)
	}
	// Stalled: a later announcement gets one probe at a time.
	rd = f.Want(rd.Deadline, nm("liar"), 9, huge+1, huge+50)
	if len(rd.Start) != 1 || rd.Start[0].Seq != huge+1 {
		t.Fatalf("probe = %+v", rd.Start)
	}
	// The probe succeeds: the window opens again.
	rd = f.Succeeded(time.Hour, rd.Start[0])
	if len(rd.Start) != DefaultFetchWindow {
		t.Fatalf("after a success: %d starts, want %d", len(rd.Start), DefaultFetchWindow)
	}
}

func TestRule_ProducersShareTheGlobalCap(t *testing.T) {
	f := newTestFetcher(t, func(c *FetchConfig) { c.MaxOutstanding = 16 })
	var rd FetchReady
	for i := range 20 {
		rd = f.Want(0, nm(string(rune('a'+i))), 9, 1, 100)
	}
	if s := f.Stats(); s.Outstanding != 16 {
		t.Fatalf("outstanding = %d, want 16", s.Outstanding)
	}
	// The first Want took 8 and the second 8: the cap is full. The others
	// get turns as slots free up, one each.
	got := map[Name]int{}
	now := time.Duration(0)
	all := []Fetch{}
	for i := range 20 {
		all = append(all, Fetch{Node: nm(string(rune('a' + i%2))), Boot: 9, Seq: uint64(1 + i/2), Attempt: 1})
	}
	for _, ft := range all[:4] {
		now += time.Millisecond
		rd = f.Succeeded(now, ft)
		for _, st := range rd.Start {
			got[st.Node]++
		}
	}
	if len(got) != 4 {
		t.Errorf("4 freed slots went to %v, want 4 different producers", got)
	}
	if s := f.Stats(); s.Outstanding != 16 {
		t.Errorf("outstanding = %d, want 16", s.Outstanding)
	}
}

func TestRule_SupersededIncarnationKeepsABoundedBacklog(t *testing.T) {
	f := newTestFetcher(t, nil)
	b := nm("b")
	f.Want(0, b, 1, 1, 1000)
	rd := f.Want(time.Millisecond, b, 2, 1, 5)
	want := GiveUp{Node: b, Boot: 1, Low: 9 + DefaultSupersededBacklog, High: 1000, Reason: GaveUpSuperseded}
	if len(rd.GiveUps) != 1 || rd.GiveUps[0] != want {
		t.Fatalf("give-ups = %+v, want %+v", rd.GiveUps, want)
	}
	if got := seqs(rd.Start); !equalSeqs(got, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("new boot starts %v", got)
	}
	if n := f.InProgress(b, 1); n != DefaultFetchWindow {
		t.Errorf("old boot in progress = %d, want %d (they finish)", n, DefaultFetchWindow)
	}
	// More numbers of the old boot stay within the backlog.
	rd = f.Want(time.Millisecond, b, 1, 1001, 1001)
	if len(rd.GiveUps) != 1 || rd.GiveUps[0].Low != 1001 {
		t.Errorf("old boot's new number: %+v", rd.GiveUps)
	}
	// A Want for an even older boot is superseded at once.
	rd = f.Want(time.Millisecond, b, 0, 1, 100)
	if len(rd.GiveUps) != 1 || rd.GiveUps[0].Low != 1+DefaultSupersededBacklog {
		t.Errorf("older boot: %+v", rd.GiveUps)
	}
	// Once an old boot has nothing left, it is forgotten.
	g := newTestFetcher(t, func(c *FetchConfig) { c.SupersededBacklog = 0 })
	rd = g.Want(0, b, 1, 1, 2)
	g.Want(0, b, 2, 1, 1)
	g.Succeeded(0, rd.Start[0])
	g.Succeeded(0, rd.Start[1])
	if s := g.Stats(); s.Producers != 1 {
		t.Errorf("producers = %d, want 1 (the old boot forgotten)", s.Producers)
	}
}

func TestRule_ProducerTableIsBounded(t *testing.T) {
	f := newTestFetcher(t, func(c *FetchConfig) { c.MaxProducers = 2 })
	ra := f.Want(0, nm("a"), 9, 1, 1)
	f.Want(0, nm("b"), 9, 1, 1)
	rd := f.Want(0, nm("c"), 9, 1, 3)
	want := GiveUp{Node: nm("c"), Boot: 9, Low: 1, High: 3, Reason: GaveUpOverload}
	if len(rd.GiveUps) != 1 || rd.GiveUps[0] != want || len(rd.Start) != 0 {
		t.Fatalf("over the bound: %+v", rd)
	}
	// a is done: it is forgotten to make room.
	f.Succeeded(0, ra.Start[0])
	rd = f.Want(0, nm("c"), 9, 4, 4)
	if len(rd.Start) != 1 || f.Stats().Producers != 2 {
		t.Fatalf("after room: %+v, %+v", rd, f.Stats())
	}
}

func TestRule_WantIgnoresWhatWasWantedBefore(t *testing.T) {
	f := newTestFetcher(t, func(c *FetchConfig) { c.Window = 100 })
	rd := f.Want(0, nm("b"), 9, 1, 3)
	rd2 := f.Want(0, nm("b"), 9, 2, 5)   // 2..3 wanted before
	rd3 := f.Want(0, nm("b"), 9, 10, 11) // 6..9 not wanted
	rd4 := f.Want(0, nm("b"), 9, 0, 0)   // nothing
	rd5 := f.Want(0, nm("b"), 9, 7, 6)   // low > high: nothing
	got := append(append(seqs(rd.Start), seqs(rd2.Start)...), seqs(rd3.Start)...)
	if !equalSeqs(got, []uint64{1, 2, 3, 4, 5, 10, 11}) || len(rd4.Start)+len(rd5.Start) != 0 {
		t.Errorf("starts = %v", got)
	}
}

func TestFetchErrorAndReasonStrings(t *testing.T) {
	for k, want := range map[FetchError]string{0: "none", FetchTimeout: "timeout", FetchNack: "nack", FetchInvalid: "invalid", FetchOther: "other", 99: "FetchError(99)"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k.String())
		}
	}
	for r, want := range map[GiveUpReason]string{GaveUpAttempts: "attempts", GaveUpDeadline: "deadline", GaveUpStalled: "stalled", GaveUpSuperseded: "superseded", GaveUpOverload: "overload", 0: "GiveUpReason(0)"} {
		if r.String() != want {
			t.Errorf("%d: %q", r, r.String())
		}
	}
}
