package security

import (
	"testing"
	"time"
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
