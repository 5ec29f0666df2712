package svs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
)

// A member on a bare face, routed the whole group prefix as the node does
// (for NDNts), is given everything under it: an Interest that is not a
// Sync Interest of the group is counted in Ignored and nothing else, and
// the member still syncs.
func TestBareFaceIgnoresOtherTraffic(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	victim := newMemberOn(t, group, "/victim", changed, nil, true)
	if err := testFwd.AddRoute(group, victim.face.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	other, _ := newEngine(t)
	for i := range 3 {
		sendInterest(t, other, group.Append(enc.NewGenericComponent("victim"), enc.NewSequenceNumComponent(uint64(i))))
	}
	// Ignored frames never reach the Run goroutine, so nothing signals
	// them: look at the counter now and then until they are all counted.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	ticks := newSignal()
	go func() {
		for range tick.C {
			ticks.Notify()
		}
	}()
	waitUntil(t, ticks, 5*time.Second, func() bool { return victim.s.Stats().Ignored == 3 },
		func() string { return fmt.Sprintf("not ignored: %+v", victim.s.Stats()) })

	peer := newMemberOn(t, group, "/peer", changed, nil, false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seq, err := peer.s.PublishSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, changed, 5*time.Second, func() bool { return victim.get(peer.key()) == seq },
		func() string { return fmt.Sprintf("publication not learned: %+v", victim.s.Stats()) })
	st := victim.s.Stats()
	if st.Ignored != 3 || st.Malformed+st.Invalid+st.InboxDropped != 0 {
		t.Errorf("counters %+v, want 3 ignored and no drops", st)
	}
	victim.checkErrs(t)
}

// TestNewOnFace covers what NewOnFace refuses and that Run owns the face:
// it opens it, and closes it on return.
func TestNewOnFace(t *testing.T) {
	group := testGroup(t)
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	if _, err := NewOnFace(af, Config{Group: group, Node: mustName("/n")}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("without Register: err = %v, want ErrInvalidConfig", err)
	}
	if _, err := NewOnFace(nil, Config{Group: group, Node: mustName("/n"), Register: func(enc.Name) error { return nil }}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil face: err = %v, want ErrInvalidConfig", err)
	}

	registered := make(chan struct{})
	s, err := NewOnFace(af, Config{Group: group, Node: mustName("/n"), Register: func(p enc.Name) error {
		defer close(registered)
		return testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-registered
	if !af.IsRunning() {
		t.Error("face not open while Run runs")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	if af.IsRunning() {
		t.Error("face still open after Run returned")
	}

	// The Sync owns the face from NewOnFace on: Close before Run closes it.
	unused := fwtest.BareFace(t, testFwd)
	s3, err := NewOnFace(unused, Config{Group: group, Node: mustName("/o"), Register: func(enc.Name) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	faceListed := func(id uint64) bool {
		for _, fi := range testFwd.Faces() {
			if fi.ID == id {
				return true
			}
		}
		return false
	}
	if !faceListed(unused.FaceID()) {
		t.Fatal("new face not listed")
	}
	_ = s3.Close()
	if faceListed(unused.FaceID()) {
		t.Error("Close before Run left the face in the forwarder")
	}

	// A face that is already open (another application's) is refused.
	e, busy := newEngine(t)
	_ = e
	s2, err := NewOnFace(busy, Config{Group: group, Node: mustName("/m"), Register: func(enc.Name) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Run(context.Background()); err == nil {
		t.Error("Run on an open face succeeded")
	}
}

// sendInterest expresses an Interest named uri from a fresh engine.
func sendInterest(t *testing.T, e ndn.Engine, name enc.Name) {
	t.Helper()
	i, err := e.Spec().MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(100 * time.Millisecond),
		Nonce:    optional.Some(uint32(time.Now().UnixNano())),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Face().Send(i.Wire); err != nil {
		t.Fatal(err)
	}
}
