package fw

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/named-data/ndnd/fw/core"
	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"
)

// Status datasets are answered by the guard, as NFD's dispatcher (ndn-cxx
// mgmt/dispatcher.cpp and status-dataset-context.cpp) answers them, and not
// by ndnd: ndnd drops a dataset request whose name has anything after
// /localhost/nfd/<module>/<verb>, and python-ndn's pynfdc signs its
// requests, which appends a ParametersSha256DigestComponent. NFD's rules:
//
//   - an Interest for a version of a dataset (a version component after
//     the verb) is looked up among the segments produced before (leftmost
//     match, CanBePrefix and MustBeFresh honoured; a segment is fresh for
//     one second);
//   - on a miss, a name that ends with a version or segment component is
//     dropped silently; any other name, whatever follows the verb (a
//     params-sha256 component included), gets a new version of the dataset;
//   - the Data are named <Interest name>/<version>/<segment>, carry at most
//     datasetSegmentSize bytes of content each and a FreshnessPeriod of one
//     second;
//   - a request the dataset cannot answer (a malformed faces/query filter)
//     gets a ControlResponse with ContentType Nack, named as the Interest.
//
// Two differences. NFD looks every Interest up in its storage first, so a
// request without a version (CanBePrefix) is answered with a dataset up to
// a second old: a face list right after faces/create may miss the face.
// Here such a request always gets a new version; only requests for a
// version (the segments after the first) are served from the store. No
// client can tell the two apart but by the fresher content.
//
// And NFD puts the FinalBlockId on the last segment only, and
// ndnd's segment fetcher (std/object, used by ndnd's nfdc) fails on a first
// segment without one ("no FinalBlockId in object"), so ndnd's nfdc cannot
// read a dataset of more than one segment from NFD. The dataset is whole
// before its first segment is sent, so every segment here carries it, as
// the NDN packet specification allows; NFD's and python-ndn's clients read
// it where they look for it, on the last.
//
// Datasets are built on the guard's goroutine, never on a forwarding thread.

const (
	// datasetSegmentSize is NFD's MAX_NDN_PACKET_SIZE - 800.
	datasetSegmentSize = 8800 - 800
	// datasetFreshness is NFD's FreshnessPeriod of management Data, and
	// how long a stored segment answers MustBeFresh Interests.
	datasetFreshness = time.Second
	// datasetStoreSize bounds the stored segments (NFD's dispatcher keeps
	// 256 as well); the oldest go first.
	datasetStoreSize = 256
)

// ChannelStatus TLV types (NFD management protocol, FaceMgmt "Channel
// Dataset"); ndnd's mgmt_2022 has no ChannelStatus.
const (
	tlvChannelStatus enc.TLNum = 0x82
	tlvLocalURI      enc.TLNum = 0x81
)

// datasetFunc builds a dataset's content for the Interest name, or returns
// a ControlResponse status and text to reject it with.
type datasetFunc func(g *mgmtGuard, name enc.Name) (content []byte, code uint64, text string)

// datasets are NFD's status datasets, by module and verb.
var datasets = map[string]map[string]datasetFunc{
	"status":          {"general": (*mgmtGuard).generalStatus},
	"faces":           {"list": (*mgmtGuard).faceList, "query": (*mgmtGuard).faceQuery, "channels": (*mgmtGuard).channels},
	"fib":             {"list": (*mgmtGuard).fibList},
	"rib":             {"list": (*mgmtGuard).ribList},
	"strategy-choice": {"list": (*mgmtGuard).strategyList},
	"cs":              {"info": (*mgmtGuard).csInfo},
}

// datasetOf returns the dataset a /localhost/nfd name asks for.
func datasetOf(name enc.Name) (datasetFunc, bool) {
	if len(name) < 4 || name[2].Typ != enc.TypeGenericNameComponent || name[3].Typ != enc.TypeGenericNameComponent {
		return nil, false
	}
	fn, ok := datasets[name[2].String()][name[3].String()]
	return fn, ok
}

// storedSegment is a dataset segment kept to answer later Interests.
type storedSegment struct {
	name    enc.Name
	frame   []byte
	staleAt time.Time
}

// datasetStore holds the latest dataset segments, oldest first. It is used
// by the guard's goroutine only.
type datasetStore struct {
	segs        []storedSegment
	lastVersion uint64
}

