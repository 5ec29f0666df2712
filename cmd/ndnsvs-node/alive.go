package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs"
)

var aliveApp = &app{
	name:    "alive",
	summary: "health sync: beat, and print the group's members as they come and go",
	about: `The seed's alive example (SVSyncHealth), fixed. The member beats on the health
group of -gp (<group>/health: a sync group of its own, so beats never look
like publications of the group) every -i seconds, and prints each peer as it
becomes alive (its second beat heard), expires (silent for --expire beat
intervals) and comes back. Every member of a group should beat at the same
interval. Stop it with Ctrl-C.`,
	bind: func(fs *flag.FlagSet) appBody {
		every := fs.Float64("i", svs.DefaultBeatInterval.Seconds(), "beat interval in `SECONDS`; peers are expected to beat as often")
		expire := fs.Int("expire", svs.DefaultExpireBeats, "beat `INTERVALS` a peer may stay silent before it expires")
		return func(ctx context.Context, h *appHost, stdio appIO) error {
			interval := time.Duration(*every * float64(time.Second))
			if interval < time.Millisecond || *expire < 1 {
				return fmt.Errorf("-i %v, --expire %d: want at least 0.001 s and 1 interval", *every, *expire)
			}
			return runAlive(ctx, h, stdio, interval, *expire)
		}
	},
}

// runAlive is the alive app: a Health on a member of the health group.
func runAlive(ctx context.Context, h *appHost, stdio appIO, interval time.Duration, expire int) error {
	health, err := svs.NewHealth(svs.HealthConfig{Node: h.node, Interval: interval, Expire: expire, Logger: h.log})
	if err != nil {
		return err
	}
	group := svs.HealthGroup(h.group)
	signer, validator, err := h.signing(group, false)
	if err != nil {
		return err
	}
	s, err := svs.New(h.engine, svs.Config{
		Signer:    signer,
		Validator: validator,
		Group:     group,
		Node:      h.node,
		OnUpdate:  health.Observe,
		Register:  h.register,
		Logger:    h.log,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.stdout, "alive: %s in %s, beating every %v (%s)\n", h.node, group, interval, h.where)
	return runAll(ctx,
		s.Run,
		func(ctx context.Context) error { return health.Run(ctx, s) },
		func(ctx context.Context) error { return printPeers(ctx, health, stdio) },
	)
}

// printPeers prints each peer event as a line until the events end.
func printPeers(ctx context.Context, health *svs.Health, stdio appIO) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-health.Events():
			if !ok {
				return nil
			}
			stamp := time.Now().Format(time.TimeOnly)
			switch ev.Kind {
			case svs.PeerAlive:
				fmt.Fprintf(stdio.stdout, "%s [ALIVE] %s\n", stamp, ev.Node)
			case svs.PeerExpired:
				fmt.Fprintf(stdio.stdout, "%s [EXPIRED] %s, silent %v\n", stamp, ev.Node, ev.Silent.Round(time.Second/10))
			case svs.PeerBack:
				fmt.Fprintf(stdio.stdout, "%s [BACK] %s, silent %v\n", stamp, ev.Node, ev.Silent.Round(time.Second/10))
			}
		}
	}
}
