//go:build !race

package secinterop

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// The fake-name flood of svs's TestFloodOfFakeNamesWithARealForwarder
// (150,000 invented member names in 2 s: 500 Sync Interests of 300 names)
// against three members secured in chain mode (Ed25519, certificates
// fetched from each other, not preloaded). The attacker's packets take
// turns among three forgeries:
//
//	(a) DigestSha256, which anyone can compute: refused as unsigned;
//	(b) signed by a key of the attacker's whose KeyLocator names a fresh
//	    certificate in every packet, /<g>/m/fakeNNN/KEY/<kid>/NA: a name the
//	    schema lets sign the group's vector, so the check before any fetch
//	    passes and only the fetch limiter bounds the Interests sent; the
//	    attacker answers each with a self-signed certificate, at once, so
//	    that it is the rate, not the concurrency bound, that is tested;
//	(c) signed by a real key, certified by the group's own root, outside the
//	    schema: refused before any fetch;
//	(d) beyond the three of the issue: signed by the attacker's key but
//	    naming a member's real certificate, so that it passes every check
//	    up to the signature and costs each member one Ed25519 verification
//	    (the most a forged packet can cost): refused as bad_signature.
//
// No invented name enters any member's vector, the members keep learning
// each other's publications within 2x the quiet median, the certificate
// fetches stay within burst + rate × duration per member (the rest refused
// as fetch_limited), and memory stays bounded.
func TestFloodOfFakeNamesSecured(t *testing.T) {
	const publishEvery = 5 * time.Millisecond
	w := newWorld(t)
	var ids []*ident
	for _, node := range []string{"alice", "bob", "dave"} {
		ids = append(ids, w.addOurs(node, "ed25519"))
	}
	ms := w.ours
	members := map[core.Name]bool{}
	for _, m := range ms {
		members[m.self] = true
	}
	// publish makes m publish and returns how long until both others have
	// learned it.
	publish := func(m *ourMember) time.Duration {
		t.Helper()
		start := time.Now()
		seq := m.publish(t)
		waitUntil(t, w.changed, 10*time.Second, func() bool {
			for _, o := range ms {
				if o != m && o.get(m.key()) != seq {
					return false
				}
			}
			return true
		}, func() string {
			return fmt.Sprintf("%s's publication %d not learned by all: %s", m.node, seq, describeOurs(ms))
		})
		return time.Since(start)
	}
	// The first round fetches every certificate (vectors held meanwhile);
	// it is not measured.
	for _, m := range ms {
		publish(m)
	}
	for _, m := range ms {
		if st := m.trust.Stats(); st.FetchesSucceeded != 2 {
			t.Fatalf("%s: %d certificate fetches succeeded before the flood, want 2 (the two others'): %+v", m.node, st.FetchesSucceeded, st)
		}
	}
	// Publications are paced, as an application's would be: back to back,
	// the members' own traffic would be the load under test (and every
	// Validate call is kept in ourMember.checks, which would swamp the
	// heap figures).
	pace := time.NewTicker(publishEvery)
	defer pace.Stop()
	var quiet []time.Duration
	for i := range 60 {
		quiet = append(quiet, publish(ms[i%3]))
		<-pace.C
	}

	atk := newAttacker(t, w)
	guest := w.root.issue(t, w.dir, w.group.Append(enc.NewGenericComponent("guest"), enc.NewGenericComponent("mallory")), "ed25519")
	const total, per = 150_000, 300
	packets := make([][]byte, total/per)
	kinds := [4]int{}
	_, atkKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	impersonator := &signer.ContextSigner{Signer: signer.NewEd25519Signer(ids[0].key.KeyName(), atkKey), KeyLocatorName: ids[0].certName.Prefix(-1)}
	boot := uint64(time.Now().Unix())
	for p := range packets {
		v := &core.Vector{}
		for k := range per {
			v.Set(wire.NameToCore(enc.Name{enc.NewGenericComponent(fmt.Sprintf("fake%07d", p*per+k))}), boot, 1)
		}
		var sg ndn.Signer // (a): nil is DigestSha256
		switch p % 4 {
		case 1:
			sg = atk.freshSigner(t, p)
		case 2:
			sg = guest.contextSigner()
		case 3:
			sg = impersonator
		}
		kinds[p%4]++
		c, err := wire.NewCodec(w.group, sg, wire.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if packets[p], err = c.EncodeSyncInterest(v, uint32(p+1)); err != nil {
			t.Fatal(err)
		}
	}

	type before struct {
		ts     security.Stats
		rej    map[security.Reason]uint64
		checks int // Validate calls so far
	}
	all := func(syncData) bool { return true }
	pre := make([]before, len(ms))
	for i, m := range ms {
		ts := m.trust.Stats()
		pre[i] = before{ts: ts, rej: ts.Rejected, checks: len(m.checked(all))}
	}
	var mem0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem0)
	pit0 := testFwd.Counters().PITEntries

	done := make(chan struct{})
	floodStart := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Second / time.Duration(len(packets)))
		defer tick.Stop()
		for _, pkt := range packets {
			<-tick.C
			if err := atk.face.Send(enc.Wire{pkt}); err != nil {
				return
			}
		}
	}()
	var flood []time.Duration
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			flood = append(flood, publish(ms[i%3]))
			<-pace.C
			continue
		}
		break
	}
	floodEnd := time.Now()
	for _, m := range ms {
		flood = append(flood, publish(m))
	}
	packets = nil

	// Wait until no fetch is under way and no Validate waits: then every
	// forged packet that reached a Validator has its final answer. The
	// trust signals nothing when a fetch whose waiters were dropped
	// (svs.MaxPending) ends, so its counters are looked at now and then.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	ticks := newSignal()
	stopTicks := make(chan struct{})
	defer close(stopTicks)
	go func() {
		for {
			select {
			case <-tick.C:
				ticks.Notify()
			case <-stopTicks:
				return
			}
		}
	}()
	waitUntil(t, ticks, 15*time.Second, func() bool {
		for _, m := range ms {
			if st := m.trust.Stats(); st.InFlight != 0 || st.Waiters != 0 {
				return false
			}
		}
		return true
	}, func() string { return "fetches still under way: " + describeOurs(ms) })
	elapsed := time.Since(floodStart)

	// No invented name anywhere: each vector holds the three members.
	for _, m := range ms {
		var names []string
		m.s.State().Each(func(e core.Entry) {
			if !members[e.Node] {
				names = append(names, fmt.Sprintf("%x", e.Node))
			}
		})
		if n := m.s.State().Len(); n != 3 || len(names) != 0 {
			t.Errorf("%s's vector has %d pairs, of them not members: %v", m.node, n, names)
		}
		m.learner.mu.Lock()
		for k := range m.learned {
			if !members[k.Node] {
				t.Errorf("%s delivered an update about %x", m.node, k.Node)
			}
		}
		m.learner.mu.Unlock()
		m.checkErrs(t, m.node.String())
	}

	// Fetches within the limiter's bound for the time they could be
	// started in (from the first forged packet until everything settled).
	bound := uint64(security.DefaultFetchBurst + security.DefaultFetchRate*elapsed.Seconds())
	forged := func(s syncData) bool {
		return len(s.locator) > len(atk.prefix) && atk.prefix.IsPrefix(s.locator) && strings.HasPrefix(s.locator[len(atk.prefix)].String(), "fake")
	}
	var startedFake uint64
	for i, m := range ms {
		ts, ss := m.trust.Stats(), m.s.Stats()
		started := ts.FetchesStarted - pre[i].ts.FetchesStarted
		refused := ts.FetchesRefused - pre[i].ts.FetchesRefused
		startedFake += started
		// Each (b) packet names a certificate no other packet names: its
		// first Validate either started a fetch or was refused by the
		// limiter (a held packet's second Validate finds the negative
		// cache and starts nothing).
		seen := map[string]bool{}
		var bChecks, digest, schema, badSig int
		for _, c := range m.checked(all)[pre[i].checks:] {
			switch {
			case c.sigType == ndn.SignatureDigestSha256:
				digest++
			case forged(c):
				bChecks++
				seen[c.locator.String()] = true
			case signedBy(guest.id)(c):
				schema++
			case signedBy(ids[0].id)(c) && c.err != nil: // alice's are accepted now
				badSig++
			}
		}
		rej := func(r security.Reason) uint64 { return ts.Rejected[r] - pre[i].rej[r] }
		t.Logf("%s: svs received %d, invalid %d, inbox dropped %d, pending %d (dropped %d); forged vectors validated: (a) %d (b) %d in %d distinct KeyLocators (c) %d (d) %d",
			m.node, ss.Received, ss.Invalid, ss.InboxDropped, ss.Pending, ss.PendingDropped, digest, bChecks, len(seen), schema, badSig)
		t.Logf("%s: fetches during the flood: started %d, refused by the limiter %d (bound %d = %d + %g/s × %.2fs); refused unsigned %d, schema %d, bad_signature %d, unknown_key %d, fetch_limited %d; negative cache %d, certificates %d",
			m.node, started, refused, bound, security.DefaultFetchBurst, security.DefaultFetchRate, elapsed.Seconds(),
			rej(security.ReasonUnsigned), rej(security.ReasonSchema), rej(security.ReasonBadSignature), rej(security.ReasonUnknownKey), rej(security.ReasonFetchLimited), ts.NegativeCached, ts.CachedCerts)
		if started > bound {
			t.Errorf("%s started %d certificate fetches in %v, bound %d", m.node, started, elapsed, bound)
		}
		if started+refused != uint64(len(seen)) {
			t.Errorf("%s: %d fetches started + %d refused, but %d distinct forged KeyLocators validated", m.node, started, refused, len(seen))
		}
		if refused == 0 || rej(security.ReasonFetchLimited) != refused {
			t.Errorf("%s: %d fetches refused by the limiter, %d vectors refused as fetch_limited; want equal and > 0", m.node, refused, rej(security.ReasonFetchLimited))
		}
		if rej(security.ReasonUnsigned) != uint64(digest) || rej(security.ReasonSchema) != uint64(schema) || digest == 0 || schema == 0 {
			t.Errorf("%s: refused %d unsigned of %d (a), %d schema of %d (c)", m.node, rej(security.ReasonUnsigned), digest, rej(security.ReasonSchema), schema)
		}
		// Every failed fetch is cached once, so the negative cache is
		// bounded by the fetches, hence by the limiter.
		if uint64(ts.NegativeCached) > started {
			t.Errorf("%s: %d negatively cached names after %d fetches", m.node, ts.NegativeCached, started)
		}
		if ts.CachedCerts != pre[i].ts.CachedCerts {
			t.Errorf("%s holds %d certificates after the flood, %d before", m.node, ts.CachedCerts, pre[i].ts.CachedCerts)
		}
		if rej(security.ReasonBadSignature) != uint64(badSig) || badSig == 0 {
			t.Errorf("%s: %d refused as bad_signature of %d (d)", m.node, rej(security.ReasonBadSignature), badSig)
		}
	}
	asked := atk.asked()
	t.Logf("attacker's certificate responder was asked %d Interests for %d forged names in %v (the members started %d fetches; %d (b) packets sent)",
		asked.total, asked.names, elapsed, startedFake, kinds[1])
	if asked.total == 0 || asked.total > startedFake || asked.total > uint64(len(ms))*bound {
		t.Errorf("the attacker was asked %d times; members started %d fetches, bound %d per member", asked.total, startedFake, bound)
	}

	// The heap is compared once the forwarder's PIT is back to its size
	// before the flood (its Sync Interests live 1 s there, the members'
	// as well as the attacker's): what stays is what the flood left.
	waitUntil(t, ticks, 10*time.Second, func() bool { return testFwd.Counters().PITEntries <= pit0+10 },
		func() string {
			return fmt.Sprintf("PIT holds %d entries, %d before the flood", testFwd.Counters().PITEntries, pit0)
		})
	var mem1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem1)
	heapGrowth := int64(mem1.HeapInuse) - int64(mem0.HeapInuse)
	t.Logf("heap in use before the flood %.1f MiB, after %.1f MiB (%+.1f MiB)", float64(mem0.HeapInuse)/(1<<20), float64(mem1.HeapInuse)/(1<<20), float64(heapGrowth)/(1<<20))
	if heapGrowth > 4<<20 {
		t.Errorf("heap in use grew by %d bytes during the flood", heapGrowth)
	}

	slices.Sort(quiet)
	slices.Sort(flood)
	qm, fm := quiet[len(quiet)/2], flood[len(flood)/2]
	t.Logf("time for a publication to reach both others: quiet median %v max %v (%d publications); during the flood of %v (%d publications) median %v p99 %v max %v; ratio of medians %.2f",
		qm, quiet[len(quiet)-1], len(quiet), floodEnd.Sub(floodStart).Round(time.Millisecond), len(flood), fm, flood[len(flood)*99/100], flood[len(flood)-1], float64(fm)/float64(qm))
	if fm > 2*qm {
		t.Errorf("median latency during the flood %v, more than twice the quiet median %v", fm, qm)
	}
}