// find returns the stored segment an Interest asks for: the one with the
// smallest name that it matches, as ndn-cxx's InMemoryStorage selects.
func (s *datasetStore) find(in *defn.FwInterest, now time.Time) []byte {
	var best *storedSegment
	for i := range s.segs {
		seg := &s.segs[i]
		if in.MustBeFreshV && !now.Before(seg.staleAt) {
			continue
		}
		match := in.NameV.Equal(seg.name) || (in.CanBePrefixV && in.NameV.IsPrefix(seg.name))
		if match && (best == nil || seg.name.Compare(best.name) < 0) {
			best = seg
		}
	}
	if best == nil {
		return nil
	}
	return best.frame
}

func (s *datasetStore) add(seg storedSegment) {
	if len(s.segs) >= datasetStoreSize {
		s.segs = slices.Delete(s.segs, 0, len(s.segs)-datasetStoreSize+1)
	}
	s.segs = append(s.segs, seg)
}

// version returns a version number for a new dataset: the time in
// milliseconds, as ndn-cxx's Name::appendVersion, kept increasing so that
// two datasets never share a name.
func (s *datasetStore) version(now time.Time) uint64 {
	v := max(uint64(max(now.UnixMilli(), 0)), s.lastVersion+1)
	s.lastVersion = v
	return v
}

// dataset answers a status dataset request (on the guard's goroutine).
func (g *mgmtGuard) dataset(out dispatch.OutPkt, now time.Time) {
	in := out.Pkt.L3.Interest
	name := in.NameV
	build, ok := datasetOf(name)
	if !ok {
		return
	}
	if slices.ContainsFunc(name[4:], enc.Component.IsVersion) {
		if frame := g.store.find(in, now); frame != nil {
			g.queueData(out, frame)
			return
		}
	}
	if last := name.At(-1); last.IsVersion() || last.IsSegment() {
		return // NFD: a segment no longer stored
	}
	content, code, text := build(g, name)
	if code != 0 {
		g.sendData(out, name, &ndn.DataConfig{
			ContentType: optional.Some(ndn.ContentTypeNack),
			Freshness:   optional.Some(datasetFreshness),
		}, g.controlResponse(code, text, nil))
		return
	}
	prefix := name.Append(enc.NewVersionComponent(g.store.version(now)))
	nseg := max(1, (len(content)+datasetSegmentSize-1)/datasetSegmentSize)
	last := enc.NewSegmentComponent(uint64(nseg - 1))
	for i := range nseg {
		chunk := content[i*datasetSegmentSize : min(len(content), (i+1)*datasetSegmentSize)]
		cfg := &ndn.DataConfig{
			ContentType:  optional.Some(ndn.ContentTypeBlob),
			Freshness:    optional.Some(datasetFreshness),
			FinalBlockID: optional.Some(last),
		}
		segName := prefix.Append(enc.NewSegmentComponent(uint64(i)))
		frame, err := g.encodeData(segName, cfg, enc.Wire{chunk})
		if err != nil {
			g.fwd.log.Warn("management dataset not encoded", "name", segName, "err", err)
			return
		}
		g.store.add(storedSegment{name: segName, frame: frame, staleAt: now.Add(datasetFreshness)})
		if i == 0 {
			g.queueData(out, frame) // NFD sends the first, stores the rest
		}
	}
}

// generalStatus is status/general, as ndnd's ForwarderStatusModule
// reports it (timestamps in milliseconds on the wire).
func (g *mgmtGuard) generalStatus(enc.Name) ([]byte, uint64, string) {
	status := &mgmt.GeneralStatus{
		NfdVersion:       utils.NDNdVersion,
		StartTimestamp:   time.Duration(core.StartTimestamp.UnixNano()),
		CurrentTimestamp: time.Duration(time.Now().UnixNano()),
		NFibEntries:      uint64(table.FibStrategyTable.GetNumFIBEntries()),
	}
	for i := range ndnfw.CfgNumThreads() {
		c := dispatch.GetFWThread(i).Counters()
		status.NPitEntries += uint64(c.NPitEntries)
		status.NCsEntries += uint64(c.NCsEntries)
		status.NInInterests += c.NInInterests
		status.NInData += c.NInData
		status.NOutInterests += c.NOutInterests
		status.NOutData += c.NOutData
		status.NSatisfiedInterests += c.NSatisfiedInterests
		status.NUnsatisfiedInterests += c.NUnsatisfiedInterests
	}
	return status.Encode().Join(), 0, ""
}

