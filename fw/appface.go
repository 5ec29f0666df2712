package fw

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// Face is an in-process application face: an ndn.Face (ndnd std) that an
// engine such as engine.NewBasicEngine attaches to, wired straight into the
// forwarding threads with no socket (see NewFace).
//
// Close removes the face and its routes from the forwarder. Faces are
// meant to live as long as their application.
//
// Send is safe for concurrent use. The callbacks set with OnPacket and
// OnError are called from the face's receive goroutine, one at a time; one
// set with OnFrame is called by the forwarding threads themselves.
type Face struct {
	fwd  *Forwarder
	link face.LinkService
	tr   *face.InternalTransport
	id   uint64

	onPkt   func(frame []byte)
	onFrame func(frame []byte)
	onError func(err error)

	// The forwarder's side, bypassing ndnd's link service (see NewFace).
	toApp      chan []byte   // frames the forwarder sent, for the receive goroutine
	stop       chan struct{} // closed by Close: the receive goroutine returns
	nInI, nInD atomic.Uint64 // from the application
	nOutI      atomic.Uint64 // to the application
	nOutD      atomic.Uint64
	nInBytes   atomic.Uint64 // of the packets counted in nInI and nInD
	nOutBytes  atomic.Uint64 // of the packets counted in nOutI and nOutD
	nDropped   atomic.Uint64 // to the application, dropped on a full queue

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
//
// The face takes the shortest path ndnd allows. ndnd v1.5.3 has no
// in-process face, and its link-service interface cannot be implemented
// outside ndnd; but the forwarding threads reach a face only through
// dispatch's face table, whose interface can. So an InternalTransport link
// service is put in ndnd's face table (for the face ID, the management
// listings and route clean-up), and the face's dispatch entry is then
// replaced by the Face itself: the forwarding thread hands each packet to
// SendPacket, which queues it for the application, and Send parses the
// application's packets and queues them on the forwarding thread directly.
// A packet crosses two goroutine hand-offs instead of four, and is neither
// LP-encoded nor copied on the way. The link service is never run (no
// packet reaches it, so its goroutines would idle until the process ends),
// and its face-table entry reports the Face's counters (appLink).
func (f *Forwarder) NewFace() (*Face, error) {
	if err := f.running(); err != nil {
		return nil, err
	}
	tr := face.MakeInternalTransport()
	opts := face.MakeNDNLPLinkServiceOptions()
	opts.IsIncomingFaceIndicationEnabled = false
	opts.IsFragmentationEnabled = false
	link := face.MakeNDNLPLinkService(tr, opts)
	af := &Face{
		fwd:      f,
		link:     link,
		tr:       tr,
		toApp:    make(chan []byte, f.cfg.FaceQueueSize),
		stop:     make(chan struct{}),
		recvDone: make(chan struct{}),
		onUp:     map[int]func(){},
		onDown:   map[int]func(){},
	}
	face.FaceTable.Add(appLink{NDNLPLinkService: link, af: af}) // sets the ID
	af.id = link.FaceID()
	f.mu.Lock()
	if f.state == stateClosed {
		f.mu.Unlock()
		face.FaceTable.Remove(af.id)
		tr.Close()
		return nil, ErrNotRunning
	}
	f.appFaces[af] = struct{}{}
	f.mu.Unlock()
	dispatch.AddFace(af.id, af) // from now on the forwarder sends to af, not to link
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

// OnFrame sets a callback that the forwarding threads call directly with
// every packet for the application, in place of OnPacket: no receive
// goroutine, no queue, no copy. It is for a receiver that takes each packet
// over to a goroutine of its own anyway (the svs driver does), and saves a
// goroutine hand-off per packet. The callback must return quickly and never
// block; it may be called by several forwarding threads at once; frame
// must not be modified, and an Interest's is valid only during the call (a
// Data's may be kept: DataFramesKept). Send may be called
// from it (a full forwarding queue drops, it does not block). A thread
// that picked the face just before Close may still call it just after
// Close returns. Packets that arrive before Open wait, as for OnPacket, and
// are handed over from the face's goroutine once it is open. Call before
// Open.
func (af *Face) OnFrame(onFrame func(frame []byte)) { af.onFrame = onFrame }

// DataFramesKept reports that a Data frame handed to the OnFrame callback
// may be kept after the call without a copy: it is the forwarder's own
// bytes of the packet (the sender's buffer, which Send's caller gave up,
// a network face's copy of its datagram, or the Content Store's copy),
// which nothing modifies or reuses, and which the forwarder hands as they
// are to every face the Data goes to. An Interest's frame is not: the
// forwarder may lower its HopLimit in place.
func (af *Face) DataFramesKept() bool { return true }

// OnError sets the error callback. Call before Open.
func (af *Face) OnError(onError func(err error)) { af.onError = onError }

// Open starts delivering packets to the OnPacket callback.
func (af *Face) Open() error {
	if af.closed.Load() {
		return ErrClosed
	}
	if (af.onPkt == nil && af.onFrame == nil) || af.onError == nil {
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

// receive delivers the forwarder's packets to the application, in order, on
// one goroutine: OnPacket may block (ndnd's engine does when its queue is
// full) without ever blocking a forwarding thread.
func (af *Face) receive() {
	defer close(af.recvDone)
	deliver := af.onPkt
	if deliver == nil {
		// With OnFrame, only packets that came before Open (a route may
		// reach a face before its application opens it) pass this way;
		// an OnFrame receiver gets them bare, as from the forwarding
		// threads.
		deliver = func(frame []byte) {
			var lp link.Lp
			if frame[0] == link.TypeLpPacket && link.DecodeLp(frame, &lp) == nil {
				frame = lp.Fragment
			}
			af.onFrame(frame)
		}
	}
	for {
		select {
		case <-af.stop:
			return
		case frame := <-af.toApp:
			deliver(frame)
		}
	}
}

// Send hands a packet (an Interest, Data or LpPacket) to the forwarder. It
// is parsed here, on the caller's goroutine, and queued on the forwarding
// thread that owns its name, as ndnd's link service would do.
//
// Send takes the packet's bytes: a one-segment Wire is not copied (ndnd's
// Wire.Join returns it as it is), the forwarder keeps it while the packet
// is in flight, hands the same bytes to every face it goes to, and may
// lower an Interest's HopLimit in place. The caller must not modify or
// reuse them afterwards; ndnd's engines and this project's callers encode
// every packet into a new buffer.
func (af *Face) Send(pkt enc.Wire) error {
	if !af.running.Load() {
		return ErrClosed
	}
	frame := pkt.Join() // several segments: joined into a new buffer
	l2, err := defn.ParseFwPacket(enc.NewBufferView(frame), false)
	if err != nil {
		af.fwd.events.malformed.Add(1)
		return fmt.Errorf("fw: face %d: malformed packet: %w", af.id, err)
	}
	p := &defn.Pkt{IncomingFaceID: af.id, Raw: enc.Wire{frame}, L3: l2}
	af.nInBytes.Add(uint64(len(frame)))
	if lp := l2.LpPacket; lp != nil {
		if len(lp.Fragment) == 0 {
			return nil // IDLE
		}
		if lp.FragCount.IsSet() || lp.FragIndex.IsSet() {
			af.fwd.events.malformed.Add(1)
			return fmt.Errorf("fw: face %d: fragmented LpPacket", af.id)
		}
		l3, err := defn.ParseFwPacket(enc.NewWireView(lp.Fragment), false)
		if err != nil {
			af.fwd.events.malformed.Add(1)
			return fmt.Errorf("fw: face %d: malformed packet: %w", af.id, err)
		}
		p.Raw, p.L3 = lp.Fragment, l3
		p.PitToken = lp.PitToken
		p.NextHopFaceID = lp.NextHopFaceId
		p.CongestionMark = lp.CongestionMark
	}
	switch {
	case p.L3.Interest != nil:
		af.nInI.Add(1)
		p.Name = p.L3.Interest.NameV
		dispatch.GetFWThread(ndnfw.HashNameToFwThread(p.Name)).QueueInterest(p)
	case p.L3.Data != nil:
		af.nInD.Add(1)
		p.Name = p.L3.Data.NameV
		if len(p.PitToken) == 6 { // ours: thread number and entry
			if t := dispatch.GetFWThread(int(binary.BigEndian.Uint16(p.PitToken))); t != nil {
				t.QueueData(p)
				return nil
			}
		}
		// An application does not have to return the token: like ndnd's
		// link service for local faces, offer the Data to every thread
		// that may hold an Interest for one of its prefixes.
		for i, match := range ndnfw.HashNameToAllPrefixFwThreads(p.Name) {
			if match {
				dispatch.GetFWThread(i).QueueData(p)
			}
		}
	default:
		af.fwd.events.malformed.Add(1)
		return fmt.Errorf("fw: face %d: neither Interest nor Data", af.id)
	}
	return nil
}

// SendInterest hands the forwarder an Interest that its caller encoded
// itself, described by the fields the forwarder reads, so that it is not
// parsed again (Send parses every packet: for the segment Interests of a
// 20-member group fetching 64 KiB publications, 4 % of the process's CPU).
// frame must be exactly an Interest named name, with CanBePrefix as
// given, the Nonce and InterestLifetime given and no other element (no
// MustBeFresh, ForwardingHint, HopLimit or ApplicationParameters), as
// svs/wire.AppendSegmentInterest encodes it; the forwarder keeps frame and
// name as Send keeps a packet. A frame that does not match its description
// is forwarded as frame and looked up as the description says.
func (af *Face) SendInterest(frame []byte, name enc.Name, canBePrefix bool, nonce uint32, lifetime time.Duration) error {
	if !af.running.Load() {
		return ErrClosed
	}
	p := &defn.Pkt{IncomingFaceID: af.id, Raw: enc.Wire{frame}, Name: name, L3: &defn.FwPacket{
		Interest: describeInterest(name, canBePrefix, nonce, lifetime),
	}}
	af.nInBytes.Add(uint64(len(frame)))
	af.nInI.Add(1)
	dispatch.GetFWThread(ndnfw.HashNameToFwThread(name)).QueueInterest(p)
	return nil
}

// describeInterest is what defn.ParseFwPacket makes of an Interest with
// only these elements.
func describeInterest(name enc.Name, canBePrefix bool, nonce uint32, lifetime time.Duration) *defn.FwInterest {
	return &defn.FwInterest{
		NameV:             name,
		CanBePrefixV:      canBePrefix,
		NonceV:            optional.Some(nonce),
		InterestLifetimeV: optional.Some(lifetime),
	}
}

// SendPacket is called by a forwarding thread to send a packet to the
// application (dispatch.Face). It never blocks: when the application is
// QueueSize packets behind, the packet is dropped and counted. An OnFrame
// receiver gets the bare packet. Otherwise an Interest goes with its PIT
// token in an LpPacket, as ndnd's link service sends it
// to an application on its unix socket: ndnd's engine returns the token
// with its Data, which then goes to the one forwarding thread that holds
// the Interest, not to every thread that may (each of which would log it as
// unsolicited, at a few microseconds a line).
func (af *Face) SendPacket(out dispatch.OutPkt) {
	if af.closed.Load() {
		return
	}
	// Counted before the hand-off, so that the application never sees a
	// packet its face has not counted yet.
	ctr := &af.nOutD
	if out.Pkt.L3.Interest != nil {
		ctr = &af.nOutI
	}
	ctr.Add(1)
	// onFrame is set before Open, so it is safe to read once running is
	// seen true; before that, packets wait in the queue, as for OnPacket.
	if af.running.Load() && af.onFrame != nil {
		frame := out.Pkt.Raw.Join()
		af.nOutBytes.Add(uint64(len(frame)))
		af.onFrame(frame)
		return
	}
	frame := appFrame(out)
	n := uint64(len(frame))
	af.nOutBytes.Add(n)
	select {
	case af.toApp <- frame:
	default:
		ctr.Add(^uint64(0))
		af.nOutBytes.Add(-n)
		af.nDropped.Add(1)
	}
}

// appLink is a Face's entry in ndnd's face table: its registered link
// service, whose own counters stay at zero (the Face bypasses it), with
// the Face's counters instead, so that the management face list (faces/list
// dataset, ndnd fw face-list) shows the face's real traffic. Embedding the
// link service gives it the rest of face.LinkService, unexported methods
// included.
type appLink struct {
	*face.NDNLPLinkService
	af *Face
}

func (l appLink) NInInterests() uint64  { return l.af.nInI.Load() }
func (l appLink) NInData() uint64       { return l.af.nInD.Load() }
func (l appLink) NInBytes() uint64      { return l.af.nInBytes.Load() }
func (l appLink) NOutInterests() uint64 { return l.af.nOutI.Load() }
func (l appLink) NOutData() uint64      { return l.af.nOutD.Load() }
func (l appLink) NOutBytes() uint64     { return l.af.nOutBytes.Load() }

// The rest of dispatch.Face, from the registered link service.

// SetFaceID is part of dispatch.Face; the ID is fixed at creation.
func (af *Face) SetFaceID(uint64)        {}
func (af *Face) LocalURI() *defn.URI     { return af.link.LocalURI() }
func (af *Face) RemoteURI() *defn.URI    { return af.link.RemoteURI() }
func (af *Face) Scope() defn.Scope       { return defn.Local }
func (af *Face) LinkType() defn.LinkType { return defn.PointToPoint }
func (af *Face) MTU() int                { return defn.MaxNDNPacketSize }
func (af *Face) State() defn.State       { return af.link.State() }

// Close closes the face and removes it, and its routes, from the forwarder.
// It is safe to call more than once.
func (af *Face) Close() error {
	err := ErrClosed
	af.closeOnce.Do(func() {
		err = nil
		af.closed.Store(true)
		wasRunning := af.running.Swap(false)
		// Out of the forwarder's tables (and its routes with it) first, so
		// that no forwarding thread picks the face any more.
		face.FaceTable.Remove(af.id)
		af.tr.Close()
		close(af.stop)
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

// appFrame returns the frame an application gets for out: an Interest in an
// LpPacket with its PIT token, anything else as it is. It is a new slice.
func appFrame(out dispatch.OutPkt) []byte {
	if out.Pkt.L3.Interest == nil || len(out.PitToken) == 0 {
		return out.Pkt.Raw.Join()
	}
	raw := rawOf(out.Pkt)
	var frame []byte
	_, err := link.Encode(make([]byte, 0, len(raw)+24), raw, &link.Header{PitToken: out.PitToken},
		link.MaxPacketSize+64, nil, func(b []byte) error { frame = b; return nil })
	if err != nil {
		return out.Pkt.Raw.Join()
	}
	return frame
}
