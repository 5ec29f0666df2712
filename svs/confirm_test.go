package svs

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
)

// dropSyncFace is a bare face that loses the first drop Interests its
// member sends (a member without a publication layer sends Sync Interests
// only).
type dropSyncFace struct {
	*fw.Face
	drop    atomic.Int32
	dropped atomic.Int32
}

func (f *dropSyncFace) Send(pkt enc.Wire) error {
	if b := pkt.Join(); len(b) > 0 && b[0] == 0x05 && f.drop.Add(-1) >= 0 {
		f.dropped.Add(1)
		return nil
	}
	return f.Face.Send(pkt)
}

// smallestVectorBound is the least MaxSyncInterestSize a member named node
// accepts: it then takes any vector near that size as maybe partial.
func smallestVectorBound(t *testing.T, group enc.Name, node string) int {
	t.Helper()
	for size := 64; size < 4096; size += 4 {
		af := fwtest.BareFace(t, testFwd)
		s, err := NewOnFace(af, Config{Group: group, Node: mustName(node), MaxSyncInterestSize: size,
			Register: func(enc.Name) error { return nil }})
		if err == nil {
			_ = s.Close()
			return size
		}
	}
	t.Fatal("no MaxSyncInterestSize accepted")
	return 0
}

// A member whose announcement and first publication were lost, and which
// then hears only partial vectors that leave its pair out (no evidence
// either way), announces again soon after its start instead of waiting for
// its periodic Sync Interest 30 s later; a member in a quiet group does
// not (TestPeriodicSyncInterests).
func TestLostAnnouncementIsRepeated(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	start := func(node string, face ndn.Face, id uint64, mod func(*Config)) *Sync {
		t.Helper()
		registered := make(chan struct{}, 1)
		cfg := Config{Group: group, Node: mustName(node), Register: func(p enc.Name) error {
			err := testFwd.AddRoute(p, id, 0, fw.OriginApp)
			registered <- struct{}{}
			return err
		}, OnUpdate: func(Update) { changed.Notify() }}
		if mod != nil {
			mod(&cfg)
		}
		s, err := NewOnFace(face, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		<-registered
		return s
	}
	// b's bound is so small that a's vector, with a's long name, may be
	// partial as far as b can tell.
	const aName = "/confirm/a-member-whose-name-is-long-enough-to-fill-a-small-vector"
	bound := smallestVectorBound(t, group, "/confirm/b")
	aFace := fwtest.BareFace(t, testFwd)
	a := start(aName, aFace, aFace.FaceID(), nil)
	bFace := &dropSyncFace{Face: fwtest.BareFace(t, testFwd)}
	bFace.drop.Store(2) // the announcement and the first publication
	b := start("/confirm/b", bFace, bFace.FaceID(), func(c *Config) { c.MaxSyncInterestSize = bound })
	t0 := time.Now()
	if _, err := b.PublishSeq(context.Background()); err != nil {
		t.Fatal(err)
	}
	// a publishes: its vector lacks b's pair, and b cannot tell whether
	// a lacks it or left it out.
	waitUntil(t, changed, 5*time.Second, func() bool { return bFace.dropped.Load() == 2 }, func() string { return "b's Sync Interests not sent" })
	if _, err := a.PublishSeq(context.Background()); err != nil {
		t.Fatal(err)
	}
	knows := func() bool {
		for _, m := range a.Members() {
			if m.Node == b.Node() && m.Seq >= 1 {
				return true
			}
		}
		return false
	}
	waitUntil(t, changed, 5*time.Second, knows, func() string {
		return fmt.Sprintf("a's members %v; b's %v; b dropped %d, sent %+v", a.Members(), b.Members(), bFace.dropped.Load(), b.Stats().SentBy)
	})
	if n := b.Stats().SentBy[SentAnnounce]; n < 2 {
		t.Errorf("b announced %d times, want at least 2", n)
	}
	t.Logf("a knew b %v after b's lost publication", time.Since(t0).Round(time.Millisecond))
}
