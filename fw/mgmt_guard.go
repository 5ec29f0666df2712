package fw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	ndnfw "github.com/named-data/ndnd/fw/fw"
	"github.com/named-data/ndnd/fw/table"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// The management guard stands between the forwarding threads and ndnd's
// management thread. ndnd's forwarding threads reach a face only through
// dispatch's face table, so the management face's dispatch entry is
// replaced by the guard (as NewFace does for in-process faces): every
// Interest routed to /localhost/nfd or /localhop/nfd reaches its SendPacket
// first. The guard passes most of them on to ndnd untouched and answers
// these itself, with a ControlResponse signed as ndnd's management signs
// its own (DigestSha256) and queued to the forwarding threads as if the
// management face had sent it:
//
//   - strategy-choice/set and /unset on a protected prefix (a sync group,
//     see ProtectStrategy) or under one: 403, logged at WARN (rate-limited);
//   - faces/update on a face that is not ndnd's *face.NDNLPLinkService:
//     ndnd v1.5.3 (fw/mgmt/face.go) type-asserts that type without a check
//     and would panic the process; the guard applies what the LinkService
//     interface allows (persistency, MTU) or refuses with 409;
//   - rib/register and rib/unregister for a name under /localhost/nfd or
//     /localhop/nfd: 403 (it would divert other clients' commands);
//   - faces/destroy on an internal face (management's own, the null face,
//     an in-process application's): 401;
//   - faces/create, always: it makes the node's own faces (mgmtCreateFace) or
//     is refused with 406/409/504, and never reaches ndnd's code, which
//     would open ndnd transports; a TCP face is answered once its
//     connection is made or has failed (504, NFD's text), a UDP face at
//     once (as in NFD: there is no connection to wait for);
//   - every status dataset (mgmt_dataset.go), as NFD's dispatcher answers
//     them: ndnd drops the signed ones python-ndn sends, and has no
//     faces/channels;
//   - /localhop/nfd: only rib/register and rib/unregister from local-scope
//     faces pass (Config.Mgmt.AllowLocalhopRegister; ndnd's RIB module
//     handles them as /localhost ones), anything else is refused with 403.
//
// Every request is first charged to a token bucket (Config.Mgmt); over it
// the request is dropped and counted. Commands the guard answers itself are
// handled on one goroutine of its own behind a bounded queue, never on a
// forwarding thread; faces/create has a second goroutine and queue, so
// that a TCP connection being made (up to the dial timeout) holds up
// neither the datasets nor the other commands.

// Management status codes, as NFD uses them.
const (
	statusOK           = 200
	statusBadParams    = 400
	statusUnauthorized = 401
	statusForbidden    = 403
	statusNotFound     = 404
	statusNotAccepted  = 406
	statusConflict     = 409
	statusFailed       = 504
)

// mgmtQueueSize bounds the commands waiting for the guard's goroutine,
// mgmtCreateQueueSize the faces/create commands waiting for theirs.
const (
	mgmtQueueSize       = 64
	mgmtCreateQueueSize = 16
)

var (
	compNfd      = enc.NewGenericComponent("nfd")
	compRib      = enc.NewGenericComponent("rib")
	compRegister = enc.NewGenericComponent("register")
	compUnreg    = enc.NewGenericComponent("unregister")
	compStrategy = enc.NewGenericComponent("strategy-choice")
	compSet      = enc.NewGenericComponent("set")
	compUnset    = enc.NewGenericComponent("unset")
	compFaces    = enc.NewGenericComponent("faces")
	compCreate   = enc.NewGenericComponent("create")
	compUpdate   = enc.NewGenericComponent("update")
	compDestroy  = enc.NewGenericComponent("destroy")
)

// mgmtState is the Forwarder's management guard state. Protected prefixes
// may be added before the guard is installed.
type mgmtState struct {
	mu        sync.RWMutex
	protected []enc.Name

	guard atomic.Pointer[mgmtGuard]

	dropped atomic.Uint64 // over the request bound or the guard's queue
	refused atomic.Uint64 // answered by the guard with an error status
}

