//go:build !race

package secinterop

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	"github.com/named-data/ndnd/std/security/trust_schema"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// syncData is what a member saw of a State Vector Data: its name (the
// naming form: /<g>/v=3 or /<g>/v=<µs>), signature type and KeyLocator,
// and for ours what the Validator said (nil, *security.RejectError or
// *wire.PendingError).
type syncData struct {
	name    enc.Name
	sigType ndn.SigType
	locator enc.Name
	err     error
}

func newSyncData(d ndn.Data) syncData {
	sd := syncData{name: d.Name().Clone(), sigType: ndn.SignatureNone}
	if s := d.Signature(); s != nil {
		sd.sigType = s.SigType()
		sd.locator = s.KeyName().Clone()
	}
	return sd
}

// version is the value of the Data name's last component, its version.
func (sd syncData) version() uint64 {
	if c := sd.name.At(-1); c.IsVersion() {
		return c.NumberVal()
	}
	return 0
}

// learner records the highest sequence number learned per (node, boot),
// and every update that is out of order or about the member itself.
type learner struct {
	self core.Name

	mu      sync.Mutex
	learned map[core.Key]uint64
	errs    []string
}

func (l *learner) learn(node core.Name, boot, low, high uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.learned == nil {
		l.learned = map[core.Key]uint64{}
	}
	k := core.Key{Node: node, Boot: boot}
	if node == l.self {
		l.errs = append(l.errs, fmt.Sprintf("update about itself: %d..%d", low, high))
	}
	if prev := l.learned[k]; low != prev+1 || high < low {
		l.errs = append(l.errs, fmt.Sprintf("update %d..%d after %d for %s", low, high, prev, node))
	}
	l.learned[k] = max(l.learned[k], high)
}

func (l *learner) get(k core.Key) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.learned[k]
}

// knows says whether any incarnation of node was ever learned.
func (l *learner) knows(node enc.Name) bool {
	n := wire.NameToCore(node)
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.learned {
		if k.Node == n {
			return true
		}
	}
	return false
}

func (l *learner) checkErrs(t testing.TB, who string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		t.Errorf("%s: %s", who, e)
	}
}

// ndndMember is ndnd v1.5.3's SvSync secured as an ndnd application is:
// an object client with a sec.TrustConfig over a KeyChainMem holding the
// anchor, its key and its certificate. The client answers any Interest
// from its store (its certificate, and each one TrustConfig fetched and
// validated), and its key name is routed to its face.
type ndndMember struct {
	learner
	node  enc.Name
	it    *ident
	sv    *ndnsync.SvSync
	store ndn.Store
	tap   *tapFace
}

func newNdndMember(t testing.TB, group enc.Name, schema *trust_schema.LvsSchema, root, me *ident, node string, changed signal) *ndndMember {
	t.Helper()
	m := &ndndMember{node: fwtest.Name(node), it: me}
	m.self = wire.NameToCore(m.node)
	af, err := testFwd.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	m.tap = &tapFace{Face: af, group: group, changed: changed}
	e := engine.NewBasicEngine(m.tap)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.Stop()
		_ = af.Close()
	})

	m.store = storage.NewMemoryStore()
	kc := keychain.NewKeyChainMem(m.store)
	for _, f := range []string{root.certFile, me.keyFile, me.certFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// InsertFile logs a bad entry and returns nil (so Suggest below).
		if err := keychain.InsertFile(kc, b); err != nil {
			t.Fatal(err)
		}
	}
	tc, err := sec.NewTrustConfig(kc, schema, []enc.Name{root.certName})
	if err != nil {
		t.Fatal(err)
	}
	// Without a signer ndnd's SvSync logs an error and sends nothing.
	if s := tc.Suggest(group); s == nil || !s.KeyName().Equal(me.key.KeyName()) {
		t.Fatalf("ndnd's TrustConfig suggests %v for %s, not %s", s, group, me.key.KeyName())
	}
	client := object.NewClient(e, m.store, tc)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	m.sv = ndnsync.NewSvSync(ndnsync.SvSyncOpts{
		Client:      client,
		GroupPrefix: group.Clone(),
		OnUpdate: func(u ndnsync.SvSyncUpdate) {
			m.learn(wire.NameToCore(u.Name), u.Boot, u.Low, u.High)
			changed.Notify()
		},
	})
	// SvSync registers no route; the client serves its certificate only
	// if Interests for it reach its face.
	if err := testFwd.AddRoute(group, af.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddCaptureRoute(me.key.KeyName(), af.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	if err := m.sv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.sv.Stop()
		_ = client.Stop()
	})
	return m
}

func (m *ndndMember) key() core.Key { return core.Key{Node: m.self, Boot: m.sv.GetBootTime()} }

func (m *ndndMember) publish() uint64 { return m.sv.IncrSeqNo(m.node) }

