package fw

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// A netFace is a face whose bytes come from a socket: unix stream, UDP
// unicast or multicast, TCP or WebSocket. Its link layer is this project's
// (package link): no byte from a socket reaches ndnd's transports or link
// service, whose stream framer and reassembler a single hostile packet can
// crash (named-data/ndnd issue 211).
//
// The face plugs into ndnd the way the in-process Face does. The forwarding
// threads reach a face only through dispatch's table, whose interface this
// package can implement; ndnd's face table (for face IDs, management
// listings and route clean-up) wants a face.LinkService, whose interface
// has unexported methods, so a netFace embeds one shared, never-run null
// link service to have them, and overrides every method management or the
// forwarder calls.
//
// Received frames are decoded on the socket's receive goroutine and queued
// on the forwarding thread that owns the packet, as ndnd's link service
// does. Sending never blocks a forwarding thread: a datagram face writes
// its datagram at once (a UDP write does not wait), a stream face queues
// the packet for its writer goroutine, and a full queue drops and counts.
type netFace struct {
	face.LinkService // shared null link service: Transport() and the unexported methods only

	fwd   *Forwarder
	id    atomic.Uint64
	kind  string // "unix", "udp", "multicast", "tcp", "ws"
	local *defn.URI
	// remote is fixed for every face; a stream face to a neighbour keeps its
	// URI across reconnections.
	remote      *defn.URI
	scope       defn.Scope
	linkType    defn.LinkType
	mtu         atomic.Int64
	persistency atomic.Uint64
	lifetime    time.Duration // idle lifetime of an on-demand face
	lastActive  atomic.Int64  // unix nanoseconds of the last frame received
	consumerCtl bool          // NextHopFaceId honoured (local faces only)
	// onDemandSlot is set while the face holds one of Limits.OnDemandFaces.
	onDemandSlot atomic.Bool

	out sender

	// Reassembly, for datagram faces. The receive goroutine adds; expiry
	// and Close release: hence the mutex.
	rmu   sync.Mutex
	reasm *link.Reassembler

	up        atomic.Bool
	connected atomic.Bool // false while a stream face to a neighbour redials
	closeOnce sync.Once
	onClose   func() // the socket side's clean-up

	ctr faceCounters
}

// faceCounters are a face's counters, all atomics.
type faceCounters struct {
	inI, inD, outI, outD atomic.Uint64
	inBytes, outBytes    atomic.Uint64
	// Dropped on the way out: a full send queue, a packet over the MTU of a
	// link that does not fragment, a write error.
	outDrops atomic.Uint64
	// Dropped on the way in: frames that do not decode (malformed),
	// Nacks (the forwarder takes none), fragments refused or given up.
	malformed, nacks, reasmDrops atomic.Uint64
}

// sender is how a face's packets leave: a datagram socket or a stream's
// writer.
type sender interface {
	// send transmits or queues one frame built by the face. It never
	// blocks for long and reports false when the frame was dropped.
	send(f *netFace, pkt *defn.Pkt, hdr *link.Header) bool
	close()
}

// nullLink is the shared null link service netFaces embed. It is created
// once, never run, and never in the face table.
var (
	nullLinkOnce sync.Once
	nullLink     face.LinkService
)

func sharedNullLink() face.LinkService {
	nullLinkOnce.Do(func() {
		nullLink = face.MakeNullLinkService(face.MakeNullTransport())
	})
	return nullLink
}

// addNetFace registers f in ndnd's face table (and so in dispatch), which
// gives it its ID. From then on the forwarding threads may send to it.
func (fwd *Forwarder) addNetFace(f *netFace) {
	f.LinkService = sharedNullLink()
	f.fwd = fwd
	if f.mtu.Load() == 0 {
		f.mtu.Store(link.MaxPacketSize)
	}
	f.lastActive.Store(time.Now().UnixNano())
	f.up.Store(true)
	// A datagram face is always connected; a stream face starts with its
	// connection, and a neighbour's is down while it redials.
	f.connected.Store(true)
	face.FaceTable.Add(f)
	fwd.netCount.Add(1)
}

// Close removes the face, and its routes, from the forwarder and releases
// its socket side. Safe to call more than once and from any goroutine.
func (f *netFace) Close() {
	f.closeOnce.Do(func() {
		f.up.Store(false)
		face.FaceTable.Remove(f.FaceID())
		if f.out != nil {
			f.out.close()
		}
		f.rmu.Lock()
		if f.reasm != nil {
			f.reasm.Close()
		}
		f.rmu.Unlock()
		if f.onClose != nil {
			f.onClose()
		}
		f.fwd.netCount.Add(-1)
		f.fwd.log.Debug("face closed", "face", f.FaceID(), "remote", f.remote)
	})
}

