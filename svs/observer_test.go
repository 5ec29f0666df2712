package svs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// The SignatureTime our codec writes is the one signatureTime reads back,
// in every packet a codec makes; without one, there is none.
func TestSignatureTimeReadBack(t *testing.T) {
	group := mustName("/sigtime")
	v := core.NewVector(core.Entry{Node: "\x08\x01a", Boot: 1, Seq: 3})
	// (0 is no test: the codec's first SignatureTime is at least 1.)
	for _, ms := range []int64{1, 255, 256, 65535, 1_700_000_000_123} {
		at := time.UnixMilli(ms)
		c, err := wire.NewCodec(group, nil, wire.Options{Clock: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := c.EncodeSyncInterest(v, 7)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := signatureTime(pkt)
		if !ok || got != uint64(ms) {
			t.Errorf("clock %d ms: read %d, %v", ms, got, ok)
		}
		// Every shorter prefix is a truncated packet: no time, no panic.
		for n := range pkt {
			if _, ok := signatureTime(pkt[:n]); ok && n < len(pkt)-1 {
				// A cut inside the trailing InterestSignature elements
				// could leave the Data whole; ours has none, so any cut
				// must lose the Interest's length.
				t.Errorf("clock %d ms: a time read from the first %d of %d bytes", ms, n, len(pkt))
			}
		}
	}
	c, err := wire.NewCodec(group, nil, wire.Options{OmitSignatureTime: true})
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := c.EncodeSyncInterest(v, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := signatureTime(pkt); ok {
		t.Errorf("no SignatureTime written, read %d", got)
	}
	// NDNts's Null-signed Data has no SignatureTime either.
	dataName := group.Append(enc.NewVersionComponent(3))
	if got, ok := signatureTime(interestWithParams(t, group, nullSignedData(dataName, wire.EncodeStateVector(v)))); ok {
		t.Errorf("Null-signed Data: read %d", got)
	}
}

func FuzzSignatureTime(f *testing.F) {
	c, err := wire.NewCodec(mustName("/fuzz"), nil, wire.Options{})
	if err != nil {
		f.Fatal(err)
	}
	pkt, err := c.EncodeSyncInterest(core.NewVector(core.Entry{Node: "\x08\x01a", Boot: 1, Seq: 1}), 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pkt)
	f.Add([]byte{0x05, 0xfd, 0xff})
	f.Add([]byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		signatureTime(b) // must not panic
	})
}

func TestSendReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := range NumSendReasons {
		n := r.String()
		if n == "unknown" || seen[n] {
			t.Errorf("reason %d: name %q", r, n)
		}
		seen[n] = true
	}
	if NumSendReasons.String() != "unknown" {
		t.Error("NumSendReasons has a name")
	}
}

// latencies collects what an Observer is told.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) observe(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) all() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.d...)
}

