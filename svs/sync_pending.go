package svs

import (
	"errors"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// MaxPending bounds the Sync Interests a member holds while its Validator
// fetches the certificates they name (wire.PendingError). A vector is only
// worth holding for the round trip of a certificate fetch: the group repeats
// its state at the next Sync Interest anyway, so the oldest held packet is
// dropped (Stats.PendingDropped) rather than letting packets that name
// certificates nobody serves pile up.
const MaxPending = 32

// pending holds Sync Interests whose State Vector Data waits for its
// Validator. Owned by the Run goroutine but for wake, which the waiters
// write.
type pending struct {
	held []heldPacket
	wake chan struct{} // one waiter says a Ready closed; cap 1
}

type heldPacket struct {
	pkt   []byte
	ready <-chan struct{}
}

// hold keeps a copy of pkt (Run recycles its buffer) until pe.Ready is
// closed, and makes sure a waiter wakes Run then. One waiter runs per
// distinct Ready, and no more than MaxPending at once.
func (s *Sync) hold(pkt []byte, pe *wire.PendingError) {
	p := &s.pend
	if p.wake == nil {
		p.wake = make(chan struct{}, 1)
	}
	if len(p.held) >= MaxPending {
		p.held[0] = heldPacket{}
		p.held = p.held[1:]
		s.ctr.pendingDropped.Add(1)
	}
	waited := false
	for _, h := range p.held {
		if h.ready == pe.Ready {
			waited = true
			break
		}
	}
	p.held = append(p.held, heldPacket{pkt: clone(pkt), ready: pe.Ready})
	s.ctr.pending.Add(1)
	if waited {
		return
	}
	ready, done, wake := pe.Ready, s.done, p.wake
	go func() {
		select {
		case <-ready:
		case <-done:
			return
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}()
}

// pendingWake is the channel Run selects on for held packets; nil (never
// ready) while nothing was ever held.
func (s *Sync) pendingWake() <-chan struct{} { return s.pend.wake }

// recheck decodes again, in the order they arrived, the held packets whose
// Ready is closed. One may be held again, waiting for the next certificate
// of its chain.
func (s *Sync) recheck() {
	p := &s.pend
	var again []heldPacket
	kept := p.held[:0]
	for _, h := range p.held {
		select {
		case <-h.ready:
			again = append(again, h)
		default:
			kept = append(kept, h)
		}
	}
	clear(p.held[len(kept):])
	p.held = kept
	for _, h := range again {
		s.receive(h.pkt)
	}
}

// isPending reports whether err is a Validator's "ask again later", and
// returns what to wait for.
func isPending(err error) (*wire.PendingError, bool) {
	var pe *wire.PendingError
	if errors.As(err, &pe) && pe.Ready != nil {
		return pe, true
	}
	return nil, false
}
