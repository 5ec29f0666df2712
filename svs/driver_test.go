package svs

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Tests of the driver alone: a fake ndn.Engine, the driver's own timers
// under testing/synctest (virtual time, no sleeps in real time).

var fakeGroup = mustName("/fake/group")

type fakeRun struct {
	s    *Sync
	fe   *fakeEngine
	stop func() error // cancels Run's context and returns Run's result

	mu      sync.Mutex
	updates []Update
	persist []*core.Vector
}

// runFake starts a driver on a fake engine inside the current bubble and
// waits until it is idle (it has announced).
func runFake(t *testing.T, mod func(*Config)) *fakeRun {
	t.Helper()
	r := &fakeRun{fe: &fakeEngine{}}
	cfg := Config{
		Group:     fakeGroup,
		Node:      mustName("/me"),
		Rand:      rand.New(rand.NewPCG(1, 2)),
		OnUpdate:  func(u Update) { r.mu.Lock(); r.updates = append(r.updates, u); r.mu.Unlock() },
		OnPersist: func(v *core.Vector) { r.mu.Lock(); r.persist = append(r.persist, v); r.mu.Unlock() },
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(r.fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() { cancel(); runErr = <-errc })
		return runErr
	}
	t.Cleanup(func() { _ = r.stop() })
	synctest.Wait()
	return r
}

func (r *fakeRun) gotUpdates() []Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.updates)
}

// decodeSent decodes a Sync Interest the driver expressed.
func decodeSent(t *testing.T, si sentInterest) *core.Vector {
	t.Helper()
	c, err := wire.NewCodec(fakeGroup, nil, wire.Options{Validator: wire.DigestSha256})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.DecodeSyncInterest(si.wire)
	if err != nil {
		t.Fatalf("driver sent an undecodable Sync Interest: %v", err)
	}
	return v
}

// Run registers /<group> (not the spec's /<group>/v=3, which would hide
// NDNts's /<group> route: see Config.Register), attaches its handler on
// /<group>/v=3 and announces its state vector at once, as a 1 s Interest
// whose final name (for the engine's PIT) ends in the parameters digest.
func TestRunRegistersAndAnnounces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, nil)
		prefix := fakeGroup.Append(enc.NewVersionComponent(3))
		if len(r.fe.registered) != 1 || !r.fe.registered[0].Equal(fakeGroup) || !r.s.RoutePrefix().Equal(fakeGroup) {
			t.Errorf("registered %v, RoutePrefix %s, want [%s]", r.fe.registered, r.s.RoutePrefix(), fakeGroup)
		}
		if !r.fe.prefix.Equal(prefix) || !r.s.SyncPrefix().Equal(prefix) {
			t.Errorf("handler on %s, SyncPrefix %s, want %s", r.fe.prefix, r.s.SyncPrefix(), prefix)
		}
		sent := r.fe.sends()
		if len(sent) != 1 {
			t.Fatalf("sent %d Interests at start, want 1", len(sent))
		}
		si := sent[0]
		if v := decodeSent(t, si); v.Len() != 0 {
			t.Errorf("announced %v, want the empty vector", v.Entries())
		}
		if si.life != time.Second {
			t.Errorf("lifetime %v, want 1s", si.life)
		}
		if len(si.name) != len(prefix)+1 || !si.name[:len(prefix)].Equal(prefix) ||
			si.name[len(prefix)].Typ != enc.TypeParametersSha256DigestComponent {
			t.Errorf("final name %s, want %s/params-sha256=...", si.name, prefix)
		}
		d, _ := wire.ParamsDigest(si.wire)
		if !slices.Equal(si.name[len(prefix)].Val, d) {
			t.Errorf("final name digest differs from the packet's")
		}

		if err := r.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if r.fe.handler != nil {
			t.Error("handler still attached after Run returned")
		}
		if len(r.fe.unregistered) != 1 || !r.fe.unregistered[0].Equal(fakeGroup) {
			t.Errorf("unregistered %v, want the group prefix (default Register)", r.fe.unregistered)
		}
	})
}

// [Spec §4.5] In Steady state, timer expiry sends the local vector and
// re-arms the timer with PeriodicTimeout ±10 %.
func TestPeriodicSyncInterests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, func(c *Config) { c.PeriodicTimeout = time.Second })
		time.Sleep(20 * time.Second)
		synctest.Wait()
		sent := r.fe.sends()
		if len(sent) < 1+18 || len(sent) > 1+23 { // 20 s / 1.1 s .. 20 s / 0.9 s
			t.Errorf("%d Sync Interests in 20 s at 1 s ±10 %%", len(sent))
		}
		for i := 1; i < len(sent); i++ {
			if d := sent[i].at.Sub(sent[i-1].at); d < 900*time.Millisecond || d > 1100*time.Millisecond {
				t.Errorf("interval %d: %v, want within 0.9..1.1 s", i, d)
			}
		}
	})
}