// ProtectStrategy makes the strategy choice of prefix, and of every name
// under it, impossible to set or unset through NFD management: such
// commands are refused with 403. The node calls it for each sync group
// prefix after setting its strategy; SetStrategy is not affected. Safe for
// concurrent use, before or after Start.
func (f *Forwarder) ProtectStrategy(prefix enc.Name) {
	m := &f.mgmt
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.protected {
		if p.Equal(prefix) {
			return
		}
	}
	m.protected = append(m.protected, prefix.Clone())
}

// protectedBy returns the protected prefix name is equal to or under.
func (m *mgmtState) protectedBy(name enc.Name) (enc.Name, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, p := range m.protected {
		if p.IsPrefix(name) {
			return p, true
		}
	}
	return nil, false
}

// mgmtRequest is a command the guard handles on its own goroutine.
type mgmtRequest struct {
	out  dispatch.OutPkt
	kind mgmtKind
}

type mgmtKind int

const (
	kindStrategy mgmtKind = iota
	kindFaceUpdate
	kindFaceDestroy
	kindFaceCreate
	kindLocalhopRefuse
	kindReservedRoute
	kindDataset
)

// mgmtGuard is the management face's dispatch entry (dispatch.Face). Its
// SendPacket is called by the forwarding threads, concurrently.
type mgmtGuard struct {
	fwd  *Forwarder
	real dispatch.Face // ndnd's management link service
	id   uint64
	cfg  MgmtConfig

	bucket      tokenBucket
	queue       chan mgmtRequest
	createQueue chan mgmtRequest // faces/create, on a goroutine of its own
	signer      ndn.Signer       // safe for concurrent use (DigestSha256 has no state)
	store       datasetStore     // used by the guard's goroutine only
	warn        *rateLimiter

	hookMu sync.Mutex
	create func(uri string, persistency mgmt.Persistency) (uint64, error)
	scheme func(scheme string) bool // whether faces/create may use scheme
}

// installMgmtGuard puts the guard in front of ndnd's management face. Call
// once management is up (waitManagement). It also routes /localhop/nfd to
// management: ndnd's Mgmt.AllowLocalhop stays off, so that the guard, not
// ndnd, decides what /localhop/nfd may do.
func (f *Forwarder) installMgmtGuard() error {
	hops := table.FibStrategyTable.FindNextHopsEnc(defn.LOCAL_PREFIX)
	if len(hops) == 0 {
		return fmt.Errorf("fw: management face not found")
	}
	id := hops[0].Nexthop
	real := dispatch.GetFace(id)
	if real == nil || real.RemoteURI().Scheme() != "internal" {
		return fmt.Errorf("fw: face %d on %s is not ndnd's management face", id, defn.LOCAL_PREFIX)
	}
	g := &mgmtGuard{
		fwd:         f,
		real:        real,
		id:          id,
		cfg:         f.cfg.Mgmt,
		queue:       make(chan mgmtRequest, mgmtQueueSize),
		createQueue: make(chan mgmtRequest, mgmtCreateQueueSize),
		signer:      signer.NewSha256Signer(),
		warn:        newRateLimiter(logEvery),
		create:      f.mgmtCreateFace,
		scheme:      f.createSchemeEnabled,
	}
	g.bucket.init(float64(f.cfg.Mgmt.RequestsPerSecond), float64(f.cfg.Mgmt.Burst), time.Now())
	f.mgmt.guard.Store(g)
	dispatch.AddFace(id, g)
	table.FibStrategyTable.InsertNextHopEnc(defn.NON_LOCAL_PREFIX, id, 0)
	go g.run(f.done)
	go g.runCreate(f.done)
	return nil
}

// mgmtCreateFace makes a face for faces/create. It is the one place that
// knows how the node creates its network faces.
func (f *Forwarder) mgmtCreateFace(uri string, _ mgmt.Persistency) (uint64, error) {
	return f.AddNeighbor(uri)
}

// createSchemeEnabled reports whether faces/create may make a face of the
// scheme: only when the node listens on it, so that a face created through
// management is one the operator has allowed.
func (f *Forwarder) createSchemeEnabled(scheme string) bool {
	switch scheme {
	case "udp4", "udp6":
		return f.cfg.UDP.Enabled
	case "tcp4", "tcp6":
		return f.cfg.TCP.Enabled
	}
	return false
}

