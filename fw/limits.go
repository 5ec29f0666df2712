package fw

import (
	"sync/atomic"
	"time"

	"github.com/named-data/ndnd/std/ndn/mgmt_2022"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// Limits bound what peers on the network, and local applications, can make
// the forwarder hold. Going over a bound drops and counts; nothing grows.
type Limits struct {
	// OnDemandFaces is the most UDP faces created for senders that were not
	// configured (each new source address and port makes one), across all
	// listeners. At the bound, the one quiet longest makes room if it has
	// been quiet for a second; otherwise the datagram is dropped.
	OnDemandFaces int
	// StreamFaces is the most unix, TCP and WebSocket connections at once;
	// one over it is closed at once.
	StreamFaces int
	// ReassemblyBytes is the memory all faces together may hold in
	// fragments of packets not yet whole.
	ReassemblyBytes int64
	// Reassembly bounds each datagram face's reassembly.
	Reassembly link.Limits
}

// DefaultLimits returns the limits used unless configured: 256 on-demand
// faces and 256 stream connections (about 20 KB each at most: a receive
// buffer of two packets and a queue of pointers), 4 MiB of fragments.
func DefaultLimits() Limits {
	return Limits{
		OnDemandFaces:   256,
		StreamFaces:     256,
		ReassemblyBytes: 4 << 20,
		Reassembly:      link.DefaultLimits(),
	}
}

// limiter holds the counts behind Limits.
type limiter struct {
	maxOnDemand, maxStreams int64
	onDemand, streams       atomic.Int64

	onDemandRefused atomic.Uint64 // datagrams dropped at the on-demand bound
	onDemandEvicted atomic.Uint64
	unsolicited     atomic.Uint64 // datagrams from unknown senders on a socket that makes no faces
	streamsRefused  atomic.Uint64

	// Summed over every network face, past and present.
	reasmDrops atomic.Uint64 // fragments refused or packets given up
	nacks      atomic.Uint64 // Nacks received (the forwarder takes none)
	outDrops   atomic.Uint64 // packets not sent: full queue, over the MTU, write error, face down
}

func (l *limiter) takeOnDemand() bool { return take(&l.onDemand, l.maxOnDemand) }
func (l *limiter) giveOnDemand()      { l.onDemand.Add(-1) }
func (l *limiter) takeStream() bool   { return take(&l.streams, l.maxStreams) }
func (l *limiter) giveStream()        { l.streams.Add(-1) }

func take(n *atomic.Int64, max int64) bool {
	if n.Add(1) > max {
		n.Add(-1)
		return false
	}
	return true
}

// evictOnDemand closes the on-demand face quiet longest, if it has been
// quiet for a second, to make room for a new one.
func (fwd *Forwarder) evictOnDemand(now time.Time) bool {
	fwd.mu.Lock()
	socks := append([]*udpSocket(nil), fwd.udpSockets...)
	fwd.mu.Unlock()
	var oldest *netFace
	for _, s := range socks {
		s.mu.Lock()
		for _, f := range s.faces {
			if f.Persistency() == mgmt_2022.PersistencyOnDemand &&
				(oldest == nil || f.lastActive.Load() < oldest.lastActive.Load()) {
				oldest = f
			}
		}
		s.mu.Unlock()
	}
	if oldest == nil || !oldest.idleFor(now, time.Second) {
		return false
	}
	oldest.Close()
	fwd.lim.onDemandEvicted.Add(1)
	return true
}
