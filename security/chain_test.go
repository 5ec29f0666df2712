package security

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// fakeNet is a Fetcher over an in-memory set of Data. It answers an
// Interest with the first Data the name is a prefix of (CanBePrefix),
// and holds the answers until release when held is set.
type fakeNet struct {
	mu      sync.Mutex
	data    map[string][]byte // by full name (String)
	calls   []enc.Name
	held    bool
	pending []func()
}

func newFakeNet() *fakeNet { return &fakeNet{data: make(map[string][]byte)} }

// put serves raw under its own name.
func (n *fakeNet) put(t testing.TB, raw []byte) {
	t.Helper()
	d, _ := parse(t, raw)
	n.mu.Lock()
	n.data[d.Name().String()] = raw
	n.mu.Unlock()
}

// putAs serves raw for Interests under name (e.g. a non-certificate).
func (n *fakeNet) putAs(name enc.Name, raw []byte) {
	n.mu.Lock()
	n.data[name.String()] = raw
	n.mu.Unlock()
}

func (n *fakeNet) FetchCert(name enc.Name, done func([]byte, error)) {
	n.mu.Lock()
	n.calls = append(n.calls, name.Clone())
	var found []byte
	prefix := name.String()
	for k, v := range n.data {
		if k == prefix || strings.HasPrefix(k, prefix+"/") {
			found = v
			break
		}
	}
	answer := func() {
		if found == nil {
			done(nil, errors.New("fake: Nack NoRoute"))
			return
		}
		done(found, nil)
	}
	if n.held {
		n.pending = append(n.pending, answer)
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	answer()
}

// release answers every held Interest.
func (n *fakeNet) release() {
	n.mu.Lock()
	p := n.pending
	n.pending = nil
	n.mu.Unlock()
	for _, f := range p {
		f()
	}
}

func (n *fakeNet) ncalls() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.calls)
}

// chainWorld is alice's node and bob, a member it does not know yet.
type chainWorld struct {
	*world
	alice     *Trust
	aliceFile string
	net       *fakeNet
	bob       ndn.Signer
	bobC      []byte // bob's certificate
}

func newChainWorld(t testing.TB, mutate func(*Config)) *chainWorld {
	t.Helper()
	w := newWorld(t)
	f, _ := w.member(t, "ed25519", "/g/alice")
	cfg := w.config(t, "ed25519", f)
	if mutate != nil {
		mutate(&cfg)
	}
	alice, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cw := &chainWorld{world: w, alice: alice, aliceFile: f, net: newFakeNet()}
	alice.SetFetcher(cw.net)
	cw.bob = key(t, "ecdsa", "/g/bob")
	cw.bobC = issue(t, cw.bob, w.root, t0.Add(-time.Hour), t0.Add(24*time.Hour))
	cw.net.put(t, cw.bobC)
	return cw
}

// bobSigner signs like ndnd's Suggest: KeyLocator = certificate name
// minus version.
func (cw *chainWorld) bobSigner(t testing.TB) ndn.Signer {
	d, _ := parse(t, cw.bobC)
	return &signer.ContextSigner{Signer: cw.bob, KeyLocatorName: d.Name().Prefix(-1)}
}

// waitReady waits for a PendingError's Ready, bounded so a bug fails the
// test instead of hanging it.
func waitReady(t testing.TB, err error) {
	t.Helper()
	var pe *wire.PendingError
	if !errors.As(err, &pe) {
		t.Fatalf("want pending, got %v", err)
	}
	if !errors.Is(err, wire.ErrPending) {
		t.Fatal("PendingError is not ErrPending")
	}
	select {
	case <-pe.Ready:
	case <-time.After(10 * time.Second):
		t.Fatal("Ready never closed")
	}
}

// TestChainFetchThenAccept: a member's Data signed by a key the node has
// not seen is pending while its certificate is fetched (one fetch for
// many concurrent packets), and accepted once it arrived.
func TestChainFetchThenAccept(t *testing.T) {
	cw := newChainWorld(t, nil)
	cw.net.held = true
	raw := makeData(t, mustName(t, "/g/v=1732900000000000"), []byte("sv"), cw.bobSigner(t))

	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, cov := parse(t, raw)
			errs[i] = cw.alice.Validate(d, cov)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, wire.ErrPending) {
			t.Fatalf("before the answer: %v, want pending", err)
		}
	}
	if c := cw.net.ncalls(); c != 1 {
		t.Fatalf("%d fetches for one certificate, want 1", c)
	}
	if st := cw.alice.Stats(); st.Waiters != n || st.InFlight != 1 {
		t.Errorf("Stats: %d waiters, %d in flight; want %d, 1", st.Waiters, st.InFlight, n)
	}
	cw.net.release()
	waitReady(t, errs[0])
	if err := cw.alice.Validate(parse(t, raw)); err != nil {
		t.Fatalf("after the fetch: %v", err)
	}
	// Every KeyLocator form now hits the cache: no further fetch.
	bd, _ := parse(t, cw.bobC)
	for _, loc := range []enc.Name{bd.Name(), bd.Name().Prefix(-1), bd.Name().Prefix(-2)} {
		s := &signer.ContextSigner{Signer: cw.bob, KeyLocatorName: loc}
		if err := cw.alice.Validate(parse(t, makeData(t, mustName(t, "/g/bob/t=7/seq=1/v=0/seg=0"), []byte("pub"), s))); err != nil {
			t.Errorf("KeyLocator %s: %v", loc, err)
		}
	}
	if c := cw.net.ncalls(); c != 1 {
		t.Errorf("%d fetches, want 1", c)
	}
	if got := cw.alice.Lookup(bd.Name().Prefix(-2), true); string(got) != string(cw.bobC) {
		t.Error("Lookup does not serve the validated certificate")
	}
	st := cw.alice.Stats()
	if st.FetchesStarted != 1 || st.FetchesSucceeded != 1 || st.Accepted != 4 || st.Pending != n {
		t.Errorf("Stats = %+v", st)
	}
}

