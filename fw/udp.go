package fw

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/face/impl"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// dgramSender sends a face's packets as datagrams to one address, through
// its socket's writer. When the writer is idle, the forwarding thread
// writes the datagram itself (a UDP write does not wait for the peer);
// otherwise it queues it for the writer (a full queue drops), so it never
// waits on another thread sending to the same socket.
type dgramSender struct {
	w  *udpWriter
	to *net.UDPAddr
}

func (s *dgramSender) send(f *netFace, pkt *defn.Pkt, hdr *link.Header) bool {
	w := s.w
	if len(w.q) == 0 && w.mu.TryLock() {
		ok := w.sendNow(f, pkt, hdr, s.to)
		w.mu.Unlock()
		return ok
	}
	select {
	case w.q <- dgram{f: f, pkt: pkt, hdr: *hdr, to: s.to}:
		return true
	default:
		return false
	}
}

func (s *dgramSender) close() {}

// dgram is a packet waiting for a socket's writer.
type dgram struct {
	f   *netFace
	pkt *defn.Pkt
	hdr link.Header
	to  *net.UDPAddr
}

// batchWriter is sendmmsg where the system has it (x/net's ipv4 and ipv6
// PacketConn; elsewhere they write one datagram at a time).
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpWriter is the one goroutine that writes a UDP socket: it takes what
// the faces on the socket queued, encodes it (fragmenting packets over a
// face's MTU, NDNLPv2), and writes everything waiting in one system call.
type udpWriter struct {
	q         chan dgram
	conn      *net.UDPConn
	connected bool
	bw        batchWriter
	stop      chan struct{}
	done      chan struct{}
	seq       uint64 // next fragment sequence number; the writer's alone
	log       func(msg string, args ...any)
	// mu is held by whoever writes: the writer goroutine for a batch, or
	// a forwarding thread writing at once. It guards seq and encBuf.
	mu sync.Mutex
	// encBuf is where link.Encode builds LpPackets; each is copied out of
	// it at once.
	encBuf []byte
}

// sendNow encodes and writes one packet at once. w.mu is held.
func (w *udpWriter) sendNow(f *netFace, pkt *defn.Pkt, hdr *link.Header, to *net.UDPAddr) bool {
	var err error
	w.encBuf, err = link.Encode(w.encBuf, rawOf(pkt), hdr, f.MTU(), &w.seq, func(b []byte) error {
		n, err := w.write(b, to)
		f.ctr.outBytes.Add(uint64(n))
		return err
	})
	if err != nil {
		w.log("udp send failed", "to", to, "err", err)
		return false
	}
	return true
}

func newUDPWriter(conn *net.UDPConn, queue int, log func(string, ...any)) *udpWriter {
	return startUDPWriter(conn, false, queue, log)
}

// startUDPWriter starts the writer of conn; a connected socket's datagrams
// carry no address.
func startUDPWriter(conn *net.UDPConn, connected bool, queue int, log func(string, ...any)) *udpWriter {
	var bw batchWriter = ipv4.NewPacketConn(conn)
	if a := conn.LocalAddr().(*net.UDPAddr); a.IP.To4() == nil {
		bw = ipv6.NewPacketConn(conn)
	}
	w := &udpWriter{
		q:         make(chan dgram, queue),
		conn:      conn,
		connected: connected,
		bw:        bw,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		// A random first sequence number, as NFD does, so that a restarted
		// sender's fragments do not join a receiver's pending ones.
		seq: rand.Uint64() >> 1,
		log: log,
	}
	go w.run()
	return w
}

const writeBatch = 64

