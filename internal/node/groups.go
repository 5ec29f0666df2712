package node

import (
	"context"
	"fmt"
	"log/slog"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// startGroup makes the node a member of a sync group: an SVS v3 member named
// after the node, on a bare in-process face of its own (svs.NewOnFace: no
// ndn engine, packets straight from the forwarding thread). The group
// prefix (not /<group>/v=3) is routed to it: NDNts members register
// /<group> with Capture and without ChildInherit, and a /<group>/v=3 route
// would hide them (docs/interop.md). What else arrives under /<group> is
// counted in the member's Stats.Ignored.
func (n *Node) startGroup(prefix string) error {
	group, err := enc.NameFromStr(prefix)
	if err != nil {
		return fmt.Errorf("node: group %q: %w", prefix, err)
	}
	name := n.name
	af, err := n.fwd.NewFace()
	if err != nil {
		return fmt.Errorf("node: group %s: %w", prefix, err)
	}
	lg := n.log.With("group", prefix)
	s, err := svs.NewOnFace(af, svs.Config{
		Group:               group,
		Node:                name,
		Logger:              lg,
		MaxSyncInterestSize: n.cfg.Sync.MaxSyncInterestSize,
		MaxMembers:          n.cfg.Sync.MaxMembers,
		SupersededGrace:     n.cfg.Sync.SupersededGrace.Duration,
		Observer:            n.groupObserver(prefix),
		OnUpdate: func(u svs.Update) {
			if lg.Enabled(context.Background(), slog.LevelDebug) {
				member, _ := wire.CoreToName(u.Node)
				lg.Debug("update", "member", member, "boot", u.Boot, "low", u.Low, "high", u.High)
			}
		},
		Register: func(enc.Name) error {
			return n.fwd.AddRoute(group, af.FaceID(), 0, fw.OriginApp)
		},
	})
	if err != nil {
		_ = af.Close()
		return err
	}
	n.sup.Go("group "+prefix, s.Run)
	n.syncs = append(n.syncs, groupMember{prefix: prefix, sync: s})
	lg.Info("joined sync group", "member", name, "boot", s.Boot())
	return nil
}

// Syncs returns the node's own member of each sync group, by group prefix.
func (n *Node) Syncs() map[string]*svs.Sync {
	out := make(map[string]*svs.Sync, len(n.syncs))
	for _, g := range n.syncs {
		out[g.prefix] = g.sync
	}
	return out
}

// groupMember is the node's member of one group; the supervisor runs it.
type groupMember struct {
	prefix string
	sync   *svs.Sync
}
