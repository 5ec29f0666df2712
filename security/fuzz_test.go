package security

import (
	"errors"
	"testing"
	"time"

	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// FuzzFetchedCert: whatever bytes come back for a certificate name,
// the validator neither panics nor trusts them (none is signed by the
// root for carol's key), and the waiting Validate gets its answer.
func FuzzFetchedCert(f *testing.F) {
	cw := newChainWorld(f, nil)
	carol := key(f, "ed25519", "/g/carol")
	f.Add(issue(f, carol, cw.bob, t0.Add(-time.Hour), t0.Add(time.Hour)))
	f.Add(cw.bobC)
	f.Add(selfSign(f, carol, t0.Add(-time.Hour), t0.Add(time.Hour)))
	f.Add([]byte{0x06, 0x00})
	raw := makeData(f, mustName(f, "/g/v=3"), nil, carol)
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := New(cw.config(t, "ed25519", cw.aliceFile))
		if err != nil {
			t.Fatal(err)
		}
		tr.SetFetcher(fetchFunc(func(_ []byte, done func([]byte, error)) { done(b, nil) }))
		if err := askTwice(t, tr, raw); reasonOf(err) == 0 {
			t.Fatalf("not refused: %v", err)
		}
	})
}

// FuzzValidate: any packet that ndnd's decoder takes as a Data (a State
// Vector Data or a fetched segment from the network) gets an answer from
// Validate in every mode, never a panic: nil, a *RejectError with a
// Reason, or a pending fetch, which ends with an answer.
func FuzzValidate(f *testing.F) {
	cw := newChainWorld(f, nil)
	carol := key(f, "ed25519", "/g/carol")
	f.Add(makeData(f, mustName(f, "/g/v=3"), []byte("vector"), cw.bobSigner(f)))
	f.Add(makeData(f, mustName(f, "/g/v=3"), nil, carol))
	f.Add(makeData(f, mustName(f, "/g/v=3"), nil, signer.NewSha256Signer()))
	f.Add(makeData(f, mustName(f, "/g/v=3"), nil, signer.NewHmacSigner([]byte("0123456789abcdef"))))
	digest, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	hmac, err := New(Config{Signer: "hmac", HMACKey: []byte("0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	trusts := map[string]*Trust{"ed25519": cw.alice, "digest": digest, "hmac": hmac}
	f.Fuzz(func(t *testing.T, raw []byte) {
		data, covered, err := ndnpkt.Data(raw)
		if err != nil {
			return
		}
		for typ, tr := range trusts {
			err := tr.Validate(data, covered)
			var pe *wire.PendingError
			if errors.As(err, &pe) {
				select { // the fake network answers at once
				case <-pe.Ready:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: pending on %s for ever", typ, pe.Waiting)
				}
				err = tr.Validate(data, covered)
			}
			var rej *RejectError
			if err != nil && !errors.As(err, &pe) && (!errors.As(err, &rej) || rej.Reason == 0) {
				t.Fatalf("%s: %v is neither a refusal with a reason nor pending", typ, err)
			}
		}
	})
}