// SendPacket is called by a forwarding thread with a packet for ndnd's
// management. It never blocks.
func (g *mgmtGuard) SendPacket(out dispatch.OutPkt) {
	if out.Pkt == nil || out.Pkt.L3 == nil || out.Pkt.L3.Interest == nil {
		g.real.SendPacket(out) // Data for management's own Interests
		return
	}
	if !g.bucket.take(time.Now()) {
		g.drop("management request over the bound (Config.Mgmt)", out)
		return
	}
	name := out.Pkt.L3.Interest.NameV
	if len(name) < 4 || !name[1].Equal(compNfd) {
		g.real.SendPacket(out) // ndnd drops it
		return
	}
	module, verb := name[2], name[3]
	if name[0].Equal(enc.LOCALHOP) {
		if g.cfg.AllowLocalhopRegister && module.Equal(compRib) &&
			(verb.Equal(compRegister) || verb.Equal(compUnreg)) && g.isLocal(out.InFace) {
			g.routeCommand(out)
			return
		}
		g.enqueue(mgmtRequest{out: out, kind: kindLocalhopRefuse})
		return
	}
	if _, ok := datasetOf(name); ok {
		g.enqueue(mgmtRequest{out: out, kind: kindDataset})
		return
	}
	switch {
	case module.Equal(compRib) && (verb.Equal(compRegister) || verb.Equal(compUnreg)):
		g.routeCommand(out)
	case module.Equal(compStrategy) && (verb.Equal(compSet) || verb.Equal(compUnset)):
		g.enqueue(mgmtRequest{out: out, kind: kindStrategy})
	case module.Equal(compFaces) && verb.Equal(compUpdate):
		g.enqueue(mgmtRequest{out: out, kind: kindFaceUpdate})
	case module.Equal(compFaces) && verb.Equal(compDestroy):
		g.enqueue(mgmtRequest{out: out, kind: kindFaceDestroy})
	case module.Equal(compFaces) && verb.Equal(compCreate):
		g.enqueueOn(g.createQueue, mgmtRequest{out: out, kind: kindFaceCreate})
	default:
		g.real.SendPacket(out)
	}
}

// routeCommand passes a rib/register or rib/unregister on to ndnd, unless
// it is for management's own prefixes: a route there would send other
// clients' commands to whoever registered it. Decoding the parameters is
// cheap enough for the forwarding thread, and keeps route registration off
// the guard's queue.
func (g *mgmtGuard) routeCommand(out dispatch.OutPkt) {
	if p, ok := params(out); ok && p.Name != nil &&
		(defn.LOCAL_PREFIX.IsPrefix(p.Name) || defn.NON_LOCAL_PREFIX.IsPrefix(p.Name)) {
		g.enqueue(mgmtRequest{out: out, kind: kindReservedRoute})
		return
	}
	g.real.SendPacket(out)
}

func (g *mgmtGuard) enqueue(r mgmtRequest) { g.enqueueOn(g.queue, r) }

func (g *mgmtGuard) enqueueOn(q chan mgmtRequest, r mgmtRequest) {
	select {
	case q <- r:
	default:
		g.drop("management command queue full", r.out)
	}
}

func (g *mgmtGuard) drop(why string, out dispatch.OutPkt) {
	g.fwd.mgmt.dropped.Add(1)
	if ok, suppressed := g.warn.allow(why); ok {
		g.fwd.log.Warn("management request dropped", "reason", why, "name", out.Pkt.L3.Interest.NameV,
			"face", out.InFace, "suppressed", suppressed)
	}
}

func (g *mgmtGuard) isLocal(faceID uint64) bool {
	fc := dispatch.GetFace(faceID)
	return fc != nil && fc.Scope() == defn.Local
}

// run handles the commands the guard answers, one at a time, until done.
func (g *mgmtGuard) run(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case r := <-g.queue:
			g.handle(r)
		}
	}
}

// runCreate handles faces/create, one at a time, until done.
func (g *mgmtGuard) runCreate(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case r := <-g.createQueue:
			g.faceCreate(r.out)
		}
	}
}

