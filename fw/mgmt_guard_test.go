package fw

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// mgmtCmd sends a signed NFD command Interest through e (ndnd's engine
// builds and signs it) and returns the ControlResponse's status.
func mgmtCmd(t *testing.T, e ndn.Engine, module, verb string, args *mgmt.ControlArgs) (uint64, *mgmt.ControlResponseVal) {
	t.Helper()
	res, err := e.ExecMgmtCmd(module, verb, args)
	cr, _ := res.(*mgmt.ControlResponse)
	if cr == nil || cr.Val == nil {
		t.Fatalf("%s/%s: no ControlResponse: %v", module, verb, err)
	}
	return cr.Val.StatusCode, cr.Val
}

func wantStatus(t *testing.T, what string, got uint64, val *mgmt.ControlResponseVal, want uint64) {
	t.Helper()
	if got != want {
		t.Errorf("%s: status %d (%s), want %d", what, got, val.StatusText, want)
	}
}

func strategyArgs(t *testing.T, prefix, strategy string) *mgmt.ControlArgs {
	return &mgmt.ControlArgs{
		Name:     mustName(t, prefix),
		Strategy: &mgmt.Strategy{Name: mustName(t, "/localhost/nfd/strategy/"+strategy)},
	}
}

// A sync group's strategy cannot be changed or unset through management,
// on the group prefix or under it; other prefixes still can.
func TestMgmtGuardRefusesStrategyChangeOnSyncGroup(t *testing.T) {
	group := mustName(t, "/test/mgmt/group")
	if err := testFwd.SetStrategy(group, "multicast"); err != nil {
		t.Fatal(err)
	}
	testFwd.ProtectStrategy(group)
	e, _ := newEngine(t)
	refused := testFwd.Counters().MgmtRefused

	code, val := mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/group", "best-route"))
	wantStatus(t, "set on the group", code, val, statusForbidden)
	if !strings.Contains(val.StatusText, "/test/mgmt/group") {
		t.Errorf("reason %q does not name the group", val.StatusText)
	}
	code, val = mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/group/v=3", "best-route"))
	wantStatus(t, "set under the group", code, val, statusForbidden)
	code, val = mgmtCmd(t, e, "strategy-choice", "unset", &mgmt.ControlArgs{Name: group})
	wantStatus(t, "unset on the group", code, val, statusForbidden)

	if s := testFwd.Strategy(mustName(t, "/test/mgmt/group/v=3/x")).String(); !strings.Contains(s, "multicast") {
		t.Errorf("group strategy is now %s", s)
	}
	if n := testFwd.Counters().MgmtRefused - refused; n != 3 {
		t.Errorf("MgmtRefused grew by %d, want 3", n)
	}

	// Elsewhere management works as before (ndnd answers).
	code, val = mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/other", "multicast"))
	wantStatus(t, "set elsewhere", code, val, statusOK)
	if s := testFwd.Strategy(mustName(t, "/test/mgmt/other")).String(); !strings.Contains(s, "multicast") {
		t.Errorf("strategy elsewhere is %s", s)
	}
	code, val = mgmtCmd(t, e, "strategy-choice", "unset", &mgmt.ControlArgs{Name: mustName(t, "/test/mgmt/other")})
	wantStatus(t, "unset elsewhere", code, val, statusOK)
}

// foreignFace is a face in ndnd's face table that is not ndnd's
// *face.NDNLPLinkService, as the node's own faces are.
type foreignFace struct {
	face.LinkService
	remote *defn.URI
}

func (f *foreignFace) RemoteURI() *defn.URI {
	if f.remote != nil {
		return f.remote
	}
	return f.LinkService.RemoteURI()
}

// addForeignFace registers a foreignFace (not running: packets sent to it
// wait in its queue) and removes it at the end of the test.
func addForeignFace(t *testing.T, remote *defn.URI) *foreignFace {
	t.Helper()
	ff := &foreignFace{
		LinkService: face.MakeNDNLPLinkService(face.MakeInternalTransport(), face.MakeNDNLPLinkServiceOptions()),
		remote:      remote,
	}
	face.FaceTable.Add(ff)
	t.Cleanup(func() { face.FaceTable.Remove(ff.FaceID()) })
	return ff
}