// TestChainSchema: names and signers outside the schema are refused with
// reason schema, before any fetch when the name tells.
func TestChainSchema(t *testing.T) {
	cw := newChainWorld(t, nil)
	// bob signs alice's publication: the schema binds m to the key.
	cw.net.put(t, cw.bobC)
	sb := cw.bobSigner(t)
	err := cw.alice.Validate(parse(t, makeData(t, mustName(t, "/g/alice/t=1/seq=1/v=0/seg=0"), []byte("x"), sb)))
	if reasonOf(err) != ReasonSchema {
		t.Fatalf("bob signing alice's publication: %v, want schema", err)
	}
	if c := cw.net.ncalls(); c != 0 {
		t.Errorf("%d fetches for a refused name, want 0", c)
	}
	// A name no rule covers is refused before a fetch, whatever signs it.
	err = cw.alice.Validate(parse(t, makeData(t, mustName(t, "/h/v=3"), []byte("x"), key(t, "ed25519", "/h"))))
	if err == nil || reasonOf(err) != ReasonSchema {
		t.Fatalf("/h/v=3: %v, want schema", err)
	}
	// eve's certificate is issued by the root but her name is outside the
	// member rule (/g/x/eve): refused when her certificate arrives.
	eve := key(t, "ed25519", "/g/x/eve")
	ec := issue(t, eve, cw.root, t0.Add(-time.Hour), t0.Add(time.Hour))
	cw.net.put(t, ec)
	raw := makeData(t, mustName(t, "/g/v=3"), []byte("x"), eve)
	err = cw.alice.Validate(parse(t, raw))
	waitReady(t, err)
	if err := cw.alice.Validate(parse(t, raw)); reasonOf(err) != ReasonSchema {
		t.Fatalf("eve: %v, want schema", err)
	}
	// Alice's own key signs her publications, not bob's.
	if err := cw.alice.CanSign(mustName(t, "/g/bob/t=1/seq=0")); err == nil {
		t.Error("CanSign(bob's publication) = nil")
	}
	if _, err := cw.alice.Signer(mustName(t, "/g/bob/t=1/seq=0")); err == nil || !strings.Contains(err.Error(), "/g/alice/KEY") {
		t.Errorf("Signer(bob's publication): %v, want an error naming alice's certificate", err)
	}
	if err := cw.alice.CanSign(mustName(t, "/g/alice/t=1/seq=0/v=0/seg=3")); err != nil {
		t.Error(err)
	}
}

// TestChainUnsigned: DigestSha256, Null and HMAC are refused in chain
// mode, as are KeyDigest-less locators and CrossSchema.
func TestChainUnsigned(t *testing.T) {
	cw := newChainWorld(t, nil)
	name := mustName(t, "/g/v=3")
	cases := []struct {
		s    ndn.Signer
		want Reason
	}{
		{signer.NewSha256Signer(), ReasonUnsigned},
		{signer.NewHmacSigner([]byte("0123456789abcdef")), ReasonSignatureType},
	}
	for _, c := range cases {
		if err := cw.alice.Validate(parse(t, makeData(t, name, nil, c.s))); reasonOf(err) != c.want {
			t.Errorf("%v: %v, want %v", c.s.Type(), err, c.want)
		}
	}
	// NDNts's Null signature (type 200), and a Data with no KeyLocator.
	nul := makeData(t, name, nil, nullSigner{})
	if err := cw.alice.Validate(parse(t, nul)); reasonOf(err) != ReasonUnsigned {
		t.Errorf("Null: %v", err)
	}
	nokl := &signer.ContextSigner{Signer: cw.bob, KeyLocatorName: nil}
	if err := cw.alice.Validate(parse(t, makeData(t, name, nil, nokl))); reasonOf(err) != ReasonNoKeyLocator {
		t.Errorf("no KeyLocator: %v", err)
	}
	ident := &signer.ContextSigner{Signer: cw.bob, KeyLocatorName: mustName(t, "/g/bob")}
	if err := cw.alice.Validate(parse(t, makeData(t, name, nil, ident))); reasonOf(err) != ReasonNoKeyLocator {
		t.Errorf("identity KeyLocator: %v", err)
	}
}

// nullSigner is NDNts's default: type 200, no value worth checking.
type nullSigner struct{}

func (nullSigner) Type() ndn.SigType             { return ndn.SignatureEmptyTest }
func (nullSigner) KeyName() enc.Name             { return nil }
func (nullSigner) KeyLocator() enc.Name          { return nil }
func (nullSigner) EstimateSize() uint            { return 0 }
func (nullSigner) Sign(enc.Wire) ([]byte, error) { return []byte{}, nil }
func (nullSigner) Public() ([]byte, error)       { return nil, nil }
func (s nullSigner) String() string              { return fmt.Sprint(s.Type()) }

// fetchFunc adapts a function to Fetcher; the name is given as its TLV.
type fetchFunc func(name []byte, done func([]byte, error))

func (f fetchFunc) FetchCert(name enc.Name, done func([]byte, error)) { f(name.Bytes(), done) }
