package fw

import (
	"slices"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
)

// Counters are the forwarding threads' counters, summed.
type Counters struct {
	PITEntries           int
	CSEntries            int
	InInterests          uint64
	InData               uint64
	OutInterests         uint64
	OutData              uint64
	SatisfiedInterests   uint64
	UnsatisfiedInterests uint64
	CSHits               uint64
	CSMisses             uint64

	// MalformedFrames counts frames a face could not decode or accept;
	// QueueDrops counts packets dropped on a full forwarding-thread queue.
	// ndnd only logs these; they are counted from its log.
	MalformedFrames uint64
	QueueDrops      uint64

	// Packets ndnd dropped, counted from its log (logfilter.go): a frame
	// over a face's MTU, an Interest with no route (or to a face that is
	// gone), a packet dropped on a full send queue of ndnd's link service.
	// What ndnd logs only at DEBUG (its strategies' Interests with no
	// route, the send queue) is counted only when ForwarderLogLevel is
	// DEBUG: ndnd's DEBUG lines cost about 3 µs each on the forwarding
	// threads.
	DropsOverMTU   uint64
	DropsNoRoute   uint64
	DropsFaceQueue uint64

	// MgmtDropped counts management requests dropped over Config.Mgmt's
	// bound; MgmtRefused those the node refused with an error status
	// (mgmt_guard.go).
	MgmtDropped uint64
	MgmtRefused uint64

	// The network faces' bounds (Config.Limits): on-demand UDP faces and
	// stream connections open now, datagrams dropped at the on-demand bound
	// or from unknown senders on a socket that makes no faces, faces
	// evicted to make room, connections refused at the bound.
	OnDemandFaces   int
	OnDemandRefused uint64
	OnDemandEvicted uint64
	Unsolicited     uint64
	StreamFaces     int
	StreamsRefused  uint64
	// Reassembly: bytes of fragments held now, fragments refused or packets
	// given up (over a bound, timed out, malformed).
	ReassemblyBytes int64
	ReassemblyDrops uint64
	// NacksDropped counts Nacks received (the forwarder takes none);
	// NetSendDrops packets a network face did not send (full queue, over
	// the MTU of a link that does not fragment, a write error, face down).
	NacksDropped uint64
	NetSendDrops uint64
}

// Counters sums the forwarding threads' counters. They are atomics in ndnd:
// safe to read at any time.
func (f *Forwarder) Counters() Counters {
	var c Counters
	if f.running() != nil {
		return c
	}
	c.MalformedFrames = f.events.malformed.Load()
	c.QueueDrops = f.events.queueDrops.Load()
	c.DropsOverMTU = f.events.overMTU.Load()
	c.DropsNoRoute = f.events.noRoute.Load()
	c.DropsFaceQueue = f.events.faceQueue.Load()
	c.MgmtDropped = f.mgmt.dropped.Load()
	c.MgmtRefused = f.mgmt.refused.Load()
	c.OnDemandFaces = int(f.lim.onDemand.Load())
	c.OnDemandRefused = f.lim.onDemandRefused.Load()
	c.OnDemandEvicted = f.lim.onDemandEvicted.Load()
	c.Unsolicited = f.lim.unsolicited.Load()
	c.StreamFaces = int(f.lim.streams.Load())
	c.StreamsRefused = f.lim.streamsRefused.Load()
	c.ReassemblyBytes = f.budget.Used()
	c.ReassemblyDrops = f.lim.reasmDrops.Load()
	c.NacksDropped = f.lim.nacks.Load()
	c.NetSendDrops = f.lim.outDrops.Load()
	for _, t := range ndnfw.Threads {
		tc := t.Counters()
		c.PITEntries += tc.NPitEntries
		c.CSEntries += tc.NCsEntries
		c.InInterests += tc.NInInterests
		c.InData += tc.NInData
		c.OutInterests += tc.NOutInterests
		c.OutData += tc.NOutData
		c.SatisfiedInterests += tc.NSatisfiedInterests
		c.UnsatisfiedInterests += tc.NUnsatisfiedInterests
		c.CSHits += tc.NCsHits
		c.CSMisses += tc.NCsMisses
	}
	return c
}