func (g *mgmtGuard) csInfo(enc.Name) ([]byte, uint64, string) {
	info := &mgmt.CsInfo{Capacity: uint64(table.CfgCsCapacity())}
	if table.CfgCsAdmit() {
		info.Flags |= mgmt.CsEnableAdmit
	}
	if table.CfgCsServe() {
		info.Flags |= mgmt.CsEnableServe
	}
	for i := range ndnfw.CfgNumThreads() {
		c := dispatch.GetFWThread(i).Counters()
		info.NCsEntries += uint64(c.NCsEntries)
		info.NHits += c.NCsHits
		info.NMisses += c.NCsMisses
	}
	return (&mgmt.CsInfoMsg{CsInfo: info}).Encode().Join(), 0, ""
}

func (g *mgmtGuard) fibList(enc.Name) ([]byte, uint64, string) {
	status := &mgmt.FibStatus{}
	for _, e := range table.FibStrategyTable.GetAllFIBEntries() {
		entry := &mgmt.FibEntry{Name: e.Name()}
		for _, hop := range e.GetNextHops() {
			entry.NextHopRecords = append(entry.NextHopRecords, &mgmt.NextHopRecord{FaceId: hop.Nexthop, Cost: hop.Cost})
		}
		status.Entries = append(status.Entries, entry)
	}
	return status.Encode().Join(), 0, ""
}

func (g *mgmtGuard) ribList(enc.Name) ([]byte, uint64, string) {
	status := &mgmt.RibStatus{}
	for _, e := range table.Rib.GetAllEntries() {
		entry := &mgmt.RibEntry{Name: e.Name}
		for _, r := range e.GetRoutes() {
			route := &mgmt.Route{FaceId: r.FaceID, Origin: r.Origin, Cost: r.Cost, Flags: r.Flags}
			if r.ExpirationPeriod != nil {
				route.ExpirationPeriod = optional.Some(uint64(*r.ExpirationPeriod / time.Millisecond))
			}
			entry.Routes = append(entry.Routes, route)
		}
		status.Entries = append(status.Entries, entry)
	}
	return status.Encode().Join(), 0, ""
}

func (g *mgmtGuard) strategyList(enc.Name) ([]byte, uint64, string) {
	msg := &mgmt.StrategyChoiceMsg{}
	for _, e := range table.FibStrategyTable.GetAllForwardingStrategies() {
		msg.StrategyChoices = append(msg.StrategyChoices, &mgmt.StrategyChoice{
			Name: e.Name(), Strategy: &mgmt.Strategy{Name: e.GetStrategy()},
		})
	}
	return msg.Encode().Join(), 0, ""
}

func (g *mgmtGuard) faceList(enc.Name) ([]byte, uint64, string) {
	return faceStatuses(func(face.LinkService) bool { return true }), 0, ""
}

// faceQuery is faces/query: NFD reads the filter from the last name
// component, so a query python-ndn signs (the filter, then the
// params-sha256 component) is rejected by NFD with 400, and here.
func (g *mgmtGuard) faceQuery(name enc.Name) ([]byte, uint64, string) {
	fv, err := mgmt.ParseFaceQueryFilter(enc.NewBufferView(name.At(-1).Val), true)
	if err != nil || fv == nil || fv.Val == nil {
		return nil, statusBadParams, "Malformed filter"
	}
	f := fv.Val
	remote, hasRemote := f.Uri.Get()
	if hasRemote {
		if u := defn.DecodeURIString(remote); u != nil && u.Canonize() == nil {
			remote = u.String()
		}
	}
	return faceStatuses(func(ls face.LinkService) bool {
		if id, ok := f.FaceId.Get(); ok && id != ls.FaceID() {
			return false
		}
		if s, ok := f.UriScheme.Get(); ok && s != ls.RemoteURI().Scheme() && s != ls.LocalURI().Scheme() {
			return false
		}
		if hasRemote && remote != ls.RemoteURI().String() {
			return false
		}
		if l, ok := f.LocalUri.Get(); ok && l != ls.LocalURI().String() {
			return false
		}
		if s, ok := f.FaceScope.Get(); ok && s != uint64(ls.Scope()) {
			return false
		}
		if p, ok := f.FacePersistency.Get(); ok && p != uint64(ls.Persistency()) {
			return false
		}
		if t, ok := f.LinkType.Get(); ok && t != uint64(ls.LinkType()) {
			return false
		}
		return true
	}), 0, ""
}

