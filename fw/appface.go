package fw

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// Face is an in-process application face: an ndn.Face (ndnd std) that an
// engine such as engine.NewBasicEngine attaches to, wired straight into the
// forwarder with no socket. Packets cross as byte slices through channels.
//
// Close removes the face and its routes from the forwarder. ndnd's internal
// transport keeps two goroutines per face until the process ends (its send
// queue is never closed); faces are meant to live as long as their
// application.
//
// Send is safe for concurrent use. The callbacks set with OnPacket and
// OnError are called from the face's receive goroutine, one at a time.
type Face struct {
	fwd  *Forwarder
	link face.LinkService
	tr   *face.InternalTransport
	id   uint64

	onPkt   func(frame []byte)
	onError func(err error)

	running   atomic.Bool
	closed    atomic.Bool
	recvDone  chan struct{}
	cbMu      sync.Mutex
	nextCb    int
	onUp      map[int]func()
	onDown    map[int]func()
	closeOnce sync.Once
	openOnce  sync.Once
}

// NewFace creates an in-process face. Its forwarder-side face exists at once
// (FaceID), so routes can be added before the application opens it.
func (f *Forwarder) NewFace() (*Face, error) {
	if err := f.running(); err != nil {
		return nil, err
	}
	tr := face.MakeInternalTransport()
	opts := face.MakeNDNLPLinkServiceOptions()
	// Applications get no IncomingFaceId: one LP header less per packet.
	opts.IsIncomingFaceIndicationEnabled = false
	opts.IsConsumerControlledForwardingEnabled = true
	opts.IsFragmentationEnabled = false
	link := face.MakeNDNLPLinkService(tr, opts)
	link.Run(nil)
	af := &Face{
		fwd:      f,
		link:     link,
		tr:       tr,
		id:       link.FaceID(),
		recvDone: make(chan struct{}),
		onUp:     map[int]func(){},
		onDown:   map[int]func(){},
	}
	f.mu.Lock()
	if f.state == stateClosed {
		f.mu.Unlock()
		tr.Close()
		face.FaceTable.Remove(af.id)
		return nil, ErrNotRunning
	}
	f.appFaces[af] = struct{}{}
	f.mu.Unlock()
	return af, nil
}

// FaceID is the forwarder's ID for this face.
func (af *Face) FaceID() uint64 { return af.id }

func (af *Face) String() string { return fmt.Sprintf("inproc-face (faceid=%d)", af.id) }

// IsRunning reports whether the face is open.
func (af *Face) IsRunning() bool { return af.running.Load() }

// IsLocal is true: the face never leaves the machine.
func (af *Face) IsLocal() bool { return true }

// OnPacket sets the receive callback. Call before Open.
func (af *Face) OnPacket(onPkt func(frame []byte)) { af.onPkt = onPkt }

// OnError sets the error callback. Call before Open.
func (af *Face) OnError(onError func(err error)) { af.onError = onError }

// Open starts delivering packets to the OnPacket callback.
func (af *Face) Open() error {
	if af.closed.Load() {
		return ErrClosed
	}
	if af.onPkt == nil || af.onError == nil {
		return fmt.Errorf("fw: face callbacks not set")
	}
	started := false
	af.openOnce.Do(func() {
		started = true
		go af.receive()
	})
	if !started {
		return fmt.Errorf("fw: face already open")
	}
	af.running.Store(true)
	af.fire(af.onUp)
	return nil
}

func (af *Face) receive() {
	defer close(af.recvDone)
	for {
		lp := af.tr.Receive()
		if lp == nil {
			return
		}
		frame := frameOf(lp)
		if frame != nil {
			af.onPkt(frame)
		}
	}
}

// frameOf turns the forwarder's LpPacket back into the frame an engine
// expects. Without a Nack that is the bare packet: the PIT token ndnd
// attaches to Interests is dropped, which spares an encode per Interest; a
// reply without a token is matched by name, as from any NFD client.
func frameOf(lp *spec.LpPacket) []byte {
	if lp.Nack == nil {
		return lp.Fragment.Join()
	}
	pkt := &spec.Packet{LpPacket: &spec.LpPacket{Fragment: lp.Fragment, Nack: lp.Nack}}
	var e spec.PacketEncoder
	e.Init(pkt)
	w := e.Encode(pkt)
	if w == nil {
		return nil
	}
	return w.Join()
}

// Send hands a packet (an Interest, Data or LpPacket) to the forwarder.
func (af *Face) Send(pkt enc.Wire) error {
	if !af.running.Load() {
		return ErrClosed
	}
	var lp *spec.LpPacket
	if len(pkt) > 0 && len(pkt[0]) > 0 && pkt[0][0] == 0x64 { // LpPacket
		p, _, err := spec.ReadPacket(enc.NewWireView(pkt))
		if err != nil {
			return fmt.Errorf("fw: face %d: malformed LpPacket: %w", af.id, err)
		}
		if p.LpPacket == nil {
			return fmt.Errorf("fw: face %d: malformed LpPacket", af.id)
		}
		lp = p.LpPacket
	} else {
		lp = &spec.LpPacket{Fragment: pkt}
	}
	af.tr.Send(lp)
	return nil
}

// Close closes the face and removes it, and its routes, from the forwarder.
// It is safe to call more than once.
func (af *Face) Close() error {
	err := ErrClosed
	af.closeOnce.Do(func() {
		err = nil
		af.closed.Store(true)
		wasRunning := af.running.Swap(false)
		// Out of the forwarder's tables first, so that it stops sending to
		// the transport before the transport's queue is closed.
		face.FaceTable.Remove(af.id)
		af.tr.Close()
		if wasRunning {
			<-af.recvDone
			af.fire(af.onDown)
		}
		af.fwd.mu.Lock()
		delete(af.fwd.appFaces, af)
		af.fwd.mu.Unlock()
	})
	return err
}

// OnUp registers a callback for the face coming up.
func (af *Face) OnUp(cb func()) (cancel func()) { return af.register(af.onUp, cb) }

// OnDown registers a callback for the face going down.
func (af *Face) OnDown(cb func()) (cancel func()) { return af.register(af.onDown, cb) }

func (af *Face) register(m map[int]func(), cb func()) func() {
	af.cbMu.Lock()
	defer af.cbMu.Unlock()
	h := af.nextCb
	af.nextCb++
	m[h] = cb
	return func() {
		af.cbMu.Lock()
		delete(m, h)
		af.cbMu.Unlock()
	}
}

func (af *Face) fire(m map[int]func()) {
	af.cbMu.Lock()
	cbs := make([]func(), 0, len(m))
	for _, cb := range m {
		cbs = append(cbs, cb)
	}
	af.cbMu.Unlock()
	for _, cb := range cbs {
		cb()
	}
}
