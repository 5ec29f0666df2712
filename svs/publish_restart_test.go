package svs

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// withStore gives a member the Storage st.
func withStore(st Storage) func(*Config) {
	return func(c *Config) { c.Data.Storage = st }
}

// A producer that crashes and restarts on its store resumes its
// incarnation (same boot, no new vector entry) above its reservation,
// never reusing a sequence number; it still serves what it published
// before, and answers for the reserved numbers it never published with
// one application Nack that covers them all: a member that joins later
// gets the old publications, one Missed for the run, and the new one.
func TestPublishRestartResumesIncarnation(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	cfg := StorageConfig{}
	store, err := NewMemoryStorage(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod := newPubMember(t, group, "/rs/p", changed, true, withStore(store))
	cons := newPubMember(t, group, "/rs/c", changed, true, nil)
	for i := range 3 {
		publishOK(t, prod, []byte{'a' + byte(i)})
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 3 },
		func() string { return fmt.Sprintf("%+v", cons.s.DataStats()) })

	// A crash: the store is reopened under the running member (whatever
	// it writes from now on is lost), then the member stops.
	st, err := store.State()
	if err != nil {
		t.Fatal(err)
	}
	store2, err := store.Reopen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prod.stop()
	prod2 := newPubMember(t, group, "/rs/p", changed, true, withStore(store2))
	if prod2.s.Boot() != prod.s.Boot() {
		t.Fatalf("restarted with boot %d, want %d", prod2.s.Boot(), prod.s.Boot())
	}
	pub := publishOK(t, prod2, []byte("after"))
	if pub.Seq != st.Reserved+1 {
		t.Errorf("first publication after the restart is %d, want %d (above the reservation)", pub.Seq, st.Reserved+1)
	}
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 4 },
		cons.status)

	late := newPubMember(t, group, "/rs/late", changed, true, nil)
	waitUntil(t, changed, 10*time.Second, func() bool { return len(late.received(pk)) == 4 },
		late.status)
	for _, m := range []*pubMember{cons, late} {
		got := m.received(pk)
		for i, want := range []string{"a", "b", "c"} {
			if got[i].Seq != uint64(i+1) || string(got[i].Bytes()) != want {
				t.Errorf("%s: publication %d: seq %d %q", m.name, i, got[i].Seq, got[i].Bytes())
			}
		}
		if got[3].Seq != pub.Seq || !bytes.Equal(got[3].Bytes(), []byte("after")) {
			t.Errorf("%s: after the restart: seq %d %q", m.name, got[3].Seq, got[3].Bytes())
		}
		missed := m.missedCopy()
		if len(missed) != 1 || missed[0].Low != 4 || missed[0].High != st.Reserved || missed[0].Reason != "unavailable" {
			t.Errorf("%s: missed %+v, want one unavailable run 4..%d", m.name, missed, st.Reserved)
		}
		if n := pairsOf(m.s.State(), pk.Node); n != 1 {
			t.Errorf("%s: %d vector entries for the producer, want 1", m.name, n)
		}
		m.checkErrs(t)
	}
	if st := late.s.DataStats(); st.FetchFailures != 0 || st.Fetched != 4 {
		t.Errorf("late joiner: %+v", st)
	}
}

func pairsOf(v *core.Vector, node core.Name) int {
	n := 0
	v.Each(func(e core.Entry) {
		if e.Node == node {
			n++
		}
	})
	return n
}

// A consumer killed while its application has not yet been handed every
// fetched publication resumes from a vector that does not claim them: the
// restarted member fetches and delivers them again (at least once), where
// persisting the vector as learned would have lost them.
func TestPublishAtLeastOnceAcrossACrash(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/alo/p", changed, true, nil)
	cfg := StorageConfig{}
	cstore, err := NewMemoryStorage(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	cons := newPubMember(t, group, "/alo/c", changed, true, func(c *Config) {
		c.Data.Storage = cstore
		inner := c.Data.OnMessage
		c.Data.OnMessage = func(m Message) {
			inner(m)
			if m.Seq == 1 {
				<-gate // the application is slow with the first one
			}
		}
	})
	// Fetches are seen as they land by an unordered subscription (the
	// in-order callback is held up).
	sub, err := cons.s.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range sub.C {
			changed.Notify()
		}
	}()
	var gateOnce sync.Once
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	t.Cleanup(openGate) // before cons stops: its delivery waits for the callback
	for i := range 3 {
		publishOK(t, prod, []byte{byte('x' + i)})
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool {
		return len(cons.received(pk)) == 1 && cons.s.DataStats().Fetched == 3
	}, func() string { return fmt.Sprintf("%+v", cons.s.DataStats()) })
	// The vector learned says 3; the one stored must not.
	st, err := cstore.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.Vector != nil {
		v, err := wire.DecodeStateVector(st.Vector)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Get(pk.Node, pk.Boot); got != 0 {
			t.Errorf("stored vector has the producer at %d before anything was delivered", got)
		}
	}
	cstore2, err := cstore.Reopen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	openGate()
	cons.stop()

	again := newPubMember(t, group, "/alo/c", changed, true, withStore(cstore2))
	waitUntil(t, changed, 10*time.Second, func() bool { return len(again.received(pk)) == 3 },
		func() string { return fmt.Sprintf("%+v %+v %v", again.s.DataStats(), again.s.Stats(), again.s.State()) })
	for i, m := range again.received(pk) {
		if m.Seq != uint64(i+1) || m.Bytes()[0] != byte('x'+i) {
			t.Errorf("after the restart: %d %q", m.Seq, m.Bytes())
		}
	}
	again.checkErrs(t)
}