// Two members on the test forwarder: each publication reaches the other as
// news with a latency between the Publish call and the moment the test saw
// the update (one clock: never negative); the sends are counted by reason;
// Status and Members describe the group. Publications are spaced by more
// than a millisecond, as in a group that is not bursting: each member's
// SignatureTime is then its clock (TestSyncLatencyBurst is the other case).
func TestObserverThroughForwarder(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var lat [2]latencies
	ms := make([]*member, 2)
	for i := range ms {
		ms[i] = newMember(t, group, fmt.Sprintf("/obs/%d", i), changed, func(c *Config) {
			c.Observer.SyncLatency = lat[i].observe
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitUntil(t, changed, 10*time.Second, func() bool {
		return ms[0].s.Stats().SentBy[SentAnnounce] > 0 && ms[1].s.Stats().SentBy[SentAnnounce] > 0
	}, func() string { return "no announcement" })
	const pubs = 5
	published := map[core.Key]uint64{}
	var maxSpan time.Duration
	for k := range pubs {
		m := ms[k%2]
		// The spacing is the scenario: at most one Sync Interest per
		// member per millisecond (the start-up announcement included).
		time.Sleep(2 * time.Millisecond)
		start := time.Now()
		seq, err := m.s.PublishSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		published[m.key()] = seq
		waitUntil(t, changed, 10*time.Second, func() bool { return converged(ms, published) },
			func() string { return describe(ms, published) })
		// SignatureTime is in whole milliseconds, truncated: the measure
		// may exceed the span seen here by under 1 ms.
		maxSpan = max(maxSpan, time.Since(start)+time.Millisecond)
	}
	for i, m := range ms {
		got := lat[i].all()
		st := m.s.Stats()
		// The first vector each member heard from the other (its
		// announcement) may have brought news too: a member publishes
		// after the other's start.
		if len(got) < pubs/2 || uint64(len(got)) != st.News-st.NewsUntimed {
			t.Errorf("member %d: %d latencies, stats %+v", i, len(got), st)
		}
		for _, d := range got[len(got)-pubs/2:] {
			if d < 0 || d > maxSpan {
				t.Errorf("member %d: latency %v, not within [0, %v]", i, d, maxSpan)
			}
		}
		// New encodes a Sync Interest to measure the room for the vector,
		// so an announcement within the same millisecond is 1 ms ahead of
		// the clock. Spaced publications are not.
		if st.NewsUntimed != 0 || st.NewsNegative != 0 || st.TimeAhead > st.SentBy[SentAnnounce] {
			t.Errorf("member %d: untimed %d, negative %d, sent ahead %d (announcements %d)", i, st.NewsUntimed, st.NewsNegative, st.TimeAhead, st.SentBy[SentAnnounce])
		}
		var sum uint64
		for _, n := range st.SentBy {
			sum += n
		}
		if sum != st.Sent || st.SentBy[SentAnnounce] < 1 || st.SentBy[SentPublication] != published[m.key()] {
			t.Errorf("member %d: sent %d by reason %v, published %d", i, st.Sent, st.SentBy, published[m.key()])
		}
		status := m.s.Status()
		if status.Members != 2 || status.VectorBytes <= 2 || status.MaxVectorBytes < status.VectorBytes {
			t.Errorf("member %d: status %+v", i, status)
		}
		members := m.s.Members()
		if len(members) != 2 {
			t.Fatalf("member %d: members %+v", i, members)
		}
		for _, mb := range members {
			k := core.Key{Node: mb.Node, Boot: mb.Boot}
			if mb.Seq != published[k] || mb.LastHeard.IsZero() || time.Since(mb.LastHeard) > time.Minute {
				t.Errorf("member %d: %+v, published %d", i, mb, published[k])
			}
		}
	}
}

// A member that publishes faster than once a millisecond sends
// SignatureTimes ahead of its clock (the codec keeps each later than the
// last); on one machine, that is the only way a receiver measures a
// negative latency, and both sides count it.
func TestSyncLatencyBurst(t *testing.T) {
	group := testGroup(t)
	changed := newSignal()
	var lat latencies
	pub := newMember(t, group, "/burst/pub", changed, nil)
	sub := newMember(t, group, "/burst/sub", changed, func(c *Config) { c.Observer.SyncLatency = lat.observe })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Back-to-back publications take microseconds each: a few are enough
	// for two within one millisecond, but a stall of a busy machine can
	// space any few out, so publish until one was sent ahead (or give up).
	var seq uint64
	pubs := 0
	for ; pubs < 20 || pub.s.Stats().TimeAhead == 0 && pubs < 2000; pubs++ {
		var err error
		if seq, err = pub.s.PublishSeq(ctx); err != nil {
			t.Fatal(err)
		}
	}
	published := map[core.Key]uint64{pub.key(): seq}
	waitUntil(t, changed, 10*time.Second, func() bool { return sub.get(pub.key()) == seq },
		func() string { return describe([]*member{pub, sub}, published) })
	ps, ss := pub.s.Stats(), sub.s.Stats()
	var neg uint64
	for _, d := range lat.all() {
		if d < 0 {
			neg++
		}
	}
	t.Logf("%d publications in a burst: %d sent ahead of the clock; %d vectors with news, %d measured negative", pubs, ps.TimeAhead, ss.News, neg)
	if ps.TimeAhead == 0 {
		t.Errorf("%d publications back to back, none ahead of the clock", pubs)
	}
	if neg != ss.NewsNegative {
		t.Errorf("observer saw %d negative latencies, stats count %d", neg, ss.NewsNegative)
	}
	if neg > 0 && ps.TimeAhead == 0 {
		t.Error("negative latencies on one clock without a SignatureTime ahead")
	}
}

// Members forgets when it last heard of pairs that left the vector.
func TestMembersForgetsPrunedPairs(t *testing.T) {
	s := benchSync(t, nil)
	s.heard.mark(core.Key{Node: "\x08\x04gone", Boot: 1}, 1)
	if got := s.Members(); len(got) != 0 {
		t.Fatalf("members of an empty vector: %+v", got)
	}
	if len(s.heard.at) != 0 {
		t.Errorf("kept %d pairs", len(s.heard.at))
	}
}

// receiveBench is a member fed Sync Interests directly (no forwarder), each
// one raising one of n peers by one: the busy group's steady case.
type receiveBench struct {
	s    *Sync
	pkts [][]byte
	next int
}

// benchSync is a member that is not run: its Run goroutine's state is set
// up so that receive can be called directly.
func benchSync(tb testing.TB, obs *Observer) *Sync {
	tb.Helper()
	cfg := Config{Group: mustName("/bench/obs"), Node: mustName("/bench/self"), Register: func(enc.Name) error { return nil }}
	if obs != nil {
		cfg.Observer = *obs
	}
	s, err := newSync(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.alarm.stop)
	return s
}

func newReceiveBench(tb testing.TB, obs *Observer, pkts int) *receiveBench {
	tb.Helper()
	const n = 20
	s := benchSync(tb, obs)
	c, err := wire.NewCodec(mustName("/bench/obs"), nil, wire.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	v := core.NewVector()
	for i := range n {
		v.Set(wire.NameToCore(mustName(fmt.Sprintf("/bench/peer-%02d", i))), 1, 1)
	}
	rb := &receiveBench{s: s}
	es := v.Entries()
	for k := range pkts + 1 {
		es[k%n].Seq++
		v.Set(es[k%n].Node, 1, es[k%n].Seq)
		p, err := c.EncodeSyncInterest(v, uint32(k))
		if err != nil {
			tb.Fatal(err)
		}
		rb.pkts = append(rb.pkts, p)
	}
	rb.step() // the first one adds every peer: not the steady case
	return rb
}

func (rb *receiveBench) step() {
	rb.s.receive(rb.pkts[rb.next])
	rb.next++
}

// The observer's hooks on the receive path (last heard, the Sync latency
// and its callback) allocate nothing: a received vector with news costs
// as many allocations with an Observer as without.
func TestObserverAllocatesNothing(t *testing.T) {
	var n int
	obs := &Observer{SyncLatency: func(time.Duration) { n++ }}
	const runs = 200
	allocs := func(obs *Observer) float64 {
		rb := newReceiveBench(t, obs, runs+2)
		return testing.AllocsPerRun(runs, rb.step)
	}
	off, on := allocs(nil), allocs(obs)
	t.Logf("allocations per received vector with news: %.2f without an Observer, %.2f with", off, on)
	if on > off {
		t.Errorf("the Observer adds %.2f allocations per received vector", on-off)
	}
	if n < runs {
		t.Errorf("SyncLatency called %d times for %d vectors", n, runs)
	}
}

// BenchmarkReceiveNews is the receive path of a vector that brings one
// update (decode, engine, updates, observer), with and without an
// Observer: go test -run ^$ -bench ReceiveNews -benchmem ./svs/
func BenchmarkReceiveNews(b *testing.B) {
	var sink time.Duration
	for _, c := range []struct {
		name string
		obs  *Observer
	}{
		{"observer=off", nil},
		{"observer=on", &Observer{SyncLatency: func(d time.Duration) { sink += d }}},
	} {
		b.Run(c.name, func(b *testing.B) {
			// Packets for b.N steps would make the heap large enough to
			// time the garbage collector instead: a fresh member every
			// ring of packets, made with the timer stopped.
			const ring = 1000
			rb := newReceiveBench(b, c.obs, ring)
			b.ReportAllocs()
			b.ResetTimer()
			for k := range b.N {
				if k > 0 && k%ring == 0 {
					b.StopTimer()
					pkts := rb.pkts
					rb = &receiveBench{s: benchSync(b, c.obs), pkts: pkts}
					rb.step()
					b.StartTimer()
				}
				rb.step()
			}
		})
	}
	_ = sink
}