func (w *udpWriter) run() {
	defer close(w.done)
	var (
		bufs [][]byte // encoding space, one per datagram of a batch
		msgs []ipv4.Message
		from []*netFace // the face of each datagram, for its counters
	)
	for {
		var first dgram
		select {
		case <-w.stop:
			return
		case first = <-w.q:
		}
		w.mu.Lock()
		msgs, from = msgs[:0], from[:0]
		add := func(d dgram) {
			raw := rawOf(d.pkt)
			emit := func(b []byte) error {
				n := len(msgs)
				if len(bufs) <= n {
					bufs = append(bufs, make([]byte, 0, link.MaxPacketSize))
				}
				if &b[0] != &raw[0] { // encoded into the scratch buffer: keep a copy
					bufs[n] = append(bufs[n][:0], b...)
					b = bufs[n]
				}
				if cap(msgs) > n {
					msgs = msgs[:n+1]
					msgs[n].Buffers = append(msgs[n].Buffers[:0], b)
				} else {
					msgs = append(msgs, ipv4.Message{Buffers: [][]byte{b}})
				}
				if d.to != nil {
					msgs[n].Addr = d.to
				} else {
					msgs[n].Addr = nil
				}
				from = append(from, d.f)
				return nil
			}
			var err error
			w.encBuf, err = link.Encode(w.encBuf, raw, &d.hdr, d.f.MTU(), &w.seq, emit)
			if err != nil {
				d.f.dropOut()
			}
		}
		add(first)
	more:
		for len(msgs) < writeBatch {
			select {
			case d := <-w.q:
				add(d)
			default:
				break more
			}
		}
		if len(msgs) == 1 {
			to0, _ := msgs[0].Addr.(*net.UDPAddr)
			// One datagram, the usual case at low rates: a plain sendto
			// costs less than building a sendmmsg.
			n, err := w.write(msgs[0].Buffers[0], to0)
			from[0].ctr.outBytes.Add(uint64(n))
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					w.mu.Unlock()
					return
				}
				w.log("udp send failed", "to", msgs[0].Addr, "err", err)
				from[0].dropOut()
			}
			w.mu.Unlock()
			continue
		}
		for sent := 0; sent < len(msgs); {
			n, err := w.bw.WriteBatch(msgs[sent:], 0)
			n = max(n, 0) // sendmmsg gives -1 with its error (EPERM from a netfilter drop, ENOBUFS)
			for i := sent; i < sent+n; i++ {
				from[i].ctr.outBytes.Add(uint64(len(msgs[i].Buffers[0])))
			}
			sent += n
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					w.mu.Unlock()
					return
				}
				// The datagram the system refused (no route, no buffer):
				// dropped, and the batch goes on after it.
				w.log("udp send failed", "to", msgs[sent].Addr, "err", err)
				from[sent].dropOut()
				sent++
			}
		}
		w.mu.Unlock()
	}
}

// write writes one datagram, to to unless the socket is connected.
func (w *udpWriter) write(b []byte, to *net.UDPAddr) (int, error) {
	if w.connected {
		return w.conn.Write(b)
	}
	return w.conn.WriteToUDP(b, to)
}

func (w *udpWriter) close() {
	close(w.stop)
	<-w.done
}

// udpSocket is one UDP socket and the unicast faces that share it: its
// receive goroutine hands each datagram to the face of its sender (the
// first ones, before the face's own connected socket takes its peer's
// traffic over). A listener's socket also makes an on-demand face for a new
// sender, within the forwarder's bound; a neighbour's own socket only
// serves that neighbour.
type udpSocket struct {
	fwd      *Forwarder
	conn     *net.UDPConn
	w        *udpWriter
	local    *defn.URI
	onDemand bool

	mu    sync.Mutex
	faces map[netip.AddrPort]*netFace
	dmu   sync.Mutex // dispatch

	done chan struct{}
	wg   sync.WaitGroup
}

// listenUDP binds a UDP listener. Each unicast face gets a socket of its
// own, connected to its peer and bound to the listener's address, as NFD's
// and ndnd's do: a connected socket's writes skip the route lookup an
// unconnected sendto makes for every datagram, and its peer's datagrams go
// to it, read by the face's goroutine. That needs SO_REUSEPORT on the
// listener's port; so that two nodes still cannot share a port silently,
// the address is first bound without it, and a port in use fails here with
// the address in the error.
func (fwd *Forwarder) listenUDP(a netip.AddrPort) (*udpSocket, error) {
	probe, err := net.ListenUDP(family("udp", a), net.UDPAddrFromAddrPort(a))
	if err != nil {
		return nil, fmt.Errorf("fw: udp listener %s: %w", a, err)
	}
	bound := probe.LocalAddr().String()
	probe.Close()
	lc := net.ListenConfig{Control: impl.SyscallReuseAddr}
	c, err := lc.ListenPacket(context.Background(), family("udp", a), bound)
	if err != nil {
		return nil, fmt.Errorf("fw: udp listener %s: %w", a, err)
	}
	return fwd.serveUDP(c.(*net.UDPConn), true), nil
}

