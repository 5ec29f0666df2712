package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs"
)

var countApp = &app{
	name:    "count",
	summary: "publish a counter every -i seconds, and print what the others count",
	about: `The seed's count example. The member publishes 1, 2, 3, ... (decimal text, one
publication each) every -i seconds on -gp, printing "YOU: <n>", and prints
each number the others publish as "<name>: <n>", each member's in order. A
publication that cannot be fetched is printed as "[MISSED] <name> <low>-<high>
(<reason>)". The counter starts at 1 on every run. Stop it with Ctrl-C.`,
	bind: func(fs *flag.FlagSet) appBody {
		every := fs.Float64("i", 5, "publish every `SECONDS`")
		return func(ctx context.Context, h *appHost, stdio appIO) error {
			interval := time.Duration(*every * float64(time.Second))
			if interval < time.Millisecond {
				return fmt.Errorf("-i %v: want at least 0.001 s", *every)
			}
			return runCount(ctx, h, stdio, interval)
		}
	},
}

// runCount is the count app: a member of the group with a publication
// layer in memory (nothing to keep across restarts: the seed's counter
// starts again too).
func runCount(ctx context.Context, h *appHost, stdio appIO, interval time.Duration) error {
	out := &lines{w: stdio.stdout}
	signer, validator, err := h.signing(h.group, true)
	if err != nil {
		return err
	}
	s, err := svs.New(h.engine, svs.Config{
		Signer:    signer,
		Validator: validator,
		Group:     h.group,
		Node:      h.node,
		Register:  h.register,
		Logger:    h.log,
		Data: &svs.DataConfig{
			RegisterOwn: h.registerOwn,
			OnMessage:   func(m svs.Message) { out.printf("%s: %s\n", m.Node, printable(m.Bytes())) },
			OnMissed: func(m svs.Missed) {
				out.printf("[MISSED] %s %d-%d (%s)\n", m.Node, m.Low, m.High, m.Reason)
			},
		},
	})
	if err != nil {
		return err
	}
	out.printf("count: %s in %s, every %v (%s)\n", h.node, h.group, interval, h.where)
	return runAll(ctx, s.Run, func(ctx context.Context) error { return countUp(ctx, s, out, interval) })
}

// countUp publishes 1, 2, 3, ... every interval, the first at once. A
// publication refused because the node is away is printed and skipped:
// the count goes on when it is back.
func countUp(ctx context.Context, s *svs.Sync, out *lines, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; ; {
		_, err := s.Publish(ctx, []byte(strconv.Itoa(n)))
		switch {
		case err == nil:
			out.printf("YOU: %d\n", n)
			n++
		case errors.Is(err, svs.ErrFaceDown):
			out.printf("[NOT SENT] %d: the node is away\n", n)
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
