package svs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Tests of the driver's side of the bounded vector: Sync Interests stay
// under MaxSyncInterestSize whatever the state, the overflow is counted and
// warned about at a bounded rate, and a flood of fake names leaves memory
// bounded and real members heard.

// logCounter is a slog.Handler that counts records by message prefix.
type logCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		l.msgs = append(l.msgs, r.Message)
	}
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

func (l *logCounter) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// peers returns a vector of n members /peer/<i>, boot 1, seq 1.
func peers(prefix string, from, n int) *core.Vector {
	v := &core.Vector{}
	for i := from; i < from+n; i++ {
		v.Set(wire.NameToCore(mustName(fmt.Sprintf("/%s/%06d", prefix, i))), 1, 1)
	}
	return v
}

const partialWarning = "svs: state vector over MaxSyncInterestSize"

// A state vector of 2,000 members (about 40 KB) used to make every Sync
// Interest fail to encode ("wire: too large"): the member never sent again.
// Now every Sync Interest is sent, under the bound, with the member's own
// entry; the overflow is counted and warned about once per WarnInterval.
func TestVectorOverTheBoundIsStillSent(t *testing.T) {
	for _, size := range []int{0, 1500} {
		t.Run(fmt.Sprint("MaxSyncInterestSize=", size), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logs := &logCounter{}
				r := runFake(t, func(c *Config) {
					c.InitialState = peers("peer", 0, 2000)
					c.MaxSyncInterestSize = size
					c.Logger = slog.New(logs)
				})
				limit := size
				if limit == 0 {
					limit = DefaultMaxSyncInterestSize
				}
				ctx := context.Background()
				for range 3 {
					if _, err := r.s.PublishSeq(ctx); err != nil {
						t.Fatal(err)
					}
				}
				synctest.Wait()
				sent := r.fe.sends()
				if len(sent) != 4 {
					t.Fatalf("sent %d Sync Interests, want 4 (announce, 3 publications)", len(sent))
				}
				for i, si := range sent {
					if len(si.wire) > limit {
						t.Errorf("Sync Interest %d: %d bytes, over %d", i, len(si.wire), limit)
					}
					v := decodeSent(t, si)
					if i > 0 && v.Get(r.s.Node(), r.s.Boot()) != uint64(i) {
						t.Errorf("Sync Interest %d lacks the own entry at %d", i, i)
					}
					if v.Len() < 10 || v.Len() >= 2000 {
						t.Errorf("Sync Interest %d carries %d pairs", i, v.Len())
					}
				}
				st := r.s.Stats()
				if st.SendErrors != 0 || st.Engine.Partial != 4 || st.Engine.Omitted == 0 {
					t.Errorf("stats %+v", st)
				}
				if n := logs.count(partialWarning); n != 1 {
					t.Errorf("%d warnings for 4 partial Sync Interests within %v, want 1", n, WarnInterval)
				}
				time.Sleep(WarnInterval + time.Second)
				if _, err := r.s.PublishSeq(ctx); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if n := logs.count(partialWarning); n != 2 {
					t.Errorf("%d warnings after %v, want 2", n, WarnInterval)
				}
			})
		})
	}
}

// A small MaxEntries bounds what is sent too: the vector is sent in part,
// never refused by the codec.
func TestSmallMaxEntriesStillSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runFake(t, func(c *Config) {
			c.InitialState = peers("peer", 0, 100)
			c.MaxEntries = 20
		})
		if _, err := r.s.PublishSeq(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		sent := r.fe.sends()
		if len(sent) != 2 || r.s.Stats().SendErrors != 0 {
			t.Fatalf("sent %d, stats %+v", len(sent), r.s.Stats())
		}
		if v := decodeSent(t, sent[1]); v.Len() > 20 || v.Get(r.s.Node(), r.s.Boot()) != 1 {
			t.Fatalf("sent %d pairs: %v", v.Len(), v.Entries())
		}
	})
}

func TestMaxSyncInterestSizeChecked(t *testing.T) {
	for _, size := range []int{-1, 100, wire.MaxPacketSize + 1} {
		_, err := New(&fakeEngine{}, Config{Group: fakeGroup, Node: mustName("/me"), MaxSyncInterestSize: size})
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("MaxSyncInterestSize %d: err = %v, want ErrInvalidConfig", size, err)
		}
	}
	for _, mod := range []func(*Config){
		func(c *Config) { c.MaxMembers = -1 },
		func(c *Config) { c.SupersededGrace = -1 },
	} {
		c := Config{Group: fakeGroup, Node: mustName("/me")}
		mod(&c)
		if _, err := New(&fakeEngine{}, c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: err = %v, want ErrInvalidConfig", c, err)
		}
	}
}

