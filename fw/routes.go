package fw

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"

	"github.com/named-data/ndnd/fw/defn"
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
		Flags:  uint64(mgmt_2022.RouteFlagChildInherit),
	})
	return nil
}

// RemoveRoute removes a route added with AddRoute.
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
	var ls face.LinkService
	switch u.Scheme {
	case "udp4", "udp6":
		if (u.Scheme == "udp4") != is4 {
			return 0, fmt.Errorf("fw: neighbour %q: address family does not match scheme", uri)
		}
		remote := addrURI("udp", ap)
		var local *defn.URI
		for _, l := range f.cfg.UDP.Listen {
			if f.cfg.UDP.Enabled && l.Addr().Is4() == is4 {
				local = addrURI("udp", l)
				break
			}
		}
		t, err := face.MakeUnicastUDPTransport(remote, local, mgmt_2022.PersistencyPermanent)
		if err != nil {
			return 0, fmt.Errorf("fw: neighbour %q: %w", uri, err)
		}
		link := face.MakeNDNLPLinkService(t, face.MakeNDNLPLinkServiceOptions())
		link.Run(nil)
		ls = link
	case "tcp4", "tcp6":
		if (u.Scheme == "tcp4") != is4 {
			return 0, fmt.Errorf("fw: neighbour %q: address family does not match scheme", uri)
		}
		t, err := face.MakeUnicastTCPTransport(addrURI("tcp", ap), nil, mgmt_2022.PersistencyPermanent)
		if err != nil {
			return 0, fmt.Errorf("fw: neighbour %q: %w", uri, err)
		}
		opts := face.MakeNDNLPLinkServiceOptions()
		opts.IsFragmentationEnabled = false
		link := face.MakeNDNLPLinkService(t, opts)
		link.Run(nil)
		ls = link
	default:
		return 0, fmt.Errorf("fw: neighbour %q: scheme must be udp4, udp6, tcp4 or tcp6", uri)
	}
	f.mu.Lock()
	f.netFaces = append(f.netFaces, ls.FaceID())
	f.mu.Unlock()
	f.log.Info("neighbour face", "uri", uri, "face", ls.FaceID())
	return ls.FaceID(), nil
}
