package fw

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// A neighbour may be given by a DNS name (udp4://ndn-1.ndn.lab.svc:6363):
// a Kubernetes headless Service or a compose service name, whose address
// changes when the pod or container is made again. The forwarder keeps
// such a neighbour (namedNeighbour): it resolves the name at once and
// again every ResolveEvery, and sooner when the face fails to send (a
// write error on a connected UDP socket, as for an address nobody holds
// any more); when the address changed it makes the face to the new one,
// routes the neighbour's prefixes to it, and closes the old face. A name
// that does not resolve yet (the peer's pod not scheduled) is not an
// error: it is tried again at the next round. A TCP face also resolves
// the name again at every redial.

// DefaultResolveEvery is how often a neighbour's DNS name is resolved
// again when its configuration says nothing.
const DefaultResolveEvery = 30 * time.Second

// resolveCheck is how often a named neighbour's face is checked for send
// failures, which make it resolve at once.
const resolveCheck = 2 * time.Second

// resolveTimeout bounds one resolution.
const resolveTimeout = 5 * time.Second

// namedNeighbour is a neighbour given by a DNS name, and its current face.
type namedNeighbour struct {
	fwd      *Forwarder
	uri      string
	scheme   string
	host     string
	port     uint16
	prefixes []enc.Name
	every    time.Duration
	// resolve looks the host up (net.DefaultResolver's LookupNetIP, or
	// a test's).
	resolve func(ctx context.Context, network, host string) ([]netip.Addr, error)

	mu      sync.Mutex
	face    *netFace
	addr    netip.AddrPort
	drops   uint64 // the face's outDrops at the last check
	lastErr string // the last resolution error logged
	self    bool   // the name resolved to this node's own UDP listener

	done    chan struct{}
	closing sync.Once
	wg      sync.WaitGroup
}

// AddStaticNeighbour adds a configured neighbour, scheme://host:port,
// with prefixes routed to it (OriginStatic). With a literal address it is
// AddNeighbor's face and its routes. With a DNS name the forwarder keeps
// it: it resolves the name again every resolveEvery (0:
// DefaultResolveEvery) and when its face fails to send, and moves the face
// and the routes when the address changes; its face, once the name
// resolves, is one of NetworkFaces. It returns an error only for a URI it
// cannot use (or, for a literal address, a face it cannot make); a name
// that does not resolve yet is tried again.
func (f *Forwarder) AddStaticNeighbour(uri string, prefixes []enc.Name, resolveEvery time.Duration) error {
	if u, err := url.Parse(uri); err == nil {
		if _, err := netip.ParseAddr(u.Hostname()); err != nil {
			_, err := f.keepNeighbour(uri, prefixes, resolveEvery, net.DefaultResolver.LookupNetIP)
			return err
		}
	}
	id, err := f.AddNeighbor(uri)
	if err != nil {
		return err
	}
	for _, p := range prefixes {
		if err := f.AddRoute(p, id, 0, OriginStatic); err != nil {
			return err
		}
	}
	return nil
}

func (f *Forwarder) keepNeighbour(uri string, prefixes []enc.Name, resolveEvery time.Duration,
	resolve func(ctx context.Context, network, host string) ([]netip.Addr, error)) (*namedNeighbour, error) {
	if err := f.running(); err != nil {
		return nil, err
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("fw: neighbour %q: %w", uri, err)
	}
	switch u.Scheme {
	case "udp4", "udp6", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("fw: neighbour %q: scheme must be udp4, udp6, tcp4 or tcp6", uri)
	}
	host, portText, err := net.SplitHostPort(u.Host)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil || port == 0 || host == "" || u.Path != "" {
		return nil, fmt.Errorf("fw: neighbour %q: want scheme://name:port", uri)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil, fmt.Errorf("fw: neighbour %q: a literal address: use AddNeighbor", uri)
	}
	if resolveEvery <= 0 {
		resolveEvery = DefaultResolveEvery
	}
	n := &namedNeighbour{fwd: f, uri: uri, scheme: u.Scheme, host: host, port: uint16(port),
		every: resolveEvery, resolve: resolve, done: make(chan struct{})}
	for _, p := range prefixes {
		n.prefixes = append(n.prefixes, p.Clone())
	}
	f.mu.Lock()
	f.listeners = append(f.listeners, n)
	f.mu.Unlock()
	n.wg.Add(1)
	go n.run()
	return n, nil
}

func (n *namedNeighbour) run() {
	defer n.wg.Done()
	n.round()
	last := time.Now()
	t := time.NewTicker(min(resolveCheck, n.every))
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case now := <-t.C:
			if now.Sub(last) >= n.every || n.failing() {
				n.round()
				last = now
			}
		}
	}
}

