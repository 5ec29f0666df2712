package security

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// locSigner signs with k but names loc as KeyLocator.
func locSigner(k ndn.Signer, loc enc.Name) ndn.Signer {
	return &signer.ContextSigner{Signer: k, KeyLocatorName: loc}
}

// askTwice validates raw, expects pending, waits, and returns the answer
// of the second Validate.
func askTwice(t testing.TB, tr *Trust, raw []byte) error {
	t.Helper()
	waitReady(t, tr.Validate(parse(t, raw)))
	return tr.Validate(parse(t, raw))
}

// TestNegativeCache: a certificate nobody serves is refused as
// unknown_key without asking again until NegativeTTL has passed.
func TestNegativeCache(t *testing.T) {
	cw := newChainWorld(t, nil)
	dave := key(t, "ed25519", "/g/dave")
	raw := makeData(t, mustName(t, "/g/v=3"), nil, dave)
	if err := askTwice(t, cw.alice, raw); reasonOf(err) != ReasonUnknownKey {
		t.Fatalf("%v, want unknown_key", err)
	}
	for range 3 {
		if err := cw.alice.Validate(parse(t, raw)); reasonOf(err) != ReasonUnknownKey {
			t.Fatalf("%v, want unknown_key", err)
		}
	}
	if c := cw.net.ncalls(); c != 1 {
		t.Fatalf("%d fetches within NegativeTTL, want 1", c)
	}
	if st := cw.alice.Stats(); st.NegativeCached != 1 || st.FetchesFailed != 1 || st.Rejected[ReasonUnknownKey] != 4 {
		t.Errorf("Stats = %+v", st)
	}
	cw.clock.Add(DefaultNegativeTTL + time.Second)
	// Now served: the next packet fetches again and is accepted.
	dc := issue(t, dave, cw.root, t0, t0.Add(24*time.Hour))
	cw.net.put(t, dc)
	if err := askTwice(t, cw.alice, raw); err != nil {
		t.Fatalf("after NegativeTTL: %v", err)
	}
	if c := cw.net.ncalls(); c != 2 {
		t.Fatalf("%d fetches, want 2", c)
	}
}

// TestUnansweredBackoff: a certificate whose fetch goes unanswered (its
// holder not up yet, as when a group starts at once) is asked again after
// unansweredTTL, then after twice that, and so on up to NegativeTTL; one
// that came back bad waits NegativeTTL at once.
func TestUnansweredBackoff(t *testing.T) {
	cw := newChainWorld(t, nil)
	dave := key(t, "ed25519", "/g/dave")
	raw := makeData(t, mustName(t, "/g/v=3"), nil, dave)
	fetchesAfter := func(d time.Duration) int {
		t.Helper()
		cw.clock.Add(d)
		err := cw.alice.Validate(parse(t, raw))
		if errors.Is(err, wire.ErrPending) {
			waitReady(t, err)
			err = cw.alice.Validate(parse(t, raw))
		}
		if reasonOf(err) != ReasonUnknownKey {
			t.Fatalf("%v, want unknown_key", err)
		}
		return cw.net.ncalls()
	}
	steps := []struct {
		wait  time.Duration
		calls int
	}{
		{0, 1},                     // the first fetch, unanswered: refused for 1 s
		{unansweredTTL / 2, 1},     // within it
		{unansweredTTL, 2},         // past it: asked again, unanswered: 2 s
		{unansweredTTL * 3 / 2, 2}, // within the 2 s
		{unansweredTTL, 3},         // past them: 4 s
		{DefaultNegativeTTL, 4},    // the cap
	}
	for i, st := range steps {
		if c := fetchesAfter(st.wait); c != st.calls {
			t.Fatalf("step %d (+%v): %d fetches, want %d", i, st.wait, c, st.calls)
		}
	}
	// Served at last: accepted, and the name's failures forgotten.
	cw.net.put(t, issue(t, dave, cw.root, t0, t0.Add(24*time.Hour)))
	cw.clock.Add(DefaultNegativeTTL + time.Second)
	if err := askTwice(t, cw.alice, raw); err != nil {
		t.Fatalf("once served: %v", err)
	}
	if st := cw.alice.Stats(); st.NegativeCached != 0 {
		t.Errorf("NegativeCached %d after the certificate came, want 0", st.NegativeCached)
	}
}