func (g *mgmtGuard) handle(r mgmtRequest) {
	switch r.kind {
	case kindLocalhopRefuse:
		why := "localhop management accepts only rib/register and rib/unregister from local faces"
		if !g.cfg.AllowLocalhopRegister {
			why = "localhop management is disabled (Config.Mgmt.AllowLocalhopRegister)"
		}
		g.refuse(r.out, statusForbidden, why, nil)
	case kindReservedRoute:
		g.refuse(r.out, statusForbidden, "routes under /localhost/nfd and /localhop/nfd are the forwarder's", nil)
	case kindStrategy:
		g.strategy(r.out)
	case kindFaceUpdate:
		g.faceUpdate(r.out)
	case kindFaceDestroy:
		g.faceDestroy(r.out)
	case kindFaceCreate:
		g.faceCreate(r.out)
	case kindDataset:
		g.dataset(r.out, time.Now())
	}
}

// params decodes a command's ControlParameters (name component 4, as ndnd
// reads them).
func params(out dispatch.OutPkt) (*mgmt.ControlArgs, bool) {
	name := out.Pkt.L3.Interest.NameV
	if len(name) < 5 {
		return nil, false
	}
	p, err := mgmt.ParseControlParameters(enc.NewBufferView(name[4].Val), true)
	if err != nil || p == nil || p.Val == nil {
		return nil, false
	}
	return p.Val, true
}

func (g *mgmtGuard) strategy(out dispatch.OutPkt) {
	p, ok := params(out)
	if !ok || p.Name == nil {
		g.real.SendPacket(out) // ndnd answers 400
		return
	}
	if prefix, ok := g.fwd.mgmt.protectedBy(p.Name); ok {
		g.refuse(out, statusForbidden,
			fmt.Sprintf("the strategy of %s is fixed by the node for sync group %s", p.Name, prefix),
			&mgmt.ControlArgs{Name: p.Name})
		return
	}
	g.real.SendPacket(out)
}

// faceUpdate answers faces/update for faces that are not ndnd's NDNLP link
// services, and passes the others on to ndnd.
func (g *mgmtGuard) faceUpdate(out dispatch.OutPkt) {
	p, ok := params(out)
	if !ok {
		g.real.SendPacket(out) // ndnd answers 400 before looking at the face
		return
	}
	faceID := out.InFace
	if id, ok := p.FaceId.Get(); ok && id != 0 {
		faceID = id
	}
	ls := face.FaceTable.Get(faceID)
	if _, isLP := ls.(*face.NDNLPLinkService); ls == nil || isLP {
		g.real.SendPacket(out) // ndnd handles both (404, or its own face)
		return
	}
	args := &mgmt.ControlArgs{FaceId: optional.Some(faceID)}
	if s := ls.RemoteURI().Scheme(); s == "null" || s == "internal" {
		g.refuse(out, statusUnauthorized, "Face cannot be updated via management", args)
		return
	}

	// Validate everything first, as NFD does: a 409 changes nothing and
	// lists the offending fields.
	bad := &mgmt.ControlArgs{}
	invalid := false
	if pers, ok := p.FacePersistency.Get(); ok {
		if !persistencyAllowed(ls, mgmt.Persistency(pers)) {
			bad.FacePersistency = p.FacePersistency
			invalid = true
		}
	}
	if p.Flags.IsSet() != p.Mask.IsSet() {
		bad.Flags, bad.Mask = p.Flags, p.Mask
		invalid = true
	} else if mask, ok := p.Mask.Get(); ok {
		// The node's faces have neither NDNLP local fields nor congestion
		// marking: turning them off is a no-op, turning them on cannot
		// be done.
		flags := p.Flags.Unwrap()
		if on := flags & mask & (mgmt.FaceFlagLocalFieldsEnabled | mgmt.FaceFlagCongestionMarkingEnabled |
			mgmt.FaceFlagLpReliabilityEnabled); on != 0 {
			bad.Flags, bad.Mask = p.Flags, p.Mask
			invalid = true
		}
	}
	if p.BaseCongestionMarkInterval.IsSet() || p.DefaultCongestionThreshold.IsSet() {
		bad.BaseCongestionMarkInterval = p.BaseCongestionMarkInterval
		bad.DefaultCongestionThreshold = p.DefaultCongestionThreshold
		invalid = true
	}
	if invalid {
		bad.FaceId = optional.Some(faceID)
		g.refuse(out, statusConflict, "ControlParameters are incorrect: cannot be applied to this face", bad)
		return
	}

	if pers, ok := p.FacePersistency.Get(); ok {
		ls.SetPersistency(mgmt.Persistency(pers))
	}
	if mtu, ok := p.Mtu.Get(); ok {
		ls.SetMTU(int(min(mtu, uint64(defn.MaxNDNPacketSize))))
	}
	res := faceProperties(ls)
	res.Uri.Unset()
	res.LocalUri.Unset()
	g.answer(out, statusOK, "OK", res)
}

