package svs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// Tests of the publication layer with the real forwarder: members on
// in-process faces of the test forwarder, as the node runs them.

// pubMember is a member with a publication layer, recording every Message
// and Missed its OnMessage and OnMissed see.
type pubMember struct {
	name  enc.Name
	group enc.Name
	s     *Sync
	face  *fw.Face
	stop  func() // stops Run and waits; idempotent

	mu     sync.Mutex
	msgs   map[core.Key][]Message
	missed []Missed
	errs   []string
}

// newPubMember starts a member of group named node with a publication
// layer (on a bare face if bare, else on an ndn engine) and waits until
// its routes are in place. changed is notified after every delivery.
func newPubMember(t testing.TB, group enc.Name, node string, changed signal, bare bool, mod func(*Config)) *pubMember {
	t.Helper()
	return newPubMemberWrapped(t, group, node, changed, bare, nil, mod)
}

// newPubMemberWrapped is newPubMember with the bare face wrapped by wrap,
// if bare and wrap is not nil.
func newPubMemberWrapped(t testing.TB, group enc.Name, node string, changed signal, bare bool, wrap func(*fw.Face) ndn.Face, mod func(*Config)) *pubMember {
	t.Helper()
	var e ndn.Engine
	var af *fw.Face
	if bare {
		af = fwtest.BareFace(t, testFwd)
	} else {
		e, af = newEngine(t)
	}
	m := &pubMember{name: mustName(node), group: group, face: af, msgs: map[core.Key][]Message{}}
	var routes sync.Mutex
	var routed []enc.Name
	registered := make(chan struct{})
	cfg := Config{
		Group: group,
		Node:  m.name,
		Register: func(p enc.Name) error {
			err := testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
			routes.Lock()
			defer routes.Unlock()
			if routed = append(routed, p); len(routed) == 2 {
				close(registered)
			}
			return err
		},
		Rand: rand.New(rand.NewPCG(uint64(len(node)), uint64(time.Now().UnixNano()))),
		Data: &DataConfig{
			// The node's way: /<group>/<node> to this member alone.
			RegisterOwn: func(p enc.Name) error { return testFwd.AddCaptureRoute(p, af.FaceID(), 0, fw.OriginApp) },
			OnMessage:   func(msg Message) { m.onMessage(msg); changed.Notify() },
			OnMissed:    func(ms Missed) { m.onMissed(ms); changed.Notify() },
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	var s *Sync
	var err error
	switch {
	case bare && wrap != nil:
		s, err = NewOnFace(wrap(af), cfg)
	case bare:
		s, err = NewOnFace(af, cfg)
	default:
		s, err = New(e, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.s = s
	s.hook = changed.Notify
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	var once sync.Once
	m.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-runErr; err != nil && err != context.Canceled {
				t.Errorf("%s: Run: %v", node, err)
			}
		})
	}
	t.Cleanup(m.stop)
	// Run registers the group, then the per-node prefix.
	select {
	case <-registered:
	case err := <-runErr:
		runErr <- err // for stop
		t.Fatalf("%s: Run returned early: %v", node, err)
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: routes %v, want the group and /<node>/<group>", node, routed)
	}
	return m
}

func (m *pubMember) onMessage(msg Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := keyOf(msg.Node, msg.Boot)
	prev := m.msgs[k]
	if n := len(prev); n > 0 && msg.Seq <= prev[n-1].Seq {
		m.errs = append(m.errs, fmt.Sprintf("%s: seq %d after %d", msg.Node, msg.Seq, prev[n-1].Seq))
	}
	if want := wire.PublicationName(msg.Node, m.group, msg.Boot, msg.Seq); !msg.Name.Equal(want) {
		m.errs = append(m.errs, fmt.Sprintf("name %s for seq %d", msg.Name, msg.Seq))
	}
	m.msgs[k] = append(prev, msg)
}

func (m *pubMember) onMissed(ms Missed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.missed = append(m.missed, ms)
}

func (m *pubMember) received(k core.Key) []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.msgs[k])
}

func (m *pubMember) missedCopy() []Missed {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.missed)
}

func (m *pubMember) key() core.Key { return core.Key{Node: m.s.Node(), Boot: m.s.Boot()} }

// status is m's DataStats and what it missed, for a wait's failure.
func (m *pubMember) status() string {
	return fmt.Sprintf("%+v missed %v", m.s.DataStats(), m.missedCopy())
}

func (m *pubMember) checkErrs(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.errs {
		t.Errorf("%s: %s", m.name, e)
	}
}

