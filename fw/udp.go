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
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// dgramSender sends a face's packets as datagrams to one address, from a
// socket it may share with other faces. Packets over the face's MTU are
// fragmented (NDNLPv2), so that a state vector larger than the MTU still
// gets through.
type dgramSender struct {
	conn *net.UDPConn
	to   netip.AddrPort
	own  bool // the socket is this face's alone: closed with it

	mu  sync.Mutex // buf and seq; the forwarding threads send concurrently
	buf []byte
	seq uint64
}

func newDgramSender(conn *net.UDPConn, to netip.AddrPort, own bool) *dgramSender {
	// A random first sequence number, as NFD does, so that a restarted
	// sender's fragments do not join a receiver's pending ones.
	return &dgramSender{conn: conn, to: to, own: own, seq: rand.Uint64() >> 1}
}

func (s *dgramSender) send(f *netFace, pkt *defn.Pkt, hdr *link.Header) bool {
	raw := rawOf(pkt)
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	s.buf, err = link.Encode(s.buf, raw, hdr, f.MTU(), &s.seq, func(b []byte) error {
		n, err := s.conn.WriteToUDPAddrPort(b, s.to)
		f.ctr.outBytes.Add(uint64(n))
		return err
	})
	if err != nil {
		f.fwd.log.Debug("send failed", "face", f.FaceID(), "err", err)
		return false
	}
	return true
}

func (s *dgramSender) close() {
	if s.own {
		s.conn.Close()
	}
}

// udpSocket is one UDP socket and the unicast faces that share it: its
// receive goroutine hands each datagram to the face of its sender. A
// listener's socket also makes an on-demand face for a new sender, within
// the forwarder's bound; a neighbour's own socket only serves that
// neighbour. No face costs a file descriptor of its own.
type udpSocket struct {
	fwd      *Forwarder
	conn     *net.UDPConn
	local    *defn.URI
	onDemand bool

	mu    sync.Mutex
	faces map[netip.AddrPort]*netFace

	done chan struct{}
	wg   sync.WaitGroup
}

// listenUDP binds a UDP listener. The port is not shared (no SO_REUSEPORT):
// a second node on the same address fails here, with the address in the
// error, instead of silently taking half the traffic.
func (fwd *Forwarder) listenUDP(a netip.AddrPort) (*udpSocket, error) {
	conn, err := net.ListenUDP(family("udp", a), net.UDPAddrFromAddrPort(a))
	if err != nil {
		return nil, fmt.Errorf("fw: udp listener %s: %w", a, err)
	}
	return fwd.serveUDP(conn, true), nil
}

func (fwd *Forwarder) serveUDP(conn *net.UDPConn, onDemand bool) *udpSocket {
	s := &udpSocket{
		fwd:      fwd,
		conn:     conn,
		local:    addrURI("udp", unmap(conn.LocalAddr().(*net.UDPAddr).AddrPort())),
		onDemand: onDemand,
		faces:    make(map[netip.AddrPort]*netFace),
		done:     make(chan struct{}),
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
	// One byte more than a packet can be, to tell an oversized datagram.
	buf := make([]byte, link.MaxPacketSize+1)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if isTemporary(err) {
				time.Sleep(10 * time.Millisecond)
			}
			continue // ICMP errors on an unconnected socket, and the like
		}
		from = unmap(from)
		dg := buf[:n]
		now := time.Now()
		s.mu.Lock()
		f := s.faces[from]
		s.mu.Unlock()
		if err := link.Datagram(dg, link.MaxPacketSize); err != nil || !knownType(dg[0]) {
			s.fwd.events.malformed.Add(1)
			if f != nil {
				f.ctr.malformed.Add(1)
			}
			s.fwd.log.Debug("malformed datagram dropped", "from", from, "len", n)
			continue
		}
		if f == nil {
			if f = s.newOnDemand(from, now); f == nil {
				continue
			}
		}
		f.receive(dg, netip.AddrPort{}, now)
	}
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

// newFace creates and registers a unicast face to remote on this socket.
func (s *udpSocket) newFace(remote netip.AddrPort, p mgmt_2022.Persistency) *netFace {
	f := &netFace{
		kind:     "udp",
		local:    s.local,
		remote:   addrURI("udp", remote),
		scope:    defn.NonLocal,
		linkType: defn.PointToPoint,
		lifetime: s.fwd.cfg.UDP.Lifetime,
		out:      newDgramSender(s.conn, remote, false),
		reasm:    link.NewReassembler(s.fwd.cfg.Limits.Reassembly, s.fwd.budget),
	}
	f.mtu.Store(int64(s.fwd.cfg.UDPMTU))
	f.persistency.Store(uint64(p))
	onDemand := p == mgmt_2022.PersistencyOnDemand
	f.onClose = func() {
		s.mu.Lock()
		if s.faces[remote] == f {
			delete(s.faces, remote)
		}
		s.mu.Unlock()
		if onDemand {
			s.fwd.lim.giveOnDemand()
		}
	}
	s.mu.Lock()
	s.faces[remote] = f
	s.mu.Unlock()
	s.fwd.addNetFace(f)
	return f
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
	var lc net.ListenConfig
	c, err := lc.ListenPacket(context.Background(), family("udp", remote), ":0")
	if err != nil {
		return nil, err
	}
	return fwd.serveUDP(c.(*net.UDPConn), false), nil
}
