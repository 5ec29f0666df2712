package fw

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"
	"golang.org/x/net/ipv4"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// mcastFace is the multicast face of one interface: a receive socket bound
// to the group, which keeps only what arrived on its interface, and a send
// socket bound to the interface's address, with loopback off and a TTL of
// one (the group is the LAN). Every datagram is decoded whole, never as a
// stream, and fragments are reassembled per sender.
type mcastFace struct {
	f    *netFace
	recv *ipv4.PacketConn
	rc   net.PacketConn
	ifi  net.Interface
	self netip.Addr
	done chan struct{}
	wg   sync.WaitGroup
}

// openMulticast creates one multicast face per up, multicast-capable,
// non-loopback interface with an IPv4 address (or per configured
// interface), and starts the watcher that follows interfaces added or
// removed later (ifwatch.go). At start, configured interfaces that are
// missing or down are an error; with none configured, a machine with no
// usable interface gets no multicast face until one comes up.
func (fwd *Forwarder) openMulticast() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("fw: multicast: %w", err)
	}
	want := map[string]bool{}
	for _, n := range fwd.cfg.Multicast.Interfaces {
		want[n] = false
	}
	for _, ifi := range ifaces {
		if len(want) > 0 {
			if _, ok := want[ifi.Name]; !ok {
				continue
			}
			want[ifi.Name] = true
		}
		if !multicastCapable(ifi) {
			if len(want) > 0 {
				return fmt.Errorf("fw: multicast: interface %s is down, loopback or not multicast-capable", ifi.Name)
			}
			continue
		}
		ip, ok := ifaceIPv4(ifi)
		if !ok {
			if len(want) > 0 {
				return fmt.Errorf("fw: multicast: interface %s has no IPv4 address", ifi.Name)
			}
			continue
		}
		if err := fwd.addMcast(ifi, ip); err != nil {
			return err
		}
	}
	for n, seen := range want {
		if !seen {
			return fmt.Errorf("fw: multicast: no interface named %s", n)
		}
	}
	w := newIfWatcher(fwd)
	fwd.mu.Lock()
	fwd.listeners = append(fwd.listeners, w)
	fwd.mu.Unlock()
	return nil
}

// multicastCapable reports whether ifi may carry a multicast face: up,
// multicast-capable and not loopback.
func multicastCapable(ifi net.Interface) bool {
	return ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && ifi.Flags&net.FlagMulticast != 0
}

// addMcast opens the multicast face of ifi at ip, lists it with the
// network faces and routes the multicast prefixes (RouteMulticast) to it.
func (fwd *Forwarder) addMcast(ifi net.Interface, ip netip.Addr) error {
	m, err := fwd.newMcastFace(ifi, ip)
	if err != nil {
		return fmt.Errorf("fw: multicast on %s (%s): %w", ifi.Name, ip, err)
	}
	fwd.mu.Lock()
	if fwd.state != stateRunning && fwd.state != stateStarting {
		fwd.mu.Unlock()
		m.Close() // the forwarder closed meanwhile (the watcher's race with Close)
		return ErrNotRunning
	}
	if fwd.mcast == nil {
		fwd.mcast = map[int]*mcastFace{}
	}
	fwd.mcast[ifi.Index] = m
	fwd.listeners = append(fwd.listeners, m)
	fwd.netFaces = append(fwd.netFaces, m.f.FaceID())
	routes := slices.Clone(fwd.mcastRoutes)
	fwd.mu.Unlock()
	for _, p := range routes {
		if err := fwd.AddRoute(p, m.f.FaceID(), 0, OriginStatic); err != nil {
			fwd.log.Warn("multicast route", "prefix", p, "face", m.f.FaceID(), "err", err)
		}
	}
	fwd.log.Info("multicast face", "iface", ifi.Name, "addr", ip, "group", fwd.cfg.Multicast.Group, "face", m.f.FaceID())
	return nil
}

// dropMcast closes the multicast face of interface index idx, unless
// Close has taken it already; its routes go with it.
func (fwd *Forwarder) dropMcast(idx int, why string) {
	fwd.mu.Lock()
	m := fwd.mcast[idx]
	if m == nil {
		fwd.mu.Unlock()
		return
	}
	delete(fwd.mcast, idx)
	i := slices.IndexFunc(fwd.listeners, func(c io.Closer) bool { return c == m })
	if i >= 0 {
		fwd.listeners = slices.Delete(fwd.listeners, i, i+1)
	}
	fwd.netFaces = slices.DeleteFunc(fwd.netFaces, func(id uint64) bool { return id == m.f.FaceID() })
	fwd.mu.Unlock()
	if i < 0 {
		return // Close took it: it closes it
	}
	m.Close()
	fwd.log.Info("multicast face closed", "iface", m.ifi.Name, "addr", m.self, "face", m.f.FaceID(), "why", why)
}