// faces/update on a face of another type than ndnd's NDNLP link service
// would panic ndnd's management (an unchecked type assertion) and end the
// process; the guard answers it instead.
func TestMgmtGuardAnswersFaceUpdateOnForeignFaces(t *testing.T) {
	ff := addForeignFace(t, defn.MakeUDPFaceURI(4, "192.0.2.1", 6363))
	id := ff.FaceID()
	e, _ := newEngine(t)

	code, val := mgmtCmd(t, e, "faces", "update", &mgmt.ControlArgs{FaceId: optional.Some(id), Mtu: optional.Some(uint64(1000))})
	wantStatus(t, "MTU", code, val, statusOK)
	if ff.MTU() != 1000 {
		t.Errorf("MTU %d, want 1000", ff.MTU())
	}
	if got := val.Params.FaceId.GetOr(0); got != id {
		t.Errorf("answer for face %d, want %d", got, id)
	}
	for _, tc := range []struct {
		what string
		args *mgmt.ControlArgs
		want uint64
	}{
		{"persistent", &mgmt.ControlArgs{FacePersistency: optional.Some(uint64(mgmt.PersistencyPersistent))}, statusOK},
		{"on-demand", &mgmt.ControlArgs{FacePersistency: optional.Some(uint64(mgmt.PersistencyOnDemand))}, statusConflict},
		{"local fields on", &mgmt.ControlArgs{
			Flags: optional.Some(mgmt.FaceFlagLocalFieldsEnabled), Mask: optional.Some(mgmt.FaceFlagLocalFieldsEnabled)}, statusConflict},
		{"local fields off", &mgmt.ControlArgs{
			Flags: optional.Some(uint64(0)), Mask: optional.Some(mgmt.FaceFlagLocalFieldsEnabled)}, statusOK},
		{"flags without mask", &mgmt.ControlArgs{Flags: optional.Some(uint64(0))}, statusConflict},
		{"congestion", &mgmt.ControlArgs{BaseCongestionMarkInterval: optional.Some(uint64(time.Millisecond))}, statusConflict},
	} {
		tc.args.FaceId = optional.Some(id)
		code, val := mgmtCmd(t, e, "faces", "update", tc.args)
		wantStatus(t, tc.what, code, val, tc.want)
	}

	// The management thread is alive, and ndnd still answers for its own
	// faces: the in-process face (no FaceId: the requester's) is internal.
	code, val = mgmtCmd(t, e, "faces", "update", &mgmt.ControlArgs{Mtu: optional.Some(uint64(1000))})
	wantStatus(t, "own in-process face", code, val, statusUnauthorized)
	code, val = mgmtCmd(t, e, "faces", "update", &mgmt.ControlArgs{FaceId: optional.Some(uint64(1 << 40))})
	wantStatus(t, "no such face", code, val, statusNotFound)
}

// setCreateHooks replaces how faces/create makes faces for the test.
func setCreateHooks(t *testing.T, create func(string, mgmt.Persistency) (uint64, error), scheme func(string) bool) {
	t.Helper()
	g := testFwd.mgmt.guard.Load()
	g.hookMu.Lock()
	oldCreate, oldScheme := g.create, g.scheme
	g.create, g.scheme = create, scheme
	g.hookMu.Unlock()
	t.Cleanup(func() {
		g.hookMu.Lock()
		g.create, g.scheme = oldCreate, oldScheme
		g.hookMu.Unlock()
	})
}