// [Spec §4.5] A received vector that is not outdated pushes the periodic
// timer back; nothing is sent in answer.
func TestReceivedVectorResetsTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, func(c *Config) { c.PeriodicTimeout = time.Second })
		start := time.Now()
		time.Sleep(800 * time.Millisecond)
		other := core.NewVector(core.Entry{Node: wire.NameToCore(mustName("/other")), Boot: 5, Seq: 1})
		r.fe.deliver(goodInterest(t, fakeGroup, other))
		synctest.Wait()
		heard := time.Now()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		sent := r.fe.sends()
		if len(sent) < 2 {
			t.Fatalf("sent %d, want a periodic one after the reset", len(sent))
		}
		if sent[1].at.Sub(heard) < 900*time.Millisecond {
			t.Errorf("periodic Interest %v after the received vector (%v after start), want ≥ 0.9 s",
				sent[1].at.Sub(heard), sent[1].at.Sub(start))
		}
		if got := r.gotUpdates(); len(got) != 1 || got[0].Low != 1 || got[0].High != 1 {
			t.Errorf("updates %+v, want /other 1..1", got)
		}
	})
}

// [Spec §4.5] An outdated vector (it lacks our entry) moves us to
// Suppression; we answer with our vector within SuppressionPeriod, once.
func TestOutdatedVectorAnsweredAfterSuppression(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, nil)
		if _, err := r.s.PublishSeq(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Past the recently-updated window, so the vector is not dropped.
		time.Sleep(300 * time.Millisecond)
		n := len(r.fe.sends())
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector()))
		synctest.Wait()
		if got := len(r.fe.sends()); got != n {
			t.Fatalf("answered at once (%d sends), want after the suppression timeout", got-n)
		}
		heard := time.Now()
		time.Sleep(core.DefaultSuppressionPeriod)
		synctest.Wait()
		sent := r.fe.sends()[n:]
		if len(sent) != 1 {
			t.Fatalf("%d answers, want 1", len(sent))
		}
		if d := sent[0].at.Sub(heard); d > core.DefaultSuppressionPeriod {
			t.Errorf("answered after %v, want < %v", d, core.DefaultSuppressionPeriod)
		}
		if v := decodeSent(t, sent[0]); v.Get(r.s.Node(), r.s.Boot()) != 1 {
			t.Errorf("answer %v lacks our seq 1", v.Entries())
		}
	})
}

// Publish sends one Sync Interest at once carrying the new seq, persists
// first, and returns the seq; SetSeq only goes up.
func TestPublishAndSetSeq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, nil)
		ctx := context.Background()
		for want := uint64(1); want <= 3; want++ {
			n := len(r.fe.sends())
			seq, err := r.s.PublishSeq(ctx)
			if err != nil || seq != want {
				t.Fatalf("Publish = %d, %v; want %d", seq, err, want)
			}
			synctest.Wait() // Publish returns before the Interest is expressed
			sent := r.fe.sends()
			if len(sent) != n+1 {
				t.Fatalf("Publish sent %d Interests, want 1", len(sent)-n)
			}
			if got := decodeSent(t, sent[n]).Get(r.s.Node(), r.s.Boot()); got != want {
				t.Errorf("sent seq %d, want %d", got, want)
			}
			if r.s.Seq() != want {
				t.Errorf("Seq() = %d, want %d", r.s.Seq(), want)
			}
		}
		if err := r.s.SetSeq(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if err := r.s.SetSeq(ctx, 10); !errors.Is(err, core.ErrSeqNotIncreasing) {
			t.Errorf("SetSeq(10) again = %v, want ErrSeqNotIncreasing", err)
		}
		if err := r.s.SetSeq(ctx, 0); !errors.Is(err, core.ErrSeqNotIncreasing) {
			t.Errorf("SetSeq(0) = %v, want ErrSeqNotIncreasing", err)
		}
		if seq, _ := r.s.PublishSeq(ctx); seq != 11 {
			t.Errorf("Publish after SetSeq(10) = %d, want 11", seq)
		}
		synctest.Wait()
		r.mu.Lock()
		last := r.persist[len(r.persist)-1]
		r.mu.Unlock()
		if last.Get(r.s.Node(), r.s.Boot()) != 11 {
			t.Errorf("last persisted %v, want our seq 11", last.Entries())
		}
		if st := r.s.Stats(); st.Sent != 6 || st.Engine.Published != 5 {
			t.Errorf("stats %+v, want 6 sent (announce + 5), 5 published", st)
		}
	})
}