// TestFetchedBad: what comes back for a certificate name is checked
// before anything trusts it.
func TestFetchedBad(t *testing.T) {
	carol := key(t, "ed25519", "/g/carol")
	cases := []struct {
		name  string
		serve func(cw *chainWorld, loc enc.Name) // what the network answers for loc
		want  Reason
	}{
		{"non-certificate", func(cw *chainWorld, loc enc.Name) {
			cw.net.putAs(loc, makeData(t, loc.Append(enc.NewVersionComponent(1)), []byte("not a key"), signer.NewSha256Signer()))
		}, ReasonBadCertificate},
		{"garbage", func(cw *chainWorld, loc enc.Name) {
			cw.net.putAs(loc, []byte{0x06, 0x02, 0x07, 0x00, 0xff})
		}, ReasonBadCertificate},
		{"no ValidityPeriod", func(cw *chainWorld, loc enc.Name) {
			// A Key Data without a ValidityPeriod, signed by the root.
			pub, _ := carol.Public()
			n := loc.Append(enc.NewGenericComponent("ROOT"), enc.NewVersionComponent(1))
			d, err := specMakeKeyData(n, pub, cw.root)
			if err != nil {
				t.Fatal(err)
			}
			cw.net.putAs(loc, d)
		}, ReasonBadCertificate},
		{"another key's certificate", func(cw *chainWorld, loc enc.Name) {
			cw.net.putAs(loc, cw.bobC)
		}, ReasonBadCertificate},
		{"expired", func(cw *chainWorld, loc enc.Name) {
			cw.net.put(t, issue(t, carol, cw.root, t0.Add(-48*time.Hour), t0.Add(-time.Hour)))
		}, ReasonExpired},
		{"not yet valid", func(cw *chainWorld, loc enc.Name) {
			cw.net.put(t, issue(t, carol, cw.root, t0.Add(time.Hour), t0.Add(48*time.Hour)))
		}, ReasonExpired},
		{"bad issuer signature", func(cw *chainWorld, loc enc.Name) {
			c := issue(t, carol, cw.root, t0.Add(-time.Hour), t0.Add(time.Hour))
			c[len(c)-1] ^= 0x01
			cw.net.put(t, c)
		}, ReasonBadSignature},
		{"self-signed", func(cw *chainWorld, loc enc.Name) {
			cw.net.put(t, selfSign(t, carol, t0.Add(-time.Hour), t0.Add(time.Hour)))
		}, ReasonUnknownKey},
		{"signed by a member", func(cw *chainWorld, loc enc.Name) {
			// bob is trusted (his certificate validates) but the schema
			// lets only the root and CAs issue member certificates.
			cw.net.put(t, issue(t, carol, cw.bob, t0.Add(-time.Hour), t0.Add(time.Hour)))
		}, ReasonSchema},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cw := newChainWorld(t, nil)
			c.serve(cw, carol.KeyName())
			raw := makeData(t, mustName(t, "/g/v=3"), nil, carol)
			if err := askTwice(t, cw.alice, raw); reasonOf(err) != c.want {
				t.Fatalf("%v, want %v", err, c.want)
			}
			st := cw.alice.Stats()
			if c.want == ReasonSchema {
				st.CachedCerts-- // bob's
			}
			if st.CachedCerts != 2 {
				t.Errorf("carol's certificate was trusted: %+v", st)
			}
		})
	}
}