// 150,000 fake member names in 2 s (500 Sync Interests of 300 names, each
// about 7.5 KB) leave the member's vector within MaxMembers, refused names
// counted and warned about at most once per WarnInterval, and a real peer's
// publications learned and the member's own still sent.
func TestFloodOfFakeNamesThroughTheDriver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logCounter{}
		r := runFake(t, func(c *Config) { c.Logger = slog.New(logs) })
		real := wire.NameToCore(mustName("/real/peer"))
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: real, Boot: 1, Seq: 1})))
		synctest.Wait()
		const total, per = 150_000, 300
		for p := range total / per {
			r.fe.deliver(goodInterest(t, fakeGroup, peers("fake", p*per, per)))
			if p%20 == 0 {
				seq := uint64(p/20 + 2)
				r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: real, Boot: 1, Seq: seq})))
				if _, err := r.s.PublishSeq(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			time.Sleep(2 * time.Second / (total / per))
			if n := r.s.State().Len(); n > core.DefaultMaxMembers+1 {
				t.Fatalf("after %d Sync Interests the vector holds %d pairs", p+1, n)
			}
		}
		st := r.s.Stats()
		if st.InboxDropped != 0 || st.Malformed != 0 {
			t.Fatalf("stats %+v", st)
		}
		want := uint64(total/per/20 + 1)
		if got := r.s.State().Get(real, 1); got != want {
			t.Errorf("real peer at %d, want %d", got, want)
		}
		var learned uint64
		for _, u := range r.gotUpdates() {
			if u.Node == real {
				if u.Low != learned+1 {
					t.Errorf("real peer: update %d..%d after %d", u.Low, u.High, learned)
				}
				learned = u.High
			}
		}
		if learned != want {
			t.Errorf("real peer: updates up to %d, want %d", learned, want)
		}
		last := r.fe.sends()
		if v := decodeSent(t, last[len(last)-1]); v.Get(r.s.Node(), r.s.Boot()) != r.s.Seq() {
			t.Errorf("own entry missing from the last Sync Interest")
		}
		if st.Engine.RefusedMembers < total*99/100 {
			t.Errorf("refused %d of %d fake names", st.Engine.RefusedMembers, total)
		}
		if n := logs.count("svs: new members refused"); n != 1 {
			t.Errorf("%d refusal warnings in 2 s, want 1", n)
		}
		t.Logf("vector %d pairs, refused %d, partial Sync Interests %d", r.s.State().Len(), st.Engine.RefusedMembers, st.Engine.Partial)
	})
}

// Another live process with this member's name is logged as an error on
// both sides: the older one hears a newer incarnation of its name, the newer
// one hears an older incarnation of its name keep publishing (its first
// news alone could be late news of this member's own last run, and is
// not).
func TestAnotherProcessWithTheSameNameIsLogged(t *testing.T) {
	const newer = "svs: a newer incarnation of this member's name"
	const older = "svs: an older incarnation of this member's name is still publishing"
	synctest.Test(t, func(t *testing.T) {
		logs := &logCounter{}
		r := runFake(t, func(c *Config) { c.Logger = slog.New(logs) })
		ctx := context.Background()
		if _, err := r.s.PublishSeq(ctx); err != nil {
			t.Fatal(err)
		}
		me, boot := r.s.Node(), r.s.Boot()
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: me, Boot: boot - 100, Seq: 4})))
		synctest.Wait()
		if n := logs.count(older); n != 0 {
			t.Fatalf("first news of an older incarnation logged as another process (%d)", n)
		}
		for seq := uint64(5); seq <= 6; seq++ {
			r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: me, Boot: boot - 100, Seq: seq})))
			synctest.Wait()
		}
		if n := logs.count(older); n != 1 {
			t.Errorf("an older incarnation that keeps publishing: %d error lines, want 1", n)
		}
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: me, Boot: boot + 100, Seq: 1})))
		synctest.Wait()
		if n := logs.count(newer); n != 1 {
			t.Errorf("a newer incarnation: %d error lines, want 1", n)
		}
	})
}