// payload returns n deterministic bytes that differ per (seed, n).
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func publishOK(t testing.TB, m *pubMember, p []byte) Published {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := m.s.Publish(ctx, p)
	if err != nil {
		t.Fatalf("%s: Publish(%d bytes): %v", m.name, len(p), err)
	}
	return pub
}

// Publications of 1 byte to 1 MiB, from every member of a group of four
// (two on bare faces as the node runs them, two on ndn engines), reach
// every other member intact, each producer's in order, with their v3
// names; and each producer serves them under its per-node v3 name too.
func TestPublishDeliversPayloadsIntact(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var ms []*pubMember
	for i, bare := range []bool{true, true, false, false} {
		ms = append(ms, newPubMember(t, group, fmt.Sprintf("/pub/m%d", i), changed, bare, nil))
	}
	sizes := []int{1, 0, 100, SegmentSize, SegmentSize + 1, 3*SegmentSize - 7, 64 << 10, 1 << 20}
	sums := map[core.Key][][32]byte{}
	for i, size := range sizes {
		m := ms[i%len(ms)]
		p := payload(uint64(i), size)
		pub := publishOK(t, m, p)
		want := wire.PublicationName(m.name, group, m.s.Boot(), pub.Seq)
		if !pub.Name.Equal(want) || pub.Boot != m.s.Boot() {
			t.Errorf("Published %+v, want boot %d and name %s", pub, m.s.Boot(), want)
		}
		sums[m.key()] = append(sums[m.key()], sha256.Sum256(p))
	}
	complete := func() bool {
		for _, m := range ms {
			for k, want := range sums {
				if k != m.key() && len(m.received(k)) < len(want) {
					return false
				}
			}
		}
		return true
	}
	waitUntil(t, changed, 30*time.Second, complete, func() string {
		var b strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&b, "\n%s: %s", m.name, m.status())
		}
		return b.String()
	})
	for _, m := range ms {
		m.checkErrs(t)
		for k, want := range sums {
			if k == m.key() {
				continue
			}
			got := m.received(k)
			if len(got) != len(want) {
				t.Errorf("%s: %d publications of %q, want %d", m.name, len(got), k.Node, len(want))
				continue
			}
			for i, msg := range got {
				if msg.Seq != uint64(i+1) || sha256.Sum256(msg.Bytes()) != want[i] {
					t.Errorf("%s: publication %d of %s: seq %d, %d bytes, payload differs", m.name, i+1, msg.Node, msg.Seq, msg.Size())
				}
			}
		}
		if mi := m.missedCopy(); len(mi) > 0 {
			t.Errorf("%s: missed %v", m.name, mi)
		}
		if st := m.s.DataStats(); st.BadData != 0 || st.StoreErrors != 0 {
			t.Errorf("%s: %+v", m.name, st)
		}
	}

	// The per-node layer: the 1 MiB publication by its v3 name, segment
	// by segment, from an application on its own face.
	big := ms[(len(sizes)-1)%len(ms)]
	seq := uint64(len(sums[big.key()]))
	e, _ := newEngine(t)
	base := wire.PublicationName(big.name, group, big.s.Boot(), seq)
	var got []byte
	for i, last := uint64(0), uint64(0); i <= last; i++ {
		raw := expressData(t, e, base.Append(enc.NewSegmentComponent(i)), false)
		sg, err := readSegment(raw, base, i, wire.DigestSha256)
		if err != nil {
			t.Fatalf("per-node segment %d: %v", i, err)
		}
		last = sg.last
		got = append(got, sg.content...)
	}
	if sha256.Sum256(got) != sums[big.key()][seq-1] {
		t.Errorf("per-node layer: %d bytes, payload differs", len(got))
	}
}