// RouteMulticast routes prefix to every multicast face, those open now and
// those opened later for an interface that comes up (ifwatch.go).
func (fwd *Forwarder) RouteMulticast(prefix enc.Name) error {
	if err := fwd.running(); err != nil {
		return err
	}
	fwd.mu.Lock()
	if !slices.ContainsFunc(fwd.mcastRoutes, prefix.Equal) {
		fwd.mcastRoutes = append(fwd.mcastRoutes, prefix.Clone())
	}
	ids := make([]uint64, 0, len(fwd.mcast))
	for _, m := range fwd.mcast {
		ids = append(ids, m.f.FaceID())
	}
	fwd.mu.Unlock()
	for _, id := range ids {
		if err := fwd.AddRoute(prefix, id, 0, OriginStatic); err != nil {
			return err
		}
	}
	return nil
}

func ifaceIPv4(ifi net.Interface) (netip.Addr, bool) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP.To4()); ok && ipn.IP.To4() != nil && !ip.IsLoopback() {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

func (fwd *Forwarder) newMcastFace(ifi net.Interface, ip netip.Addr) (*mcastFace, error) {
	group := fwd.cfg.Multicast.Group
	rc, err := net.ListenMulticastUDP("udp4", &ifi, net.UDPAddrFromAddrPort(group))
	if err != nil {
		return nil, err
	}
	recv := ipv4.NewPacketConn(rc)
	if err := recv.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true); err != nil {
		rc.Close()
		return nil, err
	}
	sc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		rc.Close()
		return nil, err
	}
	sp := ipv4.NewPacketConn(sc)
	for _, set := range []func() error{
		func() error { return sp.SetMulticastInterface(&ifi) },
		func() error { return sp.SetMulticastLoopback(false) },
		func() error { return sp.SetMulticastTTL(1) },
	} {
		if err := set(); err != nil {
			rc.Close()
			sc.Close()
			return nil, err
		}
	}
	w := newUDPWriter(sc, fwd.cfg.FaceQueueSize, fwd.log.Debug)
	f := &netFace{
		kind:     "multicast",
		local:    addrURI("udp", netip.AddrPortFrom(ip, group.Port())),
		remote:   addrURI("udp", group),
		scope:    defn.NonLocal,
		linkType: defn.MultiAccess,
		out:      &dgramSender{w: w, to: net.UDPAddrFromAddrPort(group)},
		reasm:    link.NewReassembler(fwd.cfg.Limits.Reassembly, fwd.budget),
	}
	f.mtu.Store(int64(fwd.cfg.UDPMTU))
	f.persistency.Store(uint64(mgmt_2022.PersistencyPermanent))
	fwd.addNetFace(f)
	m := &mcastFace{f: f, recv: recv, rc: rc, ifi: ifi, self: ip, done: make(chan struct{})}
	f.onClose = func() {
		rc.Close()
		sc.Close()
		w.close()
	}
	m.wg.Add(2)
	go m.run()
	go m.expire()
	return m, nil
}

func (m *mcastFace) run() {
	defer m.wg.Done()
	buf := make([]byte, link.MaxPacketSize+1)
	for {
		n, cm, src, err := m.recv.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if isTemporary(err) {
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok || cm == nil || cm.IfIndex != m.ifi.Index || !cm.Dst.IsMulticast() {
			continue // another interface's copy, or unicast to the group port
		}
		from := unmap(ua.AddrPort())
		if from.Addr() == m.self {
			continue // our own, should loopback have been turned on
		}
		dg := buf[:n]
		if err := link.Datagram(dg, link.MaxPacketSize); err != nil || !knownType(dg[0]) {
			m.f.malformed(err)
			continue
		}
		m.f.receive(dg, from, time.Now())
	}
}

// expire gives back the memory of partial packets whose senders went quiet.
func (m *mcastFace) expire() {
	defer m.wg.Done()
	t := time.NewTicker(m.f.fwd.cfg.Limits.Reassembly.Timeout)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case now := <-t.C:
			m.f.rmu.Lock()
			m.f.reasm.Expire(now)
			m.f.rmu.Unlock()
		}
	}
}

// Close closes the face and its sockets.
func (m *mcastFace) Close() error {
	m.f.Close()
	close(m.done)
	m.wg.Wait()
	return nil
}
