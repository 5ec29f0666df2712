//go:build !race

package secinterop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/trust_schema"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/security/lvs"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// pubSchema is groupSchema with the two publication rules of
// docs/security.md ("Set up a secured group"), for members whose node
// name is their identity /<g>/m/<name>: a member signs its own
// publications only, under the shared name /<g>/<g>/m/<name>/t=<boot>/seq=<n>
// (version and segment stripped) and the per-node name
// /<g>/m/<name>/<g>/t=<boot>/seq=<n> (segment stripped). The pattern
// variable name takes one value in the Data name and in the certificate.
func pubSchema(t testing.TB, groupLVS string) *trust_schema.LvsSchema {
	t.Helper()
	src := fmt.Sprintf(`// the sync group of one test, with publications
#g: %s
#KEY: "KEY"/_/_/_
#root: #g/#KEY
#member: #g/"m"/name/#KEY <= #root
#svdata: #g <= #member
#shared: #g/#g/"m"/name/_/_ <= #member
#own: #g/"m"/name/#g/_/_ <= #member
`, groupLVS)
	s, err := lvs.Load([]byte(src))
	if err != nil {
		t.Fatalf("schema:\n%s\n%v", src, err)
	}
	return s
}

// pubWorld is a secured group whose members have publication layers.
type pubWorld struct {
	t       testing.TB
	group   enc.Name
	schema  *trust_schema.LvsSchema
	dir     string
	root    *ident
	changed signal
}

func newPubWorld(t testing.TB) *pubWorld {
	t.Helper()
	group, glvs := testGroup(t)
	w := &pubWorld{t: t, group: group, schema: pubSchema(t, glvs), dir: t.TempDir(), changed: newSignal()}
	w.root = newRoot(t, w.dir, group)
	return w
}

// member is the identity /<g>/m/<name>, which is also the node name.
func (w *pubWorld) member(name string) enc.Name {
	return w.group.Append(enc.NewGenericComponent("m"), enc.NewGenericComponent(name))
}

// pubMember is one of this project's svs members with a publication
// layer, on a bare face, signing with its key and validating with its
// security.Trust; its certificates travel through a certApp.
type pubMember struct {
	node  enc.Name
	it    *ident
	trust *security.Trust
	s     *svs.Sync
	certs *certApp
	face  *fw.Face
	store *notifyStore // what it serves to others

	mu     sync.Mutex
	msgs   map[core.Key][]svs.Message
	missed []svs.Missed
	checks []syncData // every Validate call (vectors and publications), in order
}

// addMember starts a member /<g>/m/<name> with a key of typ and waits
// until every route of its publication layer is in place. mod, if not
// nil, changes its svs.Config (after the security settings are made).
func (w *pubWorld) addMember(name, typ string, mod func(*svs.Config)) *pubMember {
	w.t.Helper()
	return w.addMemberOn(name, typ, mod, nil)
}

// addMemberBehind starts a member as addMember does, whose shared-layer
// answers leave after the forger's (see behindFace).
func (w *pubWorld) addMemberBehind(name, typ string, mod func(*svs.Config), f *forger) (*pubMember, *behindFace) {
	w.t.Helper()
	var bf *behindFace
	m := w.addMemberOn(name, typ, mod, func(af *fw.Face) ndn.Face {
		bf = &behindFace{Face: af, f: f, answered: map[string]int{}}
		return bf
	})
	return m, bf
}