// faceStatuses encodes the FaceStatus of every face match accepts, in
// FaceId order as NFD lists them.
func faceStatuses(match func(face.LinkService) bool) []byte {
	faces := face.FaceTable.GetAll()
	slices.SortFunc(faces, func(a, b face.LinkService) int { return int(a.FaceID()) - int(b.FaceID()) })
	msg := &mgmt.FaceStatusMsg{}
	for _, ls := range faces {
		if match(ls) {
			msg.Vals = append(msg.Vals, faceStatus(ls))
		}
	}
	return msg.Encode().Join()
}

// faceStatus is a face's FaceStatus, as ndnd's management reports it (but
// with the bytes sent as NOutBytes: ndnd v1.5.3 reports the bytes received
// twice).
func faceStatus(ls face.LinkService) *mgmt.FaceStatus {
	st := &mgmt.FaceStatus{
		FaceId:          ls.FaceID(),
		Uri:             ls.RemoteURI().String(),
		LocalUri:        ls.LocalURI().String(),
		FaceScope:       uint64(ls.Scope()),
		FacePersistency: uint64(ls.Persistency()),
		LinkType:        uint64(ls.LinkType()),
		Mtu:             optional.Some(uint64(ls.MTU())),
		NInInterests:    ls.NInInterests(),
		NInData:         ls.NInData(),
		NOutInterests:   ls.NOutInterests(),
		NOutData:        ls.NOutData(),
		NInBytes:        ls.NInBytes(),
		NOutBytes:       ls.NOutBytes(),
	}
	if p := ls.ExpirationPeriod(); p != 0 {
		st.ExpirationPeriod = optional.Some(uint64(p.Milliseconds()))
	}
	// ndnd's own link service, and the in-process faces' (which keep
	// its options without running it).
	if lp, ok := ls.(interface {
		Options() face.NDNLPLinkServiceOptions
	}); ok {
		o := lp.Options()
		st.BaseCongestionMarkInterval = optional.Some(uint64(o.BaseCongestionMarkingInterval.Nanoseconds()))
		st.DefaultCongestionThreshold = optional.Some(o.DefaultCongestionThresholdBytes)
		st.Flags = o.Flags()
		if o.IsConsumerControlledForwardingEnabled {
			st.Flags |= face.FaceFlagLocalFields
		}
		if o.IsCongestionMarkingEnabled {
			st.Flags |= face.FaceFlagCongestionMarking
		}
	}
	return st
}

// channels is faces/channels: one ChannelStatus per listener, with the
// address it is bound to. As in NFD, multicast groups and the sockets of
// faces made by faces/create or AddNeighbor are faces, not channels.
func (g *mgmtGuard) channels(enc.Name) ([]byte, uint64, string) {
	var b bytes.Buffer
	for _, uri := range g.fwd.channelURIs() {
		inner := tlv(tlvLocalURI, []byte(uri))
		b.Write(tlv(tlvChannelStatus, inner))
	}
	return b.Bytes(), 0, ""
}

// channelURIs lists the local URIs of the forwarder's listeners, in the
// order they were opened.
func (f *Forwarder) channelURIs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var uris []string
	for _, l := range f.listeners {
		switch l := l.(type) {
		case *streamListener:
			switch a := l.ln.Addr().(type) {
			case *net.UnixAddr:
				uris = append(uris, defn.MakeUnixFaceURI(a.Name).String())
			case *net.TCPAddr:
				uris = append(uris, addrURI("tcp", unmap(a.AddrPort())).String())
			}
		case *udpSocket:
			if l.onDemand {
				uris = append(uris, l.local.String())
			}
		case *wsListener:
			scheme := "ws"
			if f.cfg.WebSocket.TLSCert != "" {
				scheme = "wss"
			}
			uris = append(uris, fmt.Sprintf("%s://%s", scheme, l.addr))
		}
	}
	return uris
}

// tlv encodes one TLV element.
func tlv(typ enc.TLNum, val []byte) []byte {
	l := enc.TLNum(len(val))
	out := make([]byte, typ.EncodingLength()+l.EncodingLength(), typ.EncodingLength()+l.EncodingLength()+len(val))
	n := typ.EncodeInto(out)
	l.EncodeInto(out[n:])
	return append(out, val...)
}
