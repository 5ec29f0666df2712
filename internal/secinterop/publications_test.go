//go:build !race

package secinterop

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"

	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// forgeriesPerName is how many Interests of each segment name the forger
// of TestForgedPublicationsRefused answers: bob's and carol's first asks
// (or, when the forwarder aggregated them, the first two rounds).
const forgeriesPerName = 2

// moreAttempts gives a fetcher 10 attempts per publication instead of 5,
// so that a test that goes wrong shows what was refused rather than a
// give-up. A refused segment is asked again within its attempt
// (svs fetchWorker.reject): with forgeriesPerName forgeries per name, no
// attempt should fail at all.
func moreAttempts(c *svs.Config) { c.Data.Fetch.MaxAttempts = 10 }

// An attacker on the forwarder, routed on /<g>/<alice> beside alice,
// answers the first forgeriesPerName fetch Interests of every segment of
// alice's publications (1 B, 10 KB, 100 KB: one, two and 13 segments)
// before alice does, with a Data of its own under the asked name: signed
// by a guest (a key the group's anchor certified, outside the schema), by
// member bob's real key (in the schema for bob's publications, not
// alice's: the pattern variable binds the node name to the key) or with
// DigestSha256. bob and carol refuse every forgery (schema, schema,
// unsigned), each refusal failing its fetch attempt (BadData), and
// deliver and store alice's publications intact once her Data come back.
// TestForgerAlwaysFirstDeniesButNeverForges is the forger that never
// stops.
func TestForgedPublicationsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason security.Reason
		signer func(w *pubWorld, bob *pubMember) (ndn.Signer, enc.Name)
	}{
		{"guest", security.ReasonSchema, func(w *pubWorld, _ *pubMember) (ndn.Signer, enc.Name) {
			guest := w.root.issue(w.t, w.dir, w.group.Append(enc.NewGenericComponent("guest"), enc.NewGenericComponent("mallory")), "ed25519")
			// Served, so that a validator that wanted it could fetch it:
			// the schema must refuse before any fetch.
			newCertApp(w.t, lookupIn([][]byte{guest.cert}), [][]byte{guest.cert})
			return guest.contextSigner(), guest.id
		}},
		{"bobs_key", security.ReasonSchema, func(w *pubWorld, bob *pubMember) (ndn.Signer, enc.Name) {
			s, err := bob.trust.Signer(w.group)
			if err != nil {
				w.t.Fatal(err)
			}
			return s, bob.node
		}},
		{"digest", security.ReasonUnsigned, func(*pubWorld, *pubMember) (ndn.Signer, enc.Name) {
			return signer.NewSha256Signer(), nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newPubWorld(t)
			bob := w.addMember("bob", "ecdsa", moreAttempts)
			carol := w.addMember("carol", "ed25519", moreAttempts)
			sign, signerID := tc.signer(w, bob)
			alicePubs := append(w.group.Clone(), w.member("alice")...)
			forge := newForger(t, alicePubs, sign, forgeriesPerName)
			alice, behind := w.addMemberBehind("alice", "ed25519", moreAttempts, forge)

			want := payloads(uint64(len(tc.name)))
			began := time.Now()
			k := alice.key()
			for i, p := range want {
				// What a forger learns from alice's Sync Interests before
				// bob and carol fetch: her boot and next number.
				forge.prepare(t, k.Boot, uint64(i+1), (len(p)+svs.SegmentSize-1)/svs.SegmentSize)
				alice.publish(t, p)
			}
			consumers := []*pubMember{bob, carol}
			waitUntil(t, w.changed, 30*time.Second, func() bool {
				for _, m := range consumers {
					msgs, missed := m.delivered(k)
					if len(missed) > 0 {
						return true // a failure: reported below
					}
					if len(msgs) < len(want) {
						return false
					}
				}
				return true
			}, func() string { return describePub(k, alice, bob, carol) })
			took := time.Since(began)

			t.Logf("forger: %d forged Data sent (%d signed on arrival), %d failed; alice's answers not behind the forger's: %d; all delivered after %v",
				forge.sent.Load(), forge.inline.Load(), forge.fails.Load(), behind.unordered.Load(), took)
			// Two consumers need 2×16 segments; alice's answers to the
			// Interests the forger answered first were dropped (no
			// Interest left for them); each refused segment was asked
			// again at once.
			served := alice.s.DataStats().Served
			t.Logf("alice served %d segments: %d needed, %d behind a forgery, %d fetched again", served, 2*16, forge.sent.Load(), int64(served)-2*16-int64(forge.sent.Load()))
			if forge.sent.Load() == 0 || forge.fails.Load() != 0 {
				t.Errorf("forger sent %d, failed %d", forge.sent.Load(), forge.fails.Load())
			}
			var refusedAll int
			for _, m := range consumers {
				who := m.node.String()
				msgs, missed := m.delivered(k)
				checkDelivered(t, who, msgs, want)
				checkStored(t, w.changed, m, k, want)
				if len(missed) > 0 {
					t.Errorf("%s missed %v", who, missed)
				}
				pubChecks := m.checked(under(alicePubs))
				refusals := m.checked(and(under(alicePubs), refused))
				for _, c := range refusals {
					if !rejectedAs(tc.reason)(c) {
						t.Errorf("%s refused %s (%v, KeyLocator %s) as %v, want %s", who, c.name, c.sigType, c.locator, c.err, tc.reason)
					}
					if signerID != nil && !signedBy(signerID)(c) || signerID == nil && c.sigType != ndn.SignatureDigestSha256 {
						t.Errorf("%s refused %s signed %v by %s: not a forgery", who, c.name, c.sigType, c.locator)
					}
				}
				refusedAll += len(refusals)
				ts, ds := m.trust.Stats(), m.s.DataStats()
				var rejected uint64
				for r, n := range ts.Rejected {
					rejected += n
					if r != tc.reason && n != 0 {
						t.Errorf("%s refused %d as %s", who, n, r)
					}
				}
				// Every refusal is a Validate call of the member's own
				// Validator, counted as Refused; its segment was asked
				// again within the attempt, which did not fail.
				if rejected != uint64(len(refusals)) {
					t.Errorf("%s: security counted %d refusals, its Validator saw %d", who, rejected, len(refusals))
				}
				if ds.Refused != uint64(len(refusals)) || ds.BadData != 0 {
					t.Errorf("%s: Refused %d, BadData %d; want the %d refusals, no attempt failed", who, ds.Refused, ds.BadData, len(refusals))
				}
				if tc.name == "guest" {
					if got := m.certs.fetchedUnder(signerID); len(got) != 0 {
						t.Errorf("%s fetched %v for a forgery the schema refuses", who, got)
					}
				}
				t.Logf("%s: %d publication Data checked, %d refused as %s (e.g. %v); BadData %d, FetchFailures %d, fetched %d, retries %d",
					who, len(pubChecks), len(refusals), tc.reason, firstErr(refusals), ds.BadData, ds.FetchFailures, ds.Fetched, ds.Fetcher.Retried)
			}
			// Forgeries reached the consumers and were refused there.
			// How many, and which consumer met each, is the forwarder's
			// timing: one forgery may answer both consumers' aggregated
			// Interests, another arrive after its Interest was satisfied
			// and be dropped as unsolicited.
			if refusedAll == 0 {
				t.Errorf("%d forgeries sent, none refused by the consumers", forge.sent.Load())
			}
		})
	}
}