// receive decodes one frame from the socket and hands its packet to the
// forwarding thread that owns it. frame may live in the socket's reused
// buffer: what is kept is copied. from is the sender on a multi-access
// face (it keys reassembly), zero elsewhere.
func (f *netFace) receive(frame []byte, from netip.AddrPort, now time.Time) {
	f.lastActive.Store(now.UnixNano())
	f.ctr.inBytes.Add(uint64(len(frame)))
	pkt, err := f.decode(frame, from, now)
	if err != nil {
		f.malformed(err)
		return
	}
	if pkt == nil {
		return // a fragment, an IDLE packet or a Nack
	}
	if pkt.L3.Interest != nil {
		f.ctr.inI.Add(1)
		dispatch.GetFWThread(ndnfw.HashNameToFwThread(pkt.Name)).QueueInterest(pkt)
	} else {
		f.ctr.inD.Add(1)
		dispatchData(pkt, f.scope)
	}
}

// decode turns a frame into the packet the forwarder takes: a bare
// Interest or Data, or one carried by an LpPacket (reassembled first when
// fragmented). It returns nil and no error for what is not for the
// forwarder: a fragment of a packet not yet whole, an IDLE packet, a Nack.
func (f *netFace) decode(frame []byte, from netip.AddrPort, now time.Time) (*defn.Pkt, error) {
	buf := append(make([]byte, 0, len(frame)), frame...)
	pkt := &defn.Pkt{IncomingFaceID: f.FaceID()}
	l3 := buf
	if len(buf) > 0 && buf[0] == link.TypeLpPacket {
		var lp link.Lp
		if err := link.DecodeLp(buf, &lp); err != nil {
			return nil, err
		}
		if lp.Nack {
			f.ctr.nacks.Add(1)
			f.fwd.lim.nacks.Add(1)
			return nil, nil
		}
		if len(lp.Fragment) == 0 {
			return nil, nil // IDLE
		}
		hdr := &lp
		l3 = lp.Fragment
		if lp.Fragmented() {
			if f.reasm == nil {
				return nil, fmt.Errorf("fw: fragment on a stream")
			}
			f.rmu.Lock()
			whole, first, err := f.reasm.Add(now, from, &lp)
			f.rmu.Unlock()
			if err != nil {
				f.ctr.reasmDrops.Add(1)
				f.fwd.lim.reasmDrops.Add(1)
				f.fwd.log.Debug("fragment dropped", "face", f.FaceID(), "err", err)
				return nil, nil
			}
			if whole == nil {
				return nil, nil
			}
			hdr, l3 = first, whole
		}
		pkt.PitToken = hdr.PitToken
		if hdr.HasCongestionMark {
			pkt.CongestionMark = optional.Some(hdr.CongestionMark)
		}
		if hdr.HasNextHopFaceID && f.consumerCtl {
			pkt.NextHopFaceID = optional.Some(hdr.NextHopFaceID)
		}
	}
	// One Interest or Data, whole, before any of ndnd's decoders sees it:
	// ndnd's application decoder (members, the node's engine,
	// applications) trusts inner lengths the forwarder's does not read
	// (link.Wellformed).
	if link.Datagram(l3, link.MaxPacketSize) != nil {
		return nil, fmt.Errorf("fw: not one whole packet")
	}
	if err := link.Wellformed(l3); err != nil {
		return nil, err
	}
	p3, err := parseL3(l3)
	if err != nil {
		return nil, err
	}
	pkt.Raw, pkt.L3 = enc.Wire{l3}, p3
	switch {
	case p3.Interest != nil:
		pkt.Name = p3.Interest.NameV
	case p3.Data != nil:
		pkt.Name = p3.Data.NameV
	default:
		return nil, fmt.Errorf("fw: neither Interest nor Data")
	}
	if pkt.Name == nil {
		return nil, fmt.Errorf("fw: packet without a name")
	}
	return pkt, nil
}

// parseL3 parses a network-layer packet with ndnd's decoder, which the
// forwarding threads need. It has been fuzzed here, but it is ndnd's: a
// panic in it costs the packet, not the process.
func parseL3(b []byte) (p *defn.FwPacket, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("fw: packet decoder panicked: %v", r)
		}
	}()
	return defn.ParseFwPacket(enc.NewBufferView(b), false)
}