// expressData sends an Interest for name on e and returns the Data's wire.
func expressData(t testing.TB, e ndn.Engine, name enc.Name, canBePrefix bool) []byte {
	t.Helper()
	intr, err := e.Spec().MakeInterest(name, &ndn.InterestConfig{
		CanBePrefix: canBePrefix,
		Lifetime:    optionalDuration(2 * time.Second),
		Nonce:       optionalNonce(),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan ndn.ExpressCallbackArgs, 1)
	if err := e.Express(intr, func(a ndn.ExpressCallbackArgs) { res <- a }); err != nil {
		t.Fatal(err)
	}
	a := <-res
	if a.Result != ndn.InterestResultData {
		t.Fatalf("%s: %v (nack %d, err %v)", name, a.Result, a.NackReason, a.Error)
	}
	return a.RawData.Join()
}

// A subscriber and an OnMessage callback may publish: a member that echoes
// every message it gets, from a subscription and from its callback, does
// not deadlock, and the echoes come back.
func TestPublishFromSubscriberAndCallback(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var echoer *pubMember
	echoed := make(chan error, 64)
	echoer = newPubMember(t, group, "/echo/e", changed, true, func(c *Config) {
		c.Data.OnMessage = func(msg Message) {
			if bytes.HasPrefix(msg.Bytes(), []byte("ping")) {
				_, err := echoer.s.Publish(context.Background(), append([]byte("cb-echo:"), msg.Bytes()...))
				echoed <- err
			}
		}
	})
	sub, err := echoer.s.Subscribe(SubscribeOptions{InOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for msg := range sub.C {
			_, err := echoer.s.Publish(context.Background(), append([]byte("sub-echo:"), msg.Bytes()...))
			echoed <- err
		}
	}()
	asker := newPubMember(t, group, "/echo/a", changed, false, nil)
	const n = 5
	for i := range n {
		publishOK(t, asker, fmt.Appendf(nil, "ping %d", i))
	}
	for range 2 * n {
		select {
		case err := <-echoed:
			if err != nil {
				t.Fatalf("publish from a subscriber or callback: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("echoes not published: deadlock?")
		}
	}
	waitUntil(t, changed, 10*time.Second, func() bool { return len(asker.received(echoer.key())) == 2*n },
		func() string {
			return fmt.Sprintf("asker got %d echoes: %+v", len(asker.received(echoer.key())), asker.s.DataStats())
		})
	cb, sb := 0, 0
	for _, msg := range asker.received(echoer.key()) {
		switch {
		case bytes.HasPrefix(msg.Bytes(), []byte("cb-echo:ping")):
			cb++
		case bytes.HasPrefix(msg.Bytes(), []byte("sub-echo:ping")):
			sb++
		}
	}
	if cb != n || sb != n || sub.Dropped() != 0 {
		t.Errorf("%d callback and %d subscriber echoes (%d dropped), want %d each", cb, sb, sub.Dropped(), n)
	}
	sub.Close()
	sub.Close()
	if _, ok := <-sub.C; ok {
		t.Error("C still open after Close")
	}
	asker.checkErrs(t)
	echoer.checkErrs(t)
}

// fastGiveUp makes a member give up quickly: short segment lifetime, two
// attempts, small backoff.
func fastGiveUp(c *Config) {
	c.Data.SegmentLifetime = 100 * time.Millisecond
	c.Data.SegmentRetries = 1
	c.Data.Fetch = core.FetchConfig{MaxAttempts: 2, AttemptTimeout: 2 * time.Second,
		BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, StallAfter: 2}
}

// A producer that announces publications but never serves them (a member
// without a publication layer) is given up on: OnMissed reports every
// number, in order, and sync and the fetching of others go on.
func TestFetchGivesUpOnSilentProducer(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	m := newPubMember(t, group, "/silent/m", changed, true, fastGiveUp)
	silent := newMember(t, group, "/silent/producer", changed, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const n = 6
	for range n {
		if _, err := silent.s.PublishSeq(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sk := silent.key()
	missedAll := func() bool {
		var c uint64
		for _, ms := range m.missedCopy() {
			if keyOf(ms.Node, ms.Boot) == sk {
				c += ms.High - ms.Low + 1
			}
		}
		return c == n
	}
	waitUntil(t, changed, 20*time.Second, missedAll, func() string {
		return fmt.Sprintf("missed %v, %+v", m.missedCopy(), m.s.DataStats())
	})
	next := uint64(1)
	for _, ms := range m.missedCopy() {
		if ms.Low != next || ms.Reason == "" {
			t.Errorf("missed %+v, want from %d with a reason", ms, next)
		}
		next = ms.High + 1
	}
	st := m.s.DataStats()
	if st.FetchFailures == 0 || st.Missed != n || st.Fetched != 0 {
		t.Errorf("stats %+v", st)
	}
	// Sync and fetching go on.
	other := newPubMember(t, group, "/silent/other", changed, false, nil)
	publishOK(t, other, []byte("still here"))
	waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(other.key())) == 1 },
		func() string { return fmt.Sprintf("%+v", m.s.DataStats()) })
	m.checkErrs(t)
}

// Bad Data from a producer (a wrong signature under a DigestSha256
// validator, another name, a segment past its FinalBlockId, a truncated
// packet) are counted, fail their attempt, and end in OnMissed; the
// member keeps syncing and fetching.
func TestFetchRejectsBadData(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	m := newPubMember(t, group, "/bad/m", changed, true, func(c *Config) {
		fastGiveUp(c)
		c.Validator = wire.DigestSha256
	})
	liar := newMember(t, group, "/bad/liar", changed, nil)
	// The liar's publications are answered by a raw face with bad Data.
	e, af := newEngine(t)
	liarPrefix := group.Append(mustName("/bad/liar")...)
	// encodeSegments with a nil signer would not sign: use DigestSha256.
	encodeSegments := func(base enc.Name, p []byte, _ ndn.Signer) ([][]byte, error) {
		return encodeSegments(base, p, sig.NewSha256Signer())
	}
	if err := testFwd.AddRoute(liarPrefix, af.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	var served sync.Map
	err := e.AttachHandler(liarPrefix, func(args ndn.InterestHandlerArgs) {
		name := args.Interest.Name()
		seq := name[len(name)-3].NumberVal()
		base := name[:len(name)-1]
		var raw []byte
		switch seq {
		case 1: // wrong signature value
			segs, _ := encodeSegments(base, []byte("forged"), nil)
			raw = segs[0]
			raw[len(raw)-1] ^= 0xff
		case 2: // no segment FinalBlockId
			d, err := e.Spec().MakeData(name, &ndn.DataConfig{
				FinalBlockID: optional.Some(enc.NewGenericComponent("last")),
			}, enc.Wire{[]byte("x")}, sig.NewSha256Signer())
			if err != nil {
				t.Error(err)
				return
			}
			raw = d.Wire.Join()
		case 3: // truncated: the forwarder drops it, the fetch times out
			segs, _ := encodeSegments(base, payload(3, 2*SegmentSize), nil)
			raw = segs[0][:len(segs[0])/2]
		}
		served.Store(seq, true)
		_ = args.Reply(enc.Wire{raw})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		if _, err := liar.s.PublishSeq(ctx); err != nil {
			t.Fatal(err)
		}
	}
	lk := liar.key()
	waitUntil(t, changed, 20*time.Second, func() bool {
		var c uint64
		for _, ms := range m.missedCopy() {
			if keyOf(ms.Node, ms.Boot) == lk {
				c += ms.High - ms.Low + 1
			}
		}
		return c == 3
	}, m.status)
	st := m.s.DataStats()
	if st.BadData < 2 || st.Fetched != 0 {
		t.Errorf("stats %+v: want bad data counted and nothing fetched", st)
	}
	for _, ms := range m.missedCopy() {
		if ms.Last != core.FetchInvalid && ms.Last != core.FetchTimeout {
			t.Errorf("missed %+v: want invalid or timeout", ms)
		}
	}
	other := newPubMember(t, group, "/bad/other", changed, false, nil)
	publishOK(t, other, []byte("good"))
	waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(other.key())) == 1 },
		func() string { return fmt.Sprintf("%+v", m.s.DataStats()) })
}

// A producer answers for its own publications that it no longer holds
// (retention removed them) with an application Nack, and the fetcher
// reports them missed as unavailable at once instead of retrying.
func TestFetchUnavailable(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	store, err := NewMemoryStorage(StorageConfig{Own: Retention{MaxCount: 1}})
	if err != nil {
		t.Fatal(err)
	}
	prod := newPubMember(t, group, "/gone/p", changed, true, func(c *Config) { c.Data.Storage = store })
	for i := range 3 {
		publishOK(t, prod, []byte{byte(i)})
	}
	m := newPubMember(t, group, "/gone/m", changed, true, nil)
	waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(prod.key())) == 1 && len(m.missedCopy()) > 0 },
		func() string {
			return fmt.Sprintf("got %d, missed %v, %+v", len(m.received(prod.key())), m.missedCopy(), m.s.DataStats())
		})
	var c uint64
	for _, ms := range m.missedCopy() {
		if ms.Reason != "unavailable" {
			t.Errorf("missed %+v, want unavailable", ms)
		}
		c += ms.High - ms.Low + 1
	}
	if got := m.received(prod.key()); c != 2 || got[0].Seq != 3 || m.s.DataStats().Unavailable != 2 {
		t.Errorf("missed %d, got seq %d, %+v", c, got[0].Seq, m.s.DataStats())
	}
}