func firstErr(cs []syncData) error {
	if len(cs) == 0 {
		return nil
	}
	return cs[0].err
}

// A member's publications are served under the per-node SVS v3 name too,
// /<node>/<g>/t=<boot>/seq=<n>/seg=<i>, signed with its key at serve
// time: fetched with a plain Interest through the forwarder, they
// validate with another member's Trust (the #own rule). The same Data
// re-signed with that other member's key is refused: the rule binds the
// node name to the key.
func TestOwnPublicationsPerNodeName(t *testing.T) {
	w := newPubWorld(t)
	alice := w.addMember("alice", "ed25519", nil)
	carol := w.addMember("carol", "ecdsa", nil)
	payload := payloads(7)[1] // two segments
	pub := alice.publish(t, payload)
	k := alice.key()
	// carol delivering it shows that the group works, and that carol
	// holds alice's certificate.
	waitUntil(t, w.changed, 10*time.Second, func() bool {
		msgs, _ := carol.delivered(k)
		return len(msgs) == 1
	}, func() string { return describePub(k, alice, carol) })
	msgs, _ := carol.delivered(k)
	checkDelivered(t, "carol", msgs, [][]byte{payload})

	perNode := wire.PublicationName(alice.node, w.group, pub.Boot, pub.Seq)
	if !pub.Name.Equal(perNode) {
		t.Errorf("Publish named it %s, want %s", pub.Name, perNode)
	}
	e, _ := fwtest.Engine(t, testFwd)
	var got []byte
	carolSign, err := carol.trust.Signer(w.group)
	if err != nil {
		t.Fatal(err)
	}
	for seg := uint64(0); seg < 2; seg++ {
		name := perNode.Append(enc.NewSegmentComponent(seg))
		raw := express(t, e, name)
		d, covered, err := ndnpkt.Data(raw)
		if err != nil {
			t.Fatal(err)
		}
		sig := d.Signature()
		switch {
		case !d.Name().Equal(name):
			t.Errorf("asked %s, got %s", name, d.Name())
		case sig == nil || sig.SigType() != ndn.SignatureEd25519:
			t.Errorf("%s: signature %v, want Ed25519", name, sig)
		case !alice.it.key.KeyName().IsPrefix(sig.KeyName()):
			t.Errorf("%s: KeyLocator %s, not alice's key %s", name, sig.KeyName(), alice.it.key.KeyName())
		}
		if fb, ok := d.FinalBlockID().Get(); !ok || fb.NumberVal() != 1 {
			t.Errorf("%s: FinalBlockId %v, want seg=1", name, d.FinalBlockID())
		}
		if err := validate(t, carol.trust, d, covered); err != nil {
			t.Errorf("carol refuses alice's %s: %v", name, err)
		}
		got = append(got, d.Content().Join()...)

		// The same name and content, signed by carol: her key may sign
		// her own per-node names only.
		forged, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{
			ContentType:  optional.Some(ndn.ContentTypeBlob),
			FinalBlockID: d.FinalBlockID(),
		}, d.Content(), carolSign)
		if err != nil {
			t.Fatal(err)
		}
		fd, fcovered, err := ndnpkt.Data(forged.Wire.Join())
		if err != nil {
			t.Fatal(err)
		}
		var rej *security.RejectError
		if err := validate(t, carol.trust, fd, fcovered); !errors.As(err, &rej) || rej.Reason != security.ReasonSchema {
			t.Errorf("carol's Trust on %s signed by carol: %v, want a schema refusal", name, err)
		}
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("the per-node segments hold %d bytes, not the %d published", len(got), len(payload))
	}
	if err := carol.trust.CanSign(perNode); err == nil {
		t.Errorf("carol's Trust says carol may sign alice's %s", perNode)
	}
	t.Logf("fetched %s/seg=0..1 (%d bytes), Ed25519 by %s, valid for carol", perNode, len(got), alice.it.key.KeyName())
}

