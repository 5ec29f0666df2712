package svs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// fakeBeater records beats; fail, if set, answers the next ones.
type fakeBeater struct {
	mu    sync.Mutex
	seq   uint64
	times []time.Time
	fail  error
}

func (b *fakeBeater) PublishSeq(context.Context) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return 0, b.fail
	}
	b.seq++
	b.times = append(b.times, time.Now())
	return b.seq, nil
}

func (b *fakeBeater) setFail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

func update(node string, boot, seq uint64) Update {
	return Update{Node: wire.NameToCore(fwName(node)), Boot: boot, Low: seq, High: seq}
}

// next returns the next event, failing the test if none is ready once
// every goroutine of the bubble is blocked.
func next(t *testing.T, h *Health) PeerEvent {
	t.Helper()
	synctest.Wait()
	select {
	case ev := <-h.Events():
		return ev
	default:
		t.Fatal("no event")
		return PeerEvent{}
	}
}

func noEvent(t *testing.T, h *Health) {
	t.Helper()
	synctest.Wait()
	select {
	case ev := <-h.Events():
		t.Fatalf("unexpected event %s %s", ev.Kind, ev.Node)
	default:
	}
}

// A member beats at once, then every Interval ±10 %; a peer beating twice
// is alive, expires Expire Intervals after its last beat (not a moment
// before), and is back at its next beat. The member's own name is never a
// peer, and every event is logged.
func TestHealthBeatsAndReportsPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		h, err := NewHealth(HealthConfig{Node: fwName("/me"), Interval: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		b := &fakeBeater{}
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error, 1)
		start := time.Now()
		go func() { ran <- h.Run(ctx, b) }()

		h.Observe(update("/me", 1, 1)) // own earlier incarnation: ignored
		h.Observe(update("/me", 1, 2))
		h.Observe(update("/a", 7, 1))
		noEvent(t, h)
		time.Sleep(time.Second)
		h.Observe(update("/a", 7, 2))
		if ev := next(t, h); ev.Kind != PeerAlive || ev.Node.String() != "/a" || ev.Boot != 7 || ev.Seq != 2 {
			t.Fatalf("event %+v, want /a alive at 7/2", ev)
		}
		lastBeat := time.Now()
		time.Sleep(3*time.Second - time.Millisecond)
		noEvent(t, h)
		time.Sleep(time.Millisecond)
		ev := next(t, h)
		if ev.Kind != PeerExpired || ev.Silent != 3*time.Second || time.Since(lastBeat) != 3*time.Second {
			t.Fatalf("event %+v at %v after the last beat, want expired after 3s", ev, time.Since(lastBeat))
		}
		time.Sleep(2 * time.Second)
		h.Observe(update("/a", 7, 3))
		if ev := next(t, h); ev.Kind != PeerBack || ev.Silent != 5*time.Second {
			t.Fatalf("event %+v, want back after 5s", ev)
		}
		for _, p := range h.Peers() {
			if p.Node.String() == "/me" {
				t.Error("the member tracks itself")
			}
		}

		cancel()
		synctest.Wait()
		if err := <-ran; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if _, open := <-h.Events(); open {
			t.Error("Events not closed after Run returned")
		}
		h.Observe(update("/b", 1, 1)) // after Run: nothing, no panic

		// Beats: one at start, then 1 s ± 100 ms apart over 6 s.
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.times) < 6 || len(b.times) > 8 || !b.times[0].Equal(start) {
			t.Fatalf("%d beats, first at %v: want 6-8, the first at once", len(b.times), b.times[0].Sub(start))
		}
		for i := 1; i < len(b.times); i++ {
			if d := b.times[i].Sub(b.times[i-1]); d < 900*time.Millisecond || d > 1100*time.Millisecond {
				t.Errorf("beat %d came %v after the one before, want 1s ± 10 %%", i, d)
			}
		}
		for _, want := range []string{"peer alive", "peer expired", "peer back", "peer=/a"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, logs.String())
			}
		}
	})
}

// A beat that fails because the face is down is counted and retried an
// Interval later; a Sync that stopped ends Run with its error.
func TestHealthBeatFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := NewHealth(HealthConfig{Node: fwName("/me"), Interval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		b := &fakeBeater{fail: ErrFaceDown}
		ran := make(chan error, 1)
		go func() { ran <- h.Run(t.Context(), b) }()
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		if st := h.Stats(); st.BeatErrors != 3 || st.Beats != 0 {
			t.Fatalf("stats %+v, want 3 beat errors and no beat", st)
		}
		b.setFail(nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if st := h.Stats(); st.Beats != 1 {
			t.Fatalf("stats %+v, want a beat once the face is back", st)
		}
		b.setFail(ErrClosed)
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case err := <-ran:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("Run = %v, want ErrClosed", err)
			}
		default:
			t.Fatal("Run still running after its Sync closed")
		}
		if err := h.Run(t.Context(), b); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run = %v, want ErrRunning", err)
		}
	})
}

