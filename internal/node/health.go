package node

import (
	"context"
	"fmt"
	"log/slog"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
)

// startHealth runs the heartbeat sync (the [health] table) beside a group:
// a member of /<group>/health on a bare in-process face of its own, which
// svs.Health beats through and whose updates it tracks. Health logs each
// peer that comes, goes and comes back; its events channel is drained here,
// so that what nobody reads is not counted as dropped. The group's
// strategy and network routes cover /<group>/health: it needs none of its
// own but the member's route.
func (n *Node) startHealth(prefix string, group enc.Name, lg *slog.Logger) error {
	h, err := svs.NewHealth(svs.HealthConfig{
		Node:     n.name,
		Interval: n.cfg.Health.Interval.Duration,
		Expire:   n.cfg.Health.Expire,
		Logger:   lg,
	})
	if err != nil {
		return fmt.Errorf("node: health of %s: %w", prefix, err)
	}
	signer, validator, err := n.signing(svs.HealthGroup(group))
	if err != nil {
		return err
	}
	af, err := n.fwd.NewFace()
	if err != nil {
		return fmt.Errorf("node: health of %s: %w", prefix, err)
	}
	hs, err := svs.NewOnFace(af, svs.Config{
		Group:           svs.HealthGroup(group),
		Node:            n.name,
		Logger:          lg,
		MaxMembers:      n.cfg.Sync.MaxMembers,
		SupersededGrace: n.cfg.Sync.SupersededGrace.Duration,
		OnUpdate:        h.Observe,
		Signer:          signer,
		Validator:       validator,
		Register: func(p enc.Name) error {
			return n.fwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
		},
	})
	if err != nil {
		_ = af.Close()
		return fmt.Errorf("node: health of %s: %w", prefix, err)
	}
	n.sup.Go("health of "+prefix, hs.Run)
	n.sup.Go("heartbeat of "+prefix, func(ctx context.Context) error {
		err := h.Run(ctx, hs)
		if ctx.Err() != nil {
			return nil // stopping: the member may have gone first
		}
		return err
	})
	n.sup.Go("health events of "+prefix, func(ctx context.Context) error {
		for range h.Events() {
		}
		return nil
	})
	lg.Info("health sync", "health_group", svs.HealthGroup(group), "interval", n.cfg.Health.Interval, "expire", n.cfg.Health.Expire)
	return nil
}