// faces/create never reaches ndnd: a disabled or unknown scheme is refused
// with 406, an existing face with 409 and its FaceId, and otherwise the
// node makes the face itself.
func TestMgmtGuardFaceCreate(t *testing.T) {
	e, _ := newEngine(t)
	for _, tc := range []struct {
		uri  string
		want uint64
	}{
		{"udp4://127.0.0.1:6363", statusNotAccepted}, // UDP is off in the test forwarder
		{"tcp4://127.0.0.1:6363", statusNotAccepted},
		{"ether://[01:00:5e:00:17:aa]", statusNotAccepted},
		{"udp4://example.com:6363", statusNotAccepted},
		{"udp4://224.0.23.170:56363", statusNotAccepted},
		{"udp6://127.0.0.1:6363", statusNotAccepted},
	} {
		code, val := mgmtCmd(t, e, "faces", "create", &mgmt.ControlArgs{Uri: optional.Some(tc.uri)})
		wantStatus(t, tc.uri, code, val, tc.want)
	}
	code, val := mgmtCmd(t, e, "faces", "create", &mgmt.ControlArgs{})
	wantStatus(t, "no URI", code, val, statusBadParams)
	for _, ls := range face.FaceTable.GetAll() {
		if s := ls.RemoteURI().Scheme(); strings.HasPrefix(s, "udp") || strings.HasPrefix(s, "tcp") {
			t.Fatalf("a refused faces/create made face %d (%s)", ls.FaceID(), ls.RemoteURI())
		}
	}

	// With the scheme enabled, the node's own function makes the face.
	var made []string
	setCreateHooks(t, func(uri string, p mgmt.Persistency) (uint64, error) {
		made = append(made, fmt.Sprintf("%s %d", uri, p))
		ap := strings.TrimPrefix(uri, "udp4://")
		ff := addForeignFace(t, defn.MakeUDPFaceURI(4, strings.Split(ap, ":")[0], 7000))
		return ff.FaceID(), nil
	}, func(string) bool { return true })

	code, val = mgmtCmd(t, e, "faces", "create", &mgmt.ControlArgs{
		Uri: optional.Some("udp://127.0.0.1:7000"), FacePersistency: optional.Some(uint64(mgmt.PersistencyPermanent))})
	wantStatus(t, "create", code, val, statusOK)
	id := val.Params.FaceId.GetOr(0)
	if id == 0 || face.FaceTable.Get(id) == nil {
		t.Fatalf("created face %d not in the face table", id)
	}
	if want := []string{"udp4://127.0.0.1:7000 2"}; fmt.Sprint(made) != fmt.Sprint(want) {
		t.Errorf("made %v, want %v", made, want)
	}
	code, val = mgmtCmd(t, e, "faces", "create", &mgmt.ControlArgs{Uri: optional.Some("udp4://127.0.0.1:7000")})
	wantStatus(t, "create again", code, val, statusConflict)
	if got := val.Params.FaceId.GetOr(0); got != id {
		t.Errorf("conflict names face %d, want %d", got, id)
	}
	code, val = mgmtCmd(t, e, "faces", "create", &mgmt.ControlArgs{
		Uri: optional.Some("udp4://127.0.0.2:7000"), FacePersistency: optional.Some(uint64(mgmt.PersistencyOnDemand))})
	wantStatus(t, "on-demand", code, val, statusNotAccepted)
	if len(made) != 1 {
		t.Errorf("made %v, want one face", made)
	}
}

// hopFace makes ndnd's engine believe it is on a non-unix transport, where
// it sends its commands to /localhop/nfd.
type hopFace struct{ *Face }

func (hopFace) IsLocal() bool { return false }

// nonLocalFace is an in-process face the forwarder sees as non-local.
type nonLocalFace struct{ *Face }

func (nonLocalFace) Scope() defn.Scope { return defn.NonLocal }

func hopEngine(t *testing.T, nonLocal bool) (ndn.Engine, *Face) {
	t.Helper()
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	if nonLocal {
		dispatch.AddFace(af.FaceID(), nonLocalFace{af})
	}
	e := engine.NewBasicEngine(hopFace{af})
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop(); af.Close() })
	return e, af
}

