package fw

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn/mgmt_2022"

	"github.com/ndnsvs/ndnsvs-node/strategy"
)

// Route origins, as in NFD.
const (
	OriginApp    = 0
	OriginStatic = 255
)

// StrategyVersions returns the strategies the forwarder implements, with
// their versions.
func (f *Forwarder) StrategyVersions() strategy.Versions {
	v := make(strategy.Versions, len(ndnfw.StrategyVersions))
	for name, vers := range ndnfw.StrategyVersions {
		v[name] = slices.Clone(vers)
	}
	return v
}

// SetStrategy makes prefix use the named strategy: a short name
// ("multicast") or a full one, versioned or not. The name is resolved and
// checked against the forwarder's strategies before it reaches ndnd.
func (f *Forwarder) SetStrategy(prefix enc.Name, name string) error {
	if err := f.running(); err != nil {
		return err
	}
	v := f.StrategyVersions()
	full, err := v.FullName(name)
	if err != nil {
		return err
	}
	if err := v.Check(full); err != nil {
		return err
	}
	table.FibStrategyTable.SetStrategyEnc(prefix.Clone(), full)
	f.log.Debug("strategy set", "prefix", prefix, "strategy", full)
	return nil
}

// Strategy returns the full strategy name that applies to name.
func (f *Forwarder) Strategy(name enc.Name) enc.Name {
	return table.FibStrategyTable.FindStrategyEnc(name)
}

// AddRoute routes prefix to a face, with ChildInherit, for as long as the
// face lives (the route goes with it).
func (f *Forwarder) AddRoute(prefix enc.Name, faceID uint64, cost uint64, origin uint64) error {
	return f.addRoute(prefix, faceID, cost, origin, mgmt_2022.RouteFlagChildInherit)
}

// AddCaptureRoute routes prefix to a face, for as long as the face lives,
// with NFD's Capture flag and without ChildInherit: Interests under prefix
// go to the faces of prefix's own routes alone, not also to the routes of
// shorter prefixes, which AddRoute's ChildInherit would hand down. A sync
// member routes its own publications' prefix /<group>/<node> this way:
// under the group's routes (to every member on the forwarder and to the
// LAN, inherited so that /<group>/v=3 entries of other implementations get
// them too), a fetch of its publications would otherwise go to all of
// them (at 20 members on one forwarder, 19 Interests per fetch where one
// does).
func (f *Forwarder) AddCaptureRoute(prefix enc.Name, faceID uint64, cost uint64, origin uint64) error {
	return f.addRoute(prefix, faceID, cost, origin, mgmt_2022.RouteFlagCapture)
}

func (f *Forwarder) addRoute(prefix enc.Name, faceID, cost, origin uint64, flags mgmt_2022.RouteFlag) error {
	if err := f.running(); err != nil {
		return err
	}
	if face.FaceTable.Get(faceID) == nil {
		return fmt.Errorf("fw: no face %d", faceID)
	}
	table.Rib.AddEncRoute(prefix.Clone(), &table.Route{
		FaceID: faceID,
		Origin: origin,
		Cost:   cost,
		Flags:  uint64(flags),
	})
	return nil
}

// RemoveRoute removes a route added with AddRoute or AddCaptureRoute.
func (f *Forwarder) RemoveRoute(prefix enc.Name, faceID uint64, origin uint64) {
	table.Rib.RemoveRouteEnc(prefix, faceID, origin)
}

// NetworkFaces returns the IDs of the faces that lead off the machine and
// that sync groups are routed to: the multicast faces and the neighbours.
func (f *Forwarder) NetworkFaces() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.netFaces)
}

// AddNeighbor creates a permanent face to a static neighbour given as
// udp4://a.b.c.d:port, udp6://[addr]:port, tcp4://... or tcp6://..., with
// a literal IP address. A UDP neighbour is reached from the first UDP
// listener's port, so its replies and its own traffic arrive on the face.
// The face becomes one of NetworkFaces.
func (f *Forwarder) AddNeighbor(uri string) (uint64, error) {
	if err := f.running(); err != nil {
		return 0, err
	}
	u, err := url.Parse(uri)
	if err != nil {
		return 0, fmt.Errorf("fw: neighbour %q: %w", uri, err)
	}
	ap, err := netip.ParseAddrPort(u.Host)
	if err != nil || ap.Port() == 0 || u.Path != "" {
		return 0, fmt.Errorf("fw: neighbour %q: want scheme://ip:port", uri)
	}
	is4 := ap.Addr().Is4()
	if (u.Scheme == "udp4" || u.Scheme == "tcp4") != is4 {
		return 0, fmt.Errorf("fw: neighbour %q: address family does not match scheme", uri)
	}
	nf, err := f.neighbourFace(u.Scheme, ap, ap.String())
	if err != nil {
		return 0, fmt.Errorf("fw: neighbour %q: %w", uri, err)
	}
	f.mu.Lock()
	f.netFaces = append(f.netFaces, nf.FaceID())
	f.mu.Unlock()
	f.log.Info("neighbour face", "uri", uri, "face", nf.FaceID())
	return nf.FaceID(), nil
}

// neighbourFace makes the permanent face to a neighbour at ap. A TCP face
// redials dialAddr (host:port) when its connection drops: a DNS name
// there is resolved again at every redial.
func (f *Forwarder) neighbourFace(scheme string, ap netip.AddrPort, dialAddr string) (*netFace, error) {
	switch scheme {
	case "udp4", "udp6":
		return f.udpNeighbour(ap)
	case "tcp4", "tcp6":
		dial := func() (frameConn, error) {
			c, err := net.DialTimeout(scheme, dialAddr, 5*time.Second)
			if err != nil {
				return nil, err
			}
			return newByteStream(c), nil
		}
		c, err := dial()
		if err != nil {
			return nil, err
		}
		local := addrURI("tcp", unmap(c.(*byteStream).c.LocalAddr().(*net.TCPAddr).AddrPort()))
		return f.streamFace(c, "tcp", local, addrURI("tcp", ap), tcpScope(net.TCPAddrFromAddrPort(ap)),
			mgmt_2022.PersistencyPermanent, nil, dial), nil
	}
	return nil, errors.New("scheme must be udp4, udp6, tcp4 or tcp6")
}

// udpNeighbour returns a permanent face to remote, on the first UDP
// listener of its address family (so that its replies, and its own
// traffic, arrive on the face), or on a socket of its own. An on-demand
// face the neighbour already has becomes permanent.
func (f *Forwarder) udpNeighbour(remote netip.AddrPort) (*netFace, error) {
	f.mu.Lock()
	var s *udpSocket
	for _, l := range f.udpSockets {
		if l.onDemand && l.conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Is4() == remote.Addr().Is4() {
			s = l
			break
		}
	}
	f.mu.Unlock()
	if s == nil {
		var err error
		if s, err = f.dialUDP(remote); err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.udpSockets = append(f.udpSockets, s)
		f.listeners = append(f.listeners, s)
		f.mu.Unlock()
	}
	if nf := s.face(remote); nf != nil {
		nf.SetPersistency(mgmt_2022.PersistencyPermanent)
		if nf.onDemandSlot.CompareAndSwap(true, false) {
			f.lim.giveOnDemand()
		}
		return nf, nil
	}
	return s.newFace(remote, mgmt_2022.PersistencyPermanent), nil
}