// dispatchData queues a Data on the thread its PIT token names, as ndnd's
// link service does; without one, a local face's Data is offered to every
// thread that may hold an Interest for a prefix of its name (producers do
// not return tokens), another face's to the thread of its exact name.
func dispatchData(p *defn.Pkt, scope defn.Scope) {
	if len(p.PitToken) == 6 {
		if t := dispatch.GetFWThread(int(binary.BigEndian.Uint16(p.PitToken))); t != nil {
			t.QueueData(p)
		}
		return
	}
	if scope == defn.Local {
		for i, match := range ndnfw.HashNameToAllPrefixFwThreads(p.Name) {
			if match {
				dispatch.GetFWThread(i).QueueData(p)
			}
		}
		return
	}
	dispatch.GetFWThread(ndnfw.HashNameToFwThread(p.Name)).QueueData(p)
}

func (f *netFace) malformed(err error) {
	f.ctr.malformed.Add(1)
	f.fwd.events.malformed.Add(1)
	f.fwd.log.Debug("malformed frame dropped", "face", f.FaceID(), "remote", f.remote, "err", err)
}

// SendPacket is called by the forwarding threads (dispatch.Face). It never
// blocks.
func (f *netFace) SendPacket(out dispatch.OutPkt) {
	if f.State() != defn.Up {
		f.dropOut()
		return
	}
	hdr := link.Header{PitToken: out.PitToken}
	if m, ok := out.Pkt.CongestionMark.Get(); ok {
		hdr.CongestionMark, hdr.HasCongestionMark = m, true
	}
	if !f.out.send(f, out.Pkt, &hdr) {
		f.dropOut()
		return
	}
	if out.Pkt.L3.Interest != nil {
		f.ctr.outI.Add(1)
	} else {
		f.ctr.outD.Add(1)
	}
}

func (f *netFace) dropOut() {
	f.ctr.outDrops.Add(1)
	f.fwd.lim.outDrops.Add(1)
}

// rawOf returns a packet's wire as one slice, without copying when it is
// one already (as it is for every packet this package decoded).
func rawOf(p *defn.Pkt) []byte {
	if len(p.Raw) == 1 {
		return p.Raw[0]
	}
	return p.Raw.Join()
}

// The rest of face.LinkService and dispatch.Face.

func (f *netFace) String() string {
	return fmt.Sprintf("%s-face (faceid=%d remote=%s)", f.kind, f.FaceID(), f.remote)
}
func (f *netFace) SetFaceID(id uint64)     { f.id.Store(id) }
func (f *netFace) FaceID() uint64          { return f.id.Load() }
func (f *netFace) LocalURI() *defn.URI     { return f.local }
func (f *netFace) RemoteURI() *defn.URI    { return f.remote }
func (f *netFace) Scope() defn.Scope       { return f.scope }
func (f *netFace) LinkType() defn.LinkType { return f.linkType }
func (f *netFace) MTU() int                { return int(f.mtu.Load()) }
func (f *netFace) Run([]byte)              {}

// SetMTU is called by management (faces/update); the MTU stays within
// what the link layer accepts.
func (f *netFace) SetMTU(mtu int) { f.mtu.Store(int64(min(max(mtu, 576), link.MaxPacketSize))) }

func (f *netFace) Persistency() mgmt_2022.Persistency {
	return mgmt_2022.Persistency(f.persistency.Load())
}

// SetPersistency is called by management. On-demand, persistent and
// permanent are accepted; a change to on-demand starts the idle clock.
func (f *netFace) SetPersistency(p mgmt_2022.Persistency) {
	f.persistency.Store(uint64(p))
}

// ExpirationPeriod is the time an on-demand face has left before it
// expires for want of traffic, 0 for the others.
func (f *netFace) ExpirationPeriod() time.Duration {
	if f.Persistency() != mgmt_2022.PersistencyOnDemand || f.lifetime == 0 {
		return 0
	}
	return max(time.Until(time.Unix(0, f.lastActive.Load()).Add(f.lifetime)), time.Millisecond)
}

func (f *netFace) State() defn.State {
	if f.up.Load() && f.connected.Load() {
		return defn.Up
	}
	return defn.Down
}

func (f *netFace) NInInterests() uint64  { return f.ctr.inI.Load() }
func (f *netFace) NInData() uint64       { return f.ctr.inD.Load() }
func (f *netFace) NInBytes() uint64      { return f.ctr.inBytes.Load() }
func (f *netFace) NOutInterests() uint64 { return f.ctr.outI.Load() }
func (f *netFace) NOutData() uint64      { return f.ctr.outD.Load() }
func (f *netFace) NOutBytes() uint64     { return f.ctr.outBytes.Load() }

// idleFor reports whether nothing was received for d.
func (f *netFace) idleFor(now time.Time, d time.Duration) bool {
	return now.Sub(time.Unix(0, f.lastActive.Load())) > d
}