// Updates reach OnUpdate in order, one range per newly learned span.
func TestUpdatesInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, nil)
		a, b := wire.NameToCore(mustName("/a")), wire.NameToCore(mustName("/b"))
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: a, Boot: 1, Seq: 3})))
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: a, Boot: 1, Seq: 5}, core.Entry{Node: b, Boot: 2, Seq: 1})))
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: a, Boot: 1, Seq: 4})))
		synctest.Wait()
		want := []Update{{a, 1, 1, 3}, {a, 1, 4, 5}, {b, 2, 1, 1}}
		if got := r.gotUpdates(); !slices.Equal(got, want) {
			t.Errorf("updates %+v, want %+v", got, want)
		}
		if st := r.s.Stats(); st.Updates != 3 || st.Received != 3 || st.Engine.Received != 3 {
			t.Errorf("stats %+v", st)
		}
	})
}

// Malformed, invalid and far-future Sync Interests handed to the driver
// are dropped and counted, with no state change, no update and no panic;
// the parameters digest, which ndnd's engine checks before us, is checked
// here too.
func TestBadInputAtDriver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			mod    func(*Config)
			inputs []badInput
		}{
			{func(c *Config) { c.MaxEntries = 4 }, badInputs(t, fakeGroup, time.Now().Unix())},
			{func(c *Config) { c.Validator = wire.DigestSha256 }, invalidInputs(t, fakeGroup, time.Now().Unix())},
		} {
			r := runFake(t, tc.mod)
			if _, err := r.s.PublishSeq(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, in := range tc.inputs {
				before, st := r.s.State(), r.s.Stats()
				r.fe.deliver(in.pkt)
				synctest.Wait()
				after := r.s.Stats()
				counter := in.counter
				if counter == nil {
					counter = malformed
				}
				if counter(after) != counter(st)+1 {
					t.Errorf("%s: not counted: %+v", in.name, after)
				}
				if !core.Equal(before, r.s.State()) || after.Updates != st.Updates || after.Sent != st.Sent {
					t.Errorf("%s: state, updates or sends changed: %+v", in.name, after)
				}
			}
			if got := r.gotUpdates(); len(got) != 0 {
				t.Errorf("updates from bad input: %+v", got)
			}
			if err := r.stop(); !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
		}
	})
}

// Random corruptions of good Sync Interests never panic the driver and
// every one is accounted for: Received = Malformed + Invalid + processed.
func TestCorruptedInputAccounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, func(c *Config) { c.Validator = wire.DigestSha256 })
		rng := rand.New(rand.NewPCG(7, 8))
		good := goodInterest(t, fakeGroup, core.NewVector(
			core.Entry{Node: wire.NameToCore(mustName("/a/b")), Boot: 1, Seq: 300},
			core.Entry{Node: wire.NameToCore(mustName("/c")), Boot: 2, Seq: 1}))
		const n = 3000
		for i := range n {
			p := slices.Clone(good)
			switch i % 3 {
			case 0:
				p[rng.IntN(len(p))] ^= byte(1 + rng.IntN(255))
			case 1:
				p = p[:rng.IntN(len(p))]
			default:
				for range 1 + rng.IntN(4) {
					p[rng.IntN(len(p))] = byte(rng.IntN(256))
				}
			}
			r.fe.deliver(p)
			if i%100 == 99 {
				synctest.Wait() // the inbox holds 256
			}
		}
		synctest.Wait()
		st := r.s.Stats()
		if st.Received != n || st.InboxDropped != 0 {
			t.Errorf("received %d, dropped %d, want %d, 0", st.Received, st.InboxDropped, n)
		}
		if st.Received != st.Malformed+st.Invalid+st.Engine.Received {
			t.Errorf("unaccounted packets: %+v", st)
		}
		// Any change to the Data changes the parameters digest, so the
		// validator is never reached here; TestBadInputAtDriver covers it.
		if st.Malformed == 0 || st.Engine.Received == 0 {
			t.Errorf("corruption never hit the decoder, or hit everything: %+v", st)
		}
	})
}

// The handler never blocks: while OnUpdate holds the driver, InboxSize
// packets queue and the rest are dropped and counted; afterwards the queued
// ones are processed.
func TestInboxOverflowDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var held sync.Once
		r := runFake(t, func(c *Config) {
			c.InboxSize = 4
			c.OnUpdate = func(Update) { held.Do(func() { <-release }) }
		})
		node := wire.NameToCore(mustName("/a"))
		for seq := uint64(1); seq <= 11; seq++ {
			if !r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: node, Boot: 1, Seq: seq}))) {
				t.Fatal("no handler")
			}
			if seq == 1 {
				synctest.Wait() // the driver took it and is stuck in OnUpdate
			}
		}
		st := r.s.Stats()
		if st.Received != 5 || st.InboxDropped != 6 {
			t.Errorf("received %d, dropped %d; want 5 (1 taken + 4 queued), 6", st.Received, st.InboxDropped)
		}
		close(release)
		synctest.Wait()
		st = r.s.Stats()
		if st.Engine.Received != 5 || r.s.State().Get(node, 1) != 5 {
			t.Errorf("after release: %+v, state %v", st, r.s.State().Entries())
		}
	})
}