// specMakeKeyData makes a Data with ContentType Key but no
// ValidityPeriod.
func specMakeKeyData(name enc.Name, pub []byte, s ndn.Signer) ([]byte, error) {
	d, err := specMake(name, ndn.ContentTypeKey, pub, s)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// TestChainDepth: root → ca1 → ca2 → ca3 → dave. With MaxChain 4 the
// four fetches are allowed; with 2, the chain is too long.
func TestChainDepth(t *testing.T) {
	for _, tc := range []struct {
		maxChain int
		want     Reason
	}{{4, 0}, {2, ReasonChainTooLong}} {
		cw := newChainWorld(t, func(c *Config) { c.MaxChain = tc.maxChain })
		issuer := cw.root
		for range 3 {
			ca := keygen(t, "ed25519", "/g/ca")
			cw.net.put(t, issue(t, ca, issuer, t0.Add(-time.Hour), t0.Add(time.Hour)))
			issuer = ca
		}
		dave := keygen(t, "ed25519", "/g/dave")
		cw.net.put(t, issue(t, dave, issuer, t0.Add(-time.Hour), t0.Add(time.Hour)))
		raw := makeData(t, mustName(t, "/g/dave/t=1/seq=9"), nil, dave)
		err := askTwice(t, cw.alice, raw)
		if reasonOf(err) != tc.want || (tc.want == 0 && err != nil) {
			t.Fatalf("MaxChain %d: %v, want %v", tc.maxChain, err, tc.want)
		}
		if c := cw.net.ncalls(); c > tc.maxChain {
			t.Errorf("MaxChain %d: %d fetches", tc.maxChain, c)
		}
	}
}

// TestFetchTimeout: a Fetcher that never calls back does not hold
// waiters beyond FetchTimeout; its late answer is ignored.
func TestFetchTimeout(t *testing.T) {
	cw := newChainWorld(t, func(c *Config) { c.FetchTimeout = 20 * time.Millisecond })
	cw.net.held = true
	raw := makeData(t, mustName(t, "/g/v=3"), nil, cw.bobSigner(t))
	err := askTwice(t, cw.alice, raw)
	if reasonOf(err) != ReasonUnknownKey || !errors.Is(err, errFetchTimeout) {
		t.Fatalf("%v, want unknown_key by timeout", err)
	}
	cw.net.release() // the late answer: ignored
	if err := cw.alice.Validate(parse(t, raw)); reasonOf(err) != ReasonUnknownKey {
		t.Fatalf("after the late answer: %v", err)
	}
}

// TestExpiresInCache: a cached certificate is refused from the second
// its validity ends, then looked for again (a renewed one is accepted).
func TestExpiresInCache(t *testing.T) {
	cw := newChainWorld(t, nil)
	raw := makeData(t, mustName(t, "/g/v=3"), nil, cw.bobSigner(t))
	if err := askTwice(t, cw.alice, raw); err != nil {
		t.Fatal(err)
	}
	cw.clock.Add(24*time.Hour + time.Second) // bob's NotAfter + 1 s
	if err := cw.alice.Validate(parse(t, raw)); reasonOf(err) != ReasonExpired {
		t.Fatalf("%v, want expired", err)
	}
	renewed := issue(t, cw.bob, cw.root, t0, t0.Add(48*time.Hour))
	cw.net = newFakeNet()
	cw.net.put(t, renewed)
	cw.alice.SetFetcher(cw.net)
	if err := askTwice(t, cw.alice, raw); err != nil {
		t.Fatalf("renewed: %v", err)
	}
}

// TestFlood: 10,000 packets naming 10,000 distinct unknown certificates
// cost at most the limiter's bound of Interests, and bounded memory.
func TestFlood(t *testing.T) {
	const n = 10000
	cw := newChainWorld(t, nil)
	cw.net.held = true // nobody answers: fetches stay in flight
	bob := cw.bob
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			loc := mustName(t, "/g/m"+itoa(i)+"/KEY/k/ROOT")
			err := cw.alice.Validate(parse(t, makeData(t, mustName(t, "/g/v=3"), nil, locSigner(bob, loc))))
			if err == nil {
				t.Fatal("accepted")
			}
		}
	}
	flood(0, n)
	if c := cw.net.ncalls(); c > DefaultMaxFetches {
		t.Fatalf("%d fetches in flight, bound %d", c, DefaultMaxFetches)
	}
	st := cw.alice.Stats()
	if st.FetchesRefused != uint64(n-cw.net.ncalls()) || st.Rejected[ReasonFetchLimited] != st.FetchesRefused {
		t.Errorf("Stats = %+v", st)
	}
	// Answers now come at once (Nack): concurrency is free, the rate
	// bound holds. 10 s of fake time pass over the next 10,000 packets.
	cw.net.release()
	cw.net.held = false
	before := cw.net.ncalls()
	for s := range 10 {
		flood(n+s*1000, n+(s+1)*1000)
		cw.clock.Add(time.Second)
	}
	bound := DefaultFetchBurst + 10*int(DefaultFetchRate)
	if c := cw.net.ncalls() - before; c > bound {
		t.Fatalf("%d fetches in 10 s, bound %d", c, bound)
	} else {
		t.Logf("%d + %d fetches for %d packets", before, c, 2*n)
	}
	if st := cw.alice.Stats(); st.NegativeCached > 4*DefaultMaxCerts || st.InFlight != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// TestCrossSchema: a Data carrying TLV 600 is refused unless allowed, and