// holds says whether the ndnd client's store holds the certificate named
// exactly name: TrustConfig puts a fetched certificate there only after
// its chain validated.
func (m *ndndMember) holds(name enc.Name) bool {
	b, err := m.store.Get(name, false)
	return err == nil && b != nil
}

// tapFace is the ndnd member's face, seen from inside: it records what the
// forwarder hands the engine, in order, after the engine has queued it.
// ndnd's engine handles its queue on one goroutine, each packet to the end
// (a validation that needs no fetch included) before the next, so what
// arrived after a recorded packet is handled after it: the tests' barrier
// for "ndnd has seen and refused X".
type tapFace struct {
	*fw.Face
	group   enc.Name
	changed signal

	mu   sync.Mutex
	data []enc.Name // names of Data received (certificates)
	sync []syncData // State Vector Data of Sync Interests received
}

// OnPacket is what ndnd's engine calls to get the face's packets.
func (f *tapFace) OnPacket(onPkt func(frame []byte)) {
	f.Face.OnPacket(func(frame []byte) {
		// Parsed before onPkt returns: the face may reuse the frame after.
		pkt, _, _, err := ndnpkt.Read(frame)
		onPkt(frame)
		if err != nil {
			return
		}
		f.mu.Lock()
		switch {
		case pkt.Data != nil:
			f.data = append(f.data, pkt.Data.NameV.Clone())
		case pkt.Interest != nil && f.group.IsPrefix(pkt.Interest.NameV) && pkt.Interest.ApplicationParameters != nil:
			if d, _, err := ndnpkt.Data(enc.Wire(pkt.Interest.ApplicationParameters).Join()); err == nil {
				f.sync = append(f.sync, newSyncData(d))
			}
		}
		f.mu.Unlock()
		f.changed.Notify()
	})
}

// gotData counts the Data received named under prefix.
func (f *tapFace) gotData(prefix enc.Name) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.data {
		if prefix.IsPrefix(d) {
			n++
		}
	}
	return n
}

// gotSync returns the State Vector Data received so far whose signer
// matches pred.
func (f *tapFace) gotSync(pred func(syncData) bool) []syncData {
	f.mu.Lock()
	defer f.mu.Unlock()
	var r []syncData
	for _, s := range f.sync {
		if pred(s) {
			r = append(r, s)
		}
	}
	return r
}

// ourMember is one of this project's svs members on a bare face of the
// forwarder, as the node runs them. With trust it signs with trust's
// signer and validates with trust, fetching and serving certificates
// through an engine of its own (certApp); without, it signs with sign
// (nil: DigestSha256) and accepts every vector.
type ourMember struct {
	learner
	node  enc.Name
	trust *security.Trust
	s     *svs.Sync
	certs *certApp

	mu     sync.Mutex
	checks []syncData // every Validate call, in order
}

// ourOpts are the variations of ourMember.
type ourOpts struct {
	trust *security.Trust
	sign  ndn.Signer // without trust
	serve [][]byte   // certificates to serve without trust
	group enc.Name   // the group, always
	node  string     // the node name, always
}

func newOurMember(t testing.TB, o ourOpts, changed signal) *ourMember {
	t.Helper()
	m := &ourMember{node: fwtest.Name(o.node), trust: o.trust}
	m.self = wire.NameToCore(m.node)
	cfg := svs.Config{
		Group: o.group,
		Node:  m.node,
		OnUpdate: func(u svs.Update) {
			m.learn(u.Node, u.Boot, u.Low, u.High)
			changed.Notify()
		},
		Rand:   rand.New(rand.NewPCG(uint64(len(o.node)), uint64(time.Now().UnixNano()))),
		Signer: o.sign,
	}
	switch {
	case o.trust != nil:
		m.certs = newCertApp(t, o.trust.Lookup, o.trust.OwnChain())
		o.trust.SetFetcher(m.certs)
		s, err := o.trust.Signer(o.group)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Signer = s
		cfg.Validator = wire.ValidatorFunc(func(d ndn.Data, covered enc.Wire) error {
			err := o.trust.Validate(d, covered)
			sd := newSyncData(d)
			sd.err = err
			m.mu.Lock()
			m.checks = append(m.checks, sd)
			m.mu.Unlock()
			changed.Notify()
			return err
		})
	case len(o.serve) > 0:
		m.certs = newCertApp(t, lookupIn(o.serve), o.serve)
	}
	af := fwtest.BareFace(t, testFwd)
	registered := make(chan struct{})
	cfg.Register = func(p enc.Name) error {
		defer close(registered)
		return testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
	}
	s, err := svs.NewOnFace(af, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.s = s
	runSync(t, s, o.node, registered)
	return m
}

// runSync runs s until the test ends, and waits until ready is closed (its
// route is in place): a Run that returns first fails the test.
func runSync(t testing.TB, s *svs.Sync, node string, ready <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Run: %v", node, err)
		}
	})
	select {
	case <-ready:
	case err := <-runErr:
		runErr <- err // for the cleanup
		t.Fatalf("%s: Run returned early: %v", node, err)
	}
}