// faceDestroy refuses faces/destroy on the forwarder's own internal faces:
// ndnd would close them, and closing management's face ends management
// (route registration for every application with it), closing an
// in-process face cuts off one of the node's own applications.
func (g *mgmtGuard) faceDestroy(out dispatch.OutPkt) {
	p, ok := params(out)
	if !ok || !p.FaceId.IsSet() {
		g.real.SendPacket(out) // ndnd answers 400
		return
	}
	id := p.FaceId.Unwrap()
	if ls := face.FaceTable.Get(id); ls != nil {
		if s := ls.RemoteURI().Scheme(); s == "null" || s == "internal" {
			g.refuse(out, statusUnauthorized, "Face cannot be destroyed via management",
				&mgmt.ControlArgs{FaceId: optional.Some(id)})
			return
		}
	}
	g.real.SendPacket(out)
}

// persistencyAllowed applies ndnd's (and NFD's) rules: a datagram face
// cannot become on-demand, a unix face stays persistent.
func persistencyAllowed(ls face.LinkService, p mgmt.Persistency) bool {
	if p != mgmt.PersistencyPersistent && p != mgmt.PersistencyPermanent && p != mgmt.PersistencyOnDemand {
		return false
	}
	switch {
	case ls.LocalURI().Scheme() == "unix":
		return p == mgmt.PersistencyPersistent
	case p == mgmt.PersistencyOnDemand:
		return ls.Persistency() == mgmt.PersistencyOnDemand
	}
	return true
}

// faceProperties is what ndnd's fillFaceProperties reports for a face that
// is not an NDNLP link service.
func faceProperties(ls face.LinkService) *mgmt.ControlArgs {
	return &mgmt.ControlArgs{
		FaceId:          optional.Some(ls.FaceID()),
		Uri:             optional.Some(ls.RemoteURI().String()),
		LocalUri:        optional.Some(ls.LocalURI().String()),
		FacePersistency: optional.Some(uint64(ls.Persistency())),
		Mtu:             optional.Some(uint64(ls.MTU())),
		Flags:           optional.Some(uint64(0)),
	}
}

// faceCreate answers faces/create. Nothing of it reaches ndnd.
func (g *mgmtGuard) faceCreate(out dispatch.OutPkt) {
	p, ok := params(out)
	if !ok || !p.Uri.IsSet() {
		g.refuse(out, statusBadParams, "ControlParameters is incorrect", nil)
		return
	}
	if !g.cfg.AllowFaceCreate {
		g.refuse(out, statusNotAccepted, "faces/create is disabled on this node", nil)
		return
	}
	scheme, ap, err := parseFaceURI(p.Uri.Unwrap())
	if err != nil {
		g.refuse(out, statusNotAccepted, err.Error(), nil)
		return
	}
	g.hookMu.Lock()
	create, schemeOK := g.create, g.scheme
	g.hookMu.Unlock()
	if !schemeOK(scheme) {
		g.refuse(out, statusNotAccepted, "Scheme "+scheme+" is disabled on this node", nil)
		return
	}
	if p.Flags.IsSet() != p.Mask.IsSet() {
		g.refuse(out, statusConflict, "Incomplete Flags/Mask combination", nil)
		return
	}
	if flags, ok := p.Flags.Get(); ok && flags&p.Mask.Unwrap()&mgmt.FaceFlagLocalFieldsEnabled != 0 {
		g.refuse(out, statusNotAccepted, "Local fields can only be enabled on faces with local scope", nil)
		return
	}
	persistency := mgmt.PersistencyPersistent
	if pers, ok := p.FacePersistency.Get(); ok {
		if pers != uint64(mgmt.PersistencyPersistent) && pers != uint64(mgmt.PersistencyPermanent) {
			g.refuse(out, statusNotAccepted, "Unacceptable persistency", nil)
			return
		}
		persistency = mgmt.Persistency(pers)
	}
	remote := faceURI(scheme, ap)
	if existing := face.FaceTable.GetByURI(remote); existing != nil {
		g.refuse(out, statusConflict, "Conflicts with existing face", faceProperties(existing))
		return
	}
	id, err := create(scheme+"://"+ap.String(), persistency)
	if err != nil {
		g.refuse(out, statusFailed, createFailure(scheme, err), nil)
		return
	}
	ls := face.FaceTable.Get(id)
	if ls == nil {
		g.refuse(out, statusFailed, "Face creation failed: face closed at once", nil)
		return
	}
	g.fwd.log.Info("face created through management", "uri", remote, "face", id)
	g.answer(out, statusOK, "OK", faceProperties(ls))
}