// failing reports whether the face dropped packets it was asked to send
// since the last check (a write error, a full queue), or is gone.
func (n *namedNeighbour) failing() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.face == nil {
		return true // not resolved yet, or its face was closed
	}
	if !n.face.up.Load() {
		return true
	}
	d := n.face.ctr.outDrops.Load()
	grew := d > n.drops
	n.drops = d
	return grew
}

// round resolves the name and moves the neighbour to the address found,
// unless it is where it is.
func (n *namedNeighbour) round() {
	network := "ip4"
	if n.scheme == "udp6" || n.scheme == "tcp6" {
		network = "ip6"
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	addrs, err := n.resolve(ctx, network, n.host)
	cancel()
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("no %s address", network)
	}
	n.mu.Lock()
	cur, face := n.addr, n.face
	if err != nil {
		report := err.Error() != n.lastErr
		n.lastErr = err.Error()
		n.mu.Unlock()
		if report {
			n.fwd.log.Warn("neighbour name does not resolve; tried again later", "uri", n.uri, "err", err)
		}
		return
	}
	n.lastErr = ""
	n.mu.Unlock()
	if face != nil && face.up.Load() && slices.Contains(addrs, cur.Addr()) {
		return // still there: a name with several addresses keeps its face
	}
	to := netip.AddrPortFrom(addrs[0].Unmap(), n.port)
	if n.fwd.ownUDPAddress(n.scheme, to) {
		// One configuration for every pod of a StatefulSet lists every
		// pod, this one too: a face to itself would only echo.
		n.mu.Lock()
		report := !n.self || n.addr != to // logged once per address
		n.face, n.addr, n.self = nil, to, true
		n.mu.Unlock()
		if face != nil {
			n.fwd.forgetNetFace(face.FaceID())
			face.Close()
		}
		if report {
			n.fwd.log.Info("neighbour name is this node's own address: no face", "uri", n.uri, "addr", to)
		}
		return
	}
	nf, err := n.fwd.neighbourFace(n.scheme, to, net.JoinHostPort(n.host, strconv.Itoa(int(n.port))))
	if err != nil {
		n.fwd.log.Warn("neighbour face not made; tried again later", "uri", n.uri, "addr", to, "err", err)
		return
	}
	for _, p := range n.prefixes {
		if err := n.fwd.AddRoute(p, nf.FaceID(), 0, OriginStatic); err != nil {
			n.fwd.log.Warn("neighbour route", "uri", n.uri, "prefix", p, "err", err)
		}
	}
	n.fwd.mu.Lock()
	n.fwd.netFaces = append(n.fwd.netFaces, nf.FaceID())
	n.fwd.mu.Unlock()
	if face != nil {
		n.fwd.forgetNetFace(face.FaceID())
	}
	n.mu.Lock()
	n.face, n.addr, n.drops, n.self = nf, to, nf.ctr.outDrops.Load(), false
	n.mu.Unlock()
	if face != nil && face != nf {
		face.Close()
		n.fwd.log.Info("neighbour moved", "uri", n.uri, "from", cur, "to", to, "face", nf.FaceID())
		return
	}
	n.fwd.log.Info("neighbour face", "uri", n.uri, "addr", to, "face", nf.FaceID())
}

// Close stops resolving; the face stays until the forwarder closes. Safe
// to call more than once.
func (n *namedNeighbour) Close() error {
	n.closing.Do(func() { close(n.done) })
	n.wg.Wait()
	return nil
}

// forgetNetFace takes a closed neighbour face out of the network faces.
func (f *Forwarder) forgetNetFace(id uint64) {
	f.mu.Lock()
	f.netFaces = slices.DeleteFunc(f.netFaces, func(x uint64) bool { return x == id })
	f.mu.Unlock()
}

// ownUDPAddress reports whether a UDP neighbour at ap would be this node:
// one of its UDP listeners has ap's port and is bound to ap's address, or
// to the unspecified address of ap's family while ap is an address of one
// of this host's interfaces (or a loopback address).
func (f *Forwarder) ownUDPAddress(scheme string, ap netip.AddrPort) bool {
	if scheme != "udp4" && scheme != "udp6" {
		return false
	}
	var wild bool
	f.mu.Lock()
	for _, s := range f.udpSockets {
		if !s.onDemand {
			continue
		}
		local := unmap(s.conn.LocalAddr().(*net.UDPAddr).AddrPort())
		if local.Port() != ap.Port() || local.Addr().Is4() != ap.Addr().Is4() {
			continue
		}
		if local.Addr() == ap.Addr() {
			f.mu.Unlock()
			return true
		}
		wild = wild || local.Addr().IsUnspecified()
	}
	f.mu.Unlock()
	if !wild {
		return false
	}
	if ap.Addr().IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(p.IP); ok && ip.Unmap() == ap.Addr() {
				return true
			}
		}
	}
	return false
}