// Events that do not fit the channel are dropped and counted; Observe
// never blocks.
func TestHealthDropsEventsOverTheBound(t *testing.T) {
	h, err := NewHealth(HealthConfig{Node: fwName("/me"), Confirm: 1, Events: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/a", "/b", "/c", "/d"} {
		h.Observe(update(n, 1, 1))
	}
	if st := h.Stats(); st.Dropped != 2 || st.Tracker.Beats != 4 {
		t.Errorf("stats %+v, want 2 dropped of 4", st)
	}
	if ev := <-h.Events(); ev.Node.String() != "/a" {
		t.Errorf("first event about %s, want /a (the oldest kept)", ev.Node)
	}
}

func TestHealthConfigErrors(t *testing.T) {
	for _, c := range []HealthConfig{{}, {Node: fwName("/a"), Events: -1}, {Node: fwName("/a"), Interval: -1}} {
		if _, err := NewHealth(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewHealth(%+v) = %v, want ErrInvalidConfig", c, err)
		}
	}
	if g := HealthGroup(fwName("/ndn/svs")).String(); g != "/ndn/svs/health" {
		t.Errorf("HealthGroup = %s", g)
	}
}

// Three members beat on a health group through the real forwarder: each
// reports the other two alive; when one stops, the other two report it
// expired within Expire Intervals, and back when it returns under a new
// incarnation.
func TestHealthThroughForwarder(t *testing.T) {
	group := HealthGroup(testGroup(t))
	const every = 100 * time.Millisecond
	type hm struct {
		name   string
		h      *Health
		cancel context.CancelFunc
		done   chan struct{}
		seen   map[string]time.Time // "kind peer" → when first read
	}
	start := func(name string, boot uint64) *hm {
		h, err := NewHealth(HealthConfig{Node: fwName(name), Interval: every})
		if err != nil {
			t.Fatal(err)
		}
		m := newMember(t, group, name, newSignal(), func(c *Config) {
			c.OnUpdate = h.Observe
			c.Boot = boot
		})
		ctx, cancel := context.WithCancel(context.Background())
		x := &hm{name: name, h: h, cancel: cancel, done: make(chan struct{}), seen: map[string]time.Time{}}
		go func() { defer close(x.done); _ = h.Run(ctx, m.s) }()
		t.Cleanup(func() { cancel(); <-x.done })
		return x
	}
	// wait reads x's events until one of kind about peer has come, and
	// returns how long after since it came.
	wait := func(x *hm, kind PeerEventKind, peer string, since time.Time) time.Duration {
		t.Helper()
		key := kind.String() + " " + peer
		timeout := time.After(10 * time.Second)
		for {
			if at, ok := x.seen[key]; ok {
				return at.Sub(since)
			}
			select {
			case ev, ok := <-x.h.Events():
				if !ok {
					t.Fatalf("%s: events closed", x.name)
				}
				if k := ev.Kind.String() + " " + ev.Node.String(); x.seen[k].IsZero() {
					x.seen[k] = time.Now()
				}
			case <-timeout:
				t.Fatalf("%s: no %s event for %s within 10s; peers %+v", x.name, kind, peer, x.h.Peers())
			}
		}
	}
	a, b := start("/a", 100), start("/b", 100)
	c := start("/c", 100)
	for _, x := range []*hm{a, b, c} {
		for _, p := range []string{"/a", "/b", "/c"} {
			if p != x.name {
				wait(x, PeerAlive, p, time.Now())
			}
		}
	}
	c.cancel() // c's Health stops beating; its Sync keeps running
	<-c.done
	stopped := time.Now()
	for _, x := range []*hm{a, b} {
		if d := wait(x, PeerExpired, "/c", stopped); d > 3*every+every {
			t.Errorf("%s: /c expired %v after it stopped, want at most 4 intervals", x.name, d)
		}
	}
	start("/c", 200)
	wait(a, PeerBack, "/c", stopped)
	wait(b, PeerBack, "/c", stopped)
	if st := a.h.Stats(); st.Dropped != 0 || st.Beats == 0 {
		t.Errorf("a: stats %+v", st)
	}
}

// A member that restarts within its bootstrap second comes back under the
// same boot with its state lost: it learns its earlier incarnation's
// number from the group and beats on above it, and its peer reports it
// back. (Its beat once read the number and then set one more, and failed
// when the group raised it in between: the alive app exited.)
func TestHealthRestartWithinItsBootSecond(t *testing.T) {
	group := HealthGroup(testGroup(t))
	const every = 50 * time.Millisecond
	const boot = 300
	beat := func(name string) (*Health, *member, context.CancelFunc, chan error) {
		h, err := NewHealth(HealthConfig{Node: fwName(name), Interval: every})
		if err != nil {
			t.Fatal(err)
		}
		m := newMember(t, group, name, newSignal(), func(c *Config) {
			c.OnUpdate = h.Observe
			c.Boot = boot
		})
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- h.Run(ctx, m.s) }()
		t.Cleanup(cancel)
		return h, m, cancel, ran
	}
	await := func(h *Health, kind PeerEventKind) PeerEvent {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case ev := <-h.Events():
				if ev.Kind == kind && ev.Node.String() == "/b" {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s event for /b within 10s; peers %+v", kind, h.Peers())
			}
		}
	}
	a, _, _, _ := beat("/a")
	_, b, stopB, ranB := beat("/b")
	await(a, PeerAlive)
	for b.s.Seq() < 5 {
		time.Sleep(every)
	}
	stopB()
	<-ranB
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	await(a, PeerExpired)
	_, b2, _, ranB2 := beat("/b")
	ev := await(a, PeerBack)
	if ev.Boot != boot || ev.Seq <= 5 {
		t.Errorf("back as %d:%d, want boot %d above seq 5", ev.Boot, ev.Seq, boot)
	}
	select {
	case err := <-ranB2:
		t.Fatalf("the restarted member's Health stopped: %v", err)
	default:
	}
	if b2.s.Seq() <= 5 {
		t.Errorf("restarted member at seq %d, want above its earlier 5", b2.s.Seq())
	}
}