// statusText is an error whose text is the StatusText of the answer, as
// NFD words it (capitalized).
type statusText string

func (s statusText) Error() string { return string(s) }

// parseFaceURI accepts udp, udp4, udp6, tcp, tcp4 and tcp6 URIs with a
// literal unicast IP address (the port defaults to 6363). Host names are
// refused: resolving them would block.
func parseFaceURI(s string) (scheme string, ap netip.AddrPort, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", ap, statusText("URI could not be canonized")
	}
	scheme = u.Scheme
	switch scheme {
	case "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6":
	default:
		return "", ap, statusText("Unsupported scheme " + scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return "", ap, statusText("URI could not be canonized")
	}
	host, port := u.Hostname(), uint16(6363)
	if ps := u.Port(); ps != "" {
		n, err := netip.ParseAddrPort("0.0.0.0:" + ps)
		if err != nil || n.Port() == 0 {
			return "", ap, statusText("URI could not be canonized")
		}
		port = n.Port()
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "", ap, statusText("URI must be IP")
	}
	addr = addr.Unmap()
	if !(addr.IsGlobalUnicast() || addr.IsLinkLocalUnicast() || addr.IsLoopback()) {
		return "", ap, statusText("URI must be unicast")
	}
	family := "4"
	if addr.Is6() {
		family = "6"
	}
	base := strings.TrimRight(scheme, "46")
	if scheme != base && !strings.HasSuffix(scheme, family) {
		return "", ap, statusText("URI address family does not match scheme " + scheme)
	}
	return base + family, netip.AddrPortFrom(addr, port), nil
}

// faceURI is ndnd's canonical remote URI, as face.FaceTable.GetByURI
// compares it.
func faceURI(scheme string, ap netip.AddrPort) *defn.URI {
	v := 4
	if ap.Addr().Is6() {
		v = 6
	}
	if strings.HasPrefix(scheme, "udp") {
		return defn.MakeUDPFaceURI(v, ap.Addr().String(), ap.Port())
	}
	return defn.MakeTCPFaceURI(v, ap.Addr().String(), ap.Port())
}

// refuse answers with an error status, counts it and logs it at WARN,
// rate-limited per status and command. Commands the guard refuses under
// /localhost/nfd are a fixed few; those under /localhop/nfd share one key,
// so that made-up command names cannot multiply the log lines.
func (g *mgmtGuard) refuse(out dispatch.OutPkt, code uint64, text string, args *mgmt.ControlArgs) {
	g.fwd.mgmt.refused.Add(1)
	name := out.Pkt.L3.Interest.NameV
	cmd := name[:min(len(name), 4)].String()
	key := cmd
	if name[0].Equal(enc.LOCALHOP) {
		key = defn.NON_LOCAL_PREFIX.String()
	}
	if ok, suppressed := g.warn.allow(fmt.Sprintf("%d %s", code, key)); ok {
		g.fwd.log.Warn("management command refused", "command", cmd, "status", code, "reason", text,
			"face", out.InFace, "suppressed", suppressed)
	}
	g.answer(out, code, text, args)
}

