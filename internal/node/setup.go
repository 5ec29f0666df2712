package node

import (
	"fmt"
	"net/netip"
	"net/url"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/strategy"
)

// setup installs the strategy choices, protects the sync groups' strategies,
// routes the groups to the network faces and starts the in-process
// applications and group members.
func (n *Node) setup() error {
	groups := n.GroupPrefixes()
	extra := make([]strategy.Request, 0, len(n.cfg.Strategies))
	for _, s := range n.cfg.Strategies {
		extra = append(extra, strategy.Request{Prefix: s.Prefix, Strategy: s.Name})
	}
	choices, err := strategy.Plan(n.fwd.StrategyVersions(), groups, extra)
	if err != nil {
		return err
	}
	for _, ch := range choices {
		if err := n.fwd.SetStrategy(ch.Prefix, ch.Strategy.String()); err != nil {
			return err
		}
		n.log.Info("strategy", "prefix", ch.Prefix, "strategy", ch.Strategy)
	}
	// NFD management may not change or unset a sync group's strategy.
	for _, g := range groups {
		name, err := enc.NameFromStr(g)
		if err != nil {
			return fmt.Errorf("node: group %q: %w", g, err)
		}
		n.fwd.ProtectStrategy(name)
	}

	// Multicast faces carry every group, those open now and those of
	// interfaces that come up later.
	for _, g := range groups {
		name, err := enc.NameFromStr(g)
		if err != nil {
			return fmt.Errorf("node: group %q: %w", g, err)
		}
		if err := n.fwd.RouteMulticast(name); err != nil {
			return err
		}
	}
	if n.cfg.Node.Ping {
		if err := n.startPing(); err != nil {
			return err
		}
	}
	for _, g := range n.cfg.Groups {
		if err := n.startGroup(g.Prefix, g.Cache); err != nil {
			return err
		}
	}
	for _, nb := range n.cfg.Neighbors {
		prefixes := nb.Prefixes
		if len(prefixes) == 0 {
			prefixes = groups
		}
		if named(nb.URI) {
			// A DNS name: the forwarder keeps it, resolving it again
			// and following its address, with its routes.
			names := make([]enc.Name, 0, len(prefixes))
			for _, p := range prefixes {
				name, err := enc.NameFromStr(p)
				if err != nil {
					return fmt.Errorf("node: prefix %q: %w", p, err)
				}
				names = append(names, name)
			}
			if err := n.fwd.KeepNeighbour(nb.URI, names, nb.ResolveEvery.Duration); err != nil {
				return err
			}
			continue
		}
		id, err := n.fwd.AddNeighbor(nb.URI)
		if err != nil {
			return err
		}
		if err := n.route(prefixes, id); err != nil {
			return err
		}
	}
	return nil
}

// named reports whether a neighbour URI (checked by the configuration)
// has a DNS name rather than a literal address.
func named(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	_, err = netip.ParseAddr(u.Hostname())
	return err != nil
}

func (n *Node) route(prefixes []string, faceID uint64) error {
	for _, p := range prefixes {
		name, err := enc.NameFromStr(p)
		if err != nil {
			return fmt.Errorf("node: prefix %q: %w", p, err)
		}
		if err := n.fwd.AddRoute(name, faceID, 0, fw.OriginStatic); err != nil {
			return err
		}
		n.log.Debug("route", "prefix", name, "face", faceID)
	}
	return nil
}