// then judged on its own signer only.
func TestCrossSchema(t *testing.T) {
	for _, allow := range []bool{false, true} {
		w := newWorld(t)
		f, k := w.member(t, "ed25519", "/g/alice")
		cfg := w.config(t, "ed25519", f)
		cfg.AllowCrossSchema = allow
		tr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := tr.Signer(mustName(t, "/g/v=3"))
		raw, err := specMakeCross(mustName(t, "/g/v=3"), []byte{0x01}, s)
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Validate(parse(t, raw))
		if allow && err != nil || !allow && reasonOf(err) != ReasonCrossSchema {
			t.Errorf("AllowCrossSchema %v: %v", allow, err)
		}
		_ = k
	}
}

// TestLookup: the node serves its chain by exact name and by prefix.
func TestLookup(t *testing.T) {
	w := newWorld(t)
	f, _ := w.member(t, "ed25519", "/g/alice")
	tr, err := New(w.config(t, "ed25519", f))
	if err != nil {
		t.Fatal(err)
	}
	chain := tr.OwnChain()
	if len(chain) != 1 {
		t.Fatalf("OwnChain has %d certificates, want 1", len(chain))
	}
	d, _ := parse(t, chain[0])
	cn := d.Name()
	for _, c := range []struct {
		name   enc.Name
		prefix bool
		want   bool
	}{
		{cn, false, true}, {cn.Prefix(-1), true, true}, {cn.Prefix(-2), true, true},
		{cn.Prefix(-1), false, false}, {mustName(t, "/g/bob/KEY"), true, false},
	} {
		got := tr.Lookup(c.name, c.prefix)
		if (got != nil) != c.want || got != nil && !bytes.Equal(got, chain[0]) {
			t.Errorf("Lookup(%s, %v) = %d bytes, want %v", c.name, c.prefix, len(got), c.want)
		}
	}
	if a := tr.AnchorNames(); len(a) != 1 || !strings.HasPrefix(a[0].String(), "/g/KEY/") {
		t.Errorf("AnchorNames = %v", a)
	}
}

// TestEviction: the cache of fetched certificates holds MaxCerts; the
// oldest goes first and is fetched again when needed.
func TestEviction(t *testing.T) {
	const maxCerts = 3
	cw := newChainWorld(t, func(c *Config) { c.MaxCerts = maxCerts })
	var raws [][]byte
	for i := range maxCerts + 2 {
		id := "/g/m" + itoa(i)
		k := key(t, "ed25519", id)
		cw.net.put(t, issue(t, k, cw.root, t0.Add(-time.Hour), t0.Add(time.Hour)))
		raw := makeData(t, mustName(t, id+"/t=1/seq=1"), nil, k)
		raws = append(raws, raw)
		if err := askTwice(t, cw.alice, raw); err != nil {
			t.Fatal(err)
		}
	}
	if st := cw.alice.Stats(); st.CachedCerts != 2+maxCerts {
		t.Fatalf("CachedCerts = %d, want %d (anchor, own, %d fetched)", st.CachedCerts, 2+maxCerts, maxCerts)
	}
	// The newest are still there; the first was evicted.
	if err := cw.alice.Validate(parse(t, raws[len(raws)-1])); err != nil {
		t.Fatalf("newest: %v", err)
	}
	if err := askTwice(t, cw.alice, raws[0]); err != nil {
		t.Fatalf("oldest, fetched again: %v", err)
	}
	if c := cw.net.ncalls(); c != maxCerts+3 {
		t.Errorf("%d fetches, want %d", c, maxCerts+3)
	}
}