// express fetches name through the forwarder and returns the Data's wire.
func express(t testing.TB, e ndn.Engine, name enc.Name) []byte {
	t.Helper()
	intr, err := e.Spec().MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(2 * time.Second),
		Nonce:    utils.ConvertNonce(e.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		raw []byte
		err error
	}
	done := make(chan answer, 1)
	err = e.Express(intr, func(r ndn.ExpressCallbackArgs) {
		if r.Result == ndn.InterestResultData {
			done <- answer{raw: r.RawData.Join()}
			return
		}
		done <- answer{err: fmt.Errorf("%v (%v)", r.Result, r.Error)}
	})
	if err != nil {
		t.Fatal(err)
	}
	a := <-done // the Interest's lifetime bounds the wait
	if a.err != nil {
		t.Fatalf("fetch %s: %v", name, a.err)
	}
	return a.raw
}

// validate asks tr about d, waiting out a certificate fetch.
func validate(t testing.TB, tr *security.Trust, d ndn.Data, covered enc.Wire) error {
	t.Helper()
	for range 5 {
		err := tr.Validate(d, covered)
		var pe *wire.PendingError
		if !errors.As(err, &pe) {
			return err
		}
		select {
		case <-pe.Ready:
		case <-time.After(security.DefaultFetchTimeout + time.Second):
			t.Fatalf("pending on %s for ever", pe.Waiting)
		}
	}
	t.Fatalf("%s still pending after five answers", d.Name())
	return nil
}