func (fwd *Forwarder) serveUDP(conn *net.UDPConn, onDemand bool) *udpSocket {
	s := &udpSocket{
		fwd:      fwd,
		conn:     conn,
		local:    addrURI("udp", unmap(conn.LocalAddr().(*net.UDPAddr).AddrPort())),
		onDemand: onDemand,
		faces:    make(map[netip.AddrPort]*netFace),
		done:     make(chan struct{}),
		w:        newUDPWriter(conn, fwd.cfg.FaceQueueSize, fwd.log.Debug),
	}
	s.wg.Add(2)
	go s.run()
	go s.expire()
	return s
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (s *udpSocket) run() {
	defer s.wg.Done()
	readUDP(s.conn, func(dg []byte, from netip.AddrPort, now time.Time) { s.dispatch(dg, from, now) })
}

// dispatch hands a datagram from a sender to its face, making an
// on-demand one if the bound allows, or drops and counts it.
func (s *udpSocket) dispatch(dg []byte, from netip.AddrPort, now time.Time) {
	// One dispatch at a time makes the lookup and the on-demand face one
	// step (readConnected dispatches too, now and then).
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.mu.Lock()
	f := s.faces[from]
	s.mu.Unlock()
	if err := link.Datagram(dg, link.MaxPacketSize); err != nil || !knownType(dg[0]) {
		s.fwd.events.malformed.Add(1)
		if f != nil {
			f.ctr.malformed.Add(1)
		}
		s.fwd.log.Debug("malformed datagram dropped", "from", from, "len", len(dg))
		return
	}
	if f == nil {
		if f = s.newOnDemand(from, now); f == nil {
			return
		}
	}
	f.receive(dg, netip.AddrPort{}, now)
}

func knownType(t byte) bool {
	return t == link.TypeInterest || t == link.TypeData || t == link.TypeLpPacket
}

// newOnDemand makes the face for a new sender, if the bound allows: at the
// bound, the on-demand face that has been quiet longest makes room if it
// has been quiet for a second; otherwise the datagram is dropped and
// counted. So a flood from many source ports holds at most the bound, and
// a quiet neighbour's face is recreated when it speaks again.
func (s *udpSocket) newOnDemand(from netip.AddrPort, now time.Time) *netFace {
	if !s.onDemand {
		s.fwd.lim.unsolicited.Add(1)
		return nil
	}
	if !s.fwd.lim.takeOnDemand() {
		if !s.fwd.evictOnDemand(now) || !s.fwd.lim.takeOnDemand() {
			s.fwd.lim.onDemandRefused.Add(1)
			return nil
		}
	}
	f := s.newFace(from, mgmt_2022.PersistencyOnDemand)
	s.fwd.log.Debug("on-demand face", "face", f.FaceID(), "remote", from)
	return f
}

// newFace creates and registers a unicast face to remote on this socket,
// with a socket of its own connected to remote (see listenUDP), or, should
// that fail, sending through this socket.
func (s *udpSocket) newFace(remote netip.AddrPort, p mgmt_2022.Persistency) *netFace {
	f := &netFace{
		kind:     "udp",
		local:    s.local,
		remote:   addrURI("udp", remote),
		scope:    defn.NonLocal,
		linkType: defn.PointToPoint,
		lifetime: s.fwd.cfg.UDP.Lifetime,
		reasm:    link.NewReassembler(s.fwd.cfg.Limits.Reassembly, s.fwd.budget),
	}
	f.mtu.Store(int64(s.fwd.cfg.UDPMTU))
	f.persistency.Store(uint64(p))
	var own *net.UDPConn
	d := net.Dialer{LocalAddr: s.conn.LocalAddr(), Control: impl.SyscallReuseAddr}
	if c, err := d.Dial(family("udp", remote), remote.String()); err == nil {
		own = c.(*net.UDPConn)
		f.out = &dgramSender{w: startUDPWriter(own, true, s.fwd.cfg.FaceQueueSize, s.fwd.log.Debug)}
	} else {
		s.fwd.log.Debug("udp face shares its listener's socket", "remote", remote, "err", err)
		f.out = &dgramSender{w: s.w, to: net.UDPAddrFromAddrPort(remote)}
	}
	f.onDemandSlot.Store(p == mgmt_2022.PersistencyOnDemand)
	readDone := make(chan struct{})
	f.onClose = func() {
		s.mu.Lock()
		if s.faces[remote] == f {
			delete(s.faces, remote)
		}
		s.mu.Unlock()
		if own != nil {
			own.Close()
			f.out.(*dgramSender).w.close()
			<-readDone
		}
		if f.onDemandSlot.CompareAndSwap(true, false) {
			s.fwd.lim.giveOnDemand()
		}
	}
	s.mu.Lock()
	s.faces[remote] = f
	s.mu.Unlock()
	s.fwd.addNetFace(f)
	if own != nil {
		go readConnected(f, own, s, remote, readDone)
	} else {
		close(readDone)
	}
	return f
}

// readConnected reads a face's own connected socket until it is closed.
// A datagram from another sender than remote is handed to the listener's
// dispatch: the socket, bound to the listener's port with SO_REUSEPORT, is
// an unconnected member of the port's group between its bind and its
// connect, and the system may queue another sender's datagram on it then
// (fw's TestOnDemandFacesAreBounded lost one such datagram now and then:
// read as the face's peer's, and counted nowhere).
func readConnected(f *netFace, c *net.UDPConn, s *udpSocket, remote netip.AddrPort, done chan struct{}) {
	defer close(done)
	readUDP(c, func(dg []byte, from netip.AddrPort, now time.Time) {
		if from != remote {
			s.dispatch(dg, from, now)
			return
		}
		if err := link.Datagram(dg, link.MaxPacketSize); err != nil || !knownType(dg[0]) {
			f.malformed(fmt.Errorf("malformed datagram of %d bytes", len(dg)))
			return
		}
		f.receive(dg, netip.AddrPort{}, now)
	})
}

// face returns the face to remote on this socket, if any.
func (s *udpSocket) face(remote netip.AddrPort) *netFace {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faces[remote]
}

// expire closes on-demand faces idle for longer than their lifetime, and
// gives back the memory of partial packets whose senders went quiet.
func (s *udpSocket) expire() {
	defer s.wg.Done()
	every := min(max(s.fwd.cfg.UDP.Lifetime/4, 100*time.Millisecond), 10*time.Second)
	every = min(every, s.fwd.cfg.Limits.Reassembly.Timeout*2)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.mu.Lock()
			var idle []*netFace
			for _, f := range s.faces {
				if f.Persistency() == mgmt_2022.PersistencyOnDemand && f.idleFor(now, f.lifetime) {
					idle = append(idle, f)
				}
				f.rmu.Lock()
				f.reasm.Expire(now)
				f.rmu.Unlock()
			}
			s.mu.Unlock()
			for _, f := range idle {
				f.Close()
			}
		}
	}
}

// Close closes the socket and every face on it.
func (s *udpSocket) Close() error {
	close(s.done)
	err := s.conn.Close()
	s.wg.Wait()
	s.w.close()
	s.mu.Lock()
	faces := make([]*netFace, 0, len(s.faces))
	for _, f := range s.faces {
		faces = append(faces, f)
	}
	s.mu.Unlock()
	for _, f := range faces {
		f.Close()
	}
	return err
}

// dialUDP makes a socket of a neighbour's own, when no listener of its
// address family exists: an ephemeral port, replies only from it.
func (fwd *Forwarder) dialUDP(remote netip.AddrPort) (*udpSocket, error) {
	lc := net.ListenConfig{Control: impl.SyscallReuseAddr}
	c, err := lc.ListenPacket(context.Background(), family("udp", remote), ":0")
	if err != nil {
		return nil, err
	}
	return fwd.serveUDP(c.(*net.UDPConn), false), nil
}