// Close is idempotent; Run returns nil on Close, ErrClosed after Close,
// ErrRunning the second time; Publish fails with ErrClosed afterwards and
// waits for Run (or its ctx) before.
func TestLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fe := &fakeEngine{}
		s, err := New(fe, Config{Group: fakeGroup, Node: mustName("/me")})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := s.PublishSeq(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Publish before Run = %v, want DeadlineExceeded", err)
		}
		cancel()

		errc := make(chan error, 1)
		go func() { errc <- s.Run(context.Background()) }()
		synctest.Wait()
		if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run = %v, want ErrRunning", err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run after Close = %v, want nil", err)
		}
		<-s.Done()
		if _, err := s.PublishSeq(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Publish after Close = %v, want ErrClosed", err)
		}
		if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
			t.Errorf("Run after Run returned = %v, want ErrRunning", err)
		}

		s2, _ := New(&fakeEngine{}, Config{Group: fakeGroup, Node: mustName("/me")})
		_ = s2.Close()
		if err := s2.Run(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Run after Close = %v, want ErrClosed", err)
		}
		<-s2.Done()
	})
}

// Close may be called from a callback without deadlock.
func TestCloseFromCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s *Sync
		r := runFake(t, func(c *Config) { c.OnUpdate = func(Update) { _ = s.Close() } })
		s = r.s
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: wire.NameToCore(mustName("/a")), Boot: 1, Seq: 1})))
		synctest.Wait()
		select {
		case <-s.Done():
		default:
			t.Fatal("Run did not return after Close from OnUpdate")
		}
	})
}

// Run fails, detached, when registration fails; a refused send is counted
// and Run carries on.
func TestRegisterAndSendErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		fe := &fakeEngine{registerErr: boom}
		s, _ := New(fe, Config{Group: fakeGroup, Node: mustName("/me")})
		if err := s.Run(context.Background()); !errors.Is(err, boom) {
			t.Errorf("Run = %v, want it to wrap the Register error", err)
		}
		if fe.handler != nil {
			t.Error("handler left attached")
		}

		r := runFake(t, func(c *Config) { c.Register = func(enc.Name) error { return nil } })
		r.fe.mu.Lock()
		r.fe.expressErr = boom
		r.fe.mu.Unlock()
		if _, err := r.s.PublishSeq(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := r.s.Stats(); st.SendErrors != 1 {
			t.Errorf("stats %+v, want 1 send error", st)
		}
		if len(r.fe.registered) != 0 {
			t.Error("engine RegisterRoute used although Config.Register was set")
		}
	})
}

// With InitialState and the same Boot, publishing continues from the
// persisted seq; the state is reported by State at once.
func TestInitialStateResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		me := wire.NameToCore(mustName("/me"))
		other := wire.NameToCore(mustName("/other"))
		init := core.NewVector(core.Entry{Node: me, Boot: 1000, Seq: 7}, core.Entry{Node: other, Boot: 3, Seq: 9})
		r := runFake(t, func(c *Config) { c.Boot = 1000; c.InitialState = init })
		if r.s.Seq() != 7 || r.s.State().Get(other, 3) != 9 {
			t.Errorf("state %v", r.s.State().Entries())
		}
		if seq, _ := r.s.PublishSeq(context.Background()); seq != 8 {
			t.Errorf("Publish = %d, want 8", seq)
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := Config{Group: fakeGroup, Node: mustName("/me")}
	for name, mod := range map[string]func(*Config){
		"empty group":        func(c *Config) { c.Group = nil },
		"empty node":         func(c *Config) { c.Node = nil },
		"negative periodic":  func(c *Config) { c.PeriodicTimeout = -1 },
		"negative suppress":  func(c *Config) { c.SuppressionPeriod = -1 },
		"negative inbox":     func(c *Config) { c.InboxSize = -1 },
		"negative entries":   func(c *Config) { c.MaxEntries = -1 },
		"bad node component": func(c *Config) { c.Node = enc.Name{{Typ: 0, Val: []byte("x")}} },
	} {
		c := good
		mod(&c)
		if _, err := New(&fakeEngine{}, c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := New(nil, good); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil engine: %v", err)
	}
	if _, err := New(&fakeEngine{}, good); err != nil {
		t.Errorf("good config: %v", err)
	}
}