// attacker is the flood's sender and the certificate responder for the
// names it invents.
type attacker struct {
	face   *fw.Face
	prefix enc.Name // /<g>/m: the schema's member identities
	key    ed25519.PrivateKey

	mu    sync.Mutex
	certs map[string][]byte // key name → self-signed certificate
	asks  map[string]int    // Interests received, by key name
	total atomic.Uint64
}

func newAttacker(t *testing.T, w *world) *attacker {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := &attacker{
		face:   fwtest.BareFace(t, testFwd),
		prefix: w.group.Append(enc.NewGenericComponent("m")),
		key:    key,
		certs:  map[string][]byte{},
		asks:   map[string]int{},
	}
	a.face.OnPacket(func([]byte) {})
	a.face.OnError(func(error) {})
	if err := a.face.Open(); err != nil {
		t.Fatal(err)
	}
	// The responder takes every Interest under /<g>/m that no member's
	// own (longer) key route takes: the forged certificate names.
	e, rf := fwtest.Engine(t, testFwd)
	if err := e.AttachHandler(a.prefix, func(args ndn.InterestHandlerArgs) {
		name := args.Interest.Name()
		a.total.Add(1)
		// The key name: the Interest's name up to KEY/<kid>.
		key := name
		for i, c := range name {
			if i+1 < len(name) && c.IsGeneric("KEY") {
				key = name[:i+2]
				break
			}
		}
		a.mu.Lock()
		a.asks[key.String()]++
		raw := a.certs[key.String()]
		a.mu.Unlock()
		if raw != nil {
			_ = args.Reply(enc.Wire{raw})
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddCaptureRoute(a.prefix, rf.FaceID(), 0, fw.OriginApp); err != nil {
		t.Fatal(err)
	}
	return a
}

// freshSigner is the attacker's key under a new identity /<g>/m/fakeNNN,
// its KeyLocator the certificate name minus version with issuer "NA"; the
// responder will answer for it with a certificate self-signed by that key.
func (a *attacker) freshSigner(t *testing.T, p int) ndn.Signer {
	t.Helper()
	keyName := sec.MakeKeyName(a.prefix.Append(enc.NewGenericComponent(fmt.Sprintf("fake%03d", p))))
	k := signer.NewEd25519Signer(keyName, a.key)
	secret, err := signer.MarshalSecretToData(k)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := validity()
	cw, err := sec.SignCert(sec.SignCertArgs{Signer: k, Data: secret, IssuerId: enc.NewGenericComponent("NA"), NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	raw := cw.Join()
	d, _, err := ndnpkt.Data(raw)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.certs[keyName.String()] = raw
	a.mu.Unlock()
	return &signer.ContextSigner{Signer: k, KeyLocatorName: d.Name().Prefix(-1)}
}

type asked struct {
	total uint64 // Interests the responder received
	names int    // distinct forged key names asked for
}

func (a *attacker) asked() asked {
	a.mu.Lock()
	defer a.mu.Unlock()
	return asked{total: a.total.Load(), names: len(a.asks)}
}

// describeOurs says what each member knows and its counters, for a
// failure.
func describeOurs(ms []*ourMember) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "\n%s: svs %+v\n  security %+v", m.node, m.s.Stats(), m.trust.Stats())
	}
	return b.String()
}