// Route registration on /localhop/nfd, as ndnd's clients send it over TCP,
// is accepted from local faces and refused with 403 from others; nothing
// else is accepted on /localhop/nfd.
func TestMgmtGuardLocalhopRegister(t *testing.T) {
	prefix := mustName(t, "/test/mgmt/localhop")
	e, af := hopEngine(t, false)
	if err := e.RegisterRoute(prefix); err != nil {
		t.Fatalf("register from a local face: %v", err)
	}
	if hops := testFwd.NextHops(prefix); len(hops) != 1 || hops[0] != af.FaceID() {
		t.Fatalf("next hops %v, want [%d]", hops, af.FaceID())
	}
	if err := e.UnregisterRoute(prefix); err != nil {
		t.Fatalf("unregister from a local face: %v", err)
	}
	if hops := testFwd.NextHops(prefix); len(hops) != 0 {
		t.Fatalf("next hops %v after unregister", hops)
	}
	code, val := mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/localhop", "multicast"))
	wantStatus(t, "localhop strategy-choice", code, val, statusForbidden)
	code, val = mgmtCmd(t, e, "faces", "create", &mgmt.ControlArgs{Uri: optional.Some("udp4://127.0.0.1:6363")})
	wantStatus(t, "localhop faces/create", code, val, statusForbidden)

	far, _ := hopEngine(t, true)
	code, val = mgmtCmd(t, far, "rib", "register", &mgmt.ControlArgs{Name: prefix})
	wantStatus(t, "register from a non-local face", code, val, statusForbidden)
	if hops := testFwd.NextHops(prefix); len(hops) != 0 {
		t.Fatalf("next hops %v after a refused register", hops)
	}
}