// answer sends a ControlResponse for out's Interest to the forwarding
// threads, as ndnd's management would: Data named as the Interest, Blob,
// freshness 0, DigestSha256, with the Interest's PIT token.
func (g *mgmtGuard) answer(out dispatch.OutPkt, code uint64, text string, args *mgmt.ControlArgs) {
	g.sendData(out, out.Pkt.L3.Interest.NameV, &ndn.DataConfig{
		ContentType: optional.Some(ndn.ContentTypeBlob),
		Freshness:   optional.Some(time.Duration(0)),
	}, g.controlResponse(code, text, args))
}

func (g *mgmtGuard) controlResponse(code uint64, text string, args *mgmt.ControlArgs) enc.Wire {
	if args == nil {
		args = &mgmt.ControlArgs{}
	}
	res := &mgmt.ControlResponse{Val: &mgmt.ControlResponseVal{StatusCode: code, StatusText: text, Params: args}}
	return res.Encode()
}

// sendData encodes a Data signed with DigestSha256 and queues it for out's
// Interest.
func (g *mgmtGuard) sendData(out dispatch.OutPkt, name enc.Name, cfg *ndn.DataConfig, content enc.Wire) {
	frame, err := g.encodeData(name, cfg, content)
	if err != nil {
		g.fwd.log.Warn("management answer not encoded", "name", name, "err", err)
		return
	}
	g.queueData(out, frame)
}

func (g *mgmtGuard) encodeData(name enc.Name, cfg *ndn.DataConfig, content enc.Wire) ([]byte, error) {
	data, err := spec.Spec{}.MakeData(name, cfg, content, g.signer)
	if err != nil {
		return nil, err
	}
	return data.Wire.Join(), nil
}

// queueData hands an encoded Data to the forwarding threads as if the
// management face had sent it, with out's PIT token. frame is not modified
// afterwards (stored dataset segments are sent more than once).
func (g *mgmtGuard) queueData(out dispatch.OutPkt, frame []byte) {
	l3, err := defn.ParseFwPacket(enc.NewBufferView(frame), false)
	if err != nil || l3.Data == nil {
		g.fwd.log.Warn("management answer not parsed", "name", out.Pkt.L3.Interest.NameV, "err", err)
		return
	}
	pkt := &defn.Pkt{
		IncomingFaceID: g.id,
		Raw:            enc.Wire{frame},
		L3:             l3,
		Name:           l3.Data.NameV,
		PitToken:       out.PitToken,
	}
	if len(out.PitToken) == 6 {
		if t := dispatch.GetFWThread(int(binary.BigEndian.Uint16(out.PitToken))); t != nil {
			t.QueueData(pkt)
			return
		}
	}
	for i, match := range ndnfw.HashNameToAllPrefixFwThreads(pkt.Name) {
		if match {
			dispatch.GetFWThread(i).QueueData(pkt)
		}
	}
}

// createFailure is NFD's text for a face that could not be made: for TCP
// that of its channel's connect (tcp-channel.cpp), otherwise its
// factories' "Face creation failed".
func createFailure(scheme string, err error) string {
	if !strings.HasPrefix(scheme, "tcp") {
		return "Face creation failed: " + err.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "Connection timed out"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return "Connection failed: " + strings.ToUpper(msg[:1]) + msg[1:]
	}
	return "Connection failed: " + err.Error()
}

// The rest of dispatch.Face is the management face's.

func (g *mgmtGuard) String() string          { return "mgmt-guard (" + g.real.String() + ")" }
func (g *mgmtGuard) SetFaceID(id uint64)     { g.real.SetFaceID(id) }
func (g *mgmtGuard) FaceID() uint64          { return g.id }
func (g *mgmtGuard) LocalURI() *defn.URI     { return g.real.LocalURI() }
func (g *mgmtGuard) RemoteURI() *defn.URI    { return g.real.RemoteURI() }
func (g *mgmtGuard) Scope() defn.Scope       { return g.real.Scope() }
func (g *mgmtGuard) LinkType() defn.LinkType { return g.real.LinkType() }
func (g *mgmtGuard) MTU() int                { return g.real.MTU() }
func (g *mgmtGuard) State() defn.State       { return g.real.State() }

// tokenBucket is a token bucket, safe for concurrent use. The clock is
// passed in, so that it can be tested without sleeping.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func (b *tokenBucket) init(rate, burst float64, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate, b.burst, b.tokens, b.last = rate, burst, burst, now
}

// take takes a token if there is one.
func (b *tokenBucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