func (w *pubWorld) addMemberOn(name, typ string, mod func(*svs.Config), wrap func(*fw.Face) ndn.Face) *pubMember {
	t := w.t
	t.Helper()
	it := w.root.issue(t, w.dir, w.member(name), typ)
	m := &pubMember{node: it.id, it: it, msgs: map[core.Key][]svs.Message{}}
	sample := func(n enc.Name) enc.Name {
		return n.Append(enc.NewTimestampComponent(1), enc.NewSequenceNumComponent(1))
	}
	tr, err := security.New(security.Config{
		Signer:   typ,
		KeyFiles: []string{it.keyFile, it.certFile},
		Anchors:  []string{w.root.certFile},
		Schema:   w.schema,
		// What the member signs: its vector, and its publications under
		// both names. New refuses a schema that allows less.
		SignNames: []enc.Name{
			w.group.Append(enc.NewVersionComponent(3)),
			sample(append(w.group.Clone(), it.id...)),
			sample(append(it.id.Clone(), w.group...)),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.trust = tr
	m.certs = newCertApp(t, tr.Lookup, tr.OwnChain())
	tr.SetFetcher(m.certs)
	sign, err := tr.Signer(w.group)
	if err != nil {
		t.Fatal(err)
	}

	store, err := svs.NewMemoryStorage(svs.StorageConfig{Own: svs.DefaultMemoryRetention, Fetched: svs.DefaultMemoryRetention})
	if err != nil {
		t.Fatal(err)
	}
	m.store = &notifyStore{MemoryStorage: store, changed: w.changed}
	af := fwtest.BareFace(t, testFwd)
	m.face = af
	routed := make(chan struct{})
	cfg := svs.Config{
		Group: w.group,
		Node:  m.node,
		Rand:  rand.New(rand.NewPCG(uint64(len(name)), uint64(time.Now().UnixNano()))),
		Register: func(p enc.Name) error {
			return testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
		},
		Signer: sign,
		Validator: wire.ValidatorFunc(func(d ndn.Data, covered enc.Wire) error {
			err := tr.Validate(d, covered)
			c := newSyncData(d)
			c.err = err
			m.mu.Lock()
			m.checks = append(m.checks, c)
			m.mu.Unlock()
			w.changed.Notify()
			return err
		}),
		Data: &svs.DataConfig{
			Storage: m.store,
			// The node's way: /<g>/<node> to this member alone. Run
			// registers it last, after /<g> and /<node>/<g>.
			RegisterOwn: func(p enc.Name) error {
				defer close(routed)
				return testFwd.AddCaptureRoute(p, af.FaceID(), 0, fw.OriginApp)
			},
			OnMessage: func(msg svs.Message) {
				m.mu.Lock()
				k := core.Key{Node: wire.NameToCore(msg.Node), Boot: msg.Boot}
				m.msgs[k] = append(m.msgs[k], msg)
				m.mu.Unlock()
				w.changed.Notify()
			},
			OnMissed: func(ms svs.Missed) {
				m.mu.Lock()
				m.missed = append(m.missed, ms)
				m.mu.Unlock()
				w.changed.Notify()
			},
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	var face ndn.Face = af
	if wrap != nil {
		face = wrap(af)
	}
	s, err := svs.NewOnFace(face, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.s = s
	runSync(t, s, m.node.String(), routed)
	return m
}

func (m *pubMember) key() core.Key {
	return core.Key{Node: m.s.Node(), Boot: m.s.Boot()}
}

// publish publishes payload and returns its sequence number.
func (m *pubMember) publish(t testing.TB, payload []byte) svs.Published {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := m.s.Publish(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// delivered returns the Messages of producer k delivered so far, and the
// publications of any producer reported missed.
func (m *pubMember) delivered(k core.Key) ([]svs.Message, []svs.Missed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]svs.Message(nil), m.msgs[k]...), append([]svs.Missed(nil), m.missed...)
}

// checked returns the Validate calls so far that match pred.
func (m *pubMember) checked(pred func(syncData) bool) []syncData {
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

// under matches a checked Data named under prefix.
func under(prefix enc.Name) func(syncData) bool {
	return func(s syncData) bool { return prefix.IsPrefix(s.name) }
}

// refused matches a Validate call that refused (any reason).
func refused(s syncData) bool {
	var rej *security.RejectError
	return errors.As(s.err, &rej)
}

// forger is an attacker's face on the forwarder, routed on a producer's
// shared prefix /<g>/<node> beside the producer. It answers the first
// limit Interests of each segment name (every one if limit is 0) with a
// Data of its own under that name, signed by sign, whose content starts
// with forgedPrefix. It answers on the forwarding thread (OnFrame), with
// Data signed in advance where it can (prepare: the names follow from the
// node, boot and sequence numbers every Sync Interest carries). Its answer
// is the one that satisfies the PIT entry when it comes back first, which
// a producer on a behindFace makes sure of; without a Content Store (the
// forwarder's default) the producer's later answer is then dropped.
type forger struct {
	prefix enc.Name
	sign   ndn.Signer
	limit  int
	face   *fw.Face

	sent   atomic.Uint64 // forged Data sent
	inline atomic.Uint64 // of them, signed on arrival (not prepared)
	fails  atomic.Uint64 // forged Data that could not be made or sent

	mu      sync.Mutex
	seen    map[string]int    // Interests per segment name
	handled map[string]int    // of them, answered or let pass
	ready   map[string][]byte // Data signed in advance, by name
	moved   chan struct{}     // closed and replaced when handled grows
}

// forgedPrefix starts every forged payload, so that a delivered forgery
// is recognisable.
const forgedPrefix = "forged: "

func newForger(t testing.TB, prefix enc.Name, sign ndn.Signer, limit int) *forger {
	t.Helper()
	f := &forger{
		prefix: prefix.Clone(), sign: sign, limit: limit,
		seen: map[string]int{}, handled: map[string]int{}, ready: map[string][]byte{}, moved: make(chan struct{}),
	}
	f.face = fwtest.BareFace(t, testFwd)
	f.face.OnFrame(f.onFrame)
	f.face.OnPacket(func([]byte) {})
	f.face.OnError(func(error) {})
	if err := f.face.Open(); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddRoute(prefix, f.face.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	return f
}

// prepare signs forgeries of segments 0..segs-1 of the producer's
// publication (boot, seq) in the shared layer.
func (f *forger) prepare(t testing.TB, boot, seq uint64, segs int) {
	t.Helper()
	base := f.prefix.Append(enc.NewTimestampComponent(boot), enc.NewSequenceNumComponent(seq),
		enc.NewVersionComponent(enc.VersionImmutable))
	for i := range segs {
		name := base.Append(enc.NewSegmentComponent(uint64(i)))
		raw, err := f.make(name)
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.ready[name.TlvStr()] = raw
		f.mu.Unlock()
	}
}

// make signs a forgery named name. It claims to be the last segment, so
// that, accepted, it would end the publication with the forger's payload.
func (f *forger) make(name enc.Name) ([]byte, error) {
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{
		ContentType:  optional.Some(ndn.ContentTypeBlob),
		Freshness:    optional.Some(4 * time.Second),
		FinalBlockID: optional.Some(name[len(name)-1]),
	}, enc.Wire{[]byte(forgedPrefix + name.String())}, f.sign)
	if err != nil {
		return nil, err
	}
	return d.Wire.Join(), nil
}

func (f *forger) onFrame(frame []byte) {
	pkt, _, nack, err := ndnpkt.Read(frame)
	if err != nil || pkt.Interest == nil || nack != 0 {
		return
	}
	name := pkt.Interest.NameV
	if len(name) == 0 || !f.prefix.IsPrefix(name) || name[len(name)-1].Typ != enc.TypeSegmentNameComponent {
		return
	}
	key := name.TlvStr()
	f.mu.Lock()
	f.seen[key]++
	n := f.seen[key]
	raw := f.ready[key]
	f.mu.Unlock()
	defer f.done(key)
	if f.limit > 0 && n > f.limit {
		return
	}
	if raw != nil {
		// Send owns what it is given: a copy each time.
		raw = bytes.Clone(raw)
	} else {
		f.inline.Add(1)
		if raw, err = f.make(name.Clone()); err != nil {
			f.fails.Add(1)
			return
		}
	}
	if err := f.face.Send(enc.Wire{raw}); err != nil {
		f.fails.Add(1)
		return
	}
	f.sent.Add(1)
}

// done records that the forger is through with one more Interest for key
// (its forgery, if any, is queued on the forwarder).
func (f *forger) done(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handled[key]++
	close(f.moved)
	f.moved = make(chan struct{})
}

// waitHandled waits until the forger is through with n Interests for key,
// or timeout passes; it reports which.
func (f *forger) waitHandled(key string, n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		h, moved := f.handled[key], f.moved
		f.mu.Unlock()
		if h >= n {
			return true
		}
		select {
		case <-moved:
		case <-deadline.C:
			return false
		}
	}
}

// behindFace is a producer's face on which its answers in the shared
// layer leave after the forger's: its k-th Data of a segment name is sent
// once the forger is through with its k-th Interest for that name. The
// forwarder hands an Interest to both on one thread, one after the other
// in an order of its own, and the producer answers from a goroutine, so
// which answer came back first was up to the scheduler (on a loaded
// machine the forger lost every race of a run); the forger is made the
// nearer of the two. The wait ends after a second in any case (counted
// in unordered), should an Interest reach the producer alone.
type behindFace struct {
	*fw.Face // OnFrame included: the member still receives on the forwarding thread
	f        *forger

	unordered atomic.Uint64

	mu       sync.Mutex
	answered map[string]int
}

// Send holds a Data of the forger's prefix until the forger is through
// with as many Interests for its name as the producer answered.
func (b *behindFace) Send(pkt enc.Wire) error {
	if p, _, _, err := ndnpkt.Read(pkt.Join()); err == nil && p.Data != nil && b.f.prefix.IsPrefix(p.Data.NameV) {
		key := p.Data.NameV.TlvStr()
		b.mu.Lock()
		b.answered[key]++
		k := b.answered[key]
		b.mu.Unlock()
		if !b.f.waitHandled(key, k, time.Second) {
			b.unordered.Add(1)
		}
	}
	return b.Face.Send(pkt)
}

// payloads are the test's publications: one byte, one of two segments,
// one of 13 (svs.SegmentSize is 8000), random but for their first byte,
// which is never the first of forgedPrefix.
func payloads(seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed))
	var ps [][]byte
	for _, n := range []int{1, 10 << 10, 100 << 10} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		p[0] = 0xA5
		ps = append(ps, p)
	}
	return ps
}

// checkDelivered fails the test unless msgs are exactly want, in order.
func checkDelivered(t testing.TB, who string, msgs []svs.Message, want [][]byte) {
	t.Helper()
	if len(msgs) != len(want) {
		t.Errorf("%s delivered %d publications, want %d", who, len(msgs), len(want))
	}
	for i, m := range msgs {
		switch {
		case bytes.HasPrefix(m.Bytes(), []byte(forgedPrefix)):
			t.Errorf("%s delivered a forgery as seq %d: %.60q", who, m.Seq, m.Bytes())
		case i < len(want) && !bytes.Equal(m.Bytes(), want[i]):
			t.Errorf("%s delivered seq %d with %d bytes, not the %d published", who, m.Seq, m.Size(), len(want[i]))
		}
	}
}

// notifyStore is a member's MemoryStorage that signals every store of
// fetched publications: the member stores them on a goroutine of its own,
// after or before it delivers them.
type notifyStore struct {
	*svs.MemoryStorage
	changed signal
}

func (s *notifyStore) PutFetched(pubs ...svs.Publication) error {
	err := s.MemoryStorage.PutFetched(pubs...)
	s.changed.Notify()
	return err
}

// stored says whether m's store holds publications 1..n of producer k.
func (m *pubMember) stored(k core.Key, n int) bool {
	for seq := 1; seq <= n; seq++ {
		if _, err := m.store.Fetched(k.Node, k.Boot, uint64(seq)); err != nil {
			return false
		}
	}
	return true
}

// checkStored waits until m's store holds publications 1..len(want) of
// producer k and fails the test unless they are exactly want, each
// segment a Data that m's Trust accepts: what m serves to members that
// ask it.
func checkStored(t testing.TB, sig signal, m *pubMember, k core.Key, want [][]byte) {
	t.Helper()
	waitUntil(t, sig, 10*time.Second, func() bool { return m.stored(k, len(want)) },
		func() string { return fmt.Sprintf("%s stored not all of %d publications", m.node, len(want)) })
	for i, p := range want {
		pub, err := m.store.Fetched(k.Node, k.Boot, uint64(i+1))
		if err != nil {
			t.Errorf("%s stored no seq %d: %v", m.node, i+1, err)
			continue
		}
		var got []byte
		for _, raw := range pub.Segments {
			d, covered, err := ndnpkt.Data(raw)
			if err != nil {
				t.Errorf("%s stored an unreadable segment of seq %d: %v", m.node, i+1, err)
				break
			}
			if err := m.trust.Validate(d, covered); err != nil {
				t.Errorf("%s stored %s, which it refuses: %v", m.node, d.Name(), err)
			}
			got = append(got, d.Content().Join()...)
		}
		if !bytes.Equal(got, p) {
			t.Errorf("%s stored %d bytes for seq %d, not the %d published", m.node, len(got), i+1, len(p))
		}
	}
}

// describePub says what each member delivered and its counters.
func describePub(k core.Key, ms ...*pubMember) string {
	var b strings.Builder
	for _, m := range ms {
		msgs, missed := m.delivered(k)
		fmt.Fprintf(&b, "\n%s: delivered %d, missed %v\n  data %+v\n  security %+v",
			m.node, len(msgs), missed, m.s.DataStats(), m.trust.Stats())
	}
	return b.String()
}