// FaceInfo describes one face and its counters. ndnd writes face counters
// without synchronisation: they are exact once traffic has stopped and
// approximate while it flows.
type FaceInfo struct {
	ID           uint64
	Remote       string
	Local        string
	Scope        string
	LinkType     string
	InInterests  uint64
	InData       uint64
	OutInterests uint64
	OutData      uint64
	InBytes      uint64
	OutBytes     uint64
	// Dropped counts packets for the face that it did not send: an
	// in-process face's application a whole queue behind, a network face's
	// full queue, write error or packet over the MTU.
	Dropped uint64
	// Malformed counts frames from the face that did not decode (network
	// faces only).
	Malformed uint64
}

// Faces lists the forwarder's faces, by ID.
func (f *Forwarder) Faces() []FaceInfo {
	if f.running() != nil {
		return nil
	}
	f.mu.Lock()
	inproc := make(map[uint64]*Face, len(f.appFaces))
	for af := range f.appFaces {
		inproc[af.id] = af
	}
	f.mu.Unlock()
	all := face.FaceTable.GetAll()
	out := make([]FaceInfo, 0, len(all))
	for _, l := range all {
		if af, ok := inproc[l.FaceID()]; ok {
			// ndnd's link service is bypassed (NewFace): the Face counts
			// for it.
			out = append(out, FaceInfo{
				ID:           af.id,
				Remote:       l.RemoteURI().String(),
				Local:        l.LocalURI().String(),
				Scope:        scopeName(defn.Local),
				LinkType:     linkTypeName(defn.PointToPoint),
				InInterests:  af.nInI.Load(),
				InData:       af.nInD.Load(),
				OutInterests: af.nOutI.Load(),
				OutData:      af.nOutD.Load(),
				InBytes:      af.nInBytes.Load(),
				OutBytes:     af.nOutBytes.Load(),
				Dropped:      af.nDropped.Load(),
			})
			continue
		}
		info := FaceInfo{
			ID:           l.FaceID(),
			Remote:       l.RemoteURI().String(),
			Local:        l.LocalURI().String(),
			Scope:        scopeName(l.Scope()),
			LinkType:     linkTypeName(l.LinkType()),
			InInterests:  l.NInInterests(),
			InData:       l.NInData(),
			OutInterests: l.NOutInterests(),
			OutData:      l.NOutData(),
			InBytes:      l.NInBytes(),
			OutBytes:     l.NOutBytes(),
		}
		if nf, ok := l.(*netFace); ok {
			info.Dropped = nf.ctr.outDrops.Load()
			info.Malformed = nf.ctr.malformed.Load()
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b FaceInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// NextHops returns the face IDs the FIB sends Interests for name to.
func (f *Forwarder) NextHops(name enc.Name) []uint64 {
	if f.running() != nil {
		return nil
	}
	var ids []uint64
	for _, nh := range table.FibStrategyTable.FindNextHopsEnc(name) {
		ids = append(ids, nh.Nexthop)
	}
	slices.Sort(ids)
	return ids
}

// FIBSize is the number of FIB entries that have next hops.
func (f *Forwarder) FIBSize() int {
	if f.running() != nil {
		return 0
	}
	return len(table.FibStrategyTable.GetAllFIBEntries())
}

func scopeName(s defn.Scope) string {
	switch s {
	case defn.Local:
		return "local"
	case defn.NonLocal:
		return "non-local"
	}
	return "unknown"
}

func linkTypeName(t defn.LinkType) string {
	switch t {
	case defn.PointToPoint:
		return "point-to-point"
	case defn.MultiAccess:
		return "multi-access"
	case defn.AdHoc:
		return "ad-hoc"
	}
	return "unknown"
}
