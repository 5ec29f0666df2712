package node

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"
)

// trimInterval is how often trimWhenIdle looks at the traffic.
const trimInterval = 2 * time.Second

// trimWhenIdle gives memory back to the operating system when a burst of
// traffic has ended: a window with traffic followed by quiet windows for
// longer than the forwarder's Dead Nonce List lifetime. Then the lists,
// drained, are rebuilt at their new size (fw.CompactDeadNonceLists: ndnd's
// keep the memory of the burst for good), the heap is collected twice (the
// first collection only moves sync.Pool contents to the pools' victim
// caches) and its free memory is returned. Go's runtime returns memory
// slowly on its own, and on an edge device the resident size after a burst
// matters more than the few milliseconds this costs once per burst.
func (n *Node) trimWhenIdle(ctx context.Context, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := n.fwd.Counters()
	busy, quiet := false, time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		c := n.fwd.Counters()
		packets := (c.InInterests + c.InData) - (last.InInterests + last.InData)
		last = c
		switch {
		case packets > idlePackets:
			busy, quiet = true, 0
		case busy:
			quiet += every
			if quiet <= n.fwd.DeadNonceLifetime() {
				continue
			}
			busy = false
			t0 := time.Now()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			kept, err := n.fwd.CompactDeadNonceLists(cctx)
			cancel()
			if err != nil {
				n.log.Debug("burst over: dead nonce lists not compacted", "err", err)
			}
			// Two collections: objects in sync.Pools (ndnd keeps packets
			// and encoders there, holding names and PIT records) survive
			// the first one in the pools' victim caches.
			runtime.GC()
			debug.FreeOSMemory()
			n.log.Debug("burst over: returned free memory to the system", "dead nonces kept", kept, "took", time.Since(t0))
		}
	}
}

// idlePackets is the most packets a trim window may carry and still count
// as idle: a quiet sync group sends about one Sync Interest per 30 s.
const idlePackets = 100