func (m *ourMember) key() core.Key { return core.Key{Node: m.s.Node(), Boot: m.s.Boot()} }

func (m *ourMember) publish(t testing.TB) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seq, err := m.s.PublishSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// checked returns the Validate calls so far whose signer matches pred.
func (m *ourMember) checked(pred func(syncData) bool) []syncData {
	m.mu.Lock()
	defer m.mu.Unlock()
	var r []syncData
	for _, c := range m.checks {
		if pred(c) {
			r = append(r, c)
		}
	}
	return r
}

// signedBy matches a State Vector Data whose KeyLocator names a key of
// identity id (any of the three KeyLocator forms).
func signedBy(id enc.Name) func(syncData) bool {
	prefix := id.Append(enc.NewGenericComponent("KEY"))
	return func(s syncData) bool { return prefix.IsPrefix(s.locator) }
}

// rejectedAs matches a Validate call refused for reason r.
func rejectedAs(r security.Reason) func(syncData) bool {
	return func(s syncData) bool {
		var rej *security.RejectError
		return errors.As(s.err, &rej) && rej.Reason == r
	}
}

func and(ps ...func(syncData) bool) func(syncData) bool {
	return func(s syncData) bool {
		for _, p := range ps {
			if !p(s) {
				return false
			}
		}
		return true
	}
}

// certApp is a member's certificate application: an ndnd engine on an
// in-process face of its own that answers Interests for the member's
// certificates (each key name routed to it with Capture: nothing else
// answers for them) and fetches others' certificates for the member's
// security.Trust (it is the Trust's Fetcher).
type certApp struct {
	e      ndn.Engine
	served atomic.Uint64 // Interests answered

	mu      sync.Mutex
	fetched []enc.Name // names fetched, in order
}

// lookupIn answers from a fixed set of certificates, by prefix.
func lookupIn(certs [][]byte) func(enc.Name, bool) []byte {
	return func(name enc.Name, canBePrefix bool) []byte {
		for _, raw := range certs {
			d, _, err := ndnpkt.Data(raw)
			if err == nil && (d.Name().Equal(name) || canBePrefix && name.IsPrefix(d.Name())) {
				return raw
			}
		}
		return nil
	}
}

func newCertApp(t testing.TB, lookup func(enc.Name, bool) []byte, serve [][]byte) *certApp {
	t.Helper()
	e, af := fwtest.Engine(t, testFwd)
	a := &certApp{e: e}
	for _, raw := range serve {
		d, _, err := ndnpkt.Data(raw)
		if err != nil {
			t.Fatal(err)
		}
		key := d.Name().Prefix(-2) // /<id>/KEY/<kid>
		if err := e.AttachHandler(key, func(args ndn.InterestHandlerArgs) {
			i := args.Interest
			if raw := lookup(i.Name(), i.CanBePrefix()); raw != nil && args.Reply(enc.Wire{raw}) == nil {
				a.served.Add(1)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if err := testFwd.AddCaptureRoute(key, af.FaceID(), 0, fw.OriginApp); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// certLifetime is the lifetime of a certificate Interest: an answer comes
// from the same process or not at all.
const certLifetime = time.Second

// FetchCert records name and fetches it through the forwarder, as the
// node does (security.EngineFetcher): the security.Fetcher of the
// member's Trust.
func (a *certApp) FetchCert(name enc.Name, done func([]byte, error)) {
	a.mu.Lock()
	a.fetched = append(a.fetched, name.Clone())
	a.mu.Unlock()
	security.EngineFetcher{Engine: a.e, Lifetime: certLifetime}.FetchCert(name, done)
}

// fetchedUnder lists the names fetched under prefix.
func (a *certApp) fetchedUnder(prefix enc.Name) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var r []string
	for _, n := range a.fetched {
		if prefix.IsPrefix(n) {
			r = append(r, n.String())
		}
	}
	return r
}

// newTrust loads a member's security.Trust from its files, as the node
// does from its [security] table: chain mode, the key's own type.
func newTrust(t testing.TB, group enc.Name, schema *trust_schema.LvsSchema, root, me *ident) *security.Trust {
	t.Helper()
	var typ string
	switch me.key.Type() {
	case ndn.SignatureEd25519:
		typ = "ed25519"
	case ndn.SignatureSha256WithEcdsa:
		typ = "ecdsa"
	default:
		t.Fatalf("key type %v", me.key.Type())
	}
	tr, err := security.New(security.Config{
		Signer:    typ,
		KeyFiles:  []string{me.keyFile, me.certFile},
		Anchors:   []string{root.certFile},
		Schema:    schema,
		SignNames: []enc.Name{group.Append(enc.NewVersionComponent(3))},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
