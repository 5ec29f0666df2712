package node

import (
	"fmt"
	"slices"

	enc "github.com/named-data/ndnd/std/encoding"

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
	// Certificate Interests go to every neighbour, as Sync Interests do:
	// any member may hold the certificate asked for.
	certs, err := n.certPrefixes()
	if err != nil {
		return err
	}
	for _, p := range certs {
		if !slices.Contains(groups, p.String()) {
			extra = append(extra, strategy.Request{Prefix: p.String(), Strategy: strategy.Multicast})
		}
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
	groupNames, err := parseNames(groups)
	if err != nil {
		return err
	}
	for _, name := range groupNames {
		// NFD management may not change or unset a sync group's
		// strategy.
		n.fwd.ProtectStrategy(name)
		// Multicast faces carry every group, those open now and those
		// of interfaces that come up later.
		if err := n.fwd.RouteMulticast(name); err != nil {
			return err
		}
	}
	if len(certs) > 0 || n.trust != nil && len(n.trust.OwnChain()) > 0 {
		if err := n.startCerts(certs); err != nil {
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
		prefixes := append(slices.Clone(groupNames), certs...)
		if len(nb.Prefixes) > 0 {
			if prefixes, err = parseNames(nb.Prefixes); err != nil {
				return err
			}
		}
		if err := n.fwd.AddStaticNeighbour(nb.URI, prefixes, nb.ResolveEvery.Duration); err != nil {
			return err
		}
	}
	return nil
}

// parseNames parses prefixes (checked by the configuration).
func parseNames(prefixes []string) ([]enc.Name, error) {
	names := make([]enc.Name, 0, len(prefixes))
	for _, p := range prefixes {
		name, err := enc.NameFromStr(p)
		if err != nil {
			return nil, fmt.Errorf("node: prefix %q: %w", p, err)
		}
		names = append(names, name)
	}
	return names, nil
}