// A flood of management Interests is dropped over the bound and counted;
// those within it are answered (rib/list/<anything> is a dataset request).
func TestMgmtGuardBoundsRequests(t *testing.T) {
	g := testFwd.mgmt.guard.Load()
	const n, burst = 200, 5
	start := time.Now()
	g.bucket.init(1, burst, start)
	t.Cleanup(func() {
		g.bucket.init(float64(testFwd.cfg.Mgmt.RequestsPerSecond), float64(testFwd.cfg.Mgmt.Burst), time.Now())
	})
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { af.Close() })
	answers := make(chan struct{}, n)
	af.OnPacket(func([]byte) { answers <- struct{}{} })
	af.OnError(func(error) {})
	if err := af.Open(); err != nil {
		t.Fatal(err)
	}
	dropped := testFwd.Counters().MgmtDropped
	// Names and nonces of this run only: the forwarder's Dead Nonce List
	// remembers a previous run's (go test -count=N) and would drop them as
	// loops before they reach the guard.
	run := rand.Uint64()
	for i := range n {
		name := mustName(t, fmt.Sprintf("/localhost/nfd/rib/list/flood%d-%d", run, i))
		cfg := &ndn.InterestConfig{Lifetime: optional.Some(4 * time.Second), Nonce: optional.Some(rand.Uint32())}
		in, err := spec.Spec{}.MakeInterest(name, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := af.Send(in.Wire); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until every request is accounted for, answered or dropped, so
	// that none is still on its way when the next test (or run) sets the
	// bucket.
	answered := 0
	deadline := time.After(10 * time.Second)
	for answered+int(testFwd.Counters().MgmtDropped-dropped) < n {
		select {
		case <-answers:
			answered++
		case <-time.After(time.Millisecond): // the drop counter has no signal
		case <-deadline:
			t.Fatalf("after 10 s: %d answered, %d dropped, of %d", answered, testFwd.Counters().MgmtDropped-dropped, n)
		}
	}
	// Within the bound: the burst, and what the rate added meanwhile.
	bound := burst + int(time.Since(start).Seconds()) + 1
	if answered < 1 || answered > bound {
		t.Errorf("%d of %d requests answered, want 1 to %d", answered, n, bound)
	}
	if got := int(testFwd.Counters().MgmtDropped - dropped); got != n-answered {
		t.Errorf("MgmtDropped grew by %d, want %d", got, n-answered)
	}
}

// The bucket refills at its rate up to its burst.
func TestTokenBucket(t *testing.T) {
	var b tokenBucket
	t0 := time.Unix(1000, 0)
	b.init(10, 3, t0)
	var got []bool
	for range 4 {
		got = append(got, b.take(t0))
	}
	got = append(got, b.take(t0.Add(50*time.Millisecond)), b.take(t0.Add(100*time.Millisecond)))
	got = append(got, b.take(t0.Add(time.Hour)), b.take(t0.Add(time.Hour)), b.take(t0.Add(time.Hour)), b.take(t0.Add(time.Hour)))
	want := []bool{true, true, true, false, false, true, true, true, true, false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseFaceURI(t *testing.T) {
	for _, tc := range []struct{ in, scheme, ap, err string }{
		{"udp4://192.0.2.1:6363", "udp4", "192.0.2.1:6363", ""},
		{"udp://192.0.2.1", "udp4", "192.0.2.1:6363", ""},
		{"tcp://[2001:db8::1]:7000", "tcp6", "[2001:db8::1]:7000", ""},
		{"tcp4://[2001:db8::1]:7000", "", "", "family"},
		{"udp4://host.example:6363", "", "", "must be IP"},
		{"udp4://0.0.0.0:6363", "", "", "unicast"},
		{"udp4://192.0.2.1:0", "", "", "canonized"},
		{"unix:///run/nfd.sock", "", "", "Unsupported scheme"},
		{"ws://192.0.2.1:9696", "", "", "Unsupported scheme"},
	} {
		scheme, ap, err := parseFaceURI(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || scheme != tc.scheme || ap.String() != tc.ap {
			t.Errorf("%s: %s %s %v, want %s %s", tc.in, scheme, ap, err, tc.scheme, tc.ap)
		}
	}
}

// The node's own unix-socket face, from a client on it: ndnd's management
// would panic on faces/update for it; the guard answers, and ndnd's
// management keeps answering afterwards.
func TestMgmtGuardFaceUpdateOnUnixFace(t *testing.T) {
	e := newUnixEngine(t)
	code, val := mgmtCmd(t, e, "faces", "update", &mgmt.ControlArgs{
		Flags: optional.Some(mgmt.FaceFlagLocalFieldsEnabled), Mask: optional.Some(mgmt.FaceFlagLocalFieldsEnabled)})
	wantStatus(t, "local fields on", code, val, statusConflict)
	id := val.Params.FaceId.GetOr(0)
	ls := face.FaceTable.Get(id)
	if ls == nil {
		t.Fatalf("answer names face %d, not in the face table", id)
	}
	if _, isLP := ls.(*face.NDNLPLinkService); isLP || ls.LocalURI().Scheme() != "unix" {
		t.Fatalf("face %d is %T on %s, want the node's own unix face", id, ls, ls.LocalURI())
	}
	code, val = mgmtCmd(t, e, "faces", "update", &mgmt.ControlArgs{FacePersistency: optional.Some(uint64(mgmt.PersistencyPermanent))})
	wantStatus(t, "unix permanent", code, val, statusConflict)
	code, val = mgmtCmd(t, e, "faces", "update", &mgmt.ControlArgs{FacePersistency: optional.Some(uint64(mgmt.PersistencyPersistent))})
	wantStatus(t, "unix persistent", code, val, statusOK)
	code, val = mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/unix", "multicast"))
	wantStatus(t, "management still up", code, val, statusOK)
}

// outInterest is a command Interest as a forwarding thread hands it to a face.
func outInterest(t *testing.T, name string) dispatch.OutPkt {
	t.Helper()
	in, err := spec.Spec{}.MakeInterest(mustName(t, name), &ndn.InterestConfig{Nonce: optional.Some(uint32(1))}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l3, err := defn.ParseFwPacket(enc.NewWireView(in.Wire), false)
	if err != nil {
		t.Fatal(err)
	}
	return dispatch.OutPkt{Pkt: &defn.Pkt{Raw: in.Wire, L3: l3, Name: l3.Interest.NameV}}
}

// Refusals are logged at WARN, once per status and command per period
// (every /localhop/nfd command under one key), with the count held back.
func TestMgmtGuardLogsRefusalsRateLimited(t *testing.T) {
	var out bytes.Buffer
	g := &mgmtGuard{
		fwd:    &Forwarder{log: slog.New(slog.NewTextHandler(&out, nil))},
		warn:   newRateLimiter(logEvery),
		signer: signer.NewSha256Signer(),
	}
	now := time.Unix(1000, 0)
	g.warn.now = func() time.Time { return now }
	for range 3 {
		g.refuse(outInterest(t, "/localhost/nfd/strategy-choice/set/x"), statusForbidden, "fixed", nil)
	}
	for i := range 3 {
		g.refuse(outInterest(t, fmt.Sprintf("/localhop/nfd/made-up/verb%d/x", i)), statusForbidden, "no", nil)
	}
	if n := strings.Count(out.String(), "level=WARN"); n != 2 {
		t.Fatalf("%d WARN lines, want 2:\n%s", n, out.String())
	}
	out.Reset()
	now = now.Add(logEvery)
	g.refuse(outInterest(t, "/localhost/nfd/strategy-choice/set/y"), statusForbidden, "fixed", nil)
	if got := out.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "suppressed=2") ||
		!strings.Contains(got, "status=403") {
		t.Errorf("after the period: %s", got)
	}
	if n := g.fwd.mgmt.refused.Load(); n != 7 {
		t.Errorf("refused %d, want 7", n)
	}
}

// faces/destroy cannot close management's face or an in-process face; it
// still closes others.
func TestMgmtGuardRefusesDestroyingInternalFaces(t *testing.T) {
	e, af := newEngine(t)
	g := testFwd.mgmt.guard.Load()
	for _, id := range []uint64{g.id, af.FaceID()} {
		code, val := mgmtCmd(t, e, "faces", "destroy", &mgmt.ControlArgs{FaceId: optional.Some(id)})
		wantStatus(t, fmt.Sprintf("destroy face %d", id), code, val, statusUnauthorized)
		if face.FaceTable.Get(id) == nil {
			t.Errorf("face %d destroyed", id)
		}
	}
	code, val := mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/destroy", "multicast"))
	wantStatus(t, "management still up", code, val, statusOK)

	ff := addForeignFace(t, defn.MakeUDPFaceURI(4, "192.0.2.9", 6363))
	code, val = mgmtCmd(t, e, "faces", "destroy", &mgmt.ControlArgs{FaceId: optional.Some(ff.FaceID())})
	wantStatus(t, "destroy a network face", code, val, statusOK)
}

// No client can route management's own prefixes to itself.
func TestMgmtGuardRefusesRoutesToManagementPrefixes(t *testing.T) {
	e, _ := newEngine(t)
	hop, _ := hopEngine(t, false)
	for _, tc := range []struct {
		e      ndn.Engine
		prefix string
	}{
		{e, "/localhost/nfd"}, {e, "/localhost/nfd/rib"}, {e, "/localhop/nfd"}, {hop, "/localhop/nfd/faces"},
	} {
		code, val := mgmtCmd(t, tc.e, "rib", "register", &mgmt.ControlArgs{Name: mustName(t, tc.prefix)})
		wantStatus(t, "register "+tc.prefix, code, val, statusForbidden)
	}
	if hops := testFwd.NextHops(mustName(t, "/localhost/nfd/rib/register")); len(hops) != 1 || hops[0] != testFwd.mgmt.guard.Load().id {
		t.Errorf("next hops of management %v", hops)
	}
	// Elsewhere under /localhost is allowed, as in NFD.
	if err := e.RegisterRoute(mustName(t, "/localhost/test-service")); err != nil {
		t.Errorf("register /localhost/test-service: %v", err)
	}
}