// An attacker that answers every fetch Interest of alice's publications
// before she does can deny them, though it forges nothing: without a
// Content Store, alice's Data comes back after the forgery satisfied the
// PIT entry and is dropped. A refused segment is asked again within its
// attempt, so alice sometimes wins a race on a re-ask, and a publication
// gets through; the others are reported missed, their last attempt
// invalid. Nothing forged is ever delivered.
func TestForgerAlwaysFirstDeniesButNeverForges(t *testing.T) {
	w := newPubWorld(t)
	bob := w.addMember("bob", "ecdsa", nil)
	carol := w.addMember("carol", "ed25519", nil)
	alicePubs := append(w.group.Clone(), w.member("alice")...)
	forge := newForger(t, alicePubs, signer.NewSha256Signer(), 0)
	alice, behind := w.addMemberBehind("alice", "ed25519", nil, forge)

	want := payloads(3)
	k := alice.key()
	began := time.Now()
	for i, p := range want {
		forge.prepare(t, k.Boot, uint64(i+1), (len(p)+svs.SegmentSize-1)/svs.SegmentSize)
		alice.publish(t, p)
	}
	consumers := []*pubMember{bob, carol}
	// settled: every number is delivered or reported missed.
	settled := func(m *pubMember) (delivered, missed int) {
		msgs, ms := m.delivered(k)
		for _, x := range ms {
			if x.Node.Equal(alice.node) && x.Boot == k.Boot {
				missed += int(x.High - x.Low + 1)
			}
		}
		return len(msgs), missed
	}
	waitUntil(t, w.changed, 60*time.Second, func() bool {
		for _, m := range consumers {
			if d, ms := settled(m); d+ms < len(want) {
				return false
			}
		}
		return true
	}, func() string { return describePub(k, alice, bob, carol) })
	took := time.Since(began)

	t.Logf("forger: %d forged Data sent in %v; alice's answers not behind the forger's: %d", forge.sent.Load(), took, behind.unordered.Load())
	for _, m := range consumers {
		who := m.node.String()
		msgs, missed := m.delivered(k)
		for _, msg := range msgs {
			if bytes.HasPrefix(msg.Bytes(), []byte(forgedPrefix)) || msg.Seq == 0 || msg.Seq > uint64(len(want)) ||
				!bytes.Equal(msg.Bytes(), want[msg.Seq-1]) {
				t.Errorf("%s delivered seq %d with a payload that is not alice's (%d bytes)", who, msg.Seq, msg.Size())
			}
		}
		refusals := m.checked(and(under(alicePubs), refused))
		for _, c := range refusals {
			if !rejectedAs(security.ReasonUnsigned)(c) {
				t.Errorf("%s refused %s as %v, want unsigned", who, c.name, c.err)
			}
		}
		if len(refusals) == 0 {
			t.Errorf("%s refused no forgery", who)
		}
		ds := m.s.DataStats()
		d, ms := settled(m)
		var reasons []string
		for _, x := range missed {
			reasons = append(reasons, fmt.Sprintf("%d..%d %s after %d attempts (%v)", x.Low, x.High, x.Reason, x.Attempts, x.Last))
		}
		t.Logf("%s: delivered %d, missed %d %v; refused %d forgeries; BadData %d, FetchFailures %d, given up %d",
			who, d, ms, reasons, len(refusals), ds.BadData, ds.FetchFailures, ds.Fetcher.GivenUp)
		if d+ms != len(want) || ms == 0 {
			t.Errorf("%s delivered %d and missed %d of alice's %d publications, want each delivered or missed, some missed", who, d, ms, len(want))
		}
		for _, x := range missed {
			if x.Last != core.FetchInvalid {
				t.Errorf("%s missed %d..%d after %v, want an invalid Data", who, x.Low, x.High, x.Last)
			}
		}
		if ds.Refused != uint64(len(refusals)) || ds.BadData == 0 {
			t.Errorf("%s: Refused %d, BadData %d, refusals %d; want every refusal counted and attempts failed", who, ds.Refused, ds.BadData, len(refusals))
		}
	}
	if behind.unordered.Load() != 0 {
		t.Errorf("%d of alice's answers left before the forger was through", behind.unordered.Load())
	}
}
