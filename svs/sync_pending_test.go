package svs

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// gateValidator answers "pending" until open is called, then accepts or
// rejects every packet; it counts its calls.
type gateValidator struct {
	mu     sync.Mutex
	ready  chan struct{}
	opened bool
	accept bool
	calls  int
}

func newGate() *gateValidator { return &gateValidator{ready: make(chan struct{})} }

func (g *gateValidator) Validate(ndn.Data, enc.Wire) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	switch {
	case !g.opened:
		return &wire.PendingError{Ready: g.ready, Waiting: "/cert"}
	case g.accept:
		return nil
	default:
		return errRejected
	}
}

func (g *gateValidator) open(accept bool) {
	g.mu.Lock()
	g.opened, g.accept = true, accept
	g.mu.Unlock()
	close(g.ready)
}

var errRejected = errors.New("rejected")

// A Sync Interest whose Validator is waiting for a certificate is held,
// neither counted invalid nor given to the engine, and decoded again when
// the wait ends: accepted, its news reaches the application.
func TestPendingHeldThenAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		r := runFake(t, func(c *Config) { c.Validator = g })
		peer := core.Name("\x08\x04peer")
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: peer, Boot: 1, Seq: 3})))
		synctest.Wait()
		st := r.s.Stats()
		if st.Pending != 1 || st.Invalid != 0 || st.Engine.Received != 0 || len(r.gotUpdates()) != 0 {
			t.Fatalf("while waiting: pending %d, invalid %d, engine received %d, updates %v; want 1, 0, 0, none",
				st.Pending, st.Invalid, st.Engine.Received, r.gotUpdates())
		}
		g.open(true)
		synctest.Wait()
		st = r.s.Stats()
		if st.Invalid != 0 || st.Engine.Received != 1 {
			t.Errorf("after the wait: invalid %d, engine received %d; want 0, 1", st.Invalid, st.Engine.Received)
		}
		if u := r.gotUpdates(); len(u) != 1 || u[0].High != 3 {
			t.Errorf("updates %v, want peer up to 3", u)
		}
	})
}

// Rejected once the wait ends: counted invalid, no update.
func TestPendingHeldThenRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		r := runFake(t, func(c *Config) { c.Validator = g })
		r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: core.Name("\x08\x04peer"), Boot: 1, Seq: 3})))
		synctest.Wait()
		g.open(false)
		synctest.Wait()
		st := r.s.Stats()
		if st.Invalid != 1 || st.Engine.Received != 0 || len(r.gotUpdates()) != 0 {
			t.Errorf("invalid %d, engine received %d, updates %v; want 1, 0, none", st.Invalid, st.Engine.Received, r.gotUpdates())
		}
	})
}

// More than MaxPending packets waiting: the oldest are dropped and
// counted, the rest decoded when the wait ends; one waiter serves all
// (they share a Ready).
func TestPendingBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		r := runFake(t, func(c *Config) { c.Validator = g })
		const n = MaxPending + 10
		for i := range n {
			r.fe.deliver(goodInterest(t, fakeGroup, core.NewVector(core.Entry{Node: core.Name("\x08\x04peer"), Boot: 1, Seq: uint64(i + 1)})))
			synctest.Wait()
		}
		st := r.s.Stats()
		if st.Pending != n || st.PendingDropped != n-MaxPending {
			t.Fatalf("pending %d, dropped %d; want %d, %d", st.Pending, st.PendingDropped, n, n-MaxPending)
		}
		g.open(true)
		synctest.Wait()
		st = r.s.Stats()
		if st.Engine.Received != MaxPending {
			t.Errorf("engine received %d after the wait, want %d", st.Engine.Received, MaxPending)
		}
		if st.Received != st.Malformed+st.Invalid+st.Engine.Received+st.PendingDropped {
			t.Errorf("Received %d != Malformed %d + Invalid %d + Engine.Received %d + PendingDropped %d",
				st.Received, st.Malformed, st.Invalid, st.Engine.Received, st.PendingDropped)
		}
		if u := r.gotUpdates(); len(u) == 0 || u[len(u)-1].High != n {
			t.Errorf("updates %v, want the last up to %d", u, n)
		}
	})
}