// Errors of Publish and Subscribe without a publication layer, and
// a payload over the bound.
func TestPublishErrors(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	plain := newMember(t, group, "/err/plain", changed, nil)
	if _, err := plain.s.Publish(context.Background(), nil); !errors.Is(err, ErrNoData) {
		t.Errorf("Publish without Data: %v", err)
	}
	if _, err := plain.s.Subscribe(SubscribeOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("Subscribe without Data: %v", err)
	}
	m := newPubMember(t, group, "/err/m", changed, true, nil)
	if _, err := m.s.Publish(context.Background(), make([]byte, MaxPayloadSize+1)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversized payload: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.s.Publish(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: %v", err)
	}
}

func optionalDuration(d time.Duration) optional.Optional[time.Duration] { return optional.Some(d) }

func optionalNonce() optional.Optional[uint32] { return optional.Some(rand.Uint32()) }

// A slow application bounds what the member fetches ahead of it: with
// OnMessage stuck on the first of 200 publications, the member fetches a
// bounded number (DeliveryQueue, plus 4·Window handed to the scheduler)
// and stops; released, it delivers all 200 in order. A subscription that
// is never read drops what does not fit and counts it.
func TestDeliveryBoundsASlowApplication(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/slow/p", changed, true, nil)
	const n = 200
	for i := range n {
		publishOK(t, prod, fmt.Appendf(nil, "%d", i+1))
	}
	gate := make(chan struct{})
	var gateOnce sync.Once
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	cons := newPubMember(t, group, "/slow/c", changed, true, func(c *Config) {
		c.Data.DeliveryQueue = 4
		c.Data.Fetch.Window = 4
		inner := c.Data.OnMessage
		c.Data.OnMessage = func(m Message) {
			if m.Seq == 1 {
				<-gate
			}
			inner(m)
		}
	})
	t.Cleanup(openGate)
	stuck, err := cons.s.Subscribe(SubscribeOptions{Buffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Being held back is seen on a counter that nothing signals: look
	// at it now and then.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	ticks := newSignal()
	go func() {
		for range tick.C {
			ticks.Notify()
		}
	}()
	waitUntil(t, ticks, 10*time.Second, func() bool { return cons.s.DataStats().HeldBack > 0 },
		func() string { return fmt.Sprintf("never held back: %+v", cons.s.DataStats()) })
	// Fetching must stay stopped: nothing signals that nothing happens,
	// so the scenario watches each fetch (an unordered subscription) for
	// 300 ms of the application being stuck.
	watch, err := cons.s.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const bound = 2*(4+4*4) + 1
	quiet := time.NewTimer(300 * time.Millisecond)
	defer quiet.Stop()
watching:
	for {
		if st := cons.s.DataStats(); st.Fetched > bound {
			t.Fatalf("fetched %d ahead of a stuck application, want at most %d", st.Fetched, bound)
		}
		select {
		case <-watch.C:
		case <-quiet.C:
			break watching
		}
	}
	watch.Close()
	openGate()
	pk := prod.key()
	waitUntil(t, changed, 20*time.Second, func() bool { return len(cons.received(pk)) == n },
		func() string { return fmt.Sprintf("%d delivered: %+v", len(cons.received(pk)), cons.s.DataStats()) })
	for i, m := range cons.received(pk) {
		if m.Seq != uint64(i+1) || string(m.Bytes()) != fmt.Sprint(i+1) {
			t.Fatalf("delivery %d: seq %d %q", i, m.Seq, m.Bytes())
		}
	}
	if d := stuck.Dropped(); d != n-1 || cons.s.DataStats().SubDropped != n-1 {
		t.Errorf("unread subscription dropped %d (stats %d), want %d", d, cons.s.DataStats().SubDropped, n-1)
	}
	cons.checkErrs(t)
}

// PublishBatch numbers its payloads consecutively, stores them at once and
// announces them together; a member receives them in order among single
// publications made at the same time. An oversized batch is refused.
func TestPublishBatch(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/batch/p", changed, true, nil)
	cons := newPubMember(t, group, "/batch/c", changed, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var batch [][]byte
	for i := range 100 {
		batch = append(batch, payload(uint64(i), i*10))
	}
	singles := make(chan Published, 10)
	go func() {
		for i := range 10 {
			p, err := prod.s.Publish(ctx, []byte{byte(i)})
			if err != nil {
				t.Error(err)
			}
			singles <- p
		}
	}()
	pubs, err := prod.s.PublishBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pubs {
		if p.Seq != pubs[0].Seq+uint64(i) {
			t.Fatalf("batch numbers %d then %d", pubs[0].Seq, p.Seq)
		}
	}
	bySeq := map[uint64][]byte{}
	for i, p := range pubs {
		bySeq[p.Seq] = batch[i]
	}
	for range 10 {
		if p := <-singles; p.Seq >= pubs[0].Seq && p.Seq <= pubs[len(pubs)-1].Seq {
			t.Errorf("a single publication took %d, inside the batch", p.Seq)
		}
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cons.received(pk)) == 110 },
		func() string { return fmt.Sprintf("%d: %+v", len(cons.received(pk)), cons.s.DataStats()) })
	for i, m := range cons.received(pk) {
		if m.Seq != uint64(i+1) {
			t.Fatalf("delivery %d has seq %d", i, m.Seq)
		}
		if want, ok := bySeq[m.Seq]; ok && !bytes.Equal(m.Bytes(), want) {
			t.Errorf("seq %d: payload differs", m.Seq)
		}
	}
	if _, err := prod.s.PublishBatch(ctx, make([][]byte, MaxBatch+1)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversized batch: %v", err)
	}
	cons.checkErrs(t)
}

// The shared layer: a member that fetched a publication serves it when
// its producer is gone. A late joiner learns the producer's numbers from
// the one who stayed, asks the producer, hears nothing, asks again
// (CanBePrefix) and gets the copies from the cacher, intact.
func TestSharedLayerServesAfterTheProducerLeft(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/shared/p", changed, true, nil)
	cacher := newPubMember(t, group, "/shared/c", changed, true, nil)
	var sums [][32]byte
	for i, n := range []int{10, 3 * SegmentSize} {
		p := payload(uint64(50+i), n)
		publishOK(t, prod, p)
		sums = append(sums, sha256.Sum256(p))
	}
	pk := prod.key()
	waitUntil(t, changed, 10*time.Second, func() bool { return len(cacher.received(pk)) == 2 },
		func() string { return fmt.Sprintf("%+v", cacher.s.DataStats()) })
	prod.stop()
	served := cacher.s.DataStats().Served

	late := newPubMember(t, group, "/shared/late", changed, false, nil)
	waitUntil(t, changed, 10*time.Second, func() bool { return len(late.received(pk)) == 2 },
		late.status)
	for i, m := range late.received(pk) {
		if sha256.Sum256(m.Bytes()) != sums[i] {
			t.Errorf("publication %d from the cacher differs", i+1)
		}
	}
	if got := cacher.s.DataStats().Served - served; got < 4 {
		t.Errorf("cacher served %d segments, want the 4 of both publications", got)
	}
	late.checkErrs(t)
}

// Lost packets: a producer that drops 30 % of the segment Interests it
// gets (seeded) still has its publications of 25 segments delivered
// intact, by segment retries within an attempt and retried attempts.
func TestFetchRecoversLostSegments(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	m := newPubMember(t, group, "/lossy/m", changed, true, func(c *Config) {
		c.Data.SegmentLifetime = 200 * time.Millisecond
		c.Data.Fetch = core.FetchConfig{BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
	})
	announcer := newMember(t, group, "/lossy/p", changed, nil)
	e, af := newEngine(t)
	prefix := group.Append(mustName("/lossy/p")...)
	if err := testFwd.AddRoute(prefix, af.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	const n, size = 3, 25 * SegmentSize
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 7))
	dropped, answered := 0, 0
	err := e.AttachHandler(prefix, func(args ndn.InterestHandlerArgs) {
		name := args.Interest.Name()
		seq, seg := name[len(name)-3].NumberVal(), name[len(name)-1].NumberVal()
		mu.Lock()
		drop := rng.Float64() < 0.3
		if drop {
			dropped++
		} else {
			answered++
		}
		mu.Unlock()
		if drop {
			return
		}
		segs, err := encodeSegments(name[:len(name)-1], payload(seq, size), sig.NewSha256Signer())
		if err != nil || seg >= uint64(len(segs)) {
			t.Error(err)
			return
		}
		_ = args.Reply(enc.Wire{segs[seg]})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range n {
		if _, err := announcer.s.PublishSeq(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pk := announcer.key()
	waitUntil(t, changed, 30*time.Second, func() bool { return len(m.received(pk)) == n },
		m.status)
	for i, msg := range m.received(pk) {
		if !bytes.Equal(msg.Bytes(), payload(uint64(i+1), size)) {
			t.Errorf("publication %d differs", i+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if dropped == 0 || len(m.missedCopy()) != 0 {
		t.Errorf("dropped %d of %d, missed %v", dropped, dropped+answered, m.missedCopy())
	}
	t.Logf("dropped %d of %d segment Interests; %+v", dropped, dropped+answered, m.s.DataStats())
}

func TestUpdateNodeName(t *testing.T) {
	n := mustName("/a/b/c")
	if got := (Update{Node: wire.NameToCore(n)}).NodeName(); !got.Equal(n) {
		t.Errorf("NodeName %s, want %s", got, n)
	}
	if got := (Update{Node: core.Name("\x08\x05ab")}).NodeName(); got != nil {
		t.Errorf("NodeName of a truncated name: %s, want nil", got)
	}
}

// Close before Run closes the subscriptions, and Subscribe after it
// fails.
func TestSubscribeAndCloseBeforeRun(t *testing.T) {
	s, err := NewOnFace(fwtest.BareFace(t, testFwd), Config{
		Group: testGroup(t), Node: mustName("/close/m"),
		Register: func(enc.Name) error { return nil },
		Data:     &DataConfig{},
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, ok := <-sub.C; ok {
		t.Error("C open after Close")
	}
	if _, err := s.Subscribe(SubscribeOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	if _, err := s.Publish(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
}

// With RegisterOwn routing /<group>/<node> to its member alone (a capture
// route, newPubMember's default), a fetch of a member's publications
// reaches only its producer; with the group's inherited route instead
// (RegisterOwn nil), it reaches every member on the forwarder too: here a
// member without a publication layer, which counts each in Stats.Ignored.
func TestRegisterOwnKeepsFetchesFromOtherMembers(t *testing.T) {
	const pubs = 10
	for _, capture := range []bool{true, false} {
		what := "inherited"
		if capture {
			what = "captured"
		}
		t.Run(what, func(t *testing.T) {
			group := testGroup(t)
			changed := newSignal()
			var mod func(*Config)
			if !capture {
				mod = func(c *Config) { c.Data.RegisterOwn = nil }
			}
			prod := newPubMember(t, group, "/own/p", changed, true, mod)
			fetcher := newPubMember(t, group, "/own/f", changed, true, mod)

			af := fwtest.BareFace(t, testFwd)
			routed := make(chan struct{}, 1)
			by, err := NewOnFace(af, Config{Group: group, Node: mustName("/own/b"),
				Register: func(p enc.Name) error {
					err := testFwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
					routed <- struct{}{}
					return err
				}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- by.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			<-routed

			for i := range pubs {
				publishOK(t, prod, payload(uint64(i), 100))
			}
			pk := prod.key()
			waitUntil(t, changed, 10*time.Second, func() bool { return len(fetcher.received(pk)) == pubs },
				func() string { return fmt.Sprintf("%+v", fetcher.s.DataStats()) })
			ignored := by.Stats().Ignored
			if capture && ignored != 0 {
				t.Errorf("the bystander got %d Interests that were not Sync Interests, want 0", ignored)
			}
			if !capture && ignored < pubs {
				t.Errorf("the bystander got %d Interests that were not Sync Interests, want the %d fetches", ignored, pubs)
			}
			t.Logf("bystander: %d other Interests", ignored)
			fetcher.checkErrs(t)
		})
	}
}

// reusingFace is a bare face that hands every frame over in one buffer of
// its own, which it overwrites once the callback returns, as a face
// reading a socket into a reused buffer does. It does not promise
// DataFramesKept.
type reusingFace struct {
	*fw.Face
	mu  sync.Mutex
	buf []byte
}

func (f *reusingFace) DataFramesKept() bool { return false }

func (f *reusingFace) OnFrame(cb func([]byte)) {
	f.Face.OnFrame(func(frame []byte) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.buf = append(f.buf[:0], frame...)
		cb(f.buf)
		for i := range f.buf {
			f.buf[i] = 0xEE
		}
	})
}

// A member keeps the fetched Data of a face that promises them (fw.Face)
// uncopied, and copies those of a face that reuses its buffer: both get
// every segment of a multi-segment publication intact, and the copy is
// what a later fetch of the publication from the member's store serves.
func TestDataFramesCopiedUnlessKept(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/frames/producer", changed, true, nil)
	kept := newPubMember(t, group, "/frames/kept", changed, true, nil)
	var rf *reusingFace
	reused := newPubMemberWrapped(t, group, "/frames/reused", changed, true,
		func(af *fw.Face) ndn.Face { rf = &reusingFace{Face: af}; return rf }, nil)
	if !kept.s.dataFramesKept || reused.s.dataFramesKept {
		t.Fatalf("dataFramesKept: fw.Face %v, reusing face %v; want true, false", kept.s.dataFramesKept, reused.s.dataFramesKept)
	}
	p := payload(7, 5*SegmentSize+123)
	publishOK(t, prod, p)
	waitUntil(t, changed, 10*time.Second, func() bool {
		return len(kept.received(prod.key())) == 1 && len(reused.received(prod.key())) == 1
	}, func() string {
		return fmt.Sprintf("kept %+v, reused %+v", kept.s.DataStats(), reused.s.DataStats())
	})
	for _, m := range []*pubMember{kept, reused} {
		if got := m.received(prod.key())[0].Bytes(); !bytes.Equal(got, p) {
			t.Errorf("%s: payload of %d bytes differs", m.name, len(got))
		}
		m.checkErrs(t)
	}
	// The reusing member's store holds its own copies: a member that
	// joins once the producer and the other member have left fetches the
	// publication from it, intact, although the face's buffer was
	// overwritten since.
	prod.stop()
	kept.stop()
	served := reused.s.DataStats().Served
	late := newPubMember(t, group, "/frames/late", changed, false, nil)
	waitUntil(t, changed, 10*time.Second, func() bool { return len(late.received(prod.key())) == 1 },
		late.status)
	if got := late.received(prod.key())[0].Bytes(); !bytes.Equal(got, p) {
		t.Errorf("from the reusing member's store: %d bytes, payload differs", len(got))
	}
	if got := reused.s.DataStats().Served - served; got < 6 {
		t.Errorf("the reusing member served %d segments, want the publication's 6", got)
	}
	late.checkErrs(t)
}

// A Message gives the payload as it came, one piece per segment and
// nothing copied, and Bytes a copy of the caller's own; an empty
// publication is one empty piece.
func TestMessagePayloadIsTheSegments(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/pieces/producer", changed, true, nil)
	m := newPubMember(t, group, "/pieces/member", changed, true, nil)
	p := payload(3, 5*SegmentSize+123)
	publishOK(t, prod, p)
	publishOK(t, prod, nil)
	waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(prod.key())) == 2 },
		m.status)
	msg := m.received(prod.key())[0]
	if len(msg.Payload) != 6 || msg.Size() != len(p) {
		t.Fatalf("%d pieces, %d bytes; want 6, %d", len(msg.Payload), msg.Size(), len(p))
	}
	for i, piece := range msg.Payload {
		if want := p[i*SegmentSize : min((i+1)*SegmentSize, len(p))]; !bytes.Equal(piece, want) {
			t.Errorf("piece %d: %d bytes, differs from segment %d", i, len(piece), i)
		}
	}
	b := msg.Bytes()
	if !bytes.Equal(b, p) {
		t.Fatal("Bytes differs from the payload")
	}
	b[0] ^= 0xff
	if msg.Payload[0][0] != p[0] {
		t.Error("Bytes shares memory with Payload")
	}
	if empty := m.received(prod.key())[1]; len(empty.Payload) != 1 || empty.Size() != 0 || len(empty.Bytes()) != 0 {
		t.Errorf("empty publication: %d pieces, %d bytes", len(empty.Payload), empty.Size())
	}
	m.checkErrs(t)
}

// A member on a MemoryStorage stores a fetched publication at once, on
// Run, before it is delivered (persister.inline): no persister round
// stands between a delivery and the member serving what it delivered.
// Through the rounds a publication waited up to vectorSaveSpacing.
func TestMemoryStorageStoresBeforeDelivery(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	prod := newPubMember(t, group, "/inline/producer", changed, true, nil)
	pk := prod.key()
	store, err := NewMemoryStorage(StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notStored []uint64
	m := newPubMember(t, group, "/inline/member", changed, true, func(c *Config) {
		c.Data.Storage = store
		onMessage := c.Data.OnMessage
		c.Data.OnMessage = func(msg Message) {
			if _, err := store.Fetched(pk.Node, msg.Boot, msg.Seq); err != nil {
				mu.Lock()
				notStored = append(notStored, msg.Seq)
				mu.Unlock()
			}
			onMessage(msg)
		}
	})
	if !m.s.data.persist.inline {
		t.Fatal("a MemoryStorage is not written inline")
	}
	const n = 20
	for i := range n {
		publishOK(t, prod, []byte{byte(i)})
	}
	waitUntil(t, changed, 10*time.Second, func() bool { return len(m.received(pk)) == n },
		func() string { return fmt.Sprintf("%+v", m.s.DataStats()) })
	mu.Lock()
	defer mu.Unlock()
	if len(notStored) > 0 {
		t.Errorf("delivered before stored: seqs %v", notStored)
	}
	m.checkErrs(t)
}
