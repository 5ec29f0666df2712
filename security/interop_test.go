package security

import (
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
)

// TestNdndTrustConfig: ndnd v1.5.3's TrustConfig, set up as an ndnd
// SvSync member's object client sets it up, accepts our State Vector
// Data (after fetching our certificate from us), and we accept what its
// Suggest signer signs under ndnd's /<group>/v=<µs> name.
func TestNdndTrustConfig(t *testing.T) {
	w := newWorld(t)
	af, _ := w.member(t, "ed25519", "/g/alice")
	alice, err := New(w.config(t, "ed25519", af))
	if err != nil {
		t.Fatal(err)
	}

	// The ndnd member: bob, ECDSA, in a memory keychain.
	bob := key(t, "ecdsa", "/g/bob")
	bobCert := issue(t, bob, w.root, t0.Add(-time.Hour), t0.Add(24*time.Hour))
	kc := keychain.NewKeyChainMem(storage.NewMemoryStore())
	for _, b := range [][]byte{w.rootPEM, secretPEM(t, bob), pemOf(t, bobCert)} {
		if err := keychain.InsertFile(kc, b); err != nil {
			t.Fatal(err)
		}
	}
	rootData, _ := parse(t, w.rootRaw)
	tc, err := sec.NewTrustConfig(kc, testSchema(t), []enc.Name{rootData.Name()})
	if err != nil {
		t.Fatal(err)
	}

	// ndnd validates ours; its certificate fetches are answered by our
	// Lookup, as the node's certificate server does.
	s, err := alice.Signer(mustName(t, "/g/v=3"))
	if err != nil {
		t.Fatal(err)
	}
	data, cov := parse(t, makeData(t, mustName(t, "/g/v=3"), []byte("sv"), s))
	var ok bool
	var verr error
	done := false
	tc.Validate(sec.TrustConfigValidateArgs{
		Data:         data,
		DataSigCov:   cov,
		OverrideName: mustName(t, "/g"), // what ndnd's removeRdr gives
		Fetch: func(name enc.Name, _ *ndn.InterestConfig, cb ndn.ExpressCallbackFunc) {
			raw := alice.Lookup(name, true)
			if raw == nil {
				cb(ndn.ExpressCallbackArgs{Result: ndn.InterestResultNack})
				return
			}
			d, c := parse(t, raw)
			cb(ndn.ExpressCallbackArgs{Result: ndn.InterestResultData, Data: d, RawData: enc.Wire{raw}, SigCovered: c})
		},
		Callback: func(v bool, err error) { ok, verr, done = v, err, true },
	})
	if !done || !ok {
		t.Fatalf("ndnd's TrustConfig on our Data: done %v, valid %v, %v", done, ok, verr)
	}

	// We validate ndnd's, signed as its SvSync signs: Suggest on the
	// stripped name, Data named /<group>/v=<µs>.
	ns := tc.Suggest(mustName(t, "/g"))
	if ns == nil {
		t.Fatal("ndnd suggests no signer")
	}
	net := newFakeNet()
	net.put(t, bobCert)
	alice.SetFetcher(net)
	name := mustName(t, "/g").Append(enc.NewVersionComponent(uint64(time.Now().UnixMicro())))
	if err := askTwice(t, alice, makeData(t, name, []byte("sv"), ns)); err != nil {
		t.Fatalf("ndnd's Data: %v", err)
	}
}
